"""coach analyze on real dev sessions through the real Whisper-base model."""

import json

import pytest

from coach.cli import main
from coach.session.evaluate import Evaluator
from coach.session.pipeline import analyze_file

from shared import dev_dir


@pytest.fixture(scope="module")
def d08():
    d = dev_dir()
    labels = json.loads((d / "D08.json").read_text("utf-8"))
    result = analyze_file(d / "D08.stereo.wav", engine="whisper", clerk_channel="left",
                          evaluator=Evaluator.default())
    return labels, result


def test_stereo_clerk_findings_are_within_a_second_of_the_labels(d08):
    labels, result = d08
    found = [f for f in result.findings if f.type == "brush_off"]
    assert found, "no brush-off found in the rude session"
    clerk_turns = [u for u in labels["utterances"] if u["speaker"] == "clerk"]
    for f in found:
        assert f.speaker == "clerk"
        turn = next((u for u in clerk_turns if f.phrase in u.get("labels", {}).get("banned", [])
                     and u["start"] - 1 <= f.start and f.end <= u["end"] + 1), None)
        if f.phrase in {b for u in clerk_turns for b in u.get("labels", {}).get("banned", [])}:
            assert turn is not None, f"{f.phrase} at {f.start}-{f.end} is not within 1 s of its label"
    labelled = {b for u in clerk_turns for b in u.get("labels", {}).get("banned", [])}
    got = {f.phrase for f in found}
    assert len(labelled & got) >= len(labelled) * 0.7, (labelled, got)


def test_stereo_structure_findings_match_the_labels(d08):
    _, result = d08
    rules = {f.rule for f in result.findings if f.type == "structure"}
    assert {"missing_greeting", "missing_farewell", "referral_without_place"} <= rules


def test_citizen_channel_never_produces_brush_offs():
    d = dev_dir()
    # D03: the citizen says 不知道 and 不清楚; the clerk only uses them politely.
    result = analyze_file(d / "D03.stereo.wav", engine="whisper", clerk_channel="left")
    citizen = [u for u in result.utterances if u.speaker == "citizen"]
    assert citizen, "the citizen channel was not transcribed"
    assert not [f for f in result.findings if f.type == "brush_off"]
    assert all(f.speaker == "clerk" for f in result.findings)


def test_analyze_cli_json_follows_the_schema(tmp_path, capsys):
    d = dev_dir()
    assert main(["analyze", str(d / "D01.wav"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"file", "duration_s", "truncated", "engine", "utterances", "findings", "outcome", "score",
                         "breakdown"}
    assert data["outcome"] == "scored" and data["truncated"] is False
    assert data["engine"].startswith("whisper")
    assert data["utterances"] and all(set(u) == {"start", "end", "speaker", "text", "speaker_score"}
                                      for u in data["utterances"])
    # mono: every utterance attributed by voice, findings keep the utterance's speaker
    assert {u["speaker"] for u in data["utterances"]} <= {"clerk", "citizen", "uncertain"}
    assert any(f["phrase"] == "您好" for f in data["findings"])
    assert abs(data["duration_s"] - 28.14) < 0.2


def test_analyze_cli_writes_results_to_out(tmp_path, capsys):
    d = dev_dir()
    assert main(["analyze", str(d / "D01.wav"), "--md", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "D01.md").read_text("utf-8")
    assert "您好" in md


def test_analyze_cli_bad_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "notes.wav"
    bad.write_text("这不是音频", encoding="utf-8")
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and "notes.wav" in err[0]
    assert main(["analyze", str(tmp_path / "missing.wav")]) == 2


def test_analysis_reports_each_utterance_and_stops_when_cancelled():
    """The review screen's worker: every utterance is handed over as it is heard, and a
    cancelled analysis stops at the next utterance and returns nothing."""
    path = dev_dir() / "D02.wav"
    heard = []
    result = analyze_file(path, engine="whisper", evaluator=Evaluator.default(),
                          on_utterance=heard.append, cancelled=lambda: len(heard) >= 2)
    assert result is None
    assert len(heard) == 2 and all(u.text for u in heard)


def test_a_long_recording_frees_the_recogniser_before_attribution(monkeypatch):
    """Past RELEASE_ENGINE_AFTER_S the engine analyze_file opened is dropped from the process
    cache before the speaker attribution (bench_memory.py: its memory then does not add to the
    recogniser's); the result is the same as with the engine kept."""
    from coach.asr.factory import open_engine
    from coach.session import pipeline

    path = dev_dir() / "D03.wav"
    ev = Evaluator.default()
    kept = analyze_file(path, engine="whisper", evaluator=ev)
    held = open_engine("whisper", hotwords=pipeline.hotwords(ev))     # the engine analyze_file used
    monkeypatch.setattr(pipeline, "RELEASE_ENGINE_AFTER_S", 0.0)
    freed = analyze_file(path, engine="whisper", evaluator=ev)
    assert open_engine("whisper", hotwords=pipeline.hotwords(ev)) is not held
    assert freed.engine == kept.engine
    assert [(u.text, u.speaker) for u in freed.utterances] == [(u.text, u.speaker) for u in kept.utterances]
    assert [(f.type, f.phrase) for f in freed.findings] == [(f.type, f.phrase) for f in kept.findings]
    assert freed.score == kept.score
