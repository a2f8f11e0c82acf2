"""Forced-choice verification on minimal pairs: 您好/你好, 请慢走/慢走, 喂/哎 or nothing.

    python benchmarks/bench_verify.py tune   # log-likelihood gains of every competitor, best margins
    python benchmarks/bench_verify.py test [--margins phrase,interjection,alternative,lone] [--write]

Clips: benchmarks/minimal_pairs.py (spliced from the dev lines and sessions; disjoint bodies
for tune and test).  ``tune`` decodes the tune clips once with verification logging only
(margins +inf: nothing changes) and picks, per competitor kind, the margin with the best
balanced accuracy on the tune clips.  ``test`` runs the real pipeline (engine with those
margins → matcher) on the test clips and reports, both ways, how often the decision is right:
您好 credited when said / not credited when 你好 was said; 请慢走 likewise against 慢走 (您慢走, a listed
variant of 请慢走 in the phrasebook, counts as said);
喂/哎 flagged when said / not flagged on the bare body (interjection recall and false alarms), and
how often the said 喂/哎 is in the transcript at all (hearing apart from the phrasebook's judgment:
its context rules let a warm 哎，您… or a safety call pass, docs/benchmarks.md "hearing").
"""

from __future__ import annotations

import argparse
import functools
import pickle
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from minimal_pairs import clips  # noqa: E402
from results_doc import update_section  # noqa: E402

from coach.asr import open_engine  # noqa: E402
from coach.asr.verify import Candidate, Margins, screened  # noqa: E402
from coach.session.evaluate import Evaluator  # noqa: E402
from coach.session.pipeline import hotwords  # noqa: E402

INF = float("inf")
GRID = [x / 2 for x in range(-24, 5)]


def engine(margins: Margins, **settings):
    """The engine as analyze opens it: courtesies as hotwords, finals also verified toward the
    brush-off wordings."""
    from coach.session.pipeline import set_targets

    ev = Evaluator.default()
    eng = open_engine("whisper", hotwords=hotwords(ev), margins=margins, **settings)
    set_targets(eng, ev)
    return ev, eng


def with_noise(audio: np.ndarray, snr: float | None, rng) -> np.ndarray:
    if snr is None:
        return audio
    import soundfile as sf

    from bench_dev import active_power
    from dev_labels import shared_dir

    noise, _ = sf.read(shared_dir() / "audio" / "noise" / "noisex92_babble.wav", dtype="float32")
    off = rng.integers(0, len(noise) - len(audio))
    seg = noise[off: off + len(audio)]
    gain = np.sqrt(active_power(audio) / (float((seg ** 2).mean()) * 10 ** (snr / 10)))
    return (audio + gain * seg).astype(np.float32)


@dataclass(frozen=True)
class _Text:
    text: str


def decisions(ev: Evaluator, utterances) -> dict[str, bool]:
    text = "".join(u.text for u in utterances)
    found = [h for u in utterances for h in ev.matcher.find(u.text)]
    return {
        "您好": any(h.kind == "courtesy" and h.entry.phrase == "您好" for h in found),
        "请慢走": any(h.kind == "courtesy" and h.entry.phrase == "请慢走" for h in found),
        "interjection": any(h.kind == "brush_off" and h.entry.phrase in ("喂", "哎") for h in found),
        # in the transcript at all, whether or not the phrasebook then charges it (its context rules
        # let a warm 哎，您… or a safety call 喂，路上注意安全 pass): hearing apart from judgment
        "heard": text.lstrip("，,。.、 ").startswith(("喂", "哎")),
        "other": sorted({h.entry.phrase for h in found if h.kind == "brush_off" and h.entry.phrase not in ("喂", "哎")}),
        "text": text,
    }


FAREWELLS = ("请慢走", "您慢走")  # 您慢走 is a listed variant of 请慢走 (phrasebook/courtesies.toml); 慢走 is not


def truth(clip) -> dict[str, bool]:
    return {"您好": clip.prefix == "您好", "请慢走": clip.suffix in FAREWELLS, "interjection": clip.prefix in ("喂", "哎")}


def _cached_rows(cache: Path | None, make):
    """``make()``'s rows, read from ``cache`` when it exists, else made and written there."""
    if cache and cache.exists():
        return pickle.loads(cache.read_bytes())
    rows = make()
    if cache:
        cache.write_bytes(pickle.dumps(rows))
    return rows


def tune(snrs: list[float | None], cache: Path | None = None) -> Margins:
    """Margins with the best worst-case rate on the tune clips and the tune sessions' clerk turns."""
    rows = _cached_rows(cache, lambda: _tune_rows(snrs))
    scored = []
    ev = Evaluator.default()
    heard = functools.lru_cache(maxsize=None)(lambda final: decisions(ev, [_Text(final)]))
    for mp in GRID:
        for mi in GRID:
            m = Margins(phrase=mp, interjection=mi, alternative=mp, lone=mi)
            right = {k: [0, 0, 0, 0] for k in ("您好", "请慢走", "interjection")}
            for t, relevant, text, logs in rows:
                d = heard(simulate(text, logs, m))
                for k in right:
                    if relevant[k]:
                        i = 0 if t[k] else 2
                        right[k][i + 1] += 1
                        right[k][i] += d[k] == t[k]
            rates = [v[0] / max(1, v[1]) for v in right.values()] + [v[2] / max(1, v[3]) for v in right.values()]
            scored.append((round(min(rates), 4), round(sum(rates) / len(rates), 4), -abs(mp) - abs(mi), mp, mi, right))
    top = max(scored)
    print(f"tune: margins phrase {top[3]} interjection {top[4]}: worst rate {top[0]}, mean {top[1]}, "
          f"[said ok, said, not-said ok, not said] {top[5]}")
    m = Margins(phrase=top[3], interjection=top[4], alternative=top[3], lone=top[4])
    inter = [x for *_, logs in rows for x in logs if x[0] == "interjection"]
    asked = [x for x in inter if not screened(Candidate(x[3], x[0], x[1]), x[2], x[5].get("screen"), m)]
    print(f"screen (Margins.screen {m.screen}, screen_abs {m.screen_abs}, screen_top {m.screen_top}; "
          f"decisions above include it): {len(asked)} of {len(inter)} interjection competitors scored")
    return m


def _tune_rows(snrs: list[float | None]) -> list:
    """(truth, relevant, free text, logged gains) for every tune clip and tune-session clerk turn."""
    import soundfile as sf

    from bench_dev import mix
    from dev_labels import dev_sessions, shared_dir
    from minimal_pairs import TUNE_SESSIONS

    from coach.asr.factory import transcribe_file

    ev, eng = engine(Margins(INF, INF, INF, INF, brush_off=INF))
    rows = []
    rng = np.random.default_rng(5)
    for snr in snrs:
        for c in clips("tune"):
            eng.verify_log = []
            us = list(eng.transcribe([with_noise(c.audio, snr, rng)]))
            relevant = {"您好": c.prefix in ("您好", "你好"), "请慢走": bool(c.suffix),
                        "interjection": c.prefix in ("喂", "哎", "")}
            rows.append((truth(c), relevant, "".join(u.text for u in us), list(eng.verify_log)))
    import random
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for snr in snrs:
            for s in dev_sessions():
                if s["id"] not in TUNE_SESSIONS:
                    continue
                path = shared_dir() / "audio" / "dev" / s["files"]["stereo"]
                if snr is not None:
                    path = mix(path, "babble", snr, Path(tmp) / "m.wav", random.Random(3))
                eng.verify_log = []
                us = transcribe_file(path, engine=eng, clerk_channel="left")
                logs = list(eng.verify_log)
                labels = [u for u in s["utterances"] if u["speaker"] == "clerk"]
                for u in us:
                    if u.speaker != "clerk":
                        continue
                    lab = max(labels, key=lambda x: min(u.end, x["end"]) - max(u.start, x["start"]))
                    ref = lab["text"]
                    t = {"您好": "您好" in ref, "请慢走": any(f in ref for f in FAREWELLS), "interjection": ref.startswith(("喂", "哎"))}
                    relevant = {"您好": "您好" in ref or "你好" in ref, "请慢走": "慢走" in ref, "interjection": True}
                    rows.append((t, relevant, u.text, [x for x in logs if x[2] == u.text]))
    eng.verify_log = None
    del sf
    return rows


def _brush_rows(snrs: list[float | None]) -> list:
    """(reference text, free text, logged brush-off gains) for every tune line (voice rotations
    1-2 of ../shared/audio/dev/lines) and every clerk utterance of the tune sessions (D01-D05)."""
    import random
    import tempfile

    import soundfile as sf

    from bench_dev import mix
    from dev_labels import dev_sessions, shared_dir
    from minimal_pairs import TUNE_SESSIONS, TUNE_VOICES

    from coach.asr.factory import transcribe_file
    ev, eng = engine(Margins(INF, INF, INF, INF, brush_off=INF))
    dev = shared_dir() / "audio" / "dev"
    lines = [r.split("\t") for r in (dev / "lines" / "lines.tsv").read_text("utf-8").splitlines()[1:]]
    rows = []
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        for snr in snrs:
            for r in lines:
                if r[6] not in TUNE_VOICES:
                    continue
                audio, _ = sf.read(dev / r[0], dtype="float32")
                eng.verify_log = []
                us = list(eng.transcribe([with_noise(audio, snr, rng)], speaker="clerk"))
                logs = [x for x in eng.verify_log if x[0] == "brush_off"]
                rows.extend((r[2], u.text, [x for x in logs if x[2] == u.text]) for u in us)
            for sess in dev_sessions():
                if sess["id"] not in TUNE_SESSIONS:
                    continue
                path = dev / sess["files"]["stereo"]
                if snr is not None:
                    path = mix(path, "babble", snr, Path(tmp) / "m.wav", random.Random(3))
                eng.verify_log = []
                us = transcribe_file(path, engine=eng, clerk_channel="left")
                logs = [x for x in eng.verify_log if x[0] == "brush_off"]
                labels = [u for u in sess["utterances"] if u["speaker"] == "clerk"]
                for u in us:
                    if u.speaker != "clerk":
                        continue
                    ref = "".join(x["text"] for x in labels if min(u.end, x["end"]) > max(u.start, x["start"]))
                    rows.append((ref, u.text, [x for x in logs if x[2] == u.text]))
    eng.verify_log = None
    eng.partial_targets = ()
    return rows


def tune_brush(snrs: list[float | None], cache: Path | None = None) -> float:
    """Margins.brush_off: the finals' sound edits toward a brush-off wording (不给我管 → 不归我管).
    Per margin: brush-offs said and found after the choice / said, and clerk utterances without
    that brush-off where the choice adds one (false alarms); the margin with the best worst-case
    rate; of the margins that reach it, the middle one (as far from the said brush-offs' lowest
    gain as from the benign lines' highest)."""
    rows = _cached_rows(cache, lambda: _brush_rows(snrs))
    ev = Evaluator.default()
    fams = functools.lru_cache(maxsize=None)(
        lambda t: frozenset(h.entry.phrase for h in ev.matcher.find(t) if h.kind == "brush_off"))
    asked = [(ref, text, logs) for ref, text, logs in rows if logs]
    print(f"brush-off competitors: {sum(len(x[2]) for x in asked)} in {len(asked)} of {len(rows)} utterances")
    for ref, text, logs in asked:
        for _, target, _, cand, gain, _ in logs:
            said = target in ref or bool(fams(cand) - fams(text)) and bool((fams(cand) - fams(text)) & fams(ref))
            print(f"  gain {gain:+7.2f} {'SAID' if said else 'not '} {text!r} -> {cand!r}   (ref {ref!r})")
    scored = []
    for m in GRID:
        hit = said = fa = unsaid = 0
        for ref, text, logs in rows:
            best = max(((g - m, c) for k, _, _, c, g, _ in logs), default=(0, text))
            got = fams(best[1]) if best[0] > 0 else fams(text)
            truth = fams(ref)
            said += len(truth)
            hit += len(truth & got)
            unsaid += 1
            fa += bool((got - truth) - (fams(text) - truth))  # a brush-off the choice added
        rates = (hit / max(1, said), 1 - fa / max(1, unsaid))
        scored.append((min(rates), m, hit, said, fa, unsaid))
        print(f"  margin {m:+5.1f}: said → found {hit}/{said}, false alarms added {fa}/{unsaid}")
    best = max(x[0] for x in scored)
    ties = [x for x in scored if x[0] == best]
    top = ties[len(ties) // 2]
    print(f"tune brush_off: margin {top[1]} (said → found {top[2]}/{top[3]}, false alarms added {top[4]}/{top[5]})")
    return top[1]


def simulate(text: str, logs: list, m: Margins) -> str:
    """The clip's text after forced choice with margins ``m`` (from gains logged with margins
    +inf, i.e. on the free text): phrase edits/alternatives first, then interjections."""
    by_orig: dict[str, tuple[list, list]] = {}
    for kind, target, orig, cand, gain, stats in logs:
        if kind == "honorific":
            continue  # the encoder probe's reads: already in the logged text (no margin of their own)
        if screened(Candidate(cand, kind, target), orig, stats.get("screen"), m):
            continue  # not asked
        by_orig.setdefault(orig, ([], []))[kind in ("interjection", "lone")].append((gain - m.of(kind), cand))
    for orig, (phrases, interjections) in by_orig.items():
        new = orig
        if phrases and max(phrases)[0] > 0:
            new = max(phrases)[1]
        if interjections and max(interjections)[0] > 0:
            c = max(interjections)[1]
            new = c[: len(c) - len(orig)] + new if orig and c.endswith(orig) else c
        text = (text.replace(orig, new, 1) if orig in text else text) if orig else new + text
    return text


def _phrase_truth(c):
    if c.prefix in ("您好", "你好"):
        yield "您好", c.prefix == "您好"
    if c.suffix:
        yield "请慢走", c.suffix in FAREWELLS


def _interj_truth(c):
    for w in ("喂", "哎"):
        yield w, c.prefix == w


def test(margins: Margins, snr: float | None, verbose: bool, settings: dict | None = None) -> dict:
    ev, eng = engine(margins, **(settings or {}))
    rng = np.random.default_rng(9)
    # said ok, said n, unsaid ok, unsaid n; "heard": the interjection in the transcript, flagged or not
    out = {k: [0, 0, 0, 0] for k in ("您好", "请慢走", "interjection", "heard")}
    out["other"] = out["clips"] = 0
    cpu = audio_s = 0.0
    for c in clips("test"):
        a = with_noise(c.audio, snr, rng)
        t0 = time.process_time()
        us = list(eng.transcribe([a]))
        cpu += time.process_time() - t0
        audio_s += len(a) / 16000
        d, t = decisions(ev, us), truth(c)
        out["other"] += bool(d["other"])   # no clip says a brush-off other than 喂/哎
        out["clips"] += 1
        if verbose and d["other"]:
            print(f"  {c.name}: brush-off {d['other']} heard {d['text']!r}")
        relevant = {"您好": c.prefix in ("您好", "你好"), "请慢走": bool(c.suffix),
                    "interjection": c.prefix in ("喂", "哎", "")}
        relevant["heard"], t["heard"] = relevant["interjection"], t["interjection"]
        for k in relevant:
            if not relevant[k]:
                continue
            i = 0 if t[k] else 2
            out[k][i + 1] += 1
            out[k][i] += d[k] == t[k]
            if verbose and d[k] != t[k]:
                print(f"  {c.name}: {k} said={t[k]} heard {d['text']!r}")
    out["rtf"] = cpu / audio_s
    return out


def latency(n: int = 20) -> str:
    """Live path: one utterance's final decode (beam ``live_beam_size``) vs its verification."""
    from coach.asr.vad import Segment

    ev, eng = engine(Margins())
    s = eng.settings
    final = replace(s, beam_size=min(s.beam_size, s.live_beam_size), use_prompt=s.live_prompt)
    dec, ver, secs = [], [], []
    for c in clips("test")[:n]:
        seg = Segment(0, c.audio)
        t0 = time.perf_counter()
        d = eng.decode(c.audio, settings=final)
        t1 = time.perf_counter()
        if d.text and not d.dropped:
            eng._verified([d.text], 0, d.raw, [eng._clean(eng.tokenizer.decode(t)) for t in d.raw.alternatives])
        t2 = time.perf_counter()
        dec.append(t1 - t0)
        ver.append(t2 - t1)
        secs.append(len(seg.audio) / 16000)
    return (f"Live final, {n} test clips of {min(secs):.1f}–{max(secs):.1f} s: decode (beam {final.beam_size}) "
            f"median {1000 * np.median(dec):.0f} ms, verification median {1000 * np.median(ver):.0f} ms "
            f"(p90 {1000 * np.percentile(ver, 90):.0f} ms).")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("mode", choices=["tune", "tune-brush", "test", "latency"])
    ap.add_argument("--margins", help="phrase,interjection,alternative,lone | off | prompt")
    ap.add_argument("--snr", nargs="+", default=["clean"], help="clean and/or babble SNRs in dB")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--cache", help="tune: keep the decoded gains in this file and reuse them")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    snrs = [None if s == "clean" else float(s) for s in args.snr]
    if args.mode == "latency":
        print(latency())
        return 0
    if args.mode == "tune-brush":
        print(tune_brush(snrs, Path(args.cache) if args.cache else None))
        return 0
    if args.mode == "tune":
        print(tune(snrs, Path(args.cache) if args.cache else None))
        return 0
    settings = {}
    if args.margins == "off":  # the decoder's text as is
        margins, settings, how = Margins(), {"verify": False}, "verification off"
    elif args.margins == "prompt":  # the old default: courtesies in the initial prompt, no verification
        margins, settings, how = Margins(), {"verify": False, "prompt_hotwords": True}, "hotword prompt, no verification"
    else:
        names = ("phrase", "interjection", "alternative", "lone")   # as --margins documents them
        margins = Margins(**dict(zip(names, map(float, args.margins.split(","))))) if args.margins else Margins()
        how = f"verification, {margins}"
    lines = [f"Minimal pairs (benchmarks/minimal_pairs.py, test split: 96 clips per condition), {how}.", "",
             "| condition | 您好 said → credited | 你好 said → not credited | 请慢走/您慢走 said → credited "
             "| 慢走 → not credited | 喂/哎 said → flagged | none said → not flagged | 喂/哎 said → in the transcript "
             "| CPU s / audio s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for snr in snrs:
        r = test(margins, snr, args.verbose, settings)
        f = lambda k, i: f"{r[k][i]}/{r[k][i + 1]} ({r[k][i] / max(1, r[k][i + 1]):.0%})"  # noqa: E731
        cond = "clean" if snr is None else f"babble {snr:g} dB"
        lines.append(f"| {cond} | {f('您好', 0)} | {f('您好', 2)} | {f('请慢走', 0)} | {f('请慢走', 2)} "
                     f"| {f('interjection', 0)} | {f('interjection', 2)} | {f('heard', 0)} | {r['rtf']:.2f} |")
        print(lines[-1], flush=True)
        print(f"  {cond}: clips with a brush-off other than 喂/哎 heard: {r['other']}/{r['clips']}", flush=True)
    if args.write:
        update_section("verify", "Forced-choice verification on minimal pairs", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
