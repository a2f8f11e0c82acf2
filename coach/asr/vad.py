"""Streaming speech segmentation: Silero VAD (the ONNX model shipped with faster-whisper).

:class:`SileroVad` turns audio into one speech probability per 32 ms window, keeping the
model's recurrent state between calls, so audio can arrive in blocks of any size.
:class:`Segmenter` turns those probabilities into utterances: a segment ends after
``min_silence_s`` of silence (turn gaps at a counter are ≥ 0.4 s, pauses inside a sentence
0.15–0.35 s), is padded by ``speech_pad_s`` on both sides and is cut at ``max_speech_s``
(at the longest recent pause) so no segment exceeds Whisper's 30 s window.  Only the audio of
the current segment plus the padding is kept: memory is bounded for any input length.

Speech the background gate (:class:`VadConfig`) takes out of the foreground is not thrown away:
with ``keep_background`` the stretches the VAD heard as speech but the gate did not are given
back as segments of their own marked ``background`` (the recogniser transcribes them apart,
labelled 背景, and nothing judges them), so the gate decides who is judged, never what is heard.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # samples per probability (32 ms)
_CONTEXT = 64


@dataclass(frozen=True)
class VadConfig:
    threshold: float = 0.5
    neg_threshold: float | None = None  # default threshold - 0.15
    min_silence_s: float = 0.4
    min_speech_s: float = 0.2
    speech_pad_s: float = 0.2
    max_speech_s: float = 25.0
    # Live: once an utterance has run ``clause_min_s`` (0 = never), a pause of ``clause_pause_s``
    # ends it, so a long utterance is finalised clause by clause (feedback sooner) rather than
    # after its last word.  Dev speech pauses 0.16 s after commas and 0.32 s after full stops.
    clause_min_s: float = 0.0
    clause_pause_s: float = 0.25
    # Background speech (a neighbouring window's chatter, a hall's babble) is speech to the VAD,
    # so without this an utterance never ends in a noisy hall and the recogniser gets 25 s
    # windows in which it skips whole sentences.  A window counts as silence when its level
    # (smoothed over ``level_smooth_s``) is both more than ``background_db`` below the
    # foreground speech (the 90th percentile of the speech windows' levels over the last
    # ``foreground_s``) and within ``floor_span_db`` of the floor (the 10th percentile of all
    # windows' levels over the last ``floor_s``): the hall's own level, not a quieter speaker
    # in a quiet room.  Speech starts only ``start_db`` or less below the foreground.  0 = off.
    background_db: float = 10.0
    start_db: float = 7.0
    floor_span_db: float = 12.0
    level_smooth_s: float = 0.064
    foreground_s: float = 30.0
    floor_s: float = 10.0
    # What the gate takes out comes back as ``background`` segments (at least
    # ``background_min_s`` long, padding included) instead of being dropped.  1 s, not 0.5:
    # the same `real/` CER, and in chatter 10 dB 0.55 → 0.49 CPU s per audio s.
    keep_background: bool = True
    background_min_s: float = 1.0


@dataclass
class Segment:
    start: int  # sample index (from the stream start) of audio[0]
    audio: np.ndarray  # float32, 16 kHz, padding included
    speech_start: int = -1  # detected speech, without padding (sample indexes)
    speech_end: int = -1
    background: bool = False  # speech the background gate set apart (judged by nobody)

    def __post_init__(self) -> None:
        if self.speech_start < 0:
            self.speech_start = self.start
        if self.speech_end < 0:
            self.speech_end = self.start + len(self.audio)

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return (self.start + len(self.audio)) / SAMPLE_RATE

    @property
    def speech_start_s(self) -> float:
        return self.speech_start / SAMPLE_RATE

    @property
    def speech_end_s(self) -> float:
        return self.speech_end / SAMPLE_RATE


class SileroVad:
    """Speech probabilities, streamed: ``probs(block)`` returns one value per complete window."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session  # cached by faster-whisper
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._rest = np.zeros(0, np.float32)

    def probs(self, block: np.ndarray) -> np.ndarray:
        audio = np.concatenate([self._rest, block.astype(np.float32, copy=False)])
        n = len(audio) // WINDOW
        self._rest = audio[n * WINDOW:]
        if n == 0:
            return np.zeros(0, np.float32)
        windows = audio[: n * WINDOW].reshape(n, WINDOW)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]], axis=0)
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        return np.asarray(out, np.float32).reshape(-1)


class Segmenter:
    """Feed audio blocks, get finished :class:`Segment` objects back."""

    def __init__(self, config: VadConfig | None = None, vad: SileroVad | None = None):
        self.config = cfg = config or VadConfig()
        self.vad = vad or SileroVad()
        self._neg = cfg.neg_threshold if cfg.neg_threshold is not None else max(cfg.threshold - 0.15, 0.01)
        self._pad = int(cfg.speech_pad_s * SAMPLE_RATE)
        self._min_silence = int(cfg.min_silence_s * SAMPLE_RATE)
        self._min_speech = int(cfg.min_speech_s * SAMPLE_RATE)
        self._max_speech = int(cfg.max_speech_s * SAMPLE_RATE)
        self._clause_min = int(cfg.clause_min_s * SAMPLE_RATE)
        self._clause_pause = int(cfg.clause_pause_s * SAMPLE_RATE)
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0  # stream sample index of _buf[0]
        self._pos = 0  # samples judged by the VAD so far
        self._start: int | None = None  # speech start (unpadded) when triggered
        self._silence_at = 0  # first sample of the current silence run, 0 = none
        self._best_pause: tuple[int, int] | None = None  # (length, start) of the longest pause
        self._last_end = 0  # padded end of the previous segment
        self._gate = _BackgroundGate(cfg) if cfg.background_db > 0 else None
        # the same probabilities without the gate: what it removed is the difference
        self._heard: _Background | None = None
        if self._gate is not None and cfg.keep_background:
            self._heard = _Background(Segmenter(replace(cfg, background_db=0.0, clause_min_s=0.0), self.vad),
                                      int(cfg.background_min_s * SAMPLE_RATE))

    @property
    def in_speech(self) -> bool:
        return self._start is not None

    @property
    def pausing(self) -> bool:
        """Inside an utterance but silent right now (the utterance may be about to end)."""
        return self._start is not None and bool(self._silence_at)

    @property
    def pause_samples(self) -> int:
        """Length of the pause under way inside an utterance (samples judged silent so far), else 0."""
        return self._pos - self._silence_at if self.pausing else 0

    @property
    def pause_start(self) -> int:
        """Stream sample index where the pause under way began (0 = none)."""
        return self._silence_at if self.pausing else 0

    def current(self) -> Segment | None:
        """The segment in progress (for partial results), or None."""
        if self._start is None:
            return None
        s = max(self._start - self._pad, self._last_end, self._buf_start)
        return Segment(s, self._buf[s - self._buf_start:].copy(), self._start, self._buf_start + len(self._buf))

    def feed(self, block: np.ndarray) -> list[Segment]:
        return self._feed(block, self.vad.probs(block))

    def _feed(self, block: np.ndarray, probs: np.ndarray) -> list[Segment]:
        self._buf = np.concatenate([self._buf, block.astype(np.float32, copy=False)])
        done: list[Segment] = []
        for p in probs:
            w = self._pos
            self._pos += WINDOW
            if self._gate is not None:
                at = w - self._buf_start
                # speaking on after a pause is judged as a start: background bursts in the
                # pause must not hold the utterance open
                p = self._gate.judge(float(p), self._buf[at: at + WINDOW], p >= self.config.threshold,
                                     self._start is not None and not self._silence_at)
            self._step(float(p), w, done)
        if self._start is None:  # keep only what a future segment may need as padding
            keep_from = max(self._pos - self._pad - WINDOW, self._last_end, self._buf_start)
            self._trim(keep_from)
        if self._heard is not None:
            done += self._heard.apart(done, self._heard.segmenter._feed(block, probs))
        return done

    def flush(self) -> list[Segment]:
        """End of stream: close the open segment, if any."""
        done: list[Segment] = []
        if self._start is not None:
            end = self._silence_at or (self._buf_start + len(self._buf))
            self._emit(end, done)
        if self._heard is not None:
            done += self._heard.apart(done, self._heard.segmenter.flush())
        return done

    # -- internals
    def _step(self, p: float, w: int, done: list[Segment]) -> None:
        if self._start is None:
            if p >= self.config.threshold:
                self._start, self._silence_at, self._best_pause = w, 0, None
            return
        if p >= self.config.threshold:
            if self._silence_at:
                pause = w - self._silence_at
                if self._best_pause is None or pause >= self._best_pause[0]:
                    self._best_pause = (pause, self._silence_at)
            self._silence_at = 0
        elif p < self._neg and not self._silence_at:
            self._silence_at = w
        if self._silence_at:
            silent = w + WINDOW - self._silence_at
            if silent >= self._min_silence:
                self._emit(self._silence_at, done)
                return
            if self._clause_min and self._silence_at - self._start >= self._clause_min \
                    and silent >= self._clause_pause:
                # a clause pause in a long utterance: end it here, padded only by the silence
                # heard so far (the next clause's first syllable stays out of this segment)
                self._emit(self._silence_at, done, pad=silent)
                return
        if w + WINDOW - self._start >= self._max_speech:
            if self._best_pause is not None and self._best_pause[0] >= WINDOW * 3:
                cut = self._best_pause[1] + self._best_pause[0] // 2
            else:
                cut = w + WINDOW
            self._emit(cut, done, pad=0)
            self._start = cut  # speech continues after the cut
            self._best_pause = None

    def _emit(self, speech_end: int, done: list[Segment], pad: int | None = None) -> None:
        """Close the open segment at ``speech_end``; its audio runs ``pad`` samples on
        (default: the configured padding)."""
        start = max(self._start - self._pad, self._last_end, self._buf_start)
        stop = speech_end + (self._pad if pad is None else min(pad, self._pad))
        stop = min(stop, self._buf_start + len(self._buf))
        if speech_end - self._start >= self._min_speech:
            audio = self._buf[start - self._buf_start: stop - self._buf_start].copy()
            done.append(Segment(start, audio, max(self._start, start), min(speech_end, stop)))
            self._last_end = stop
        self._start, self._silence_at, self._best_pause = None, 0, None
        self._trim(max(self._last_end, speech_end) - self._pad)

    def _trim(self, keep_from: int) -> None:
        cut = keep_from - self._buf_start
        if cut > 0:
            self._buf = self._buf[cut:]
            self._buf_start = keep_from


class _Background:
    """The speech the gate set apart: segments of the ungated ``segmenter`` (fed the same
    probabilities) minus the foreground segments, as ``background`` segments."""

    def __init__(self, segmenter: Segmenter, min_len: int):
        self.segmenter = segmenter
        self.min_len = max(min_len, WINDOW)
        self.spans: list[tuple[int, int]] = []    # foreground segments' audio not yet passed

    def apart(self, foreground: list[Segment], heard: list[Segment]) -> list[Segment]:
        """Background pieces of the ungated segments ``heard`` now; ``foreground``: the
        segments the gated segmenter emitted up to the same window.  A foreground segment ends
        no later than the ungated one around it (the gate only adds silence), so every
        foreground span a piece could overlap is known when the ungated segment ends."""
        self.spans += [(g.start, g.start + len(g.audio)) for g in foreground if not g.background]
        out: list[Segment] = []
        for h in heard:
            a, b = h.start, h.start + len(h.audio)
            at = a
            for s0, s1 in self.spans:
                if s0 > at:
                    out += self._piece(h, at, min(s0, b))
                at = max(at, s1)
                if at >= b:
                    break
            out += self._piece(h, at, b)
            self.spans = [sp for sp in self.spans if sp[1] > b]
        return out

    def _piece(self, h: Segment, a: int, b: int) -> list[Segment]:
        speech_start, speech_end = max(a, h.speech_start), min(b, h.speech_end)
        if b - a < self.min_len or speech_end - speech_start < WINDOW:
            return []           # too short to transcribe, or only the ungated segment's padding
        return [Segment(a, h.audio[a - h.start: b - h.start].copy(), speech_start, speech_end, background=True)]


class _BackgroundGate:
    """Speech far quieter than the foreground speech heard lately, at the level of the hall's
    floor, is background: silence (see :class:`VadConfig`)."""

    EVERY = 16      # windows between updates of the two levels (0.5 s)

    def __init__(self, cfg: VadConfig):
        self.margin = cfg.background_db
        self.start_margin = min(cfg.start_db, cfg.background_db)
        self.span = cfg.floor_span_db
        per_s = SAMPLE_RATE / WINDOW
        self.keep_speech = max(1, int(cfg.foreground_s * per_s))
        self.keep_all = max(1, int(cfg.floor_s * per_s))
        self.alpha = float(np.exp(-WINDOW / (cfg.level_smooth_s * SAMPLE_RATE))) if cfg.level_smooth_s > 0 else 0.0
        self.power = 0.0
        self.speech: list[float] = []       # smoothed dB of recent foreground speech windows
        self.all: list[float] = []          # smoothed dB of all recent windows
        self.foreground: float | None = None
        self.floor = -120.0
        self.count = 0

    def judge(self, p: float, window: np.ndarray, speech: bool, started: bool) -> float:
        """``p`` for one window, or 0.0 when it is background (``speech``: ``p`` is over the
        threshold; ``started``: an utterance is open and not pausing)."""
        power = float(np.mean(np.square(window, dtype=np.float64))) if len(window) else 0.0
        self.power = self.alpha * self.power + (1.0 - self.alpha) * power
        level = 10.0 * float(np.log10(self.power + 1e-12))
        self.count += 1
        self.all.append(level)
        if self.count % self.EVERY == 0:
            del self.all[:-self.keep_all]
            self.floor = float(np.percentile(self.all, 10))
            if self.speech:
                del self.speech[:-self.keep_speech]
                self.foreground = float(np.percentile(self.speech, 90))
        if self.foreground is not None and level < self.floor + self.span \
                and level < self.foreground - (self.margin if started else self.start_margin):
            return 0.0
        if speech:      # foreground speech (background is not counted: it would pull the level down)
            self.speech.append(level)
            if self.foreground is None:
                self.foreground = level
        return p


class FixedSegmenter:
    """No VAD: cut the stream into fixed windows (``window_s``), same interface as :class:`Segmenter`."""

    def __init__(self, window_s: float = 30.0):
        self._size = int(window_s * SAMPLE_RATE)
        self._buf = np.zeros(0, np.float32)
        self._start = 0
        self.in_speech = True

    def current(self) -> Segment | None:
        return Segment(self._start, self._buf.copy()) if len(self._buf) else None

    def feed(self, block: np.ndarray) -> list[Segment]:
        self._buf = np.concatenate([self._buf, block.astype(np.float32, copy=False)])
        done = []
        while len(self._buf) >= self._size:
            done.append(Segment(self._start, self._buf[: self._size].copy()))
            self._buf = self._buf[self._size:]
            self._start += self._size
        return done

    def flush(self) -> list[Segment]:
        done = [Segment(self._start, self._buf.copy())] if len(self._buf) >= WINDOW else []
        self._start += len(self._buf)
        self._buf = np.zeros(0, np.float32)
        return done


def segment_all(chunks, config: VadConfig | None = None, *, vad: bool = True):
    """Yield segments from an iterable of audio chunks (convenience for files)."""
    seg = Segmenter(config) if vad else FixedSegmenter()
    for chunk in chunks:
        yield from seg.feed(chunk)
    yield from seg.flush()
