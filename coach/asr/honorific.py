"""您 or 你: a linear probe on Whisper's encoder states decides the one character its decoder cannot.

The coach's verdict often hangs on that character (您好 / 你好, 您慢走 / 你慢走, 请您 …), and
Whisper-base's decoder barely tells them apart: after the sandhi (nǐ hǎo → ní hǎo) the two
greetings differ only by the nasal coda of nín, and the decoder's language prior prefers 你.
Forced choice on the decoder's likelihoods (coach.asr.verify) left the 您好-said and 你好-said
gains overlapping whatever the margin (docs/benchmarks.md, "hearing").  The *encoder* does carry
the difference: a logistic regression on the mean encoder state over the character's frames
(plus two frames into the next syllable, where the coda's transition lies) separates them across
voices and engines it was not trained on (docs/benchmarks.md, "honorific probe").

Which characters: only those that decide whether a phrase with 您 is said (:func:`positions`:
the 你 of 你好 against the courtesy 您好, the 您 of 您慢走) — a 你 elsewhere (你们) is left as the
decoder wrote it (late in a long window the states drift towards 您: 你们 scored as 您 there, so
the probe is asked only where a verdict hangs on it).  How a character is read (:func:`read`), on
the encoder output of the window the utterance was decoded in (encoding the utterance again on its
own read the dev greetings worse: D02 and D06 您好 as 你好; docs/benchmarks.md "honorific probe"):

1. every 您 of the decoded window text is written 你 (so that 您好 and 你好 tokenise alike and the
   alignment does not depend on what the decoder guessed) and the text is aligned to the audio
   (Whisper's cross-attention alignment, as for word timestamps);
2. each 你 of the utterance gets the mean encoder state over its aligned frames ``[a, b + 2)``
   (:func:`vectors`: the same function builds the training rows, ``scripts/train_honorific.py``);
3. the probe's score (log-odds of 您) above ``+band`` writes 您, below ``−band`` writes 你; in
   between the decoder's character stands, and the forced choice may still ask to swap it
   (coach.asr.whisper drops only the swaps of characters the probe decided).

The weights (``coach/data/honorific/probe.npz``) are data, built by ``scripts/train_honorific.py``
from synthetic speech and the tune half of the dev recordings; see that folder's README for their
sources and licence.  Cost: one alignment of the window (about one forced-choice question) when the
utterance holds 您 or 你, nothing otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

HONORIFIC, PLAIN = "您", "你"
PROBE_PATH = Path(__file__).resolve().parents[1] / "data" / "honorific" / "probe.npz"
CONTEXT_FRAMES = 2  # encoder frames (20 ms) past the character's aligned end
ENCODER_FRAME_S = 0.02


@dataclass(frozen=True)
class Probe:
    """Standardise, then a linear score: log-odds that the character is 您."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    band: float = 0.0  # |score| below this: the decoder's character stands

    @classmethod
    def load(cls, path: Path = PROBE_PATH) -> "Probe":
        with np.load(path) as z:
            return cls(z["mean"].astype(np.float32), z["scale"].astype(np.float32), z["coef"].astype(np.float32),
                       float(z["intercept"]), float(z["band"]))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, mean=self.mean, scale=self.scale, coef=self.coef, intercept=self.intercept, band=self.band)

    def scores(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, np.float32) - self.mean) / self.scale) @ self.coef + self.intercept


@functools.lru_cache(maxsize=1)
def default_probe() -> Probe | None:
    """The bundled probe, or None when its file is missing (the decoder's characters then stand)."""
    try:
        return Probe.load()
    except (OSError, KeyError, ValueError):
        return None


def has_target(text: str) -> bool:
    return HONORIFIC in text or PLAIN in text


def vectors(whisper, tokenizer, encoder_output, frames: int, text: str,
            span: tuple[int, int] | None = None) -> list[tuple[int, np.ndarray]]:
    """(character index in ``text``, feature vector) for each 您/你 of ``text[span]`` (all of it by
    default), with ``text`` aligned on ``encoder_output`` (``frames`` 10 ms mel frames of audio)."""
    lo, hi = span or (0, len(text))
    if not has_target(text[lo:hi]):
        return []
    canon = text.replace(HONORIFIC, PLAIN)
    tokens = tokenizer.encode(canon)
    if not tokens:
        return []
    found = whisper.find_alignment(tokenizer, [tokens], encoder_output, frames)
    words = found[0] if found else []
    enc = np.asarray(encoder_output)[0]
    out: list[tuple[int, np.ndarray]] = []
    pos = 0
    for w in words:
        word = w["word"]
        at = canon.find(word, pos) if word else -1
        if at < 0:
            continue
        pos = at + len(word)
        step = (float(w["end"]) - float(w["start"])) / len(word)
        for k, ch in enumerate(word):
            i = at + k
            if ch != PLAIN or not lo <= i < hi:
                continue
            start = float(w["start"]) + k * step
            a = min(int(start / ENCODER_FRAME_S), len(enc) - 1)
            b = max(a + 1, int(round((start + step) / ENCODER_FRAME_S)))
            out.append((i, enc[a: b + CONTEXT_FRAMES].mean(0)))
    return out


def positions(text: str, phrases: Sequence[str]) -> set[int]:
    """Indices of the 您/你 of ``text`` that decide whether a phrase with 您 is said: where ``text``
    matches the phrase once both are written with 你 (你好 for 您好, 你慢走 for 您慢走)."""
    canon = text.replace(HONORIFIC, PLAIN)
    out: set[int] = set()
    for p in phrases:
        if HONORIFIC not in p:
            continue
        q = p.replace(HONORIFIC, PLAIN)
        at = canon.find(q)
        while at >= 0:
            out.update(at + k for k, ch in enumerate(p) if ch == HONORIFIC)
            at = canon.find(q, at + 1)
    return out


def read(probe: Probe, whisper, tokenizer, encoder_output, frames: int, texts: Sequence[str], index: int,
         at: set[int], joiner: str = "") -> tuple[str, list[tuple[int, float]]]:
    """Utterance ``index`` of a decoded window with its 您/你 at ``at`` (indices in the utterance)
    as the probe reads them, and the (index, score) of every character scored."""
    text = texts[index]
    if not at:
        return text, []
    prefix = joiner.join(texts[:index])
    head = len(prefix) + (len(joiner) if prefix else 0)
    window = prefix + (joiner if prefix else "") + text
    got = [(i, v) for i, v in vectors(whisper, tokenizer, encoder_output, frames, window, (head, head + len(text)))
           if i - head in at]
    if not got:
        return text, []
    scores = probe.scores(np.stack([v for _, v in got]))
    chars = list(text)
    scored = []
    for (i, _), s in zip(got, scores):
        k = i - head
        scored.append((k, float(s)))
        if s > probe.band:
            chars[k] = HONORIFIC
        elif s < -probe.band:
            chars[k] = PLAIN
    return "".join(chars), scored


def swaps(a: str, b: str) -> list[int] | None:
    """Where ``b`` differs from ``a`` if only by 您 ↔ 你, else None."""
    if len(a) != len(b) or a == b:
        return None
    at = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return at if all({a[i], b[i]} == {HONORIFIC, PLAIN} for i in at) else None
