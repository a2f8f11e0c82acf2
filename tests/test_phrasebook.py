import shutil
from pathlib import Path

import pytest

from coach.cli import main
from coach.errors import PhrasebookError
from coach.phrasebook import default_dir, load_phrasebook


def test_bundled_phrasebook_loads_and_is_complete():
    pb = load_phrasebook()
    assert len(pb.brush_offs) >= 30
    assert len(pb.scenarios) >= 8
    assert all(b.suggestions for b in pb.brush_offs)
    phrases = {b.phrase for b in pb.brush_offs}
    assert {"不知道", "不清楚", "不归我管", "喂", "哎"} <= phrases
    stages = {c.stage for c in pb.courtesies}
    assert {"greeting", "waiting", "apology", "referral", "farewell", "thanks", "phone"} <= stages


@pytest.fixture
def pbdir(tmp_path):
    d = tmp_path / "pb"
    shutil.copytree(default_dir(), d)
    return d


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + "\n" + text, encoding="utf-8")


BROKEN = [
    ("bad syntax", "brush_offs.toml", "[[brush_off]\nid = 'x'", r"brush_offs.toml: TOML syntax error"),
    ("unknown key", "brush_offs.toml",
     "[[brush_off]]\nid='zz'\nphrase='滚'\nseverity='violation'\nsuggestions=['请']\nsugestion='x'",
     r"brush_offs.toml: brush_off \"zz\": unknown key 'sugestion'"),
    ("empty phrase", "courtesies.toml", "[[courtesy]]\nid='empty.one'\nstage='greeting'\nphrase='，'",
     r"courtesies.toml: courtesy \"empty.one\": 'phrase' is empty"),
    ("duplicate id", "courtesies.toml", "[[courtesy]]\nid='greeting.hello'\nstage='greeting'\nphrase='您好呀'",
     r"courtesies.toml: courtesy \"greeting.hello\": duplicate id 'greeting.hello'"),
    ("bad regex", "courtesies.toml", "[[courtesy]]\nid='rx.bad'\nstage='referral'\nphrase='到窗口'\npatterns=['到(窗口']",
     r"courtesies.toml: courtesy \"rx.bad\": bad pattern in 'patterns'"),
    ("bad stage", "courtesies.toml", "[[courtesy]]\nid='st.bad'\nstage='hello'\nphrase='您好'",
     r"unknown stage 'hello'"),
    ("no suggestion", "brush_offs.toml", "[[brush_off]]\nid='zz'\nphrase='滚'\nseverity='violation'\nsuggestions=[]",
     r"brush_off \"zz\": 'suggestions' needs at least one"),
]


@pytest.mark.parametrize("label,fname,text,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_phrasebook_names_file_and_entry(pbdir, label, fname, text, message):
    _append(pbdir / fname, text)
    with pytest.raises(PhrasebookError, match=message):
        load_phrasebook(pbdir)


def test_broken_scenario_expect_is_rejected(pbdir):
    scen = sorted((pbdir / "scenarios").glob("*.toml"))[0]
    _append(scen, "[[turns]]\ncitizen='你好'\nexpect=['nonsense']")
    with pytest.raises(PhrasebookError, match=rf"{scen.name}: .*'nonsense'"):
        load_phrasebook(pbdir)


def test_cli_exits_2_with_one_line_on_broken_phrasebook(pbdir, capsys):
    _append(pbdir / "courtesies.toml", "[[courtesy]]\nid='greeting.hello'\nstage='greeting'\nphrase='您好'")
    assert main(["--phrasebook", str(pbdir), "check", "您好"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "courtesies.toml" in err[0] and "greeting.hello" in err[0]


def test_thresholds_come_from_the_phrasebook(pbdir):
    p = pbdir / "phrasebook.toml"
    p.write_text(p.read_text("utf-8").replace("hold_s = 5.0", "hold_s = 12.5"), encoding="utf-8")
    assert load_phrasebook(pbdir).thresholds.hold_s == 12.5
