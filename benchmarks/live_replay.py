"""Phrase end → highlight on a virtual clock: the live path replayed as fast as the CPU allows.

    python benchmarks/live_replay.py                          # D02 D04 D08 D10, per-phrase table
    python benchmarks/live_replay.py --clock wall --verbose   # wall clock; every partial and final
    python benchmarks/live_replay.py --verbose --trace        # also every decode, empty or dropped ones too
    python benchmarks/live_replay.py --set partial_verify=False partial_tail_s=0

What ``bench_live.py --phrase-only`` measures in real time (the app, headless), replayed in one
thread the way :class:`coach.tui.listen.Listener` runs it: ``WhisperEngine.stream()``, each
partial matched (``provisional``) and each final judged (``judge``).  Block *k* (0.1 s) is there
at (k+1)·0.1 s of audio; the clock is ``max(audio time, clock + measured compute)``, so an engine
that falls behind is late as it would be live (and, reading the ``Tap``, decodes no partial while ≥ 1 s
behind).  ``--clock cpu`` counts the process's CPU time / ``--cores`` (2: the engine's 2 threads on an
idle 2-core machine; 1: another process keeps one core busy) instead of wall time: on a machine shared with other work this compares two settings far more steadily
than wall time (it ignores time the process waited for a core), at the price of assuming two
free cores.  Use it to compare variants back to back and to see, per phrase, what showed it
first; the real-time benchmark stays the figure of record.  ``--set`` overrides
``WhisperSettings`` fields (the ``stream()`` knobs: ``partial_interval_s``, ``partial_pause_s``,
``partial_tail_s``, ``partial_verify``, ``live_clause_min_s``…).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_live import DEFAULT_SESSIONS, analyse_phrases, phrase_labels  # noqa: E402

BEHIND_S = 1.0   # = coach.tui.listen.BEHIND_S


class ReplaySource:
    """The session's audio in 0.1 s blocks, on the virtual clock ``T`` (each block also to
    ``on_block``: the speaker attribution's audio, as the Listener's tap feeds the session)."""

    def __init__(self, audio: np.ndarray, clock, on_block=None):
        self.audio, self.clock, self.on_block = audio, clock, on_block
        self.T = 0.0
        self.at = 0.0
        self._since: float | None = None

    def now(self) -> float:
        return self.T + (self.clock() - self._since if self._since is not None else 0.0)

    @property
    def behind(self) -> bool:
        return self.now() - self.at >= BEHIND_S

    def __iter__(self):
        for i in range(0, len(self.audio), 1600):
            block = self.audio[i:i + 1600]
            self.at = (i + len(block)) / 16000
            self.T = max(self.now(), self.at)
            self._since = self.clock()
            if self.on_block is not None:
                self.on_block(block)
            yield block


def parse_set(items: list[str], settings) -> dict:
    types = {f.name: type(getattr(settings, f.name)) for f in fields(settings)}
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in types:
            raise SystemExit(f"--set: no WhisperSettings field {key!r}")
        t = types[key]
        out[key] = value in ("1", "true", "True") if t is bool else t(value)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", nargs="+", default=list(DEFAULT_SESSIONS))
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--cores", type=float, default=2.0,
                    help="--clock cpu: cores the engine has to itself (1 = another process keeps one busy)")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--no-partial-targets", action="store_true",
                    help="partials not verified toward the brush-offs (engine.partial_targets left empty)")
    ap.add_argument("--attribute", choices=["none", "cluster", "first10"], default="none",
                    help="speaker attribution on the mix as live does (LiveAttributor): none (all judged as the clerk), "
                         "cluster (no profile), first10 (a profile enrolled from the clerk's first 10 s of the session's "
                         "own channel); finals attributed before they are judged, partials with something to show asked "
                         "who is speaking so far (the citizen's show nothing)")
    ap.add_argument("--finals-only", action="store_true",
                    help="--attribute: only finals are attributed (partials show what they hear, whoever speaks)")
    ap.add_argument("--verbose", action="store_true", help="print every partial and final")
    ap.add_argument("--trace", action="store_true", help="also print every decode (audio length, text, why dropped)")
    ap.add_argument("--json", metavar="FILE", help="also save the summary")
    ap.add_argument("--verify-log", metavar="FILE", help="save every forced-choice competitor (JSON lines: session, audio s, event, kind, "
                    "target, text, competitor, gain); every competitor is then scored, so the timings are not comparable")
    args = ap.parse_args()

    from coach.asr.base import Final
    from coach.asr.factory import open_engine
    from coach.audio.decode import read
    from coach.phrasebook import load_phrasebook
    from coach.session.evaluate import Evaluator
    from coach.session.live import judge
    from coach.tui.engines import quick_hotwords
    from coach.session.pipeline import set_targets
    from coach.speaker.apply import LiveAttributor
    from coach.speaker.profile import enrol
    from coach.tui.listen import partial_findings
    from dev_labels import shared_dir, speaker_at

    clock = time.monotonic if args.clock == "wall" else (lambda: time.process_time() / args.cores)
    engine = open_engine("whisper", live=True, hotwords=quick_hotwords(None))
    engine.settings = replace(engine.settings, **parse_set(args.set, engine.settings))
    if args.verify_log:
        engine.verify_log = []
    evaluator = Evaluator(load_phrasebook(None))
    evaluator.matcher.warm_up()
    set_targets(engine, evaluator)   # as the Listener does
    if args.no_partial_targets:
        engine.partial_targets = ()
    spent = collections.defaultdict(lambda: [0, 0.0])
    for name in ("decode", "_single"):   # where the time goes (partials decode; finals _single)
        fn = getattr(engine, name)

        def timed(*a, _fn=fn, _name=name, **kw):
            t = clock()
            out = None
            try:
                out = _fn(*a, **kw)
                return out
            finally:
                took = clock() - t
                spent[_name][0] += 1
                spent[_name][1] += took
                if args.trace and _name == "decode" and out is not None and a:
                    print(f"   decode {took:.2f}s of {len(a[0]) / 16000:.2f}s audio at {src.at:.1f}: "
                          f"{out.text!r} {out.dropped or ''}")
        setattr(engine, name, timed)

    def timed_attribution(fn, u):
        t = clock()
        try:
            return fn(u)
        finally:
            spent["attribution"][0] += 1
            spent["attribution"][1] += clock() - t

    runs = []
    provis: dict[tuple, bool] = {}   # provisional highlights (session, utterance start, type, phrase, rule) → confirmed
    shown_on = collections.defaultdict(set)   # labelled speaker → provisional highlights shown on their lines
    for sid in args.sessions:
        session = json.loads((shared_dir() / "audio" / "dev" / f"{sid}.json").read_text(encoding="utf-8"))
        attributor = None
        if args.attribute != "none":
            profile = None
            if args.attribute == "first10":
                left = read(shared_dir() / "audio" / "dev" / f"{sid}.stereo.wav", channels="both")[0]
                first = [left[int(u["start"] * 16000):int(u["end"] * 16000)] for u in session["utterances"]
                         if u["speaker"] == "clerk"]
                profile = enrol(np.concatenate(first)[: 10 * 16000])
            attributor = LiveAttributor(evaluator, profile)
        speaker_so_far = None     # LiveSession.speaker_so_far on the mix, without a session
        if attributor is not None and not args.finals_only:
            def speaker_so_far(u, _peek=attributor.peek):
                a = timed_attribution(_peek, u)
                return a.speaker if a is not None else "unknown"
        src = ReplaySource(read(shared_dir() / "audio" / "dev" / f"{sid}.wav"), clock,
                           attributor.audio if attributor is not None else None)
        events, finals = [], []
        for ev in engine.stream(src, speaker="unknown"):
            if engine.verify_log:
                with open(args.verify_log, "a", encoding="utf-8") as f:
                    for row in engine.verify_log:
                        f.write(json.dumps([sid, round(src.at, 2), type(ev).__name__, *row[:5]], ensure_ascii=False) + "\n")
                engine.verify_log.clear()
            if isinstance(ev, Final):
                u = ev.utterance
                if attributor is not None:
                    u = timed_attribution(attributor.attribute, u)
                # what is charged: the citizen's findings are not the clerk's (LiveSession.add)
                found = [] if u.speaker == "citizen" else [
                    f for f in judge(evaluator, u) if f.type in ("courtesy", "brush_off")]
                hits = [[f.type, f.phrase] for f in found]
                finals.append((u.start, {(f.type, f.phrase, f.rule) for f in found}))
                events.append([src.now(), "final", u.start, u.end, hits])
                if args.verbose:
                    print(f"{sid} {src.now():6.2f} final   {u.start:.2f}-{u.end:.2f} {u.text}")
            else:   # the engine decodes no partial while behind; the Listener shows one it decoded
                found = partial_findings(evaluator, ev, speaker_so_far)   # as the Listener shows it
                for f in found:
                    end = ev.end if ev.end is not None and ev.end > ev.start else ev.start + 0.1
                    shown_on[speaker_at(session, ev.start, end)].add((sid, ev.start, f.type, f.phrase))
                hits = [[f.type, f.phrase] for f in found]
                for f in found:
                    provis.setdefault((sid, ev.start, f.type, f.phrase, f.rule), False)
                if hits:
                    events.append([src.now(), "partial", ev.start, None, hits])
                if args.verbose:
                    print(f"{sid} {src.now():6.2f} partial (audio {src.at:.1f}) {ev.text}")
        runs.append((sid, {"t0": 0.0, "events": events, "lags": [0.0]}))
        # confirmed: the final of the same utterance (same speech start) has the same finding
        for key in provis:
            if key[0] == sid:
                provis[key] = any(abs(start - key[1]) <= 0.1 and key[2:] in got for start, got in finals)
    unconfirmed = sorted(k for k, ok in provis.items() if not ok)

    print("| session | phrase | phrase end (s) | shown after (s) | by |\n|---|---|---|---|---|")
    for sid, run in runs:
        for lab in phrase_labels(sid):
            best = None
            for t, kind, start, _, hits in run["events"]:
                if start is None or not (lab["start"] - 1.0 <= start <= lab["end"] + 0.5):
                    continue
                if any(k == lab["kind"] and p == lab["phrase"] for k, p in hits) and (best is None or t < best[0]):
                    best = (t, kind)
            shown = f"{best[0] - lab['phrase_end']:.2f} | {best[1]}" if best else "– | missed"
            print(f"| {sid} | {lab['phrase']} | {lab['phrase_end']:.2f} | {shown} |")
    res = analyse_phrases(runs)
    lt, lf = res["latency"], res["latency_final_only"]
    print(f"\nphrase end → highlight p50 {lt.get('p50', float('nan')):.2f} / p95 {lt.get('p95', float('nan')):.2f} / "
          f"max {lt.get('max', float('nan')):.2f} s ({lt.get('n', 0)} phrases, {res['provisional_first']} first from a "
          f"partial); final only p50 {lf.get('p50', float('nan')):.2f} / p95 {lf.get('p95', float('nan')):.2f} s; "
          f"missed: {', '.join(res['missed']) or 'none'}")
    print(f"provisional highlights {len(provis)}, not confirmed by the utterance's final {len(unconfirmed)}"
          + "".join(f"\n  {sid} {start:.2f} {kind} {phrase} ({rule})" for sid, start, kind, phrase, rule in unconfirmed))
    print(f"provisional highlights on the labelled lines of the clerk {len(shown_on['clerk'])}, of the citizen "
          f"{len(shown_on['citizen'])}" + "".join(f"\n  {sid} {start:.2f} {kind} {phrase}" for sid, start, kind, phrase
                                                 in sorted(shown_on['citizen']))
          + (f"; of no line {len(shown_on['none'])}" if shown_on['none'] else ""))
    names = {"decode": "decodes (partials and finals)", "_single": "finals (decode + verification)",
             "attribution": "attribution (finals and partials asked)"}
    print("compute (" + args.clock + " clock): " + ", ".join(f"{names[k]} {n}× {v:.1f} s" for k, (n, v) in spent.items()))
    if args.json:
        out = {k: res[k] for k in ("latency", "latency_final_only", "provisional_first", "missed")}
        out["provisional"] = {"shown": len(provis), "unconfirmed": [list(k) for k in unconfirmed],
                              "on_lines_of": {k: len(v) for k, v in shown_on.items()}}
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
