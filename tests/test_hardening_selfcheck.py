"""A model without a known-good hash must still hear Mandarin (issue 12, coach/asr/selfcheck.py).

The real Whisper-base files are copied; in one copy 64 KB in the middle of the weights are
overwritten with random bytes (size kept), which makes it return nothing or garbage.  Both
copies are installed with ``coach models install`` under names of their own, so their
manifests record the files as they are: no hash can tell the damaged one.  The bundled clip
must.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from coach.asr import selfcheck
from shared import REPO
from test_hardening import assert_clean_error, clip, coach


def _copy_model(dst: Path, *, damage: bool) -> Path:
    from coach.asr.models import MANIFEST, ensure

    src = ensure("whisper-base")
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name != MANIFEST:
            shutil.copy2(f, dst / f.name)
    if damage:
        binf = dst / "model.bin"
        st = binf.stat()
        with open(binf, "r+b") as fh:                 # flip 64 KB in the weights region, size kept
            fh.seek(st.st_size // 2)
            fh.write(np.random.default_rng(7).integers(0, 256, 1 << 16, dtype=np.uint8).tobytes())
        os.utime(binf, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert binf.stat().st_size == st.st_size
    return dst


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A models folder with ``whisper-good`` (intact copy) and ``whisper-bad`` (damaged copy),
    both installed by ``coach models install`` (manifests written from the copies)."""
    root = tmp_path_factory.mktemp("selfcheck")
    models = root / "models"
    for name, damage in (("whisper-good", False), ("whisper-bad", True)):
        src = _copy_model(root / "src" / name, damage=damage)
        proc = coach("models", "install", str(src), "--name", name, COACH_MODELS_DIR=str(models))
        assert proc.returncode == 0, proc.stderr
        shutil.rmtree(src)
    return models


OPEN = textwrap.dedent("""
    import sys
    from coach.asr import open_engine
    from coach.errors import CoachError
    try:
        open_engine("whisper", model=sys.argv[1])
    except CoachError as exc:
        print(exc, file=sys.stderr)
        sys.exit(exc.exit_code)
    print("OK")
""")


def first_use(name: str, models: Path, data: Path) -> subprocess.CompletedProcess:
    """What the app does when its settings name a model: open the engine (real process)."""
    env = {k: v for k, v in os.environ.items() if k != "COACH_DEBUG"}
    env.update(PYTHONPATH=str(REPO), COACH_MODELS_DIR=str(models), XDG_DATA_HOME=str(data))
    return subprocess.run([sys.executable, "-c", OPEN, name], capture_output=True, text=True, timeout=600, env=env)


def cache_of(data: Path) -> dict:
    p = data / "coach" / selfcheck.CACHE_NAME
    return json.loads(p.read_text("utf-8")) if p.is_file() else {}


def test_the_bundled_clip_is_small_and_the_intact_model_reads_it(whisper_engine):
    from coach.audio.decode import read

    assert selfcheck.CLIP.stat().st_size < 40_000
    audio = read(selfcheck.CLIP)
    assert 3 * 16000 < len(audio) < 10 * 16000
    heard = "".join(u.text for u in whisper_engine.transcribe([audio]))
    assert selfcheck.char_error_rate(selfcheck.TEXT, heard) <= 0.15 < selfcheck.MAX_CER


def test_a_damaged_model_fails_its_first_use_and_nothing_is_remembered(installed, tmp_path):
    data = tmp_path / "data"
    proc = first_use("whisper-bad", installed, data)
    err = assert_clean_error(proc, 2, str(installed / "whisper-bad"), "自检", "可能已损坏", "修复")
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 2   # the line and its → hint
    assert cache_of(data) == {}                                       # a failure is never cached


def test_models_verify_runs_the_check_on_a_model_whose_hashes_all_match(installed, tmp_path):
    env = dict(COACH_MODELS_DIR=str(installed), XDG_DATA_HOME=str(tmp_path / "data"))
    bad = coach("models", "verify", "whisper-bad", **env)
    assert_clean_error(bad, 2, "whisper-bad", "自检")
    good = coach("models", "verify", "whisper-good", **env)
    assert good.returncode == 0, good.stderr
    assert "sha256 全部一致" in good.stdout and "自检录音字错率" in good.stdout


def test_an_intact_model_is_checked_once_until_its_files_change(installed, tmp_path):
    data = tmp_path / "data"
    assert first_use("whisper-good", installed, data).stdout.strip() == "OK"
    first = cache_of(data)
    assert len(first) == 1
    (entry,) = first.values()
    assert entry["model"] == "whisper-good" and entry["cer"] <= 0.15
    assert first_use("whisper-good", installed, data).stdout.strip() == "OK"
    assert cache_of(data) == first                                    # not run again
    binf = installed / "whisper-good" / "model.bin"
    st = binf.stat()
    os.utime(binf, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched: check again
    try:
        assert first_use("whisper-good", installed, data).stdout.strip() == "OK"
        assert len(cache_of(data)) == 2
    finally:
        os.utime(binf, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_an_unwritable_user_data_folder_only_means_checking_again(installed, tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("x")                                           # XDG_DATA_HOME is a file
    proc = first_use("whisper-good", installed, blocker)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stderr


def test_whisper_base_installed_from_a_damaged_copy_is_caught_by_its_pinned_hash(tmp_path):
    """``coach models install`` of a damaged whisper-base writes a manifest of the damage; the
    pinned sha256 of whisper-base's weights still wins."""
    src = _copy_model(tmp_path / "src" / "whisper-base", damage=True)
    models = tmp_path / "models"
    assert coach("models", "install", str(src), COACH_MODELS_DIR=str(models)).returncode == 0
    shutil.rmtree(src)
    proc = coach("transcribe", str(clip(tmp_path / "a.wav")), COACH_MODELS_DIR=str(models),
                 XDG_DATA_HOME=str(tmp_path / "data"))
    assert_clean_error(proc, 2, "已损坏", "coach models")
