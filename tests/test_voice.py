"""The citizen's voice: the bundled renderings are complete and intelligible to the coach's own
ASR (CER), run-time rendering with espeak-ng, and the playback sink that records what would be
played (no speaker needed)."""

from __future__ import annotations

import json
import re
import shutil
import wave

import numpy as np
import pytest

from coach.audio.decode import read
from coach.phrasebook import load_phrasebook
from coach.tui.voice import VOICES_DIR, FilePlayer, Lines, Voice, line_key


def strip(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def bundled_index() -> dict[str, str]:
    return json.loads((VOICES_DIR / "index.json").read_text(encoding="utf-8"))


def test_every_bundled_line_is_rendered():
    index = bundled_index()
    lines = {t.citizen.strip() for s in load_phrasebook().scenarios for t in s.turns}
    assert lines <= set(index), sorted(lines - set(index))[:3]
    for text, name in index.items():
        assert name == f"{line_key(text)}.ogg"
        assert (VOICES_DIR / name).stat().st_size < 40_000


def test_rendered_lines_are_understood_by_the_coach_asr():
    """CER of Whisper-base on every fourth bundled line (all 45: 0.42, coach/data/voices/README.md)."""
    from rapidfuzz.distance import Levenshtein

    from coach.asr.factory import open_engine
    from coach.errors import ModelError
    try:
        engine = open_engine("whisper")
    except ModelError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"whisper-base unavailable: {exc}")
    items = sorted(bundled_index().items())[::4]
    errors = total = 0
    for text, name in items:
        audio = read(VOICES_DIR / name)
        assert 0.5 < len(audio) / 16000 < 12
        heard = "".join(u.text for u in engine.transcribe([audio]))
        errors += Levenshtein.distance(strip(text), strip(heard))
        total += len(strip(text))
    assert errors / total <= 0.6, f"CER {errors / total:.2f}"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_trainer_line_rendered_once_and_played_to_the_sink(tmp_path):
    player = FilePlayer(tmp_path / "played")
    voice = Voice(player, Lines(cache=tmp_path / "cache"))
    text = "请问这个表格在哪里领？"
    voice.say(text).join()
    voice.say(text).join()
    assert voice.spoken == [text, text]
    assert len(list((tmp_path / "cache").glob("*.wav"))) == 1          # rendered once, then cached
    assert [p.name for p in player.played] == ["001.wav", "002.wav"]
    with wave.open(str(player.played[0])) as w:
        assert w.getframerate() == 16000 and w.getnframes() > 8000
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert np.abs(pcm).max() > 1000                                    # not silence
