"""faster-whisper engine (the default): Silero-VAD utterances, decoded in groups.

How a file is transcribed:

1. :mod:`coach.asr.vad` cuts the stream into utterances at pauses ≥ 0.4 s (turn gaps);
2. consecutive utterances are grouped into one window of ≤ ``group_s`` seconds (gaps longer
   than ``group_gap_s`` — holds — start a new window; gaps inside a window are shortened to
   ≤ ``gap_fill_s`` of silence) and decoded together: Whisper gets the context of the
   neighbouring sentences, and one encoder pass serves several utterances;
3. the encoder input is the window's audio plus ``pad_frames`` of padding instead of Whisper's
   fixed 30 s (CTranslate2 accepts shorter inputs; several times less encoder time);
4. decoding: faster-whisper's temperature fallback, no timestamps, a token budget proportional
   to the length (bounds runaway loops), an optional simplified-Chinese initial prompt;
5. the text is split back into the utterances by Whisper's cross-attention alignment (each
   character goes to the utterance its time falls in); an utterance that got no text (Whisper
   stopped early) is decoded on its own;
6. :mod:`coach.asr.guards` drops silence hallucinations and collapses loops; text is converted
   traditional → simplified with zhconv (``zh-cn`` keeps 您好 and fixes 著急→着急); a decode
   whose average log-probability stays below ``min_avg_logprob`` (or, after the sampling
   fallback, below ``log_prob_threshold``) is noise and yields nothing;
7. forced-choice verification (:mod:`coach.asr.verify`, clerk and unknown speakers only): each
   utterance's text competes, in its decoding window, against one-edit variants toward the
   hotwords (你好 → 您好, 慢走 → 请慢走), a leading interjection (喂/哎/嘿/嗯, inserted or in place
   of the first character) and the other beam hypotheses; a competitor wins when the model's
   teacher-forced log-likelihood of it beats the free text by the measured margin.  The hotwords
   are no longer put into the prompt: the audio has to say them.

Live mode (:meth:`WhisperEngine.stream`) decodes each utterance (or clause of a long one) as
soon as it ends (no grouping) and verifies its final as above; in between it emits a
:class:`~coach.asr.base.Partial` at each short pause and about every second of speech, decoding
greedily only the tail of the growing utterance (the text before its last decoded pause is
kept), verified toward the courtesies, and by sound toward the courtesies and brush-offs
(``partial_targets``); an utterance's opening is decoded every 0.5 s and also asked about the
interjections.  Models are loaded once per process (cache keyed by path + compute type + threads).
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from coach.asr.base import Engine, Event, Final, Partial
from coach.asr.guards import active_dbfs, collapse_loops, is_silence_hallucination
from coach.asr.honorific import default_probe, positions, read, swaps
from coach.asr.vad import SAMPLE_RATE, FixedSegmenter, Segment, Segmenter, VadConfig
from coach.asr.verify import (Candidate, Margins, Scorer, alternative_candidates, choose, interjection_edits, phrase_edits,
                              lone_reading, sound_edits)
from coach.errors import ModelError
from coach.schema import NOT_CLERK, Speaker, Utterance, Word

log = logging.getLogger(__name__)

BASE_PROMPT = "以下是政务服务窗口的普通话对话。"
MAX_FRAMES = 3000  # Whisper's 30 s window
_HAS_TEXT = re.compile(r"[^\W_]", re.UNICODE)
_LEADING_PUNCT = re.compile(r"^[\W_]+", re.UNICODE)
ASSIGN_AT = 1.0  # assign a character by its end time (alignment runs early)
MIN_CPS = 1.5  # fewer characters per second of speech than this: Whisper skipped it in the window
LONE_MAX_S = 1.2  # a segment this short that decodes to nothing may be a lone interjection (喂！)


@dataclass(frozen=True)
class WhisperSettings:
    beam_size: int = 5
    live_beam_size: int = 2  # stream(): finals within the live latency budget (CER +0.8 pt, docs/benchmarks.md)
    # stream() decodes without the prompt: ~100 prompt tokens made every live decode slower
    # (measured p95 1.42 s vs 1.10 s after the utterance ends, docs/benchmarks.md "live").
    live_prompt: bool = False
    use_prompt: bool = True  # internal: whether a decode uses the prompt
    best_of: int = 5
    # The beam alone (temperature 0), judged by the noise floor (min_avg_logprob) and the loop
    # guard.  faster-whisper's sampling fallback (0.2 … 1.0 after a failed beam) is not used by
    # default: CTranslate2's sampler is seeded once per worker thread, so what it sampled
    # depended on every decode before it (the same babble gave nothing or five "8-" lines), and
    # without it CER on real/ and the dev sessions' figures stay the same or improve
    # (docs/benchmarks.md "hearing", twentieth session).  Set (0.0, 0.2, …) to have it back.
    temperatures: tuple[float, ...] = (0.0,)
    compute_type: str = "int8"
    cpu_threads: int = 2
    language: str = "zh"
    vad: bool = True
    vad_config: VadConfig = field(default_factory=lambda: VadConfig(speech_pad_s=0.5))
    live_clause_min_s: float = 3.0  # live: an utterance this long is finalised at its next clause pause
    group_s: float = 28.0  # decode consecutive utterances together up to this long (0 = one by one)
    group_gap_s: float = 5.0  # a longer pause starts a new group
    gap_fill_s: float = 0.6  # pauses inside a group are shortened to this
    # Initial prompt.  Measured (docs/benchmarks.md): the domain prompt alone costs 4-5 CER
    # points on general speech; naming the courtesies makes Whisper write 您好 where it otherwise
    # writes 你好 for a clerk's 您好 (dev sessions: detection F1 0.93 -> 0.99 clean), at the price
    # of sometimes crediting a said 你好 and, in heavy babble, a hallucinated courtesy.  So: a
    # plain transcription (no hotwords: `coach transcribe`) gets no prompt; the coach's
    # detection paths (analyze, the app), which pass the phrasebook's courtesies, get it.
    # Superseded (issue 9): the hotword prompt put courtesies into the mouth of clerks who never
    # said them (noise, babble).  The hotwords are now *verified* on the audio instead
    # (coach.asr.verify); the prompt stays available for benchmarks.
    prompt: bool = False  # the domain sentence even without hotwords
    prompt_hotwords: bool = False  # a prompt with the hotwords whenever the engine is given some
    verify: bool = True  # forced-choice verification of courtesy/interjection competitors (not citizens)
    # 您/你 read by the encoder probe (coach.asr.honorific) before the forced choice, which then
    # never asks a 您 ↔ 你 swap (verified utterances only: not citizens)
    honorific: bool = True
    # standalone syllables Whisper drops or rewrites; 嗯 competes so that a hum is not read as 喂
    interjections: tuple[str, ...] = ("喂", "哎", "嘿", "嗯")
    margins: Margins = field(default_factory=Margins)
    nbest: int = 3  # beam hypotheses kept for verification (≤ beam_size)
    # A decode this unsure is noise: babble alone decodes at -1.7 to -3.4, clerk speech in babble
    # 5 dB / chatter 10 dB at -0.2 to -0.6 (docs/benchmarks.md "hearing"); a sampled fallback
    # result must reach log_prob_threshold.
    min_avg_logprob: float = -1.5
    trim_encoder: bool = True  # encoder input = audio + pad_frames instead of 30 s
    pad_frames: int = 500  # 10 ms frames of padding after the audio (trim_encoder)
    word_timestamps: bool = False  # Utterance.words (cross-attention alignment)
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    partial_interval_s: float = 1.0  # stream(): a Partial every so often while speech goes on (0 = none)
    partial_pause_s: float = 0.15  # stream(): and one at each pause this long (a phrase has just ended)
    # finals (files and live) are also verified by sound toward ``WhisperEngine.partial_targets``
    # (the phrasebook's brush-off wordings), with Margins.brush_off
    final_brush_offs: bool = True
    brush_off_rounds: int = 3  # ... asked again on the result while it changes, at most this often
    partial_verify: bool = True  # stream(): partials get the finals' phrase competitors, sound edits (not alternatives)
    # stream(): while an utterance's speech has run this long (its opening: a greeting, 喂/哎, a short
    # brush-off), partials come every partial_opening_interval_s (0 = partial_interval_s) and ask for
    # an opening interjection
    partial_opening_s: float = 2.5
    partial_opening_interval_s: float = 0.5
    partial_tail_s: float = 2.0  # stream(): a partial decodes from the last pause past this much audio (0 = whole)
    convert: str | None = "zh-cn"  # zhconv target, None = keep Whisper's script


_MODELS: dict[tuple, object] = {}
_LOCK = threading.Lock()


def load_model(path: str | Path, *, compute_type: str = "int8", cpu_threads: int = 2):
    """A cached ``faster_whisper.WhisperModel`` (one per process and settings)."""
    key = (str(Path(path).resolve()), compute_type, cpu_threads)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            try:
                model = WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(
                    f"无法加载 Whisper 模型：{path}（{exc}）",
                    hint="coach models verify whisper-base；损坏时运行 coach models fetch whisper-base",
                ) from exc
            _MODELS[key] = model
        return model


def build_prompt(hotwords: Sequence[str] = (), *, with_hotwords: bool = True, limit: int = 120) -> str:
    """Initial prompt: a simplified-Chinese sentence (+ the hotwords, deduplicated, ≤ ``limit`` chars)."""
    prompt = BASE_PROMPT
    if with_hotwords and hotwords:
        seen: list[str] = []
        for h in hotwords:
            h = h.strip()
            if h and h not in seen and len(prompt) + len(h) + 1 < limit:
                seen.append(h)
                prompt += h + "，"
        prompt = prompt.rstrip("，") + "。"
    return prompt


@dataclass
class Decoded:
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float
    words: list[Word] | None = None
    dropped: str | None = None  # why the guards dropped it, else None
    raw: "_Raw | None" = field(default=None, repr=False)


@dataclass
class _Raw:
    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float
    temperature: float
    encoder_output: object
    frames: int
    alternatives: list[list[int]] = field(default_factory=list)  # other beam hypotheses


class WhisperEngine(Engine):
    name = "whisper"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        settings: WhisperSettings | None = None,
        hotwords: Sequence[str] | None = None,
        model: str = "whisper-base",
    ):
        super().__init__(model=model, hotwords=hotwords)
        if model_path is None:
            from coach.asr.models import ensure

            model_path = ensure(model)
        self.settings = s = settings or WhisperSettings()
        self.whisper = load_model(model_path, compute_type=s.compute_type, cpu_threads=s.cpu_threads)
        from faster_whisper.tokenizer import Tokenizer

        self.tokenizer = Tokenizer(self.whisper.hf_tokenizer, True, task="transcribe", language=s.language)
        use_hotwords = s.prompt_hotwords and bool(self.hotwords)
        prompt = build_prompt(self.hotwords, with_hotwords=use_hotwords) if s.prompt or use_hotwords else ""
        self._prompt_tokens = self.tokenizer.encode(" " + prompt) if prompt else []
        self.stats = {"segments": 0, "windows": 0, "dropped": 0, "redecoded": 0, "verified": 0, "changed": 0}
        self.scorer = Scorer(self.whisper, self.tokenizer)
        # more phrases verified by sound only (verify.sound_edits): the phrasebook's brush-offs,
        # set by whoever holds the phrasebook (coach.tui.listen, coach.session.pipeline.analyze_file);
        # live partials toward them with Margins.sound, finals with Margins.brush_off
        self.partial_targets: tuple[str, ...] = ()
        # wordings with 您 beyond the hotwords (the phrasebook's variants: 您慢走) whose 您/你 the
        # encoder probe reads (coach.asr.honorific); set with partial_targets (pipeline.set_targets)
        self.honorific_phrases: tuple[str, ...] = ()
        self.verify_log: list | None = None  # benchmarks: (kind, target, text, candidate, gain, screen stats) per competitor

    # ------------------------------------------------------------ public API

    def close(self) -> None:
        """Drop the model from the process cache: it is freed with the last engine that uses it
        (this one keeps working while someone still holds it, e.g. another thread)."""
        with _LOCK:
            for key in [k for k, m in _MODELS.items() if m is self.whisper]:
                del _MODELS[key]

    def transcribe(
        self, chunks: Iterable[np.ndarray], *, speaker: Speaker = "unknown", offset: float = 0.0
    ) -> Iterator[Utterance]:
        s = self.settings
        seg = Segmenter(s.vad_config) if s.vad else FixedSegmenter()
        group: list[Segment] = []
        window = 0.0  # seconds the group's decode window would last (pauses shortened)

        def segments():
            for chunk in chunks:
                yield from seg.feed(chunk)
            yield from seg.flush()

        # speech the background gate set apart (coach.asr.vad): decoded on its own, never in a
        # window with the foreground (whose decoding it would disturb), greedily (nobody judges
        # it: beam 5 gave the same `real/` CER, ±0.1 point) and never verified; yielded in time
        # order with the rest
        held: list[Utterance] = []
        background = replace(s, beam_size=1, temperatures=(0.0,), word_timestamps=False)

        def in_order(utterances: Iterator[Utterance]) -> Iterator[Utterance]:
            for u in utterances:
                while held and (held[0].start or 0.0) <= (u.start or 0.0):
                    yield held.pop(0)
                yield u

        for nxt in segments():
            if nxt.background:
                u = self._single(nxt, "background", offset, settings=background)
                if u:
                    held.append(u)
                continue
            length = len(nxt.audio) / SAMPLE_RATE
            if group:
                gap = max(0.0, (nxt.start - (group[-1].start + len(group[-1].audio))) / SAMPLE_RATE)
                joined = window + min(gap, s.gap_fill_s) + length
                if s.vad and 0 < s.group_s and gap <= s.group_gap_s and joined <= s.group_s:
                    group.append(nxt)
                    window = joined
                    continue
                yield from in_order(self._decode_group(group, speaker, offset))
            group, window = [nxt], length
        if group:
            yield from in_order(self._decode_group(group, speaker, offset))
        yield from held

    def stream(self, source: Iterable[np.ndarray], *, speaker: Speaker = "unknown") -> Iterator[Event]:
        """Live: a Final as soon as an utterance (or, past ``live_clause_min_s``, a clause) ends,
        decoded with ``live_beam_size`` and verified; Partials in between, decoded greedily and
        verified toward the courtesies, by sound toward the courtesies and ``partial_targets``
        and, at the utterance's opening, toward the interjections (provisional: the Final
        confirms or withdraws them).

        A partial is decoded at each short pause (``partial_pause_s``: a phrase has most likely
        just ended) and every ``partial_interval_s`` of speech without one (``partial_opening_interval_s``
        during the utterance's first ``partial_opening_s``).  It decodes only the
        tail of the utterance (:class:`_PartialTail`): the text before the last decoded pause is
        kept, so each partial costs a few seconds of audio however long the utterance runs."""
        s = self.settings
        # live decodes only what is judged (background speech would cost the feedback its second)
        seg = Segmenter(replace(s.vad_config, clause_min_s=s.live_clause_min_s, keep_background=False))
        fast = replace(s, beam_size=1, temperatures=(0.0,), word_timestamps=False, use_prompt=s.live_prompt)
        final = replace(s, beam_size=min(s.beam_size, s.live_beam_size), use_prompt=s.live_prompt)
        every = int(s.partial_interval_s * SAMPLE_RATE)
        at_pause = int(s.partial_pause_s * SAMPLE_RATE)
        opening_len = int(s.partial_opening_s * SAMPLE_RATE)
        every_opening = int((s.partial_opening_interval_s or s.partial_interval_s) * SAMPLE_RATE)
        tail = _PartialTail(int(s.partial_tail_s * SAMPLE_RATE))
        fed = 0
        for block in source:
            fed += len(block)
            for done in seg.feed(block):
                u = self._single(done, speaker, 0.0, settings=final)
                if u:
                    yield Final(u)
            cur = seg.current()
            # a source that reports the recogniser is behind real time (coach.tui.listen.Tap):
            # skip the partial decode to catch up — partial work is dropped, never audio
            if cur is None or not every or getattr(source, "behind", False):
                continue
            tail.follow(cur)
            pause = seg.pause_samples
            # the utterance's opening (greeting, 喂/哎, a short brush-off) is decoded more often
            opening = tail.at_start(cur) and cur.speech_end - cur.speech_start <= opening_len
            if pause:   # decode once per pause, as soon as it is long enough
                due = pause >= at_pause and tail.pause != seg.pause_start
            else:
                due = fed - tail.decoded_at >= (every_opening if opening else every)
            audio = tail.audio(cur)
            if not due or len(audio) < SAMPLE_RATE // 2:
                continue
            d = self.decode(audio, settings=fast)
            tail.decoded_at, tail.pause = fed, seg.pause_start
            text = _LEADING_PUNCT.sub("", d.text) if d.text and not d.dropped else ""
            if s.partial_verify and self._verifies(speaker):
                # the finals' forced choice toward the courtesies (你好 → 您好) and toward
                # sound-alike spans (新烧等 → 请稍等), on the encoder output already computed;
                # the interjections only while the partial hears the utterance's opening
                # (partial_opening_s: 喂 alone, 为 → 喂), not on every partial (a dozen
                # competitors each time cost more than they gained)
                if opening and d.dropped in (None, "low_logprob"):
                    # a short opening decoded (even unsure: 爱 at -1.6) as one character with an
                    # interjection's syllable: that interjection (爱 → 哎, 为 → 喂)
                    text = lone_reading(d.text, s.interjections) or text
                if text:
                    text = self._verified([text], 0, d.raw, interjections=opening, sound=True, loose=opening)
            if text or tail.prefix:
                yield Partial(tail.prefix + text, round(cur.speech_start_s, 2), speaker, round(cur.speech_end_s, 2))
            if text and pause:
                tail.advance(cur, text)
        for done in seg.flush():
            yield from (Final(u) for u in self._decode_group([done], speaker, 0.0))

    def transcribe_array(self, audio: np.ndarray, *, speaker: Speaker = "unknown", offset: float = 0.0) -> list[Utterance]:
        """Convenience: a whole in-memory clip."""
        return list(self.transcribe([audio], speaker=speaker, offset=offset))

    def decode(self, audio: np.ndarray, *, settings: WhisperSettings | None = None, time_offset: float = 0.0) -> Decoded:
        """Decode one utterance (≤ 30 s) and apply the guards."""
        s = settings or self.settings
        raw = self._run(audio, s)
        d = self._judge(raw, audio, s)
        d.raw = raw
        if not d.dropped and d.text and s.word_timestamps:
            d.words = [Word(round(time_offset + a, 2), round(time_offset + b, 2), t)
                       for a, b, t in self._align(raw) if _HAS_TEXT.search(t)]
        return d

    # ------------------------------------------------------------ internals
    def _decode_group(self, group: list[Segment], speaker: Speaker, offset: float) -> Iterator[Utterance]:
        s = self.settings
        if len(group) == 1:
            u = self._single(group[0], speaker, offset)
            if u:
                yield u
            return
        # window = the segments with the pauses between them shortened to gap_fill_s
        parts, where, pos = [], [], 0
        for i, g in enumerate(group):
            if i:
                prev = group[i - 1]
                fill = int(min(max(0, g.start - (prev.start + len(prev.audio))), s.gap_fill_s * SAMPLE_RATE))
                parts.append(np.zeros(fill, np.float32))
                pos += fill
            where.append(pos)
            parts.append(g.audio)
            pos += len(g.audio)
        audio = np.concatenate(parts)
        raw = self._run(audio, s)
        self.stats["windows"] += 1
        window = self._judge(raw, audio, s)
        pieces: list[list[tuple[float, float, str]]] = [[] for _ in group]
        if not window.dropped and window.text:
            k = 0
            for a, b, text in self._align(raw):
                if _HAS_TEXT.search(text):  # punctuation stays with the character before it
                    at = (a + ASSIGN_AT * (b - a)) * SAMPLE_RATE
                    k = min(range(len(group)), key=lambda i: _distance(at, where[i], len(group[i].audio)))
                pieces[k].append((a, b, text))
        # per segment: its text in the window, "" = dropped, None = decode it on its own
        texts: list[str | None] = []
        for g, got in zip(group, pieces):
            text = "".join(t for _, _, t in got)
            speech_s = (g.speech_end - g.speech_start) / SAMPLE_RATE
            if not _HAS_TEXT.search(text) or (speech_s >= 1.0 and len(_HAS_TEXT.findall(text)) < MIN_CPS * speech_s):
                texts.append("" if window.dropped or not window.text else None)
                continue
            text = _LEADING_PUNCT.sub("", self._clean(text))
            texts.append("" if is_silence_hallucination(text, active_dbfs(g.audio)) else text)
        if self._verifies(speaker):
            context = [t or "" for t in texts]
            for i, t in enumerate(texts):
                if t:
                    context[i] = texts[i] = self._verified(context, i, raw)
        for g, at, got, text in zip(group, where, pieces, texts):
            if text is None:
                self.stats["redecoded"] += 1  # Whisper skipped (part of) this utterance
                u = self._single(g, speaker, offset)
                if u:
                    yield u
                continue
            if not text:
                self.stats["dropped"] += 1
                continue
            self.stats["segments"] += 1
            words = None
            if s.word_timestamps:
                shift = offset + (g.start - at) / SAMPLE_RATE
                words = [Word(round(shift + a, 2), round(shift + b, 2), self._clean(t))
                         for a, b, t in got if _HAS_TEXT.search(t)]
            yield Utterance(round(offset + g.speech_start_s, 2), round(offset + g.speech_end_s, 2), speaker, text, words)

    def _verifies(self, speaker: Speaker) -> bool:
        return self.settings.verify and speaker not in NOT_CLERK

    def _verified(self, texts: list[str], index: int, raw: "_Raw", alternatives: Sequence[str] = (), *,
                  interjections: bool = True, sound: bool = False, loose: bool = False) -> str:
        """Utterance ``index`` of a decoded window after forced choice (coach.asr.verify): first
        among the phrase edits and alternatives, then among the interjections on the result (two
        questions, so that a 喂 does not compete with a 您好).  Every utterance is asked about an
        opening interjection, also one that follows the previous one closely in its window: in
        babble the VAD bridges a turn's pause (D08 at 5 dB: 哎 after 0.55 s), and skipping those
        lost it (docs/benchmarks.md "hearing", cheaper verification).
        First the 您/你 of a phrase with 您 are read by the encoder probe (coach.asr.honorific, on
        the window's encoder output), and the forced choice then asks no 您 ↔ 你 swap of a
        character the probe decided.
        ``interjections=False``: only the phrase edits and alternatives (live partials: interjection
        competitors per partial cost more latency than they gain).  ``sound``: a live partial (the
        courtesies' sound-alike spans asked with the phrase edits; the brush-offs' asked once);
        ``loose``: sound-alike spans two characters off too (verify.sound_edits; the utterance's opening)."""
        s = self.settings
        texts = list(texts)
        before = texts[index]
        probe = default_probe() if s.honorific else None
        decided: set[int] = set()  # characters of the utterance the probe read (no swap asked there)
        at = positions(texts[index], [*self.hotwords, *self.honorific_phrases]) if probe is not None else set()
        if at:
            texts[index], scored = read(probe, self.whisper, self.tokenizer, raw.encoder_output, raw.frames,
                                        texts, index, at)
            decided = {k for k, v in scored if abs(v) >= probe.band}
            if self.verify_log is not None:
                self.verify_log.extend(("honorific", before[k], before, texts[index], round(v, 3), {})
                                       for k, v in scored)
        read_len = len(texts[index])
        targets = list(self.hotwords) + list(s.interjections)

        def swapless(cands: list[Candidate], text: str) -> list[Candidate]:
            def owned(c: Candidate) -> bool:
                at = swaps(text, c.text)
                return at is not None and (len(text) != read_len or set(at) <= decided)
            return [c for c in cands if not owned(c)] if decided else cands

        questions = [(lambda t: swapless(phrase_edits(t, self.hotwords) + alternative_candidates(t, alternatives, targets)
                                         + (sound_edits(t, self.hotwords) if sound else []), t), 1)]
        if s.final_brush_offs and self.partial_targets:
            # a span a sound-edit from a brush-off wording (不给我管 → 不归我管, 我清楚 → 不清楚),
            # asked on its own (kind "brush_off", its own margin) so that it never competes with
            # a courtesy edit of the same text — the same question for partials and finals; a
            # final asks again on the result while it changes (D08 in babble: 不给我管不是我们正儿的事
            # has two, one choice takes one), a partial once (latency)
            questions.append((lambda t: [replace(c, kind="brush_off") for c in swapless(sound_edits(t, self.partial_targets, loose=loose), t)],
                              1 if sound else s.brush_off_rounds))
        questions.append((lambda t: interjection_edits(t, s.interjections) if interjections else [], 1))
        for cands, rounds in questions:
            for _ in range(rounds):
                found = cands(texts[index])
                if sound:   # a sound edit may repeat a phrase edit: ask each text once
                    asked: set[str] = set()
                    found = [c for c in found if not (c.text in asked or asked.add(c.text))]
                if not found:
                    break
                self.stats["verified"] += 1
                was = texts[index]
                texts[index] = choose(texts, index, found, self.scorer, raw.encoder_output, raw.frames, s.margins,
                                      log=self.verify_log)
                if texts[index] == was:
                    break
        if texts[index] != before:
            self.stats["changed"] += 1
            log.debug("verified %r -> %r", before, texts[index])
        return texts[index]

    def _lone_interjection(self, raw: "_Raw") -> str | None:
        """A short segment the decoder left empty: one interjection alone, if the audio says so."""
        s = self.settings
        if not s.interjections:
            return None
        ll = self.scorer.loglik(raw.encoder_output, raw.frames, [""] + list(s.interjections), eot=True)
        gains = [v - ll[0] for v in ll[1:]]
        if self.verify_log is not None:
            self.verify_log.extend(("lone", w, "", w, round(g, 3), {}) for w, g in zip(s.interjections, gains))
        k = int(np.argmax(gains))
        return s.interjections[k] if gains[k] > s.margins.lone else None

    def _single(self, g: Segment, speaker: Speaker, offset: float,
                settings: WhisperSettings | None = None) -> Utterance | None:
        s = settings or self.settings
        audio = g.audio[: MAX_FRAMES * 160]  # only a FixedSegmenter window can be longer
        d = self.decode(audio, settings=s, time_offset=offset + g.start_s)
        self.stats["segments"] += 1
        text = d.text
        if self._verifies(speaker) and d.raw is not None:
            if d.dropped == "no_speech" or not text:
                speech_s = (g.speech_end - g.speech_start) / SAMPLE_RATE
                if speech_s <= LONE_MAX_S and d.no_speech_prob < s.no_speech_threshold:
                    lone = self._lone_interjection(d.raw)
                    if lone:
                        d.dropped, text = None, lone
            elif not d.dropped:
                alts = [self._clean(self.tokenizer.decode(t).strip()) for t in d.raw.alternatives]
                text = self._verified([text], 0, d.raw, alts)
        if d.dropped or not text:
            self.stats["dropped"] += 1
            log.debug("dropped %.2f-%.2f: %s (%r)", g.start_s, g.end_s, d.dropped, d.text)
            return None
        words = d.words if text == d.text else None
        return Utterance(round(offset + g.speech_start_s, 2), round(offset + g.speech_end_s, 2), speaker, text, words)

    def _run(self, audio: np.ndarray, s: WhisperSettings) -> _Raw:
        m, tok = self.whisper, self.tokenizer
        frames = min(MAX_FRAMES, max(1, len(audio) // 160))
        feats = m.feature_extractor(audio[: MAX_FRAMES * 160])[:, :frames]
        n = min(MAX_FRAMES, frames + s.pad_frames) if s.trim_encoder else MAX_FRAMES
        if feats.shape[1] < n:
            feats = np.pad(feats, ((0, 0), (0, n - feats.shape[1])))
        encoder_output = m.encode(np.ascontiguousarray(feats, dtype=np.float32))
        ptoks = self._prompt_tokens if s.use_prompt else []
        prompt = ([tok.sot_prev] + ptoks if ptoks else []) + list(tok.sot_sequence)
        prompt.append(tok.no_timestamps)
        options = self._options(s, prompt, len(audio) / SAMPLE_RATE)
        first: _Raw | None = None   # the temperature-0 beam's reading, when the settings start with one
        if s.temperatures[:1] == (0.0,):
            first, ok = self._beam(encoder_output, prompt, options, s)
            if ok or len(s.temperatures) == 1:
                return replace(first, frames=frames)
            options = replace(options, temperatures=list(s.temperatures[1:]))
        import ctranslate2

        # only seeds a worker thread's first sampled decode (CTranslate2's generator is
        # thread-local, seeded once): later results depend on what was sampled before
        ctranslate2.set_random_seed(len(audio))
        result, avg_logprob, temperature, _ = m.generate_with_fallback(encoder_output, prompt, tok, options)
        tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
        if (first is not None and avg_logprob < s.log_prob_threshold
                and first.avg_logprob >= s.min_avg_logprob
                and _compression_ratio(tok.decode(first.tokens).strip()) <= s.compression_ratio_threshold):
            # sampling found nothing surer, and the beam's own reading clears the noise floor:
            # it stands (a sampled result must reach log_prob_threshold, so keeping the sampled
            # one would drop a line the beam heard — 补之道，别问我 at -1.02 in chatter)
            return replace(first, frames=frames)
        return _Raw(tokens, float(avg_logprob), float(result.no_speech_prob), float(temperature), encoder_output, frames)

    def _beam(self, encoder_output, prompt: list[int], options, s: WhisperSettings) -> tuple["_Raw", bool]:
        """The temperature-0 beam search keeping ``nbest`` hypotheses, and whether it stands
        (False: it needs the fallback by faster-whisper's rules — too repetitive, or unsure but
        not silence)."""
        tok = self.tokenizer
        n = max(1, min(s.nbest, s.beam_size))
        result = self.whisper.model.generate(
            encoder_output, [prompt], beam_size=s.beam_size, patience=options.patience, num_hypotheses=n,
            length_penalty=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0,
            max_length=len(prompt) + options.max_new_tokens, return_scores=True, return_no_speech_prob=True,
            suppress_blank=True, suppress_tokens=options.suppress_tokens, max_initial_timestamp_index=50,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
        avg_logprob = result.scores[0] * len(result.sequences_ids[0]) / (len(result.sequences_ids[0]) + 1)
        silence = result.no_speech_prob > s.no_speech_threshold and avg_logprob < s.log_prob_threshold
        ok = silence or not (avg_logprob < s.log_prob_threshold
                             or _compression_ratio(tok.decode(tokens).strip()) > s.compression_ratio_threshold)
        alts = [[t for t in seq if t < tok.eot] for seq in result.sequences_ids[1:]]
        return _Raw(tokens, float(avg_logprob), float(result.no_speech_prob), 0.0, encoder_output, 0, alts), ok

    def _judge(self, raw: _Raw, audio: np.ndarray, s: WhisperSettings) -> Decoded:
        text = self.tokenizer.decode(raw.tokens).strip()
        d = Decoded(self._clean(text), raw.avg_logprob, raw.no_speech_prob, _compression_ratio(text), raw.temperature)
        if d.no_speech_prob > s.no_speech_threshold and d.avg_logprob < s.log_prob_threshold:
            d.dropped = "no_speech"
        elif d.avg_logprob < (s.log_prob_threshold if d.temperature > 0 else s.min_avg_logprob):
            d.dropped = "low_logprob"  # even the sampling fallback could not make sense of it: noise
        elif d.compression_ratio > s.compression_ratio_threshold and len(text) > 12:
            d.dropped = "compression_ratio"
        elif is_silence_hallucination(d.text, active_dbfs(audio)):
            d.dropped = "silence_hallucination"
        return d

    def _clean(self, text: str) -> str:
        text = collapse_loops(text.strip())
        if self.settings.convert and text:
            import zhconv

            text = zhconv.convert(text, self.settings.convert)
        return text

    def _align(self, raw: _Raw) -> list[tuple[float, float, str]]:
        """(start, end, text) per character/word, seconds from the start of the decoded audio."""
        if not raw.tokens:
            return []
        found = self.whisper.find_alignment(self.tokenizer, [raw.tokens], raw.encoder_output, raw.frames)
        return [(float(w["start"]), float(w["end"]), w["word"]) for w in (found[0] if found else [])]

    def _options(self, s: WhisperSettings, prompt: list[int], duration: float):
        from faster_whisper.transcribe import TranscriptionOptions

        # token budget ∝ length: bounds runaway loops (Mandarin ≈ 4–6 characters, ≤ 10 tokens per second)
        budget = int(min(self.whisper.max_length - len(prompt) - 1, 24 + 14 * duration))
        return TranscriptionOptions(
            beam_size=s.beam_size, best_of=s.best_of, patience=1.0, length_penalty=1.0,
            repetition_penalty=1.0, no_repeat_ngram_size=0,
            log_prob_threshold=s.log_prob_threshold, no_speech_threshold=s.no_speech_threshold,
            compression_ratio_threshold=s.compression_ratio_threshold,
            condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
            temperatures=list(s.temperatures), initial_prompt=None, prefix=None,
            suppress_blank=True, suppress_tokens=_suppress_tokens(self.tokenizer), without_timestamps=True,
            max_initial_timestamp=1.0, word_timestamps=False, prepend_punctuations="", append_punctuations="",
            multilingual=False, max_new_tokens=budget, clip_timestamps="0",
            hallucination_silence_threshold=None, hotwords=None,
        )


class _PartialTail:
    """Which audio of the utterance in progress the next partial decodes: from ``anchor`` (a
    pause already decoded, once the audio before it ran ``min_len`` samples; the text before it
    is ``prefix``) to now."""

    def __init__(self, min_len: int):
        self.min_len = min_len
        self.key: int | None = None
        self.anchor = 0
        self.prefix = ""
        self.decoded_at = 0   # samples fed at the last partial decode
        self.pause = 0        # the pause (its start sample) last decoded at

    def follow(self, cur: Segment) -> None:
        """Start over when a new utterance is under way."""
        if cur.speech_start != self.key:
            self.key, self.anchor, self.prefix = cur.speech_start, cur.start, ""

    def at_start(self, cur: Segment) -> bool:
        """The next partial decodes from the utterance's beginning."""
        return self.anchor <= cur.start and not self.prefix

    def audio(self, cur: Segment) -> np.ndarray:
        return cur.audio[max(0, self.anchor - cur.start):]

    def advance(self, cur: Segment, text: str) -> None:
        """A partial decoded up to a pause said ``text``: keep it and decode from here on once
        the window is long enough (it ends in silence, so no word is cut)."""
        end = cur.start + len(cur.audio)
        if self.min_len and end - self.anchor >= self.min_len:
            self.anchor, self.prefix = end, self.prefix + text


def _distance(sample: float, start: int, length: int) -> float:
    """0 inside [start, start+length), else the distance to it."""
    return max(0.0, start - sample, sample - (start + length))


_SUPPRESS: dict[int, list[int]] = {}


def _suppress_tokens(tok) -> list[int]:
    key = id(tok)
    if key not in _SUPPRESS:
        from faster_whisper.transcribe import get_suppressed_tokens

        _SUPPRESS[key] = list(get_suppressed_tokens(tok, [-1]))
    return _SUPPRESS[key]


def _compression_ratio(text: str) -> float:
    b = text.encode("utf-8")
    return len(b) / len(zlib.compress(b)) if b else 0.0
