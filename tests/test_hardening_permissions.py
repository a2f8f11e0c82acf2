"""Permission errors that really bite (issue 12): the real ``coach`` CLI runs in a subprocess as
the unprivileged user ``nobody`` (uid/gid 65534) against read-only output folders, database
folders and files, models folders and settings / user-data folders.  Root passes every
permission check, so these cases only mean something as another user.

Every case checks: one line naming the path and the problem, the documented exit code, no
traceback, nothing half-written, and whatever could be saved was saved (and said where).

Runs when the tests run as root (as here and in CI); skipped otherwise, except in CI
(CI=true), where not being able to switch user is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from coach.store import Store
from shared import REPO
from test_hardening import assert_clean_error, clip, clips, store_with_sessions

NOBODY = 65534


def _can_switch_user() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


if not _can_switch_user():
    if os.environ.get("CI"):
        raise RuntimeError("CI=true: the permission tests must run as root (to run coach as nobody)")
    pytest.skip("not root: cannot run coach as another user", allow_module_level=True)


SETPRIV = shutil.which("setpriv")


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def run_as_nobody(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """``cmd`` as nobody: through ``setpriv`` (util-linux) where there is one, else setuid in the child."""
    if SETPRIV:
        return subprocess.run([SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *cmd], **kw)
    return subprocess.run(cmd, preexec_fn=_as_nobody, **kw)


@pytest.fixture(scope="module")
def nobody_models():
    """A models folder nobody can read: hard links to the real whisper-base files (no copy of
    the 145 MB weights; a copy when linking is not possible)."""
    from coach.asr.models import ensure

    src = ensure("whisper-base")
    root = Path(tempfile.mkdtemp(prefix="coach-nobody-models-"))
    try:
        os.chmod(root, 0o755)
        dst = root / "whisper-base"
        dst.mkdir(mode=0o755)
        os.chmod(dst, 0o755)
        for f in src.iterdir():
            try:
                os.link(f, dst / f.name)
            except OSError:
                shutil.copy2(f, dst / f.name)
            os.chmod(dst / f.name, 0o644)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Box:
    """A temporary tree for one test: ``own(path)`` folders belong to nobody (writable by it),
    ``ro(path)`` folders belong to root (readable, not writable, by nobody)."""

    def __init__(self, root: Path):
        self.root = root
        self.home = self.own("home")

    def own(self, rel: str) -> Path:
        p = self.root / rel
        p.mkdir(parents=True, exist_ok=True)
        os.chown(p, NOBODY, NOBODY)
        return p

    def ro(self, rel: str) -> Path:
        p = self.root / rel
        p.mkdir(parents=True, exist_ok=True)
        os.chmod(p, 0o755)
        return p

    def give(self, path: Path) -> Path:
        """Hand ``path`` (a file or a folder tree made by the test) to nobody."""
        for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
            os.chown(p, NOBODY, NOBODY)
        return path

    def coach(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        e = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "XDG_"))}
        e.update(PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", HOME=str(self.home), LANG="C.UTF-8",
                 COACH_CONFIG_DIR=str(self.home / "config"), COACH_VOICES_DIR=str(self.home / "voices"),
                 COACH_DB=str(self.home / "coach.db"))
        e.update(env)
        e = {k: v for k, v in e.items() if v is not None}
        return run_as_nobody([sys.executable, "-m", "coach", *args], capture_output=True, text=True, timeout=300,
                             env=e, cwd=str(self.home))


@pytest.fixture
def box(nobody_models):
    root = Path(tempfile.mkdtemp(prefix="coach-nobody-"))
    os.chmod(root, 0o755)
    b = Box(root)
    b.models = nobody_models
    try:
        yield b
    finally:
        shutil.rmtree(root, ignore_errors=True)


def one_line(err: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.lstrip().startswith("→")]
    assert len(lines) == 1, err


def recordings(box: Box, n: int = 2) -> Path:
    folder = box.root / "rec"
    clips(folder, n)
    os.chmod(folder, 0o755)
    return folder


def test_the_unprivileged_user_can_run_coach_here(box):
    """The other tests mean something only if nobody can read the repo, venv, model and audio."""
    wav = clip(box.root / "a.wav")
    proc = box.coach("transcribe", str(wav), COACH_MODELS_DIR=str(box.models))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()
    ro = box.ro("ro")                                            # and permissions do bite for it
    probe = run_as_nobody([sys.executable, "-c", f"open({str(ro / 'x')!r}, 'w')"], capture_output=True, text=True)
    assert probe.returncode != 0 and "PermissionError" in probe.stderr


# ---------------------------------------------------------------- output folders

def test_batch_into_a_read_only_out_folder_keeps_the_results_in_the_store(box):
    folder = recordings(box)
    out = box.ro("out")
    db = box.own("data") / "c.db"
    proc = box.coach("analyze", str(folder), "--db", str(db), "--out", str(out), COACH_MODELS_DIR=str(box.models))
    err = assert_clean_error(proc, 2, str(out), "没有写入权限", str(db))
    assert "报告未能写入" in err
    with Store(db) as store:
        assert len(store.sessions(kind="review")) == 2          # the store write landed
    assert list(out.iterdir()) == []                             # nothing half-written


def test_report_into_a_read_only_folder(box):
    db = box.own("data") / "c.db"
    sid = store_with_sessions(db)
    box.give(db.parent)
    out = box.ro("out")
    for fmt in ("html", "md", "csv", "json"):
        proc = box.coach("report", str(sid), "--format", fmt, "--out", str(out / f"r.{fmt}"), "--db", str(db))
        err = assert_clean_error(proc, 2, str(out / f"r.{fmt}"), "没有写入权限")
        one_line(err)
    assert list(out.iterdir()) == []


def test_single_file_json_into_a_read_only_folder_prints_the_result(box):
    out = box.ro("out")
    wav = clip(box.root / "a.wav")
    proc = box.coach("analyze", str(wav), "--json", "--out", str(out), COACH_MODELS_DIR=str(box.models))
    err = assert_clean_error(proc, 2, str(out / "a.json"), "没有写入权限", "标准输出")
    one_line(err)
    assert json.loads(proc.stdout)["file"] == str(wav)
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------- databases

def test_new_database_in_a_read_only_folder_is_refused_before_any_work(box):
    """The database cannot be created: the batch stops at once (no hour of analysis whose
    results would then have nowhere to go but the reports), one line naming the folder."""
    folder = recordings(box)
    dbdir = box.ro("db")
    db = dbdir / "c.db"
    out = box.own("out")
    proc = box.coach("analyze", str(folder), "--db", str(db), "--out", str(out), COACH_MODELS_DIR=str(box.models))
    err = assert_clean_error(proc, 2, str(db), str(dbdir), "没有写入权限")
    one_line(err)
    assert list(dbdir.iterdir()) == [] and list(out.iterdir()) == []   # nothing made, nothing half-written


@pytest.mark.parametrize("how", ["folder", "file"])
def test_read_only_database(box, how):
    """An existing database that nobody may not write: its folder read-only (no journal can be
    made beside it) or the file itself read-only.  Reading works or fails in one line; a batch
    keeps its reports and says the database refused."""
    dbdir = box.ro("db") if how == "folder" else box.own("db")
    db = dbdir / "c.db"
    store_with_sessions(db)
    with sqlite3.connect(db) as conn:                            # as a user would leave it: checkpointed
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if how == "file":
        box.give(db)
        os.chmod(db, 0o444)
    before = sorted(p.name for p in dbdir.iterdir()), db.read_bytes()
    hist = box.coach("history", "--db", str(db))
    if hist.returncode == 0:
        assert "张三" in hist.stdout
    else:
        one_line(assert_clean_error(hist, 2, str(db)))
    folder = recordings(box)
    out = box.own("out")
    proc = box.coach("analyze", str(folder), "--db", str(db), "--out", str(out), COACH_MODELS_DIR=str(box.models))
    err = assert_clean_error(proc, 2, str(db), "只读", "2 个结果未能写入会话数据库", str(out / "index.html"))
    index = (out / "index.html").read_text("utf-8")                # the results were kept, and it says where
    assert "未写入数据库" in index and "c0.wav" in index and "c1.wav" in index
    assert len(list((out / "sessions").glob("unsaved-*.html"))) == 2
    assert (sorted(p.name for p in dbdir.iterdir()), db.read_bytes()) == before   # the database is untouched


# ---------------------------------------------------------------- models folder

def test_read_only_empty_models_folder(box):
    """whisper-base must be assembled on first use, into a folder nobody may not write."""
    models = box.ro("models")
    proc = box.coach("transcribe", str(clip(box.root / "a.wav")), COACH_MODELS_DIR=str(models))
    err = assert_clean_error(proc, 2, str(models), "没有写入权限", "COACH_MODELS_DIR")
    one_line(err)
    assert list(models.iterdir()) == []


def test_read_only_models_folder_with_the_model_installed_is_fine(box):
    """A shared, read-only models folder (installed once by an administrator) is normal."""
    proc = box.coach("transcribe", str(clip(box.root / "a.wav")), COACH_MODELS_DIR=str(box.models))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_models_folder_that_is_a_file(box):
    f = box.root / "models"
    f.write_text("x")
    proc = box.coach("transcribe", str(clip(box.root / "a.wav")), COACH_MODELS_DIR=str(f))
    one_line(assert_clean_error(proc, 2, str(f), "COACH_MODELS_DIR"))


def test_models_commands_on_a_read_only_folder(box):
    models = box.ro("models")
    src = box.root / "src-model"
    shutil.copytree(box.models / "whisper-base", src, copy_function=os.link)
    (src / "coach-model.json").unlink()
    os.chmod(src, 0o755)
    for args in (["install", str(src), "--name", "whisper-x"], ["fetch", "whisper-base"]):
        proc = box.coach("models", *args, COACH_MODELS_DIR=str(models))
        one_line(assert_clean_error(proc, 2, str(models), "没有写入权限"))
    assert list(models.iterdir()) == []


# ---------------------------------------------------------------- user data and settings folders

def test_unwritable_user_data_folder_for_the_default_database(box):
    """No --db, no COACH_DB: the database goes to the user data folder, which cannot be made."""
    data = box.ro("xdg-data")
    folder = recordings(box)
    out = box.own("out")
    proc = box.coach("analyze", str(folder), "--out", str(out), COACH_DB=None, XDG_DATA_HOME=str(data),
                     COACH_MODELS_DIR=str(box.models))
    one_line(assert_clean_error(proc, 2, str(data / "coach"), "没有写入权限"))
    assert list(out.iterdir()) == []
    hist = box.coach("history", COACH_DB=None, XDG_DATA_HOME=str(data))
    one_line(assert_clean_error(hist, 2, str(data / "coach")))
    assert list(data.iterdir()) == []


def test_unwritable_voices_folder_for_enroll(box):
    voices = box.ro("voices")
    wav = clip(box.root / "me.wav", 14.0)
    proc = box.coach("enroll", "--trainee", "张三", "--input", str(wav), COACH_VOICES_DIR=str(voices),
                     COACH_MODELS_DIR=str(box.models))
    one_line(assert_clean_error(proc, 2, str(voices), "没有写入权限"))
    assert list(voices.iterdir()) == []


APP_SAVE = textwrap.dedent("""
    import asyncio, sys
    from coach.tui.app import CoachApp
    from coach.tui.screens.common import ErrorBox
    from coach.tui.screens.settings import SettingsScreen
    from coach.tui.settings import Settings
    from coach.tui.testing import ScriptedEngine, SilenceSource

    async def main():
        app = CoachApp(settings=Settings(), engine_factory=lambda live: ScriptedEngine(()),
                       source_factory=lambda f, d: SilenceSource(1.0))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("4")
            await pilot.pause(0.5)
            await pilot.press(*"Wang")
            await pilot.press("ctrl+s")
            await pilot.pause(0.2)
            box = app.screen.query_one(ErrorBox) if isinstance(app.screen, SettingsScreen) else None
            print("SCREEN", type(app.screen).__name__)
            print("ERROR", str(box.render()) if box is not None and box.display else "")
            await pilot.press("escape")
            await pilot.press("q")
        print("EXIT", app.return_code)

    asyncio.run(main())
""")


def test_unwritable_settings_folder_in_the_app(box):
    """Saving settings into a folder nobody may not write: the settings screen says so and stays
    open; the app does not crash and writes nothing."""
    config = box.ro("config")
    script = box.root / "app_save.py"
    script.write_text(APP_SAVE, encoding="utf-8")
    e = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "XDG_"))}
    e.update(PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", HOME=str(box.home), COACH_CONFIG_DIR=str(config),
             COACH_DB=str(box.home / "coach.db"), COACH_VOICES_DIR=str(box.home / "voices"),
             COACH_PLAYBACK_SINK=str(box.home / "played"))
    proc = run_as_nobody([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=e,
                         cwd=str(box.home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SCREEN SettingsScreen" in proc.stdout, proc.stdout
    error = proc.stdout.split("ERROR", 1)[1]
    assert "无法保存设置" in error and str(config / "settings.toml") in error and "没有写入权限" in error, proc.stdout
    assert list(config.iterdir()) == []


def test_a_model_assembled_by_an_administrator_is_usable_by_other_users(box):
    """whisper-base assembled on first use (here by root, umask 022) into a shared models folder:
    its folder gets the umask's mode, not mkdtemp's private 0700, so other users can read it."""
    from coach.asr.models import assemble_whisper_base

    models = box.ro("models")
    old = os.umask(0o022)
    try:
        path = assemble_whisper_base(models / "whisper-base")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o755
    proc = box.coach("transcribe", str(clip(box.root / "a.wav")), COACH_MODELS_DIR=str(models))
    assert proc.returncode == 0, proc.stderr[-2000:]
