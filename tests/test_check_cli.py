"""coach check from the command line: the issue's examples, JSON schema, --strict, --file."""

import json

from coach.cli import main

SCHEMA_KEYS = {"file", "duration_s", "truncated", "engine", "utterances", "findings", "outcome", "score",
               "breakdown"}
FINDING_KEYS = {"type", "rule", "phrase", "heard", "start", "end", "speaker", "severity", "suggestion"}


def run_json(capsys, *argv):
    assert main(["check", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_brush_off_with_suggestion(capsys):
    data = run_json(capsys, "不知道，你去问别人吧")
    assert set(data) == SCHEMA_KEYS
    bo = [f for f in data["findings"] if f["type"] == "brush_off"]
    assert any(f["phrase"] == "不知道" and f["suggestion"] for f in bo)
    assert all(set(f) == FINDING_KEYS for f in data["findings"])


def test_benign_use_is_not_a_brush_off(capsys):
    data = run_json(capsys, "您要是不知道怎么填，我来教您")
    assert not [f for f in data["findings"] if f["type"] == "brush_off"]


def test_homophone_slip_is_caught(capsys):
    data = run_json(capsys, "这不归我关")
    f = next(f for f in data["findings"] if f["type"] == "brush_off")
    assert f["phrase"] == "不归我管" and f["heard"] == "不归我关"


def test_strict_exit_code(capsys):
    assert main(["check", "不知道", "--strict"]) == 1
    assert main(["check", "您好，请稍等", "--strict"]) == 0


def test_file_with_times_and_speakers(tmp_path, capsys):
    p = tmp_path / "t.txt"
    p.write_text("[0.5-2.0] 窗口：你好，办什么？\n[2.5-4.0] 客户：我不知道要带什么\n[4.5-6.0] 窗口：带身份证。\n",
                 encoding="utf-8")
    data = run_json(capsys, "--file", str(p))
    rules = {f["rule"] for f in data["findings"]}
    assert {"missing_greeting", "missing_farewell", "near_miss"} <= rules
    assert [u["speaker"] for u in data["utterances"]] == ["clerk", "citizen", "clerk"]
    assert not [f for f in data["findings"] if f["type"] == "brush_off"]   # the citizen is never charged
    assert data["score"] < 100 and data["breakdown"]["penalties"]
