"""``coach phrasebook validate|show|test`` on real phrasebook directories and label files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from coach.cli import main
from coach.commands.phrasebook_cmd import load_labels, run_phrasebook
from coach.phrasebook import default_dir, load_phrasebook

TSV = """id\ttext\tcourtesies\tbrush_offs\tnote
1\t您好，请问您要办什么业务？\t您好|请问您要办什么业务\t\t
2\t请稍候，我帮您查一下。\t请稍等\t\tsynonym
3\t麻烦您稍等一下，我去复印。\t请稍等\t\tsynonym
4\t不知道，自己看墙上。\t\t不知道|自己看墙上\t
5\t不知道您还需要办别的吗？\t\t\thard negative: polite question
6\t好的，请慢走。\t请慢走\t\t
"""


@pytest.fixture()
def pb_copy(tmp_path) -> Path:
    dst = tmp_path / "pb"
    shutil.copytree(default_dir(), dst)
    return dst


@pytest.fixture()
def labels(tmp_path) -> Path:
    p = tmp_path / "labels.tsv"
    p.write_text(TSV, encoding="utf-8")
    return p


def test_validate_ok_and_broken(pb_copy, capsys):
    assert main(["phrasebook", "validate", str(pb_copy)]) == 0
    assert "规则库有效" in capsys.readouterr().out
    text = (pb_copy / "brush_offs.toml").read_text("utf-8")
    (pb_copy / "brush_offs.toml").write_text(text.replace('phrase = "不知道"', 'phrase = "不知道"\npatterns = ["(("]', 1),
                                             encoding="utf-8")
    assert main(["phrasebook", "validate", str(pb_copy)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("coach: ") and "brush_offs.toml" in err and "pattern" in err and "\n" not in err


def test_validate_uses_global_phrasebook_option(pb_copy, capsys):
    (pb_copy / "courtesies.toml").write_text("[[courtesy]]\nid = 'x'\n", encoding="utf-8")
    assert main(["--phrasebook", str(pb_copy), "phrasebook", "validate"]) == 2
    assert "courtesies.toml" in capsys.readouterr().err


def test_show_lists_rules(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["phrasebook", "show"]) == 0
    out = capsys.readouterr().out
    pb = load_phrasebook()
    assert f"文明用语（{len(pb.courtesies)} 条）" in out and f"服务忌语（{len(pb.brush_offs)} 条）" in out
    assert "请稍等" in out and "不知道" in out and "阈值" in out


def test_test_reports_precision_and_recall_per_rule(labels, capsys):
    assert main(["phrasebook", "test", "--labels", str(labels), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["labels"] == 6
    rules = {(r["kind"], r["phrase"]): r for r in data["rules"]}
    assert rules[("courtesy", "请稍等")]["tp"] == 2 and rules[("courtesy", "请稍等")]["recall"] == 1.0
    assert rules[("brush_off", "不知道")] == {"kind": "brush_off", "phrase": "不知道", "tp": 1, "fp": 0, "fn": 0,
                                              "precision": 1.0, "recall": 1.0}   # the polite 不知道您… is no hit
    tot = data["totals"]["courtesy"]
    assert tot["tp"] + tot["fn"] == 5


def test_test_table_and_errors(labels, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["phrasebook", "test", "--labels", str(labels)]) == 0
    out = capsys.readouterr().out
    assert "准确率" in out and "召回率" in out and "文明用语合计" in out and "服务忌语合计" in out
    assert re.search(r"请稍等\s*│\s*2\s*│\s*2\s*│\s*0\s*│\s*0\s*│\s*100\.0%\s*│\s*100\.0%", out)


def test_baseline_shows_what_an_edit_changed(pb_copy, labels, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    path = pb_copy / "courtesies.toml"
    text = path.read_text("utf-8")
    start = text.index('id = "waiting.please_wait"')
    v = text.index("variants", start)
    text = text[:v] + "variants = []" + text[text.index("\n", v):]
    # the waiting shapes would still credit the wordings (as 请您稍等一会儿): take them out too
    a = text.index('[[courtesy]]\nid = "waiting.shape"')
    text = text[:a] + text[text.index("[[courtesy]]", a + 1):]
    path.write_text(text, encoding="utf-8")
    assert main(["phrasebook", "test", str(pb_copy), "--labels", str(labels), "--baseline", str(default_dir())]) == 0
    out = capsys.readouterr().out
    assert "改善 0 处，变差 2 处" in out
    assert out.count("新漏报 文明用语「请稍等」") == 2 and "请稍候，我帮您查一下" in out
    assert "-100.0" in out  # recall of 请稍等 fell from 100 % to 0 %


def test_session_json_labels_and_directories(tmp_path, labels):
    session = {"utterances": [
        {"speaker": "clerk", "text": "您好，请坐。", "labels": {"required": [{"canonical": "您好", "surface": "您好"}]}},
        {"speaker": "citizen", "text": "不知道在哪办。"},
        {"speaker": "clerk", "text": "不清楚，你问别人去。", "labels": {"banned": ["不清楚"]}},
    ]}
    d = tmp_path / "labels"
    d.mkdir()
    (d / "S1.json").write_text(json.dumps(session, ensure_ascii=False), encoding="utf-8")
    shutil.copy(labels, d / "more.tsv")
    (d / "index.tsv").write_text("id\tscenario\nS1\tx\n", encoding="utf-8")   # not a label file: skipped
    items = load_labels(d)
    assert len(items) == 2 + 6   # the citizen line is not a clerk label
    run = run_phrasebook(load_phrasebook(), items)
    assert run.rules[("brush_off", "不清楚")].tp == 1
    assert run.rules[("courtesy", "您好")].tp == 2


def test_bad_label_files_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tfoo\n您好\tx\n", encoding="utf-8")
    assert main(["phrasebook", "test", "--labels", str(bad)]) == 2
    assert "courtesies" in capsys.readouterr().err
    assert main(["phrasebook", "test", "--labels", str(tmp_path / "missing.tsv")]) == 2
    (tmp_path / "x.json").write_text("{oops", encoding="utf-8")
    assert main(["phrasebook", "test", "--labels", str(tmp_path / "x.json")]) == 2
    assert "JSON" in capsys.readouterr().err


def test_repository_corpus_if_present(capsys):
    corpus = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "clerk_utterances.tsv"
    assert main(["phrasebook", "test", "--labels", str(corpus), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["labels"] > 300
    assert data["totals"]["brush_off"]["recall"] > 0.9
