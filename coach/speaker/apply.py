"""Attribution applied to transcribed utterances: whole files (analyze, batch, review) and live.

    utterances = attribute_file(path, utterances, evaluator, profile)   # mono recording
    live = LiveAttributor(evaluator, profile)
    live.audio(block)                    # every 16 kHz block, from the start of the session
    u = live.attribute(u)                # per final utterance: speaker and speaker_score set
    a = live.peek(partial_span)          # per partial (start–end so far): who is speaking, nothing kept

Only utterances whose speaker is ``unknown`` are attributed (stereo channels already know), and
only where there is a voice to judge: a span without audio, or quieter than ``SILENT_DBFS``,
stays ``unknown`` (judged as the clerk, as without attribution).
Without a profile the recording (live: the session so far) is clustered in two, and which voice is
the clerk comes from role cues (:func:`coach.speaker.attribute.role_evidence`); live, the first
``MIN_CLUSTER_PIECES - 1`` utterances stay ``unknown`` (judged as the clerk: on-the-spot feedback for a
clerk practising alone).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from coach.audio.decode import decode
from coach.schema import Utterance
from coach.speaker.attribute import Attribution, Piece, active_level_db, attribute, text_cues
from coach.speaker.embed import HOP, PARTIAL_FRAMES, RATE, SAMPLE_RATE, embed_many
from coach.speaker.profile import Profile


SILENT_DBFS = -55.0
MIN_CLUSTER_PIECES = 4     # live without a profile: utterances heard before clustering starts
PEEK_TAIL_S = 4.0          # live partials: the voice of their last seconds decides
PEEK_AGAIN_S = 1.0         # ... asked again for the same utterance once it has grown this much
# A peek's voice: the embedding's own partial windows (1.6 s, every 1.25 s) laid from the
# utterance's start, so a window is embedded once however many partials ask (~25 ms each).
WINDOW_S = PARTIAL_FRAMES * HOP / SAMPLE_RATE
STEP_S = round(SAMPLE_RATE / RATE / HOP) * HOP / SAMPLE_RATE
EMBED_BATCH_S = 60.0       # whole files: seconds of speech embedded at a time (bounded memory)


def audible(samples: np.ndarray) -> bool:
    return len(samples) >= SAMPLE_RATE // 10 and active_level_db(samples) > SILENT_DBFS


def iter_segments(path, utterances: Sequence[Utterance]):
    """``(index, samples)`` of each utterance's span (mono mix), yielded as soon as the decoder is
    past its end, in one streaming pass: memory is the spans still open, not the recording."""
    spans = [(int(round((u.start or 0) * SAMPLE_RATE)), int(round((u.end or 0) * SAMPLE_RATE))) for u in utterances]
    order = sorted(range(len(spans)), key=lambda k: spans[k][0])
    parts: dict[int, list[np.ndarray]] = {}
    nxt, at = 0, 0
    for chunk in decode(path, channels="mix", chunk_seconds=10.0):
        lo, hi = at, at + len(chunk)
        while nxt < len(order) and spans[order[nxt]][0] < hi:
            parts[order[nxt]] = []
            nxt += 1
        for k in list(parts):
            s, e = spans[k]
            if s < hi and e > lo:
                parts[k].append(chunk[max(s, lo) - lo:min(e, hi) - lo])
            if e <= hi:
                got = parts.pop(k)
                yield k, np.concatenate(got) if got else np.zeros(0, np.float32)
        at = hi
    for k in list(parts) + order[nxt:]:          # spans past the end of the audio: what there is
        got = parts.pop(k, [])
        yield k, np.concatenate(got) if got else np.zeros(0, np.float32)


def cut_segments(path, utterances: Sequence[Utterance]) -> list[np.ndarray]:
    """The mono mix of each utterance's span, decoded in one streaming pass (memory: the spans)."""
    out = [np.zeros(0, np.float32)] * len(utterances)
    for k, samples in iter_segments(path, utterances):
        out[k] = samples
    return out


def utterance_piece(samples: np.ndarray, u: Utterance, evaluator) -> Piece:
    words, brush, asks = text_cues(evaluator, u.text)
    return Piece(samples, u.start, u.end, words, brush=brush, asks=asks)


def _apply(u: Utterance, a: Attribution) -> Utterance:
    return replace(u, speaker=a.speaker, speaker_score=a.score)


def attribute_utterances(utterances: Sequence[Utterance], segments: Sequence[np.ndarray], evaluator,
                         profile: Profile | None = None) -> list[Utterance]:
    """``unknown`` utterances with audio get clerk / citizen / uncertain and a score."""
    return _attribute_spans(utterances, enumerate(segments), evaluator, profile)


def attribute_file(path, utterances: Sequence[Utterance], evaluator, profile: Profile | None = None) -> list[Utterance]:
    """:func:`attribute_utterances` on a recording of any length in bounded memory: each span is
    cut from the decoder as it passes (:func:`iter_segments`)."""
    if not any(u.speaker == "unknown" and u.start is not None and u.end is not None for u in utterances):
        return list(utterances)
    return _attribute_spans(utterances, iter_segments(path, utterances), evaluator, profile)


def _attribute_spans(utterances: Sequence[Utterance], spans, evaluator, profile: Profile | None) -> list[Utterance]:
    """Attribute the ``unknown`` utterances of ``spans`` (``(index, samples)`` in any order): each
    audible span is embedded in batches of about ``EMBED_BATCH_S`` seconds of speech, and only its
    embedding, duration and level are kept — not its audio."""
    out = list(utterances)
    kept: dict[int, tuple[Piece, np.ndarray]] = {}
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        for (k, samples), emb in zip(pending, embed_many([x for _, x in pending])):
            kept[k] = (utterance_piece(samples, utterances[k], evaluator).summary(), emb)
        pending.clear()

    for k, samples in spans:
        if utterances[k].speaker == "unknown" and audible(samples):
            pending.append((k, samples))
            if sum(len(x) for _, x in pending) >= EMBED_BATCH_S * SAMPLE_RATE:
                flush()
    if pending:
        flush()
    todo = sorted(kept)
    if not todo:
        return out
    got = attribute([kept[k][0] for k in todo], profile.embedding if profile else None,
                    embeddings=np.stack([kept[k][1] for k in todo]))
    for k, a in zip(todo, got):
        out[k] = _apply(utterances[k], a)
    return out


class LiveAttributor:
    """Attribution per final utterance while a session runs (audio kept for ``keep_s`` seconds)."""

    def __init__(self, evaluator, profile: Profile | None = None, *, keep_s: float = 120.0, history: int = 300):
        self.evaluator = evaluator
        self.history = history
        self.profile = profile
        self.keep = int(keep_s * SAMPLE_RATE)
        self._blocks: list[np.ndarray] = []
        self._buffered = 0
        self._first = 0         # sample index of the first buffered sample
        self.pieces: list[Piece] = []
        self.embeddings: list[np.ndarray] = []
        self._peeked: tuple[float, float, Attribution | None] | None = None   # (start, end, answer) of the last peek
        self._windows: tuple[float, dict[int, np.ndarray]] = (-1.0, {})    # utterance start, its windows' embeddings

    def audio(self, block: np.ndarray) -> None:
        self._blocks.append(np.asarray(block, np.float32))
        self._buffered += len(block)
        while self._blocks and self._buffered - len(self._blocks[0]) >= self.keep:
            self._first += len(self._blocks[0])
            self._buffered -= len(self._blocks[0])
            self._blocks.pop(0)

    def _span(self, start: float, end: float) -> np.ndarray:
        s, e = int(start * SAMPLE_RATE) - self._first, int(end * SAMPLE_RATE) - self._first
        if e <= 0 or s >= self._buffered or not self._blocks:
            return np.zeros(0, np.float32)
        data = np.concatenate(self._blocks)
        return data[max(s, 0):min(e, len(data))]

    def attribute(self, u: Utterance) -> Utterance:
        if u.speaker != "unknown" or u.start is None or u.end is None:
            return u
        got = self._judge(u, keep=True)
        return _apply(u, got) if got is not None else u

    def peek(self, u: Utterance) -> Attribution | None:
        """Who is speaking in an utterance still in progress (a partial hypothesis over
        ``u.start``–``u.end``): the attribution its last ``PEEK_TAIL_S`` seconds would get if it
        ended now, with the session so far — nothing is kept, the final is attributed afresh.
        A later partial of the same utterance gets the same answer until it has grown by
        ``PEEK_AGAIN_S``.  None where :meth:`attribute` would leave it ``unknown`` (no audio, too
        quiet, too few utterances to cluster yet)."""
        if u.speaker != "unknown" or u.start is None or u.end is None:
            return None
        last = self._peeked
        if last is not None and last[0] == u.start and u.end - last[1] < PEEK_AGAIN_S:
            return last[2]
        tail = replace(u, start=max(u.start, u.end - PEEK_TAIL_S))
        got = self._judge(tail, keep=False, embedding=self._tail_embedding(u, tail.start))
        self._peeked = (u.start, u.end, got)
        return got

    def _tail_embedding(self, u: Utterance, tail_start: float) -> np.ndarray | None:
        """The voice of ``u`` from ``tail_start`` on: the unit mean of the embeddings of the windows
        (``WINDOW_S`` long, every ``STEP_S`` from ``u.start``) that lie whole in it, each embedded
        once per utterance.  None while no window fits (the tail itself is embedded then)."""
        at, done = self._windows
        if at != u.start:
            at, done = u.start, {}
        first = max(0, int(np.ceil((tail_start - u.start) / STEP_S - 1e-6)))
        heard = min(u.end, (self._first + self._buffered) / SAMPLE_RATE)     # audio there so far
        last = int(np.floor((heard - u.start - WINDOW_S) / STEP_S + 1e-6))
        for k in [k for k in done if k < first]:
            del done[k]                       # out of the tail for good: the utterance only grows
        todo = [k for k in range(first, last + 1) if k not in done]
        wavs = [self._span(u.start + k * STEP_S, u.start + k * STEP_S + WINDOW_S) for k in todo]
        for k, emb in zip(todo, embed_many(wavs) if wavs else ()):
            done[k] = emb
        self._windows = (at, done)
        if last < first:
            return None
        mean = np.mean([done[k] for k in range(first, last + 1)], axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def _judge(self, u: Utterance, *, keep: bool, embedding: np.ndarray | None = None) -> Attribution | None:
        """Attribute ``u`` against the session so far (``keep``: and add it to the session);
        ``embedding``: its voice when the caller has it, else its samples are embedded."""
        samples = self._span(u.start, u.end)
        if not audible(samples):
            return None
        pieces = (self.pieces + [utterance_piece(samples, u, self.evaluator).summary()])[-self.history:]
        voice = embedding if embedding is not None else embed_many([samples])[0]
        embeddings = (self.embeddings + [voice])[-self.history:]
        if keep:
            self.pieces, self.embeddings = pieces, embeddings
        if self.profile is None and len(pieces) < MIN_CLUSTER_PIECES:
            return None   # too few utterances to cluster yet: judged as the clerk, as without attribution
        return attribute(pieces, self.profile.embedding if self.profile else None,
                         embeddings=np.stack(embeddings))[-1]
