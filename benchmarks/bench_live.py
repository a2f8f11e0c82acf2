"""Live mode: latency from the end of a spoken utterance to its result, and idle-listening CPU.

    python benchmarks/bench_live.py                  # D02 D04 D08 D10 clerk channel, 30 s idle
    python benchmarks/bench_live.py --write          # also update docs/benchmarks.md ("live")
    python benchmarks/bench_live.py --sessions D08 --idle-seconds 20 --skip app

What is measured (each part in its own subprocess, so a model is loaded and run by the same
thread as in the app, and the CPU numbers are that process's alone):

1. **engine** — the left (clerk) channel of each dev session, written to a mono temp WAV, is
   played by :class:`~coach.audio.sources.FileSource` (``realtime=True``) into the default
   Whisper engine's ``stream()``; each Final goes through ``LiveSession.add``.  Latency of a
   Final = monotonic time when ``add`` returned − (time the source's clock started + the
   labelled end of the clerk utterance the Final overlaps most).  Also against the Final's own
   ``end``.  Broken down with the source's block log: *endpointing* = audio after the labelled
   end that had to be fed before the segment closed (VAD silence wait), *decode* = time from the
   block that closed the segment to the Final, *behind* = how late that block was fed (the
   engine was still busy with an earlier decode or partial).
2. **app** — the real Textual app (``CoachApp(start="live", input_file=…)``, as
   ``coach live --input FILE --no-save``) headless via ``run_test``; the pilot polls the
   transcript every 50 ms and notes when each new utterance block is mounted and laid out on
   screen.  The only difference from ``coach live``: the source factory builds the same
   ``FileSource(path, realtime=True, channel="mix")`` through a subclass that remembers when
   its clock started.  ``COACH_TUI_TRACE`` (first final / courtesy / brush-off only) is used as
   a cross-check.
3. **idle** — the app and the engine-only loop fed a generated −72 dBFS white-noise WAV (the
   dev sessions' noise floor): process CPU seconds per wall second after a warm-up, per thread
   (psutil), plus the FileSource alone as a baseline.

Other work on the machine slows decoding: the 1-minute load average and the CPU used by other
processes during each part are recorded next to the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
DEFAULT_SESSIONS = ("D02", "D04", "D08", "D10")
NOISE_DBFS = -72.0
POLL_S = 0.05
WARMUP_S = 3.0
HIT_TYPES = ("courtesy", "brush_off")


# ============================================================== shared helpers

def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def thread_cpu() -> dict[int, float]:
    """CPU seconds per native thread id of this process."""
    import psutil

    return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}


def thread_names() -> dict[int, str]:
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


def by_thread(before: dict[int, float], after: dict[int, float], names: dict[int, str], wall: float) -> dict[str, float]:
    """CPU s / wall s per Python thread name; threads Python does not know (ONNX Runtime,
    OpenMP, CTranslate2 pools) are summed as ``native``."""
    out: dict[str, float] = {}
    for tid, c in after.items():
        d = c - before.get(tid, 0.0)
        if d <= 0:
            continue
        name = names.get(tid, "native (onnxruntime/OpenMP/CT2 pools)")
        if name.startswith("Thread-") or name.startswith("asyncio_"):
            name = "other Python threads"
        out[name] = out.get(name, 0.0) + d / wall
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def timed_source_class():
    from coach.audio.sources import FileSource

    class TimedFileSource(FileSource):
        """FileSource that remembers when its clock started and when it handed out each block."""

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.t0: float | None = None        # monotonic: block k is due at t0 + k * 0.1 s
            self.t0_wall: float | None = None   # the same instant on time.time() (for the app trace)
            self.log: list[tuple[int, float]] = []  # (samples handed out incl. this block, monotonic)

        def _pace(self, t0, sent):
            if self.t0 is None:
                self.t0 = t0
                self.t0_wall = time.time() - (time.monotonic() - t0)
            return super()._pace(t0, sent)

        def __iter__(self):
            for block in super().__iter__():
                self.log.append((self.samples, time.monotonic()))
                yield block

    return TimedFileSource


def jieba_ready() -> bool:
    """Whether jieba's dictionary is loaded (it loads lazily, on the first segmentation)."""
    jb = sys.modules.get("jieba")
    return bool(jb is not None and getattr(getattr(jb, "dt", None), "initialized", False))


def load_labels(sid: str) -> list[dict]:
    from dev_labels import shared_dir

    data = json.loads((shared_dir() / "audio" / "dev" / f"{sid}.json").read_text("utf-8"))
    return [u for u in data["utterances"] if u["speaker"] == "clerk"]


def match(u_start: float, u_end: float, labels: list[dict]) -> int | None:
    """Index of the labelled clerk utterance this Final overlaps most (else nearest end ≤ 1.5 s)."""
    best, best_ov = None, 0.0
    for i, lab in enumerate(labels):
        ov = min(u_end, lab["end"]) - max(u_start, lab["start"])
        if ov > best_ov:
            best, best_ov = i, ov
    if best is not None:
        return best
    near = min(range(len(labels)), key=lambda i: abs(labels[i]["end"] - u_end), default=None)
    if near is not None and abs(labels[near]["end"] - u_end) <= 1.5:
        return near
    return None


def pct(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    a = np.asarray(values, float)
    return {"n": len(a), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "max": float(a.max()), "min": float(a.min())}


# ============================================================== children

def child_engine(args) -> dict:
    from coach.asr.base import Final
    from coach.asr.factory import open_engine
    from coach.phrasebook import load_phrasebook
    from coach.session.evaluate import Evaluator
    from coach.session.live import LiveSession, SessionMeta
    from coach.tui.engines import quick_hotwords

    TimedFileSource = timed_source_class()
    t = time.monotonic()
    engine = open_engine("whisper", live=True, hotwords=quick_hotwords(None))
    evaluator = Evaluator(load_phrasebook(None))
    load_s = time.monotonic() - t
    out = {"load_s": load_s, "engine": f"{engine.name}:{engine.model}", "sessions": []}
    for sid, wav in zip(args.sessions, args.wavs):
        src = TimedFileSource(wav, realtime=True, channel="mix")
        session = LiveSession(evaluator, SessionMeta(kind="live", engine=engine.name, model=engine.model))
        finals, partials = [], []
        c0, w0 = cpu_s(), time.monotonic()
        for ev in engine.stream(src, speaker="unknown"):
            t_event = time.monotonic()
            samples, t_block = src.log[-1]
            if isinstance(ev, Final):
                jieba_before = jieba_ready()
                found = session.add(ev.utterance)
                t_added = time.monotonic()
                u = ev.utterance
                finals.append({"start": u.start, "end": u.end, "text": u.text, "t_event": t_event,
                               "t_added": t_added, "trigger_samples": samples, "trigger_t": t_block,
                               "jieba_init": jieba_ready() and not jieba_before,
                               "findings": [[f.type, f.rule, f.phrase] for f in found]})
            else:
                partials.append({"t_event": t_event, "trigger_t": t_block, "trigger_samples": samples})
        out["sessions"].append({"sid": sid, "t0": src.t0, "finals": finals, "partials": partials,
                                "log": src.log, "cpu_s": cpu_s() - c0, "wall_s": time.monotonic() - w0,
                                "stats": dict(getattr(engine, "stats", {}))})
        print(f"  engine {sid}: {len(finals)} finals, {len(partials)} partials", file=sys.stderr, flush=True)
    return out


def on_screen(screen, widget) -> bool:
    """Laid out by the compositor with a visible region (Textual's own visibility map)."""
    comp = getattr(screen, "_compositor", None)
    try:
        return widget in comp.visible_widgets and widget.region.area > 0
    except AttributeError:  # another Textual version: fall back on the region alone
        return widget.region.area > 0


def child_app(args) -> dict:
    """The real app on one file, headless; returns when each utterance block appeared on screen."""
    import asyncio

    os.environ["COACH_TUI_TRACE"] = args.trace
    from coach.tui.app import CoachApp
    from coach.tui.screens.live import LiveScreen
    from coach.tui.settings import Settings
    from coach.tui.widgets import Transcript

    TimedFileSource = timed_source_class()
    sources = []

    def source_factory(input_file, device):  # = coach.tui.engines.open_source for a file
        s = TimedFileSource(input_file, realtime=True, channel="mix")
        sources.append(s)
        return s

    wav = args.wavs[0]
    app = CoachApp(start="live", input_file=wav, settings=Settings(engine="whisper"), save_settings=False,
                   preload=True, source_factory=source_factory)
    res: dict = {"blocks": [], "idle": None}

    async def main() -> None:
        t_start = time.monotonic()
        async with app.run_test(size=(120, 40)):
            screen = None
            while time.monotonic() - t_start < args.timeout:
                if isinstance(app.screen, LiveScreen):
                    screen = app.screen
                    if screen.state in ("listening", "done", "error") and sources and sources[0].t0 is not None:
                        break
                await asyncio.sleep(POLL_S)
            assert screen is not None and screen.state != "error", "live screen did not start"
            res["ready_s"] = time.monotonic() - t_start
            transcript = screen.query_one(Transcript)
            if args.idle:
                await asyncio.sleep(WARMUP_S)
                names = thread_names()
                c0, th0, w0 = cpu_s(), thread_cpu(), time.monotonic()
                await asyncio.sleep(args.measure)
                wall = time.monotonic() - w0
                names.update(thread_names())
                res["idle"] = {"cpu_per_s": (cpu_s() - c0) / wall, "wall_s": wall,
                               "threads": by_thread(th0, thread_cpu(), names, wall),
                               "finals": transcript.count, "state": screen.state}
                app.exit()
                return
            seen: list[dict] = []
            while time.monotonic() - t_start < args.timeout:
                now = time.monotonic()
                utts = list(transcript.query(".utt"))
                for k, w in enumerate(utts):
                    if k == len(seen):
                        seen.append({"t_mounted": None, "t_visible": None})
                    if seen[k]["t_mounted"] is None and w.is_mounted:
                        seen[k]["t_mounted"] = now
                    if seen[k]["t_visible"] is None and on_screen(screen, w):
                        seen[k]["t_visible"] = now
                if screen.state in ("done", "error") and all(s["t_visible"] for s in seen):
                    break
                await asyncio.sleep(POLL_S)
            session = screen.session
            for k, s in enumerate(seen):
                u = session.utterances[k] if session and k < len(session.utterances) else None
                fs = [f for f in (session.findings if session else []) if f.utterance == k]
                res["blocks"].append({**s, "start": u.start if u else None, "end": u.end if u else None,
                                      "text": u.text if u else None,
                                      "findings": [[f.type, f.rule, f.phrase] for f in fs]})
            res["state"] = screen.state
            app.exit()

    asyncio.run(main())
    src = sources[0] if sources else None
    res["t0"] = src.t0 if src else None
    res["t0_wall"] = src.t0_wall if src else None
    try:
        res["trace"] = [line.split(" ", 1) for line in Path(args.trace).read_text().splitlines()]
    except OSError:
        res["trace"] = []
    return res


def child_phrase(args) -> dict:
    """The real app (``coach live --input FILE``, headless) on one session mix: when each
    courtesy / brush-off first reached the screen (provisional from a partial, or from the
    final), and the event loop's lag sampled every 20 ms the whole time."""
    import asyncio

    from coach.tui.app import CoachApp
    from coach.tui.screens.live import LiveScreen
    from coach.tui.settings import Settings

    events: list = []
    orig_partial, orig_final = LiveScreen.on_partial_text, LiveScreen.on_final_utterance

    def on_partial(self, msg):
        orig_partial(self, msg)
        if msg.findings:
            events.append([time.monotonic(), "partial", msg.start, None,
                           [[f.type, f.phrase] for f in msg.findings]])

    def on_final(self, msg):
        orig_final(self, msg)
        u = msg.utterance
        events.append([time.monotonic(), "final", u.start, u.end,
                       [[f.type, f.phrase] for f in (msg.findings or []) if f.type in HIT_TYPES]])

    LiveScreen.on_partial_text, LiveScreen.on_final_utterance = on_partial, on_final
    TimedFileSource = timed_source_class()
    sources = []

    def source_factory(input_file, device):
        src = TimedFileSource(input_file, realtime=True, channel="mix")
        sources.append(src)
        return src

    app = CoachApp(start="live", input_file=args.wavs[0], settings=Settings(engine="whisper", voice="off"),
                   save_settings=False, preload=True, source_factory=source_factory)
    lags: list[float] = []
    res: dict = {}

    async def watch_loop(stop: asyncio.Event) -> None:
        step = 0.02
        while not stop.is_set():
            t = time.monotonic()
            await asyncio.sleep(step)
            lags.append(max(0.0, time.monotonic() - t - step))

    async def main() -> None:
        t_start = time.monotonic()
        stop = asyncio.Event()
        async with app.run_test(size=(120, 40)):
            task = asyncio.create_task(watch_loop(stop))
            screen = None
            while time.monotonic() - t_start < args.timeout:
                if isinstance(app.screen, LiveScreen):
                    screen = app.screen
                    if screen.state in ("done", "error"):
                        break
                await asyncio.sleep(POLL_S)
            stop.set()
            await task
            res["state"] = screen.state if screen else None
            res["behind_max"] = getattr(screen, "behind", None)
            app.exit()

    asyncio.run(main())
    res["t0"] = sources[0].t0 if sources else None
    res["events"] = events
    res["lags"] = lags
    return res


def phrase_labels(sid: str) -> list[dict]:
    """Each labelled courtesy / brush-off of the clerk with its end time: the labelled utterance's
    span split in proportion to the characters before the phrase's end (the dev sessions are
    synthesised clause by clause at an even pace; pauses after commas are 0.16 s)."""
    out = []
    for u in load_labels(sid):
        labels = u.get("labels") or {}
        wanted = [("courtesy", r["canonical"], r.get("surface") or r["canonical"]) for r in labels.get("required", [])]
        wanted += [("brush_off", b, b) for b in labels.get("banned", [])]
        text = u["text"]
        for kind, canonical, surface in wanted:
            at = text.find(surface)
            if at < 0:
                continue
            frac = (at + len(surface)) / max(len(text), 1)
            out.append({"kind": kind, "phrase": canonical, "start": u["start"], "end": u["end"],
                        "phrase_end": u["start"] + frac * (u["end"] - u["start"]), "text": text})
    return out


def analyse_phrases(runs: list[tuple[str, dict]]) -> dict:
    lat, lat_final, provisional, missed, lags, each = [], [], 0, [], [], []
    for sid, r in runs:
        t0 = r["t0"]
        lags += r["lags"]
        for lab in phrase_labels(sid):
            best = None
            for t, kind, start, end, hits in r["events"]:
                if start is None or not (lab["start"] - 1.0 <= start <= lab["end"] + 0.5):
                    continue
                if any(k == lab["kind"] and p == lab["phrase"] for k, p in hits):
                    if best is None or t < best[0]:
                        best = (t, kind)
                    if kind == "final":
                        lat_final.append(t - (t0 + lab["phrase_end"]))
                        break
            if best is None:
                missed.append(f"{sid} {lab['phrase']}")
                continue
            lat.append(best[0] - (t0 + lab["phrase_end"]))
            each.append((round(lat[-1], 2), sid, lab["phrase"], best[1]))
            provisional += best[1] == "partial"
    a = np.asarray(lags or [0.0]) * 1000
    return {"latency": pct(lat), "latency_final_only": pct(lat_final), "provisional_first": provisional,
            "missed": missed, "slowest": sorted(each, reverse=True)[:5], "stall_ms": {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
                                           "max": float(a.max()), "n": len(lags)}}


def phrase_report(results: dict[str, dict], sessions, runs_meta: dict[str, list]) -> str:
    lines = [f"Load: {machine_line()}  ",
             "Sessions: " + ", ".join(sessions) + " (the mono mix, played at real-time pace into the "
             "real app, `coach live --input FILE` headless).  ",
             "Phrase end = the labelled utterance's span split in proportion to the characters up to the "
             "end of the phrase; highlight = the first time the live screen handled a message that shows "
             "the phrase (a provisional highlight from a partial, or the final).  Event-loop stall = lag of "
             "a 20 ms `asyncio.sleep` in the app's loop, sampled for the whole run.", "",
             "| condition | phrases found | phrase end → highlight p50 / p95 / max (s) | final only p50 / p95 (s) "
             "| first shown from a partial | UI stall p50 / p99 / max (ms) | load avg (1 min) during |",
             "|---|---|---|---|---|---|---|"]
    for cond, res in results.items():
        lt, lf, st = res["latency"], res["latency_final_only"], res["stall_ms"]
        n_all = lt.get("n", 0) + len(res["missed"])
        loads = ", ".join(f"{x:.1f}" for x in runs_meta[cond])
        lines.append(f"| {cond} | {lt.get('n', 0)}/{n_all} | {lt.get('p50', float('nan')):.2f} / "
                     f"{lt.get('p95', float('nan')):.2f} / {lt.get('max', float('nan')):.2f} | "
                     f"{lf.get('p50', float('nan')):.2f} / {lf.get('p95', float('nan')):.2f} | "
                     f"{res['provisional_first']} | {st['p50']:.1f} / {st['p99']:.1f} / {st['max']:.0f} | {loads} |")
    for cond, res in results.items():
        lines.append(f"\nSlowest ({cond}): " + "; ".join(f"{sid} {p} {t:.2f} s ({k})" for t, sid, p, k in res["slowest"]))
        if res["missed"]:
            lines.append(f"\nNot highlighted ({cond}): " + "; ".join(res["missed"]))
    return "\n".join(lines)


def machine_line() -> str:
    return (f"`uptime` load {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end — "
            "on a machine shared with other work the figures are pessimistic")


def run_phrases(sessions, tmp: Path) -> tuple[dict, dict, str]:
    from dev_labels import shared_dir

    results, meta = {}, {}
    for cond in ("idle", "one core busy"):
        burner = None
        if cond != "idle":
            burner = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
        try:
            runs = []
            meta[cond] = []
            for sid in sessions:
                print(f"phrase ({cond}): {sid} …", file=sys.stderr, flush=True)
                wav = shared_dir() / "audio" / "dev" / f"{sid}.wav"
                r = run_child("phrase", tmp, ["--wavs", str(wav), "--timeout", "300"])
                runs.append((sid, r))
                meta[cond].append(r["_run"]["load_after"])
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
        results[cond] = analyse_phrases(runs)
    return results, meta, phrase_report(results, sessions, meta)


def child_idle_engine(args) -> dict:
    """Engine-only loop on the noise-floor file; also the bare FileSource as a baseline."""
    from coach.asr.factory import open_engine
    from coach.tui.engines import quick_hotwords

    TimedFileSource = timed_source_class()
    engine = open_engine("whisper", live=True, hotwords=quick_hotwords(None))
    out = {}

    def measured(blocks, measure):
        """Pass blocks through; snapshot CPU after WARMUP_S of audio and after ``measure`` more."""
        snap = {}
        n = 0
        names = thread_names()
        for b in blocks:
            n += len(b)
            at = n / SR
            if "c0" not in snap and at >= WARMUP_S:
                snap.update(c0=cpu_s(), th0=thread_cpu(), w0=time.monotonic())
            elif "c0" in snap and "c1" not in snap and at >= WARMUP_S + measure:
                snap.update(c1=cpu_s(), th1=thread_cpu(), w1=time.monotonic())
            yield b
        wall = snap["w1"] - snap["w0"]
        names.update(thread_names())
        snap["result"] = {"cpu_per_s": (snap["c1"] - snap["c0"]) / wall, "wall_s": wall,
                          "threads": by_thread(snap["th0"], snap["th1"], names, wall)}
        measured.last = snap["result"]

    src = TimedFileSource(args.wavs[0], realtime=True, channel="mix")
    events = list(engine.stream(measured(src, args.measure), speaker="unknown"))
    out["engine"] = {**measured.last, "events": len(events)}
    base_s = min(args.measure, 15.0)
    src = TimedFileSource(args.wavs[0], realtime=True, channel="mix")
    for _ in measured(src, base_s):
        pass
    out["source"] = measured.last
    return out


# ============================================================== parent

def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def clerk_wav(sid: str, tmp: Path) -> Path:
    from coach.audio.decode import decode
    from dev_labels import shared_dir

    src = shared_dir() / "audio" / "dev" / f"{sid}.stereo.wav"
    audio = np.concatenate(list(decode(src, channels="left")))
    out = tmp / f"{sid}.clerk.wav"
    write_wav(out, audio)
    return out


def noise_wav(seconds: float, tmp: Path) -> Path:
    rng = np.random.default_rng(72)
    audio = rng.standard_normal(int(seconds * SR)) * 10 ** (NOISE_DBFS / 20)
    out = tmp / "noise_floor.wav"
    write_wav(out, audio.astype(np.float32))
    return out


def busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return sum(f[:8]) - idle, sum(f[:8])


def run_child(part: str, tmp: Path, extra: list[str]) -> dict:
    out = tmp / f"{part}-{time.monotonic_ns()}.json"
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # what importing coach.tui sets for the app
    env["COACH_CONFIG_DIR"] = str(tmp / "config")
    env["COACH_DB"] = str(tmp / "coach.db")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", part, "--out", str(out), *extra]
    load0, (b0, _), w0 = os.getloadavg()[0], busy_jiffies(), time.monotonic()
    proc = subprocess.Popen(cmd, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - w0
    b1, _ = busy_jiffies()
    if proc.returncode != 0:
        raise SystemExit(f"child {part} failed ({proc.returncode}): {' '.join(cmd)}")
    hz = os.sysconf("SC_CLK_TCK")
    child_cpu = ru.ru_utime + ru.ru_stime
    res = json.loads(out.read_text())
    res["_run"] = {"wall_s": wall, "cpu_s": child_cpu, "load_before": load0, "load_after": os.getloadavg()[0],
                   "others_cores": max(0.0, ((b1 - b0) / hz - child_cpu) / wall),
                   "omp_wait_policy": env.get("OMP_WAIT_POLICY")}
    return res


def analyse_engine(res: dict, labels: dict[str, list[dict]]) -> dict:
    vs_label, vs_own, hits, first_hit, endpoint, decode, behind, partial_dec = [], [], [], [], [], [], [], []
    add, slow = [], []
    unmatched, split = 0, 0
    per_session = []
    for s in res["sessions"]:
        labs, t0 = labels[s["sid"]], s["t0"]
        # block ending at sample n is due when the source's clock reaches its start (previous end)
        ends = [n for n, _ in s["log"]]
        due = {n: t0 + (ends[i - 1] if i else 0) / SR for i, n in enumerate(ends)}
        matched: dict[int, int] = {}
        first = None
        lat_s = []
        for f in s["finals"]:
            vs_own.append(f["t_added"] - (t0 + f["end"]))
            k = match(f["start"], f["end"], labs)
            dec = f["t_event"] - f["trigger_t"]
            decode.append(dec)
            late = max(0.0, f["trigger_t"] - due.get(f["trigger_samples"], f["trigger_t"]))
            behind.append(late)
            add.append(f["t_added"] - f["t_event"])
            if k is None:
                unmatched += 1
                continue
            matched[k] = matched.get(k, 0) + 1
            lab_end = labs[k]["end"]
            lat = f["t_added"] - (t0 + lab_end)
            vs_label.append(lat)
            lat_s.append(lat)
            endpoint.append(f["trigger_samples"] / SR - lab_end)
            slow.append({"sid": s["sid"], "lat": lat, "end": lab_end, "dur": lab_end - labs[k]["start"],
                         "endpoint": f["trigger_samples"] / SR - lab_end, "behind": late, "decode": dec,
                         "add": f["t_added"] - f["t_event"], "text": f["text"], "jieba": f.get("jieba_init")})
            if any(ft in HIT_TYPES for ft, _, _ in f["findings"]):
                hits.append(lat)
                if first is None:
                    first = lat
        if first is not None:
            first_hit.append(first)
        split += sum(c - 1 for c in matched.values())
        for p in s["partials"]:
            partial_dec.append(p["t_event"] - p["trigger_t"])
        per_session.append({"sid": s["sid"], "labels": len(labs), "finals": len(s["finals"]),
                            "missed": len(labs) - len(matched), "p50": pct(lat_s).get("p50"),
                            "max": pct(lat_s).get("max"), "cpu_per_s": s["cpu_s"] / s["wall_s"],
                            "audio_s": s["log"][-1][0] / SR if s["log"] else 0.0,
                            "partials": len(s["partials"])})
    return {"vs_label": pct(vs_label), "vs_own": pct(vs_own), "hits": pct(hits), "first_hit": pct(first_hit),
            "endpoint": pct(endpoint), "decode": pct(decode), "behind": pct(behind), "add": pct(add),
            "slowest": sorted(slow, key=lambda x: -x["lat"])[:5],
            "partial_decode": pct(partial_dec), "unmatched": unmatched, "split": split,
            "per_session": per_session, "all_vs_label": vs_label}


def analyse_app(runs: list[tuple[str, dict]], labels: dict[str, list[dict]]) -> dict:
    vis, mounted, vs_own, hits, first_hit, trace_first = [], [], [], [], [], []
    unmatched = 0
    for sid, r in runs:
        labs, t0 = labels[sid], r["t0"]
        first = None
        for b in r["blocks"]:
            if b["end"] is None or b["t_visible"] is None:
                continue
            vs_own.append(b["t_visible"] - (t0 + b["end"]))
            k = match(b["start"], b["end"], labs)
            if k is None:
                unmatched += 1
                continue
            lat = b["t_visible"] - (t0 + labs[k]["end"])
            vis.append(lat)
            if b["t_mounted"] is not None:
                mounted.append(b["t_mounted"] - (t0 + labs[k]["end"]))
            if any(ft in HIT_TYPES for ft, _, _ in b["findings"]):
                hits.append(lat)
                if first is None:
                    first = lat
                    # trace cross-check: the app's own first courtesy/brush-off trace line (wall clock)
                    stamps = [float(ts) for ts, ev in r["trace"] if ev.strip() in HIT_TYPES]
                    if stamps and r.get("t0_wall"):
                        trace_first.append(min(stamps) - (r["t0_wall"] + labs[k]["end"]))
        if first is not None:
            first_hit.append(first)
    return {"visible": pct(vis), "mounted": pct(mounted), "vs_own": pct(vs_own), "hits": pct(hits),
            "first_hit": pct(first_hit), "trace_first": pct(trace_first), "unmatched": unmatched,
            "finals": sum(len(r["blocks"]) for _, r in runs)}


def fmt(d: dict) -> str:
    if not d.get("n"):
        return "— | — | — | 0"
    return f"{d['p50']:.2f} s | {d['p95']:.2f} s | {d['max']:.2f} s | {d['n']}"


def threads_txt(th: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in th.items() if v >= 0.001) or "—"


def report(eng: dict | None, eng_raw: dict | None, app: dict | None, app_runs, idle_app: dict | None,
           idle_eng: dict | None, sessions: list[str], idle_s: float) -> str:
    L = []
    L.append(f"Clerk (left) channel of dev sessions {', '.join(sessions)} written to mono 16 kHz WAVs and "
             "played at real-time pace by `FileSource(realtime=True)`; default Whisper engine "
             "(whisper-base int8, beam 5, Silero VAD, 0.4 s end-of-utterance silence, partials every 1 s), "
             "`OMP_WAIT_POLICY=PASSIVE` as the app sets it. Latency = wall time the result exists − "
             "(wall time the source's clock started + the labelled end of the clerk utterance the Final "
             "overlaps most). Target (issue): p95 ≤ 0.8 s.\n")
    if eng:
        L.append("### Engine: `FileSource` → `WhisperEngine.stream()` → `LiveSession.add`\n")
        L.append("| measure | p50 | p95 | max | n |\n|---|---:|---:|---:|---:|")
        L.append(f"| Final + findings, after labelled utterance end | {fmt(eng['vs_label'])} |")
        L.append(f"| Final + findings, after the Final's own `end` | {fmt(eng['vs_own'])} |")
        L.append(f"| Finals with a courtesy/brush-off finding (after labelled end) | {fmt(eng['hits'])} |")
        L.append(f"| first courtesy/brush-off finding of each session | {fmt(eng['first_hit'])} |")
        L.append(f"| └ endpointing: audio after the labelled end fed before the segment closed | {fmt(eng['endpoint'])} |")
        L.append(f"| └ decode: closing block fed → Final (Whisper, beam 5) | {fmt(eng['decode'])} |")
        L.append(f"| └ behind: closing block fed later than due (engine still busy) | {fmt(eng['behind'])} |")
        L.append(f"| └ `LiveSession.add` (matcher, rules) | {fmt(eng['add'])} |")
        L.append(f"| partial decode (greedy, growing utterance; blocks the loop) | {fmt(eng['partial_decode'])} |")
        L.append("")
        L.append("| session | audio | clerk utterances | Finals | labelled utterances without a Final | partials | "
                 "p50 | max | engine process CPU s / wall s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in eng["per_session"]:
            L.append(f"| {p['sid']} | {p['audio_s']:.1f} s | {p['labels']} | {p['finals']} | {p['missed']} | "
                     f"{p['partials']} | {p['p50']:.2f} s | {p['max']:.2f} s | {p['cpu_per_s']:.2f} |"
                     if p["p50"] is not None else f"| {p['sid']} | {p['audio_s']:.1f} s | {p['labels']} | "
                     f"{p['finals']} | {p['missed']} | {p['partials']} | — | — | {p['cpu_per_s']:.2f} |")
        L.append("")
        L.append("Slowest Finals (endpointing is audio time; the closing block is handed out 0.1 s before its "
                 "end, so latency ≈ endpointing − 0.1 + behind + decode + add):\n")
        L.append("| session | utterance end | length | latency | endpointing | behind | decode | add | text |\n"
                 "|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for x in eng["slowest"]:
            L.append(f"| {x['sid']} | {x['end']:.1f} s | {x['dur']:.1f} s | {x['lat']:.2f} s | {x['endpoint']:.2f} s | "
                     f"{x['behind']:.2f} s | {x['decode']:.2f} s | {x['add']:.2f} s | {x['text']} |")
        slow_add = max(eng["slowest"] + [{"add": 0.0}], key=lambda x: x["add"])
        vs = eng["vs_label"]
        L.append("")
        L.append(f"Where the time goes: p95 {vs['p95']:.2f} s against the 0.8 s target "
                 f"({'met' if vs['p95'] <= 0.8 else 'missed'}). Median: {eng['endpoint']['p50']:.2f} s of audio "
                 f"until the VAD closes the segment (`min_silence_s` 0.4 s + 32 ms VAD windows), then "
                 f"{eng['decode']['p50']:.2f} s decoding (p95 {eng['decode']['p95']:.2f} s, grows with the "
                 f"utterance's length); at p95 the closing block also arrived {eng['behind']['p95']:.2f} s late "
                 f"because the loop was still busy with a partial decode (p95 {eng['partial_decode']['p95']:.2f} s).")
        if slow_add.get("jieba"):
            L.append(f"The {slow_add['add']:.2f} s `LiveSession.add` is the first utterance the matcher segments "
                     "with jieba (standalone 喂/哎 check): jieba loads its dictionary lazily on first use. "
                     "Each `coach live` run pays this once.")
        share = (np.mean(np.asarray(eng["all_vs_label"]) <= 0.8) * 100) if eng["all_vs_label"] else 0.0
        r = eng_raw["_run"]
        L.append("")
        L.append(f"{share:.0f} % of Finals within 0.8 s. Finals not matched to a clerk utterance: "
                 f"{eng['unmatched']}; extra Finals from an utterance split in two: {eng['split']}. "
                 f"Model load {eng_raw['load_s']:.1f} s (not counted). Load average (1 min) before / after: "
                 f"{r['load_before']:.2f} / {r['load_after']:.2f}; other processes used "
                 f"{r['others_cores']:.2f} cores on average meanwhile.\n")
    if app:
        L.append("### App: `coach live --input FILE` (Textual, headless `run_test`)\n")
        L.append("| measure | p50 | p95 | max | n |\n|---|---:|---:|---:|---:|")
        L.append(f"| utterance block laid out on screen, after labelled utterance end | {fmt(app['visible'])} |")
        L.append(f"| utterance block mounted (first poll that saw it) | {fmt(app['mounted'])} |")
        L.append(f"| on screen, after the Final's own `end` | {fmt(app['vs_own'])} |")
        L.append(f"| blocks with a courtesy/brush-off highlight | {fmt(app['hits'])} |")
        L.append(f"| first courtesy/brush-off highlight of each session | {fmt(app['first_hit'])} |")
        L.append(f"| first courtesy/brush-off, from `COACH_TUI_TRACE` (cross-check) | {fmt(app['trace_first'])} |")
        ready = ", ".join(f"{r['ready_s']:.1f}" for _, r in app_runs)
        loads = [(r["_run"]["load_before"], r["_run"]["load_after"], r["_run"]["others_cores"]) for _, r in app_runs]
        L.append("")
        L.append(f"Polled every {POLL_S * 1000:.0f} ms (adds 0–{POLL_S * 1000:.0f} ms). Blocks shown: "
                 f"{app['finals']}; not matched to a clerk utterance: {app['unmatched']}. Start-up to listening "
                 f"(model load included): {ready} s. "
                 f"Load average before / after each run: "
                 f"{', '.join(f'{a:.2f}/{b:.2f}' for a, b, _ in loads)}; other processes used "
                 f"{', '.join(f'{c:.2f}' for _, _, c in loads)} cores.\n")
    if idle_app or idle_eng:
        L.append(f"### Idle listening CPU ({NOISE_DBFS:.0f} dBFS white-noise floor, {idle_s:.0f} s measured "
                 f"after {WARMUP_S:.0f} s warm-up)\n")
        L.append("| process | CPU s / wall s | by thread | load avg before/after | others (cores) |\n"
                 "|---|---:|---|---|---:|")
        if idle_app:
            i, r = idle_app["idle"], idle_app["_run"]
            L.append(f"| app (`coach live --input noise.wav`, headless) | {i['cpu_per_s']:.3f} | "
                     f"{threads_txt(i['threads'])} | {r['load_before']:.2f}/{r['load_after']:.2f} | "
                     f"{r['others_cores']:.2f} |")
        if idle_eng:
            r = idle_eng["_run"]
            for key, label in (("engine", "engine only: `FileSource` → `stream()`"),
                               ("source", "`FileSource` alone (baseline)")):
                i = idle_eng[key]
                L.append(f"| {label} | {i['cpu_per_s']:.3f} | {threads_txt(i['threads'])} | "
                         f"{r['load_before']:.2f}/{r['load_after']:.2f} | {r['others_cores']:.2f} |")
        L.append("\nCPU s / wall s = the process's user + system CPU time (getrusage) over the window divided "
                 "by its wall time (1.0 = one core busy); per-thread figures from psutil.\n")
    L.append("Caveats: `FileSource` hands out each 100 ms block at the start of its span, a microphone at "
             "the end, so with a real microphone add up to 0.1 s. Labelled ends are the trimmed TTS clip "
             "ends (±0.09 s). The first utterance of the first session includes the first-decode warm-up. "
             "Decoding competes with other processes on this 2-core machine (see load averages).")
    return "\n".join(L)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", nargs="+", default=list(DEFAULT_SESSIONS))
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--skip", nargs="*", default=[], choices=["engine", "app", "idle"])
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--json", metavar="FILE", help="also save the raw measurements")
    ap.add_argument("--phrase-only", action="store_true",
                    help="only the phrase-level latency and UI stall (idle, then with one core kept busy)")
    # internal (child processes)
    ap.add_argument("--child", choices=["engine", "app", "idle-engine", "phrase"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--wavs", nargs="*", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--trace", help=argparse.SUPPRESS)
    ap.add_argument("--idle", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--measure", type=float, default=30.0, help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        fn = {"engine": child_engine, "app": child_app, "idle-engine": child_idle_engine,
              "phrase": child_phrase}[args.child]
        Path(args.out).write_text(json.dumps(fn(args)))
        return 0

    t_all = time.monotonic()
    if args.phrase_only:
        with tempfile.TemporaryDirectory(prefix="bench_live_") as d:
            results, _, body = run_phrases(args.sessions, Path(d))
        print(body)
        if args.json:
            Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
        if args.write:
            from results_doc import update_section

            update_section("live-phrase", "Live: phrase end to highlight, UI stall", body)
            print("updated docs/benchmarks.md (section live-phrase)", file=sys.stderr)
        return 0
    labels = {sid: load_labels(sid) for sid in args.sessions}
    eng = eng_raw = app = idle_app = idle_eng = None
    app_runs = []
    with tempfile.TemporaryDirectory(prefix="bench_live_") as d:
        tmp = Path(d)
        wavs = [clerk_wav(sid, tmp) for sid in args.sessions]
        if "engine" not in args.skip:
            print(f"engine: {', '.join(args.sessions)} at real-time pace …", file=sys.stderr, flush=True)
            eng_raw = run_child("engine", tmp, ["--sessions", *args.sessions, "--wavs", *map(str, wavs)])
            eng = analyse_engine(eng_raw, labels)
        if "app" not in args.skip:
            for sid, wav in zip(args.sessions, wavs):
                print(f"app: {sid} …", file=sys.stderr, flush=True)
                r = run_child("app", tmp, ["--wavs", str(wav), "--trace", str(tmp / f"trace-{sid}.txt"),
                                           "--timeout", "300"])
                app_runs.append((sid, r))
            app = analyse_app(app_runs, labels)
        if "idle" not in args.skip:
            noise = noise_wav(WARMUP_S + args.idle_seconds + 3.0, tmp)
            print("idle: app …", file=sys.stderr, flush=True)
            idle_app = run_child("app", tmp, ["--wavs", str(noise), "--trace", str(tmp / "trace-idle.txt"),
                                              "--idle", "--measure", str(args.idle_seconds)])
            print("idle: engine only …", file=sys.stderr, flush=True)
            idle_eng = run_child("idle-engine", tmp, ["--wavs", str(noise), "--measure", str(args.idle_seconds)])
    body = report(eng, eng_raw, app, app_runs, idle_app, idle_eng, args.sessions, args.idle_seconds)
    print(body)
    print(f"\n(total {time.monotonic() - t_all:.0f} s)", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"engine": eng_raw, "app": app_runs, "idle_app": idle_app,
                                               "idle_engine": idle_eng}, ensure_ascii=False, indent=1))
    if args.write:
        from results_doc import update_section

        update_section("live", "Live mode latency and idle CPU", body)
        print("updated docs/benchmarks.md (section live)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
