"""Dev mono sessions end to end (Whisper-base → attribution → charging), for bench_speaker.py --e2e.

Each ``Dxx.wav`` (the mono mix, clean and with babble at 10 dB) is transcribed once (``--asr-cache DIR``
keeps the transcripts by file hash for the next run); the utterances are then judged four ways:
no attribution (``unknown``, judged as the clerk: the behaviour before attribution), clustering
without a profile, and a profile from enrolment-like audio: another session of the clerk's voice
(its own channel of that session's stereo file, up to 30 s) or the first 10 s of the clerk's
speech in the same session (left channel).  A citizen utterance is *charged* when a brush-off or
speaking-rate finding against the clerk falls on it: the finding's own time span (the charged words;
the whole recognised utterance when the finding has none) overlaps that labelled turn most.  Recognised
utterances can hold two turns (Whisper joins a question and its answer, more often in noise), so the
words decide, not the utterance.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from bench_text import prf
from dev_labels import DEV_BRUSH_OFFS, dev_sessions, expected, found, shared_dir, speaker_at

from coach.asr import open_engine, transcribe_file
from coach.audio.decode import read
from coach.session.evaluate import Evaluator
from coach.session.pipeline import hotwords
from coach.speaker.apply import attribute_utterances, cut_segments
from coach.speaker.profile import enrol
from coach.store import file_sha256

SR = 16000


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


TUNE = {"D01", "D02", "D03", "D04", "D05"}    # calibration; D06-D10 held out for reporting
CONDITIONS = ("clean", "babble10")


def _mixes(sessions: list[dict], cond: str, tmp: Path):
    """(session, path of the mono mix heard) per session; babble10: NOISEX-92 babble at 10 dB SNR
    added to the whole mix (one seeded generator over the sessions in order)."""
    dev = shared_dir() / "audio" / "dev"
    rng = np.random.default_rng(5)
    for s in sessions:
        path = dev / s["files"]["mono"]
        if cond == "babble10":
            from bench_speaker import _babble
            noisy = _babble([read(path)], 10.0, rng)[0]
            path = tmp / f"{s['id']}_{cond}.wav"
            sf.write(path, np.clip(noisy, -1, 1), SR, subtype="PCM_16")
        yield s, path


def _transcribe(path: Path, eng, ev, cache: Path | None, key: str):
    """Utterances of one file and the recognition CPU seconds (None when read from ``cache``)."""
    if cache is not None:
        hit = cache / f"{key}.{file_sha256(path)[:16]}.pkl"
        if hit.is_file():
            with hit.open("rb") as fh:
                return pickle.load(fh), None
    t0 = time.process_time()
    utts = transcribe_file(path, engine=eng, hotwords=hotwords(ev))
    cpu = time.process_time() - t0
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        with hit.open("wb") as fh:
            pickle.dump(utts, fh)
    return utts, cpu


def e2e_lines(verbose: bool = False, asr_cache: Path | None = None) -> list[str]:
    sessions = dev_sessions()
    dev = shared_dir() / "audio" / "dev"
    ev = Evaluator.default()
    eng = open_engine("whisper", hotwords=hotwords(ev))
    modes = ("none", "labels", "cluster", "profile_other", "profile_first10")
    keys = [(c, m, sp) for c in CONDITIONS for m in modes for sp in ("tune", "held", "all")]
    counts = {k: {x: Counter() for x in ("courtesy", "brush_off", "structure")} for k in keys}
    charged, uncertain, n_utts, n_sessions = Counter(), Counter(), Counter(), Counter()
    asr_cpu, asr_audio, att_cpu = 0.0, 0.0, 0.0
    audio_s = sum(s["duration_s"] for s in sessions)
    profiles_of = {}
    for s in sessions:   # enrolment audio is clean (a quiet room), the same for both conditions
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
        profiles_of[s["id"]] = profiles
    with tempfile.TemporaryDirectory() as tmp:
        for cond in CONDITIONS:
            for s, path in _mixes(sessions, cond, Path(tmp)):
                utts, cpu = _transcribe(path, eng, ev, asr_cache, f"{cond}-{s['id']}")
                if cpu is not None:
                    asr_cpu += cpu
                    asr_audio += s["duration_s"]
                segments = cut_segments(path, utts)
                split = "tune" if s["id"] in TUNE else "held"
                profiles = profiles_of[s["id"]]
                for mode in modes:
                    if mode == "none":
                        judged = utts
                    elif mode == "labels":   # who really spoke (the labelled turn each overlaps most): the ceiling
                        judged = [replace(u, speaker=speaker_at(s, u.start, u.end)) for u in utts]
                    elif mode not in profiles:
                        continue
                    else:
                        t0 = time.process_time()
                        judged = attribute_utterances(utts, segments, ev, profiles[mode])
                        if mode == "cluster" and cond == "clean":
                            att_cpu += time.process_time() - t0
                    result = ev.evaluate(judged, session=True, file=str(path))
                    bad = set()
                    for f in result.findings:
                        if f.speaker in ("clerk", "unknown") and (f.type == "brush_off" or f.rule == "too_fast") \
                                and f.utterance is not None:
                            u = judged[f.utterance]
                            start, end = (f.start, f.end) if f.start is not None and f.end is not None else (u.start, u.end)
                            if speaker_at(s, start, end) == "citizen":
                                bad.add(f.utterance)
                                if verbose:
                                    print(f"  e2e {cond} {mode} {s['id']}: citizen charged {f.rule} in {u.text}")
                    exp, got = expected(s), found(result)
                    got["brush_off"] = {f.phrase for f in result.findings
                                        if f.type == "brush_off" and f.speaker in ("clerk", "unknown")} & DEV_BRUSH_OFFS
                    got["courtesy"] = {f.phrase for f in result.findings if f.type == "courtesy" and f.rule != "near_miss"
                                       and f.speaker in ("clerk", "unknown")} & set().union(*(set(x["expect"]["required_said"]) for x in sessions))
                    for sp in (split, "all"):
                        key = (cond, mode, sp)
                        charged[key] += len(bad)
                        uncertain[key] += sum(1 for u in judged if u.speaker == "uncertain")
                        n_utts[key] += len(judged)
                        n_sessions[key] += 1
                        for k in counts[key]:
                            counts[key][k].update(tp=len(exp[k] & got[k]), fp=len(got[k] - exp[k]), fn=len(exp[k] - got[k]))
                    if verbose:
                        for k in counts[(cond, mode, split)]:
                            if exp[k] != got[k]:
                                print(f"  e2e {cond} {mode} {s['id']} {k}: missed {sorted(exp[k] - got[k])} "
                                      f"extra {sorted(got[k] - exp[k])}")
    lines = [f"Dev mono sessions end to end ({len(sessions)} sessions, {audio_s:.0f} s, `Dxx.wav` = left + right, "
             "Whisper-base default settings; `babble10`: NOISEX-92 babble at 10 dB SNR added to the mix before "
             "recognition; enrolment audio clean). `tune` = D01–D05 (the attribution constants were set on these "
             "and on the real `tune` speakers), `held` = D06–D10 (not used for that; all the dev brush-offs are "
             "here), `all` = both:", "",
             "| condition | attribution | split | sessions | citizen utterances charged | brush-off F1 | courtesy F1 "
             "| structure F1 | uncertain share |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in keys:
        if not n_sessions[key]:
            continue
        c = counts[key]
        f1 = {k: f"{prf(c[k])[2]:.3f}" if c[k]["tp"] + c[k]["fn"] else f"– ({c[k]['fp']} false)" for k in c}
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {n_sessions[key]} | {charged[key]} | {f1['brush_off']} "
                     f"| {f1['courtesy']} | {f1['structure']} "
                     f"| {uncertain[key] / max(n_utts[key], 1):.3f} |")
    with_other = sorted(sid for sid, p in profiles_of.items() if "profile_other" in p)
    lines += ["", f"profile_other covers the {len(with_other)} sessions whose clerk voice speaks ≥ 10 s in another "
              f"session ({', '.join(with_other)}), the other rows all {len(sessions)}. `none` = no attribution (every "
              "line judged as the clerk: the behaviour before attribution); `cluster` = no profile (two-voice "
              "clustering + role cues); `labels` = every recognised utterance given the speaker of the labelled turn it "
              "overlaps most (what perfect attribution would give with these transcripts: the recognition ceiling). "
              "F1 `–`: the split has nothing of that kind to find (the count of false ones instead)."]
    asr_txt = (f"recognition {asr_cpu / asr_audio:.3f} CPU-s per audio second ({asr_audio:.0f} s transcribed in this run)"
               if asr_audio else "recognition not timed in this run: the transcripts were read from the --asr-cache "
               "folder, written by an earlier run of the same `transcribe_file` call on the same files (matched by "
               "content hash); a run without --asr-cache transcribes and times it")
    lines += ["", f"CPU: {asr_txt}; attribution (clustering, decode + embed + decide) "
              f"{att_cpu / audio_s:.4f} CPU-s per audio second on top."]
    return lines


if __name__ == "__main__":
    import sys
    print("\n".join(e2e_lines("-v" in sys.argv)))
