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
* *alternatives* — the decoder's other beam hypotheses that contain a target the best one lacks;
* *sound edits* (live partials only) — a span that sounds like a phrase but for one character
  (新烧等 → 请稍等, 吉沈梦 → 急什么), toward the courtesies and the brush-offs: the greedy partial
  decoder's slips, which the beam-searched final mostly does not make.

An utterance is verified in its decoding window: the shared text before it is the same for
every competitor, so only the utterance's own tokens (given that context) decide.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from coach.phrasebook.normalize import coarse

_PUNCT = "，。！？、,.!?；;：:"
_HAS_TEXT = re.compile(r"[^\W_]", re.UNICODE)
_LATIN = re.compile(r"[A-Za-z]+")


def _syllable(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL)[0] if ch else ""


@dataclass(frozen=True)
class Candidate:
    text: str  # the utterance's text under this hypothesis
    kind: str  # "phrase" | "interjection" | "alternative" | "sound" | "brush_off"
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


def sound_edits(text: str, phrases: Sequence[str], *, loose: bool = False) -> list[Candidate]:
    """Spans as long as a phrase (≥ 3 characters) that sound like it but for at most one
    character: every other character has the phrase character's accent-tolerant syllable
    (:func:`coach.phrasebook.normalize.coarse`) — the greedy live decoder's typical slip
    (新烧等 → 请稍等, 吉沈梦 → 急什么).  ``loose``: a phrase of ≥ 4 characters also when two of
    them are off (a partial's first second of a phrase: 不居我怪 → 不归我管)."""
    out: list[Candidate] = []
    seen = {text}
    sounds = [coarse(c) for c in text]
    present = set(sounds)
    for p in phrases:
        ps = _phrase_sounds(p)
        off = 2 if loose and ps is not None and len(ps) >= 4 else 1
        if ps is None or len(p) > len(text) or sum(x in present for x in ps) < len(ps) - off:
            continue
        for i in range(len(text) - len(p) + 1):
            if sum(a != b for a, b in zip(sounds[i:i + len(p)], ps)) > off:
                continue
            span = text[i:i + len(p)]
            if span == p or not all(_HAS_TEXT.match(c) for c in span):
                continue
            cand = text[:i] + p + text[i + len(p):]
            if cand not in seen:
                seen.add(cand)
                out.append(Candidate(cand, "sound", p))
    return out


@functools.lru_cache(maxsize=4096)
def _phrase_sounds(p: str) -> tuple[str, ...] | None:
    if len(p) < 3 or not all(_HAS_TEXT.match(c) for c in p):
        return None
    return tuple(coarse(c) for c in p)


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
        # inserted: with the decoder's comma or nothing (whichever it finds likelier; a space
        # never won a decision on the tune split)
        cands = [w + sep + body for sep in (comma, "")] if body else [w]
        if len(body) > len(first) and (latin or _syllable(first) == _syllable(w)):
            rest = body[len(first):].lstrip(_PUNCT + " ")
            cands.append(w + comma + rest if rest else w)
        for c in cands:
            if c != text and all(c != o.text for o in out):
                out.append(Candidate(c, "interjection", w))
    return out


def lone_reading(text: str, interjections: Sequence[str]) -> str | None:
    """The interjection a decode of one character says, by its toneless syllable (爱 → 哎,
    为 → 喂), else None."""
    body = text.strip(_PUNCT + " ")
    if len(body) != 1 or not _HAS_TEXT.match(body):
        return None
    return next((w for w in interjections if w and _syllable(w) == _syllable(body)), None)


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

    def __init__(self, whisper_model, tokenizer, batch: int = 1):
        self.model = whisper_model.model  # ctranslate2.models.Whisper
        self.tok = tokenizer
        # candidates per align call.  One is fastest: every batch item recomputes the decoder's
        # cross-attention keys/values over the whole window anyway (the bulk of the cost), and
        # per candidate a batch of 4 took 10-25 % longer than one at a time (28 s window:
        # 145 vs 127 ms for 8 tokens); peak RSS 549 MB at 2, 697 MB at 4.
        self.batch = batch
        self.start = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
        self.calls = 0  # sequences scored (align) or scanned (starts: one per window)
        self._rows_of: object = None  # starts(): the audio, and the rows kept for it
        self._rows: list[np.ndarray | None] = []

    def tokens(self, text: str) -> list[int]:
        return self.tok.encode(" " + text if text and text[0].isascii() else text)

    def token_logprobs(self, encoder_output, frames: int, texts: Sequence[str], *,
                       eot: bool = False) -> list[np.ndarray]:
        """log p(token) of every token of each text (plus end-of-text when ``eot``), same audio."""
        import ctranslate2

        seqs = [self.tokens(t) + ([self.tok.eot] if eot else []) for t in texts]
        keep = [i for i, s in enumerate(seqs) if s]
        out = [np.zeros(0)] * len(seqs)
        if not keep:
            return out
        enc = np.asarray(encoder_output)
        if enc.shape[0] != 1:
            enc = enc[:1]
        for at in range(0, len(keep), self.batch):
            part = keep[at: at + self.batch]
            batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(enc, len(part), 0)))
            res = self.model.align(batch, self.start, [seqs[i] for i in part], [frames] * len(part))
            self.calls += len(part)
            for i, r in zip(part, res):
                out[i] = np.log(np.clip(np.asarray(r.text_token_probs, dtype=np.float64), 1e-12, 1.0))
        return out

    def loglik(self, encoder_output, frames: int, texts: Sequence[str], *, eot: bool = False) -> list[float]:
        """Sum of log p(token) of each text (plus end-of-text when ``eot``), same audio."""
        return [float(p.sum()) for p in self.token_logprobs(encoder_output, frames, texts, eot=eot)]

    def starts(self, encoder_output, texts: Sequence[str], joiner: str = "") -> list[np.ndarray | None]:
        """log p(next token) over the whole vocabulary at the start of each of a window's
        utterances (``texts``, joined by ``joiner``), given the ones before it.

        One forced decode of the texts one after another, each tokenized on its own so that every
        utterance starts on a token; a forced step's row depends only on the tokens before it, so
        each row is the one a decode of that utterance's head alone gives.  A decode costs a
        decoder step per token (~17 ms for a 12 s window): one per window instead of one per
        utterance (docs/benchmarks.md, "One scan per window").  The rows are kept for this audio:
        later calls get the rows of the texts as they stood at the first call (a window's free
        transcription), also after an earlier utterance was changed by a choice.  None: no row
        (the decoder's length limit)."""
        if encoder_output is self._rows_of and len(self._rows) == len(texts):
            return self._rows
        import ctranslate2

        pieces = [self.tokens(t + (joiner if t and k < len(texts) - 1 else "")) for k, t in enumerate(texts)]
        at = [sum(len(p) for p in pieces[:k]) for k in range(len(texts))]
        seq = [t for p in pieces[:-1] for t in p]
        enc = np.asarray(encoder_output)[:1]
        r = self.model.generate(ctranslate2.StorageView.from_array(np.ascontiguousarray(enc)), [self.start + seq],
                                beam_size=1, max_length=2 * len(seq) + 4, return_logits_vocab=True,
                                suppress_blank=False, suppress_tokens=[])[0]
        self.calls += 1
        # one row per forced or generated step.  CTranslate2 4.8 returns about max_length / 2 rows
        # whatever the prefix (max_length // 2 from 6 on; 1 at 4, 2 at 5; measured for 1-15
        # forced tokens), so 2 * len(seq) + 4 reaches the row after the last forced token with
        # one step to spare
        rows: list[np.ndarray | None] = []
        for k in at:
            if k < len(r.logits[0]):
                row = np.asarray(r.logits[0][k], dtype=np.float64)
                m = row.max()
                rows.append(row - m - np.log(np.exp(row - m).sum()))
            else:
                rows.append(None)
        self._rows_of, self._rows = encoder_output, rows
        return rows


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
    sound: float = -1.0  # live partials' sound-alike spans toward a courtesy (sound_edits): same scale as phrase
    # Sound-alike spans toward a brush-off wording (finals and partials) (kind "brush_off": 不给我管 → 不归我管).
    # Measured (benchmarks/bench_verify.py tune-brush --snr clean 10 5: the tune lines and the
    # clerk turns of D01-D05, clean and babble 10/5 dB; 128 competitors in 57 of 191 utterances):
    # brush-offs said and misheard gain -3.7 to +0.2, benign lines turned into one (跟您说清楚 →
    # 跟你不清楚, 明天过来 → 明天再来) -10.6 or less; every margin from -11.5 to -4.0 finds 42/42
    # said with no false alarm; the middle of that range.
    brush_off: float = -7.5
    lone: float = 0.0  # an interjection alone in a segment the decoder left empty, vs nothing (no tune case)
    # An interjection insertion is asked only if the model's next-token log-probability of it,
    # minus that of the free text's first token, is at least this (tune split: -7 drops 80 % of
    # interjection competitors and no decision, and so does anything down to -9; -7.5 leaves room
    # for the scan's first-token log-probability differing from align's by ~0.4)
    screen: float = -7.5
    screen_abs: float = -9.0  # ... and its own next-token log-probability at least this
    screen_top: int = 2  # ... and it is one of the two interjections the model rates likeliest there

    def of(self, kind: str) -> float:
        return getattr(self, kind)


def choose(texts: list[str], index: int, cands: list[Candidate], scorer: Scorer, encoder_output,
           frames: int, margins: Margins, joiner: str = "", log: list | None = None) -> str:
    """The text of utterance ``index`` of a window (``texts``) after forced choice among ``cands``.

    Cost: one align per competitor asked, plus one for the free text.  Interjection insertions are
    first screened by the model's next-token distribution at the utterance's start (one forced
    decode per window, :meth:`Scorer.starts`): only the ``margins.screen_top`` interjections the model rates
    likeliest there are asked, and only if their log-probability is ≥ ``margins.screen_abs`` and
    ≥ the free text's first token's + ``margins.screen`` (:func:`screened`).  With ``log``
    every competitor is scored (so the logged gains are complete) but the decision is the same."""
    if not cands:
        return texts[index]
    text = texts[index]
    prefix = joiner.join(texts[:index])
    head = prefix + (joiner if prefix else "")
    first, nxt = None, None
    if any(c.kind == "interjection" for c in cands) and margins.screen > -np.inf:
        nxt, own = scorer.starts(encoder_output, texts, joiner)[index], scorer.tokens(text)
        if nxt is not None and own:
            first = float(nxt[own[0]])
        else:
            nxt = None
    stats = {c: _screen_stat(scorer, c.text, nxt, first) if c.kind == "interjection" else None for c in cands}
    if nxt is not None:  # only the screen_top interjections the model rates likeliest next
        rank = sorted({c.target for c in cands if c.kind == "interjection" and stats[c] is not None},
                      key=lambda w: -max(stats[c] for c in cands if c.target == w and stats[c] is not None))
        for c in cands:
            if c.kind == "interjection" and stats[c] is not None and c.target not in rank[: margins.screen_top]:
                stats[c] = -np.inf
            elif stats[c] is not None and stats[c] + first < margins.screen_abs:
                stats[c] = -np.inf
    asked = [c for c in cands if log is not None or not screened(c, text, stats[c], margins)]
    if not asked:
        return text
    ll = scorer.loglik(encoder_output, frames, [head + text] + [head + c.text for c in asked])
    best, gain_best = text, 0.0
    for c, v in zip(asked, ll[1:]):
        gain = v - ll[0]
        if log is not None:
            log.append((c.kind, c.target, text, c.text, round(gain, 3), {"first": first, "screen": stats[c]}))
        over = gain - margins.of(c.kind)
        if not screened(c, text, stats[c], margins) and over > 0 and over > gain_best:
            best, gain_best = c.text, over
    return best


def _screen_stat(scorer: Scorer, cand: str, nxt: np.ndarray | None, first: float | None) -> float | None:
    """log p(the competitor's first token) − log p(the free text's first token), at the utterance's start."""
    own = scorer.tokens(cand) if nxt is not None and first is not None else []
    return float(nxt[own[0]]) - first if own else None


def screened(c: Candidate, text: str, stat: float | None, margins: Margins) -> bool:
    """Not worth scoring: an interjection *inserted* (not a sound-alike replaced, 为 → 喂: always
    asked) whose first token the model rates ``margins.screen`` or more below the free text's, or
    below ``margins.screen_abs``, or not among its ``margins.screen_top`` likeliest interjections
    (``stat`` = −inf, see :func:`choose`)."""
    return c.kind == "interjection" and c.text.endswith(text) and stat is not None and stat < margins.screen
