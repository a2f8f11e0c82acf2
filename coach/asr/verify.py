"""Forced-choice verification: ask the model which of a few competing transcripts the audio supports.

Whisper-base's free transcription is unreliable exactly where the coach's verdict hinges on a
character or two: 您好 vs 你好, 请慢走 vs 慢走, a standalone 喂/哎 that the decoder drops or
rewrites (喂 → 为).  Instead of biasing the decoder with a prompt (which also puts the words into
the mouth of a clerk who never said them), the free transcription is taken as the null
hypothesis and each competing wording is scored against it on the same audio with the same model:
the teacher-forced log-likelihood of the token sequence (CTranslate2 ``Whisper.align`` returns
the probability of every forced token).  A competitor replaces the transcription only when its
log-likelihood is higher by at least a margin (a log-likelihood ratio); the margins were measured
on a tuning split of the dev data (docs/benchmarks.md, "hearing").

Competitors (:func:`candidates`):

* *phrase edits* — a span of the text one edit away from a target phrase (the phrasebook's
  courtesies, passed as the engine's hotwords): one character different (你好 → 您好) or one
  missing (慢走 → 请慢走);
* *interjections* — 喂/哎/嘿 inserted at the start of the utterance, or replacing a first
  character the decoder may have written for it (为 → 喂);
* *alternatives* — the decoder's other beam hypotheses that contain a target the best one lacks.

An utterance is verified in its decoding window: the shared text before it is the same for
every competitor, so only the utterance's own tokens (given that context) decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

_PUNCT = "，。！？、,.!?；;：:"
_HAS_TEXT = re.compile(r"[^\W_]", re.UNICODE)
_LATIN = re.compile(r"[A-Za-z]+")


def _syllable(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL)[0] if ch else ""


@dataclass(frozen=True)
class Candidate:
    text: str  # the utterance's text under this hypothesis
    kind: str  # "phrase" | "interjection" | "alternative"
    target: str  # the phrase or interjection it adds


def phrase_edits(text: str, phrases: Sequence[str]) -> list[Candidate]:
    """Spans one substitution or one deletion away from a phrase (≥ 2 characters) → the phrase."""
    out: list[Candidate] = []
    seen = {text}

    def add(at: int, n: int, p: str) -> None:
        if any(m.start() < at + n and at < m.end() for m in re.finditer(re.escape(p), text)):
            return  # the phrase is already there
        cand = text[:at] + p + text[at + n:]
        if cand not in seen:
            seen.add(cand)
            out.append(Candidate(cand, "phrase", p))

    for p in phrases:
        if len(p) < 2 or not _HAS_TEXT.search(p):
            continue
        for i in range(len(text) - len(p) + 1):  # one character different
            span = text[i:i + len(p)]
            if sum(a != b for a, b in zip(span, p)) == 1 and all(_HAS_TEXT.match(c) for c in span):
                add(i, len(p), p)
        if len(p) >= 3:  # one character missing
            for k in range(len(p)):
                short = p[:k] + p[k + 1:]
                for m in re.finditer(re.escape(short), text):
                    add(m.start(), len(short), p)
    return out


def interjection_edits(text: str, interjections: Sequence[str]) -> list[Candidate]:
    """喂/哎/嘿 at the start: inserted, or in place of a first character that sounds like it
    (为/位 → 喂, 爱 → 哎: same toneless syllable) or of a leading Latin word (the decoder writes
    哎 as "i")."""
    out: list[Candidate] = []
    body = text.lstrip(_PUNCT + " ")
    comma = "，" if "，" in text else ","  # the decoder's own style (its tokens score better)
    if body.startswith(tuple(w for w in interjections if w)):
        return out  # it already opens with one
    latin = _LATIN.match(body)
    first = latin.group(0) if latin else body[:1]
    for w in interjections:
        if not w:
            continue
        # inserted: with the decoder's comma, a space, or nothing (whichever it finds likelier)
        cands = [w + sep + body for sep in (comma, " ", "")] if body else [w]
        if len(body) > len(first) and (latin or _syllable(first) == _syllable(w)):
            rest = body[len(first):].lstrip(_PUNCT + " ")
            cands.append(w + comma + rest if rest else w)
        for c in cands:
            if c != text and all(c != o.text for o in out):
                out.append(Candidate(c, "interjection", w))
    return out


def candidates(text: str, phrases: Sequence[str], interjections: Sequence[str]) -> list[Candidate]:
    return phrase_edits(text, phrases) + interjection_edits(text, interjections)


def alternative_candidates(best: str, alternatives: Sequence[str], targets: Sequence[str]) -> list[Candidate]:
    """Other beam hypotheses that contain a target (phrase or interjection) the best one lacks."""
    out: list[Candidate] = []
    for alt in alternatives:
        if alt == best:
            continue
        for t in targets:
            if t and t in alt and t not in best:
                out.append(Candidate(alt, "alternative", t))
                break
    return out


class Scorer:
    """Teacher-forced log-likelihoods of token sequences given one encoder output."""

    def __init__(self, whisper_model, tokenizer, batch: int = 2):
        self.model = whisper_model.model  # ctranslate2.models.Whisper
        self.tok = tokenizer
        # candidates per align call: peak RSS on the 3 longest real/ clips 549 MB at 2, 697 MB
        # at 4; 1.3 GB over real/ unbatched (same speed)
        self.batch = batch
        self.start = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
        self.calls = 0

    def tokens(self, text: str) -> list[int]:
        return self.tok.encode(" " + text if text and text[0].isascii() else text)

    def loglik(self, encoder_output, frames: int, texts: Sequence[str], *, eot: bool = False) -> list[float]:
        """Sum of log p(token) of each text (plus end-of-text when ``eot``), same audio."""
        import ctranslate2

        seqs = [self.tokens(t) + ([self.tok.eot] if eot else []) for t in texts]
        keep = [i for i, s in enumerate(seqs) if s]
        out = [0.0] * len(seqs)
        if not keep:
            return out
        enc = np.asarray(encoder_output)
        if enc.shape[0] != 1:
            enc = enc[:1]
        for at in range(0, len(keep), self.batch):  # bounded batches: memory, not speed
            part = keep[at: at + self.batch]
            batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(enc, len(part), 0)))
            res = self.model.align(batch, self.start, [seqs[i] for i in part], [frames] * len(part))
            self.calls += 1
            for i, r in zip(part, res):
                p = np.asarray(r.text_token_probs, dtype=np.float64)
                out[i] = float(np.log(np.clip(p, 1e-12, 1.0)).sum())
        return out


@dataclass(frozen=True)
class Margins:
    """Log-likelihood gain a competitor needs over the free transcription (measured, see module doc)."""

    # Measured on the tune split (benchmarks/bench_verify.py tune --snr clean 10: the tune clips
    # and the clerk turns of D01-D05, clean and babble 10 dB; best worst-case rate over 您好/你好,
    # 请慢走/慢走 and interjection said/not said): phrase -1.0 (您好 said → credited 32/34, 你好 said
    # → not credited 20/24), interjection -9.0 (said → found 46/48, not said → none 143/144; 嗯
    # competes, so a hum is not read as 喂).  Negative: the decoder's search is biased against 您
    # and against short interjections (drops them, writes 为/i), so a competitor somewhat less
    # likely than the free transcription is still the better reading.
    phrase: float = -1.0
    interjection: float = -9.0
    alternative: float = -1.0  # same scale as phrase (not tuned separately)
    lone: float = 0.0  # an interjection alone in a segment the decoder left empty, vs nothing (no tune case)

    def of(self, kind: str) -> float:
        return getattr(self, kind)


def choose(texts: list[str], index: int, cands: list[Candidate], scorer: Scorer, encoder_output,
           frames: int, margins: Margins, joiner: str = "", log: list | None = None) -> str:
    """The text of utterance ``index`` of a window (``texts``) after forced choice among ``cands``."""
    if not cands:
        return texts[index]
    prefix = joiner.join(texts[:index])
    glue = joiner if prefix else ""
    full = [prefix + glue + texts[index]] + [prefix + glue + c.text for c in cands]
    ll = scorer.loglik(encoder_output, frames, full)
    base = ll[0]
    best, gain_best = texts[index], 0.0
    for c, v in zip(cands, ll[1:]):
        gain = v - base
        if log is not None:
            log.append((c.kind, c.target, texts[index], c.text, round(gain, 3)))
        if gain > margins.of(c.kind) and gain - margins.of(c.kind) > gain_best:
            best, gain_best = c.text, gain - margins.of(c.kind)
    return best
