"""Flat memory over long recordings, and crash safety of live sessions under kill -9.

    nice -n 10 python benchmarks/bench_memory.py                      # 5 and 60 min, 20 kills
    nice -n 10 python benchmarks/bench_memory.py --minutes 5 60 480 --speech-share 0.18 --kills 0 --write --section memory-day
    nice -n 10 python benchmarks/bench_memory.py --minutes 5 --kills 0 --baseline-minutes 5 15   # and as before
    nice -n 10 python benchmarks/bench_memory.py --minutes 5 60 480 --speech-share 0.18 --attribution-only --kills 0

1. **memory** — a long mono recording is made by concatenating the dev sessions of
   ``../shared/audio/dev`` (D01–D10, 16 kHz) over and over to the length asked, written to a
   temporary WAV.  With ``--speech-share S`` the recording is a counter day instead: each
   session followed by a quiet wait of hall noise (:func:`counter_day`), so that S of the audio
   is session audio, every length a prefix of the same stream.  ``coach analyze FILE --json``
   runs on the file in a subprocess (its JSON gives the share of the audio the coach heard);
   its peak RSS is the kernel's ``ru_maxrss`` for that child (``os.wait4``), together with the
   wall time.  ``--baseline-minutes`` runs those lengths as coach did before
   :mod:`coach.asr.native` (oneDNN's default primitive cache 1024, ``COACH_MALLOC=default``);
   ``--primitive-cache N`` / ``--malloc default`` change one setting for the main runs.
2. **crash loop** — a live session from a file source (``FileSource(realtime=False)`` into the
   Whisper engine's ``stream()``, each Final through ``LiveSession.add`` into a
   :class:`~coach.store.SessionWriter`), killed with SIGKILL at a random moment (after a random
   number of audio blocks, uniform over the file), ``--kills`` times.  The child reports every
   block it handed to the writer and every utterance it committed; after each kill the database
   is reopened and checked: every reported utterance is there with its text, and the WAV holds
   at least every reported sample, equal to the source audio (16-bit rounding).

The machine's load average (``uptime``) before and after is recorded with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from results_doc import update_section  # noqa: E402

SR = 16000


def shared_dev() -> Path:
    return Path(os.environ.get("COACH_SHARED", REPO.parent / "shared")) / "audio" / "dev"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def make_long(path: Path, minutes: float) -> float:
    files = sorted(shared_dev().glob("D[0-9][0-9].wav"))
    if not files:
        raise SystemExit(f"no dev audio in {shared_dev()}")
    need, done = int(minutes * 60 * SR), 0
    with sf.SoundFile(str(path), "w", SR, 1, "PCM_16") as out:
        while done < need:
            for f in files:
                a, sr = sf.read(str(f), dtype="int16")
                assert sr == SR and a.ndim == 1, f
                a = a[: need - done]
                out.write(a)
                done += len(a)
                if done >= need:
                    break
    return done / SR


# Gap noise of a counter day: canteen babble and street noise (../shared/audio/noise), mixed
# and looped, at GAP_DBFS RMS — about 33 dB under the dev sessions (about -22 dBFS).
GAP_NOISE = ("noisex92_babble.wav", "emgse_street.wav")
GAP_DBFS = -55.0


def gap_noise() -> np.ndarray:
    parts = []
    for name in GAP_NOISE:
        a, sr = sf.read(str(shared_dev().parent / "noise" / name), dtype="float32")
        assert sr == SR and a.ndim == 1, name
        parts.append(a)
    n = min(len(a) for a in parts)
    mix = sum(a[:n] / np.sqrt(np.mean(a[:n] ** 2)) for a in parts)
    return (mix / np.sqrt(np.mean(mix ** 2)) * 10 ** (GAP_DBFS / 20)).astype(np.float32)


def counter_day(speech_share: float, seed: int = 8):
    """Endless (segment, session name or None) stream of a counter day: a dev session (D01–D10 in turn),
    then a quiet wait of hall noise whose length is the session's length × (1/share − 1),
    jittered ±30 % (seeded): over a day, ``speech_share`` of the audio is session audio.
    Every length of the benchmark is a prefix of this one stream, so they are comparable."""
    files = sorted(shared_dev().glob("D[0-9][0-9].wav"))
    if not files:
        raise SystemExit(f"no dev audio in {shared_dev()}")
    noise, rng, pos = gap_noise(), random.Random(seed), 0
    while True:
        for f in files:
            a, sr = sf.read(str(f), dtype="float32")
            assert sr == SR and a.ndim == 1, f
            yield a, f.stem
            gap = int(len(a) * (1 / speech_share - 1) * rng.uniform(0.7, 1.3))
            while gap > 0:
                take = min(gap, len(noise) - pos)
                yield noise[pos:pos + take], None
                pos, gap = (pos + take) % len(noise), gap - take


def make_counter_day(path: Path, minutes: float, speech_share: float,
                     sessions: list | None = None) -> tuple[float, float]:
    """Write the first ``minutes`` of :func:`counter_day`; returns (seconds, session seconds).
    ``sessions`` (a list) gets (name, start second) of every session in the file."""
    need, done, session = int(minutes * 60 * SR), 0, 0
    with sf.SoundFile(str(path), "w", SR, 1, "PCM_16") as out:
        for seg, is_session in counter_day(speech_share):
            if is_session and sessions is not None:
                sessions.append((is_session, done / SR))
            seg = seg[: need - done]
            out.write(seg)
            done += len(seg)
            session += len(seg) if is_session else 0
            if done >= need:
                break
    return done / SR, session / SR


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [e.get("PYTHONPATH")])])
    e.update(extra)
    return e


def _proc_sample(pid: int, wav: Path) -> tuple[float, float] | None:
    """(peak RSS so far in MB, seconds of audio read so far) of a running child, from /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        hwm = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM:")) / 1024
        pos = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == str(wav):
                    info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                    pos = max(pos, int(info.split("pos:", 1)[1].split()[0]))
            except (OSError, ValueError, IndexError):
                continue
        return hwm, max(0, pos - 44) / (2 * SR)
    except (OSError, StopIteration):
        return None


def peak_rss(minutes: float, tmp: Path, cache: str | None, malloc: str = "bounded",
             speech_share: float | None = None, max_wall: float | None = None, every: float = 60.0) -> dict:
    """One ``coach analyze`` run.  While it runs, its peak RSS so far and how far it has read the
    file are sampled every ``every`` seconds (``series``); past ``max_wall`` seconds it is stopped
    with SIGTERM and the row is marked partial (the peak is then the peak up to that point)."""
    wav = tmp / f"long-{minutes:g}min.wav"
    if speech_share:
        seconds, session_s = make_counter_day(wav, minutes, speech_share)
    else:
        seconds = session_s = make_long(wav, minutes)
    extra = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": cache} if cache else {}
    if malloc == "default":
        extra["COACH_MALLOC"] = "default"
    before = load()
    t0 = time.perf_counter()
    out_json, err_txt = tmp / f"long-{minutes:g}min.json", tmp / f"long-{minutes:g}min.err"
    series, stopped = [], False
    with open(out_json, "wb") as stdout, open(err_txt, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "coach", "analyze", str(wav), "--json"], env=env(**extra),
                                stdout=stdout, stderr=stderr)
        next_sample = t0 + every
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now >= next_sample:
                sample = _proc_sample(proc.pid, wav)
                if sample:
                    series.append({"wall_s": now - t0, "audio_s": sample[1], "peak_mb": sample[0]})
                next_sample = now + every
            if max_wall and now - t0 > max_wall and not stopped:
                proc.send_signal(signal.SIGTERM)
                stopped = True
            time.sleep(1.0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = err_txt.read_text(encoding="utf-8", errors="replace")
    wav.unlink()
    err_txt.unlink()
    row = {"minutes": minutes, "audio_s": seconds, "peak_mb": usage.ru_maxrss / 1024, "wall_s": wall,
           "load_before": before, "load_after": load(), "cache": cache or "16 (coach)",
           "malloc": malloc, "composition": f"counter day {speech_share:.0%}" if speech_share else "continuous",
           "session_share": session_s / seconds, "series": series}
    if stopped:
        done = series[-1]["audio_s"] if series else 0.0
        out_json.unlink()
        row.update(partial=True, audio_done_s=done, rtf=wall / done if done else float("nan"))
        return row
    if proc.returncode != 0:
        raise SystemExit(f"analyze failed on {minutes} min: {err[-2000:]}")
    result = json.loads(out_json.read_text(encoding="utf-8"))
    out_json.unlink()
    heard = sum(u["end"] - u["start"] for u in result["utterances"] if u["start"] is not None and u["end"] is not None)
    row.update(rtf=wall / seconds, heard_share=heard / seconds, utterances=len(result["utterances"]),
               duration_s=result["duration_s"])
    return row


ATTRIBUTE_CHILD = textwrap.dedent("""
    import json, sys
    import coach.asr  # as in `coach analyze`: bounds the native heap (coach.asr.native) on import
    from coach.schema import Utterance
    from coach.session.evaluate import Evaluator
    from coach.speaker.apply import attribute_file
    utts = [Utterance(*u) for u in json.load(open(sys.argv[2], encoding="utf-8"))]
    got = attribute_file(sys.argv[1], utts, Evaluator.default())
    print(sum(u.speaker_score is not None for u in got))
""")


def attribution_peak(minutes: float, tmp: Path, speech_share: float) -> dict:
    """Only the whole-file speaker attribution of ``coach analyze`` (no recogniser): the counter
    day's labelled utterances (dev JSON, at each session's place) through
    :func:`coach.speaker.apply.attribute_file`, in a child process; its peak RSS."""
    wav, utt_json, script = tmp / f"attr-{minutes:g}min.wav", tmp / "utts.json", tmp / "attr_child.py"
    placed: list = []
    seconds, session_s = make_counter_day(wav, minutes, speech_share, placed)
    utts = []
    for name, at in placed:
        for u in json.loads((shared_dev() / f"{name}.json").read_text(encoding="utf-8"))["utterances"]:
            if at + u["end"] <= seconds:
                utts.append((at + u["start"], at + u["end"], "unknown", u["text"]))
    utt_json.write_text(json.dumps(utts, ensure_ascii=False), encoding="utf-8")
    script.write_text(ATTRIBUTE_CHILD, encoding="utf-8")
    before, t0 = load(), time.perf_counter()
    log = tmp / "attr.out"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, str(script), str(wav), str(utt_json)], env=env(),
                                stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    wav.unlink()
    out = log.read_text(encoding="utf-8", errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"attribution failed on {minutes} min: {out[-2000:]}")
    return {"minutes": minutes, "utterances": len(utts), "attributed": int(out.split()[-1]),
            "peak_mb": usage.ru_maxrss / 1024,
            "speech_s": sum(e - s for s, e, *_ in utts), "wall_s": wall, "load_before": before, "load_after": load(),
            "session_share": session_s / seconds}


CHILD = textwrap.dedent("""
    import json, sys
    from coach.asr import Final, open_engine
    from coach.audio.sources import FileSource
    from coach.session.evaluate import Evaluator
    from coach.session.live import LiveSession, SessionMeta
    from coach.store import SessionWriter, Store

    db, path = sys.argv[1], sys.argv[2]
    engine = open_engine("whisper", live=True)
    writer = SessionWriter(Store(db))
    live = LiveSession(Evaluator.default(), SessionMeta(kind="live", trainee="crash"), writer)
    print("SID", writer.session_id, writer.audio_path, flush=True)
    frames = 0

    def blocks():
        global frames
        for b in FileSource(path, realtime=False).blocks():
            live.audio(b)
            frames += len(b)
            print("A", frames, flush=True)
            yield b

    n = 0
    for ev in engine.stream(blocks()):
        if isinstance(ev, Final):
            live.add(ev.utterance)
            n += 1
            print("U", n, json.dumps(ev.utterance.text, ensure_ascii=False), flush=True)
    live.finish()
    print("DONE", flush=True)
""")


def crash_loop(kills: int, tmp: Path, seed: int = 12) -> dict:
    from coach.audio.decode import read
    from coach.store import Store

    src = shared_dev() / "D01.wav"
    audio = read(src)
    n_blocks = None
    script = tmp / "live_child.py"
    script.write_text(CHILD, encoding="utf-8")
    rng = random.Random(seed)
    rows = []
    for k in range(kills):
        db = tmp / f"crash-{k}.db"
        proc = subprocess.Popen([sys.executable, str(script), str(db), str(src)], env=env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        head = proc.stdout.readline().split()
        assert head and head[0] == "SID", (head, proc.stderr.read()[-2000:])
        sid, wav = int(head[1]), head[2]
        # kill after a random number of audio blocks (uniform over the file: 0.1 s blocks)
        total = n_blocks or int(len(audio) / (SR * 0.1))
        at = rng.randint(1, total)
        frames, said, blocks_seen = 0, [], 0
        for line in proc.stdout:
            parts = line.rstrip("\n").split(" ", 2)
            if parts[0] == "A":
                frames, blocks_seen = int(parts[1]), blocks_seen + 1
            elif parts[0] == "U":
                said.append(json.loads(parts[2]))
            if blocks_seen >= at or parts[0] == "DONE":
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        with Store(db) as store:
            row = store.session(sid)
            texts = [u.text for u in store.result(sid).utterances]
        got, sr = sf.read(wav, dtype="float32")
        ok_utts = texts[: len(said)] == said
        ok_audio = sr == SR and len(got) >= frames and bool(np.allclose(got[:frames], audio[:frames], atol=2 / 32768))
        rows.append({"kill": k + 1, "at_s": frames / SR, "utterances_reported": len(said), "utterances_stored": len(texts),
                     "audio_reported_s": frames / SR, "audio_stored_s": len(got) / SR, "finished": row.finished,
                     "ok": ok_utts and ok_audio})
        print(f"kill {k + 1}: at {frames / SR:.1f} s, {len(said)} utterances reported / {len(texts)} stored, "
              f"audio {len(got) / SR:.1f} s stored — {'ok' if rows[-1]['ok'] else 'LOST DATA'}", flush=True)
        db.unlink(missing_ok=True)
        Path(wav).unlink(missing_ok=True)
    return {"kills": kills, "ok": sum(r["ok"] for r in rows), "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, nargs="*", default=[5, 60])
    ap.add_argument("--baseline-minutes", type=float, nargs="*", default=[],
                    help="also run these lengths with oneDNN's default cache (1024), for comparison")
    ap.add_argument("--malloc", choices=["bounded", "default"], default="bounded",
                    help="default: leave glibc malloc as it is (COACH_MALLOC=default)")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--primitive-cache", metavar="N", help="ONEDNN_PRIMITIVE_CACHE_CAPACITY for the analysis "
                    "(default: coach's own setting, 16; oneDNN's default is 1024)")
    ap.add_argument("--speech-share", type=float, metavar="S",
                    help="build a counter day instead of back-to-back sessions: each dev session followed by a "
                         "quiet wait of hall noise so that S (e.g. 0.18) of the audio is session audio")
    ap.add_argument("--max-wall", type=float, metavar="S",
                    help="stop a run after S seconds of wall time (SIGTERM); its row is marked partial, with "
                         "the peak and the audio read up to then")
    ap.add_argument("--rows", type=Path, metavar="FILE",
                    help="JSON lines: each finished run is appended at once; runs already in FILE are "
                         "included in --write (a long benchmark done in several invocations)")
    ap.add_argument("--attribution-only", action="store_true",
                    help="with --speech-share: measure only the whole-file speaker attribution (labelled "
                         "utterances, no recogniser) at each --minutes")
    ap.add_argument("--note", action="append", default=[], help="a paragraph added to the --write section")
    ap.add_argument("--label", help="a note for this invocation's rows (e.g. which code), shown with them")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md (section --section)")
    ap.add_argument("--section", default="memory", help="section name in docs/benchmarks.md (default memory)")
    args = ap.parse_args()
    out = {"memory": [], "crash": None, "load_start": load()}
    if args.rows and args.rows.is_file():
        out["memory"] = [json.loads(ln) for ln in args.rows.read_text(encoding="utf-8").splitlines() if ln.strip()]
        out["load_start"] = out["memory"][0].get("load_before", out["load_start"]) if out["memory"] else out["load_start"]
    with tempfile.TemporaryDirectory(prefix="coach-mem-") as d:
        tmp = Path(d)
        for m in (args.minutes if args.attribution_only else []):
            r = attribution_peak(m, tmp, args.speech_share or 0.18)
            if args.label:
                r["label"] = args.label
            out.setdefault("attribution", []).append(r)
            print(f"{m:g} min attribution only: {r['utterances']} utterances ({r['speech_s'] / 60:.0f} min of speech), "
                  f"peak RSS {r['peak_mb']:.0f} MB, wall {r['wall_s']:.0f} s, load {r['load_before']} → {r['load_after']}",
                  flush=True)
        for m in ([] if args.attribution_only else args.minutes):
            r = peak_rss(m, tmp, args.primitive_cache, args.malloc, args.speech_share, args.max_wall)
            if args.label:
                r["label"] = args.label
            out["memory"].append(r)
            if args.rows:
                with open(args.rows, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r) + "\n")
            heard = (f"stopped after {r['audio_done_s'] / 60:.0f} min of audio" if r.get("partial")
                     else f"heard {r['heard_share']:.1%}, {r['utterances']} utterances")
            print(f"{m:g} min ({r['composition']}, sessions {r['session_share']:.1%}, {heard}): "
                  f"peak RSS {r['peak_mb']:.0f} MB, wall {r['wall_s']:.0f} s (RTF {r['rtf']:.2f}), "
                  f"load {r['load_before']} → {r['load_after']}", flush=True)
        for m in args.baseline_minutes:
            r = peak_rss(m, tmp, "1024", "default")
            out["memory"].append(r)
            print(f"{m:g} min (cache 1024): peak RSS {r['peak_mb']:.0f} MB, wall {r['wall_s']:.0f} s", flush=True)
        if args.kills:
            out["crash"] = crash_loop(args.kills, tmp)
    out["load_end"] = load()
    print(json.dumps({k: v for k, v in out.items() if k != "crash"}, indent=1))
    out["notes"] = args.note
    if args.write:
        write_doc(out, args.section)
    return 0


def write_doc(out: dict, section: str = "memory") -> None:
    mem = out["memory"]
    day = [r for r in mem if r.get("composition", "continuous") != "continuous"]
    lines = ["Peak RSS of `coach analyze LONG.wav --json` (one process, default Whisper engine) on a mono",
             "recording made by concatenating the dev sessions D01–D10 to the length shown."]
    if day:
        lines += [f"Composition \"{day[0]['composition']}\": a counter day — each dev session (D01–D10 in turn) is "
                  "followed by a quiet wait of hall noise (NOISEX-92 canteen babble + street noise, "
                  f"{GAP_DBFS:.0f} dBFS RMS, about 33 dB under the sessions) of the session's length × (1/share − 1), "
                  "jittered ±30 % (seeded); every length is a prefix of the same stream. \"sessions\" is the share "
                  "of the file that is session audio (sessions include their own pauses), \"heard\" the share "
                  "covered by the utterances the coach recognised (VAD + Whisper)."]
    lines += ["", "| audio | composition | sessions / heard | utterances | peak RSS | wall | RTF | oneDNN primitive cache | malloc | load avg before → after |",
              "|---:|---|---:|---:|---:|---:|---:|---|---|---|"]
    for r in mem:
        share = (f"{r['session_share']:.1%} / " + (f"{r['heard_share']:.1%}" if "heard_share" in r else "—")
                 if "session_share" in r else "—")
        audio = f"{r['minutes']:g} min" + (f" (stopped after {r['audio_done_s'] / 60:.0f} min)" if r.get("partial") else "")
        what = r.get("composition", "continuous") + (f" — {r['label']}" if r.get("label") else "")
        lines.append(f"| {audio} | {what} | {share} | {r.get('utterances', '—')} | "
                     f"{r['peak_mb']:.0f} MB | {r['wall_s']:.0f} s | {r['rtf']:.2f} | "
                     f"{r['cache']} | {r['malloc']} | {r['load_before']} → {r['load_after']} |")
    for r in mem:
        series = r.get("series") or []
        if len(series) >= 3:
            step = max(1, len(series) // 12)
            pts = series[::step] + ([series[-1]] if (len(series) - 1) % step else [])
            lines += ["", f"Peak RSS so far while the {r['minutes']:g} min run read its file (sampled from /proc "
                          "every minute; audio minutes read → MB): "
                          + ", ".join(f"{x['audio_s'] / 60:.0f} → {x['peak_mb']:.0f}" for x in pts) + "."]
    if any(r.get("partial") for r in mem):
        lines += ["", "A run marked \"stopped\" was ended before the end of its file (SIGTERM at `--max-wall`, or by "
                      "hand): its peak is the peak up to the audio read by then, and its RTF is over that audio; it is "
                      "left out of the growth figures."]
    groups: dict[tuple, list[dict]] = {}
    for r in (r for r in mem if not r.get("partial")):  # growth within one setting (cache, malloc, label)
        groups.setdefault((r["cache"], r["malloc"], r.get("label")), []).append(r)
    for (_, _, label), group in groups.items():
        if len(group) < 2:
            continue
        for lo, hi in zip(group, group[1:]):
            span = lambda r: r["audio_done_s"] / 60 if r.get("partial") else r["minutes"]  # noqa: E731
            per_min = (hi["peak_mb"] - lo["peak_mb"]) / max(1e-9, span(hi) - span(lo))
            target = ("target ≤ 50 MB from 5 to 60 min" if lo is group[0]
                      else "target: the same peak, within a few MB")
            lines += ["", f"Growth {span(lo):.0f} → {span(hi):.0f} min with primitive cache {lo['cache']}, "
                          f"malloc {lo['malloc']}{', ' + label if label else ''}: "
                          f"{hi['peak_mb'] - lo['peak_mb']:+.0f} MB ({per_min:+.2f} MB per audio minute; {target})."]
    c = out.get("crash")
    if c:
        lines += ["", f"Crash loop: a live session from a file source (D01, `FileSource(realtime=False)` → "
                      f"Whisper `stream()` → `LiveSession` → `SessionWriter`) killed with SIGKILL at a random "
                      f"block, {c['kills']} times: **{c['ok']}/{c['kills']}** reopened with every reported "
                      "utterance and every reported second of audio.", "",
                  "| kill | at | utterances reported / stored | audio reported / stored | ok |",
                  "|---:|---:|---:|---:|---|"]
        for r in c["rows"]:
            lines.append(f"| {r['kill']} | {r['at_s']:.1f} s | {r['utterances_reported']} / {r['utterances_stored']} | "
                         f"{r['audio_reported_s']:.1f} s / {r['audio_stored_s']:.1f} s | {'✓' if r['ok'] else '✗'} |")
    attr = out.get("attribution") or []
    if attr:
        lines += ["", "Whole-file speaker attribution alone (`--attribution-only`: the counter day's labelled "
                      "utterances through `coach.speaker.apply.attribute_file`, no recogniser), peak RSS of the child:", "",
                  "| audio | code | utterances | speech | peak RSS | wall | load avg before → after |",
                  "|---:|---|---:|---:|---:|---:|---|"]
        for r in attr:
            lines.append(f"| {r['minutes']:g} min | {r.get('label') or 'this version'} | {r['utterances']} | "
                         f"{r['speech_s'] / 60:.0f} min | {r['peak_mb']:.0f} MB | {r['wall_s']:.0f} s | "
                         f"{r['load_before']} → {r['load_after']} |")
    for note in out.get("notes") or []:
        lines += ["", note]
    lines += ["", f"Machine load (1/5/15-min averages): {out['load_start']} at the start, {out['load_end']} at the end "
                  "(2 cores shared with other agents' work; run under `nice -n 10`)."]
    title = "Memory over long recordings" + (", and kill -9 crash loop" if c else "")
    update_section(section, title + ("" if section == "memory" else f" ({section})"), "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
