"""Dev mono sessions end to end (Whisper-base → attribution → charging), for bench_speaker.py --e2e.

Each ``Dxx.wav`` (the mono mix) is transcribed once; the utterances are then judged four ways:
no attribution (``unknown``, judged as the clerk: the behaviour before attribution), clustering
without a profile, and a profile from enrolment-like audio: another session of the clerk's voice
(its own channel of that session's stereo file, up to 30 s) or the first 10 s of the clerk's
speech in the same session (left channel).  A citizen utterance is *charged* when a brush-off or
speaking-rate finding against the clerk falls on it (by time overlap with the labels).
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from bench_text import prf
from dev_labels import dev_sessions, expected, found, shared_dir

from coach.asr import open_engine, transcribe_file
from coach.audio.decode import read
from coach.session.evaluate import Evaluator
from coach.session.pipeline import hotwords
from coach.speaker.apply import attribute_utterances, cut_segments
from coach.speaker.profile import enrol

SR = 16000
CANON_B = {"不知道", "不清楚", "不归我管", "不是我们这儿的事", "喂", "哎", "没空", "没看我正忙着吗", "急什么",
           "自己看墙上", "明天再来", "下班了"}


def _label_of(s: dict, start: float, end: float) -> str:
    best, who = 0.0, "none"
    for u in s["utterances"]:
        ov = min(end, u["end"]) - max(start, u["start"])
        if ov > best:
            best, who = ov, u["speaker"]
    return who


def _voice_audio(sessions: list[dict], voice: str, not_sid: str) -> np.ndarray | None:
    dev = shared_dir() / "audio" / "dev"
    clips = []
    for s in sessions:
        if s["id"] == not_sid:
            continue
        ch = 0 if s["clerk_voice"] == voice else 1 if s["citizen_voice"] == voice else None
        if ch is None:
            continue
        both = read(dev / s["files"]["stereo"], channels="both")
        for u in s["utterances"]:
            if u["voice"] == voice:
                clips.append(both[ch][int(u["start"] * SR):int(u["end"] * SR)])
    return np.concatenate(clips) if clips else None


def e2e_lines(verbose: bool = False) -> list[str]:
    sessions = dev_sessions()
    dev = shared_dir() / "audio" / "dev"
    ev = Evaluator.default()
    eng = open_engine("whisper", hotwords=hotwords(ev))
    modes = ("none", "cluster", "profile_other", "profile_first10")
    counts = {m: {k: Counter() for k in ("courtesy", "brush_off", "structure")} for m in modes}
    charged = Counter()
    uncertain = Counter()
    n_utts = Counter()
    asr_cpu = att_cpu = 0.0
    audio_s = sum(s["duration_s"] for s in sessions)
    for s in sessions:
        path = dev / s["files"]["mono"]
        t0 = time.process_time()
        utts = transcribe_file(path, engine=eng, hotwords=hotwords(ev))
        asr_cpu += time.process_time() - t0
        segments = cut_segments(path, utts)
        left = read(dev / s["files"]["stereo"], channels="both")[0]
        first, got_s = [], 0.0
        for u in s["utterances"]:
            if u["speaker"] == "clerk" and got_s < 10.0:
                first.append(left[int(u["start"] * SR):int(u["end"] * SR)])
                got_s += u["end"] - u["start"]
        other = _voice_audio(sessions, s["clerk_voice"], s["id"])
        profiles = {"cluster": None, "profile_first10": enrol(np.concatenate(first + first) if got_s < 10 else np.concatenate(first))}
        if other is not None and len(other) >= 10 * SR:
            profiles["profile_other"] = enrol(other)
        for mode in modes:
            if mode == "none":
                judged = utts
            elif mode not in profiles:
                continue
            else:
                t0 = time.process_time()
                judged = attribute_utterances(utts, segments, ev, profiles[mode])
                if mode == "cluster":
                    att_cpu += time.process_time() - t0
            result = ev.evaluate(judged, session=True, file=str(path))
            bad = set()
            for f in result.findings:
                if f.speaker in ("clerk", "unknown") and (f.type == "brush_off" or f.rule == "too_fast") \
                        and f.utterance is not None:
                    u = judged[f.utterance]
                    if _label_of(s, u.start, u.end) == "citizen":
                        bad.add(f.utterance)
                        if verbose:
                            print(f"  e2e {mode} {s['id']}: citizen charged {f.rule} in {u.text}")
            charged[mode] += len(bad)
            uncertain[mode] += sum(1 for u in judged if u.speaker == "uncertain")
            n_utts[mode] += len(judged)
            exp, got = expected(s), found(result)
            got["brush_off"] = {f.phrase for f in result.findings
                                if f.type == "brush_off" and f.speaker in ("clerk", "unknown")} & CANON_B
            got["courtesy"] = {f.phrase for f in result.findings if f.type == "courtesy" and f.rule != "near_miss"
                               and f.speaker in ("clerk", "unknown")} & set().union(*(set(x["expect"]["required_said"]) for x in sessions))
            for k in counts[mode]:
                counts[mode][k].update(tp=len(exp[k] & got[k]), fp=len(got[k] - exp[k]), fn=len(exp[k] - got[k]))
                if verbose and exp[k] != got[k]:
                    print(f"  e2e {mode} {s['id']} {k}: missed {sorted(exp[k] - got[k])} extra {sorted(got[k] - exp[k])}")
    lines = [f"Dev mono sessions end to end ({len(sessions)} sessions, {audio_s:.0f} s, `Dxx.wav` = left + right, "
             "Whisper-base default settings):", "",
             "| attribution | citizen utterances charged | brush-off F1 | courtesy F1 | structure F1 | uncertain share |",
             "|---|---|---|---|---|---|"]
    for mode in modes:
        c = counts[mode]
        lines.append(f"| {mode} | {charged[mode]} | {prf(c['brush_off'])[2]:.3f} | {prf(c['courtesy'])[2]:.3f} "
                     f"| {prf(c['structure'])[2]:.3f} | {uncertain[mode] / max(n_utts[mode], 1):.3f} |")
    lines += ["", "profile_other covers the 8 sessions whose clerk voice speaks in another session "
              "(D02 and D07 have none), the other rows all 10."]
    lines += ["", f"CPU: recognition {asr_cpu / audio_s:.3f} CPU-s per audio second; attribution (clustering, "
              f"decode + embed + decide) {att_cpu / audio_s:.4f} CPU-s per audio second on top."]
    return lines


if __name__ == "__main__":
    import sys
    print("\n".join(e2e_lines("-v" in sys.argv)))
