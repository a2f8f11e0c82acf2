"""A hostile corpus built in the test (issue 12): odd and cut-off audio, corrupt and full
databases, unwritable outputs, damaged model weights, kill -9 and SIGTERM, concurrent batches.
Every case runs the real ``coach`` in a real process and checks: one clear line naming the
file, the documented exit code, no traceback, nothing lost or half-written, no orphans.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from coach.schema import NO_SPEECH_LABEL, Utterance
from coach.session.evaluate import Evaluator
from coach.store import Store, analysis_key
from shared import REPO, dev_dir

SR = 16000


# ---------------------------------------------------------------- helpers

def coach_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("COACH_DEBUG", None)
    env.update(extra)
    return env


def _limit_fsize(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def coach(*args: str, fsize: int | None = None, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True, timeout=timeout,
                          env=coach_env(**env), preexec_fn=_limit_fsize(fsize) if fsize else None)


def assert_clean_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    err = proc.stderr
    assert proc.returncode == code, (proc.returncode, err[-2000:])
    assert "Traceback" not in err and 'File "' not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


def clip(path: Path, seconds: float = 3.0, start: float = 0.0) -> Path:
    audio, sr = sf.read(str(dev_dir() / "D01.wav"), dtype="float32")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio[int(start * sr):int((start + seconds) * sr)], sr, subtype="PCM_16")
    return path


def clips(folder: Path, n: int) -> list[Path]:
    return [clip(folder / f"c{i}.wav", 2.5, start=i * 2.5) for i in range(n)]


def store_with_sessions(db: Path, n_utterances: int = 4) -> int:
    ev = Evaluator.default()
    utts = [Utterance(i * 2.0, i * 2.0 + 1.5, "clerk", "您好，请稍等，这个不归我管。") for i in range(n_utterances)]
    with Store(db) as store:
        return store.save_result(ev.evaluate(utts, file="x.wav"), trainee="张三", audio_sha256="h1",
                                 analysis_key=analysis_key("auto", None, None))


# ---------------------------------------------------------------- atomic, non-destructive writes

@pytest.mark.parametrize("fmt", ["html", "md", "csv", "json"])
def test_a_failed_report_overwrite_keeps_the_previous_report(tmp_path, fmt):
    db = tmp_path / "c.db"
    sid = store_with_sessions(db, n_utterances=400)  # a report far larger than the size limit below
    out = tmp_path / f"report.{fmt}"
    assert coach("report", str(sid), "--format", fmt, "--out", str(out), "--db", str(db)).returncode == 0
    good = out.read_bytes()
    assert len(good) > 60_000
    proc = coach("report", str(sid), "--format", fmt, "--out", str(out), "--db", str(db), fsize=48_000)
    assert_clean_error(proc, 2, str(out))
    assert out.read_bytes() == good                               # the previous good report is intact
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp left behind


def test_written_files_follow_the_umask(tmp_path):
    from coach.store.files import write_atomic

    old = os.umask(0o027)
    try:
        p = write_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------- storage errors: one line, exit 2

def test_db_whose_folder_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_error(coach("history", "--db", str(blocker / "sub" / "coach.db")), 2, str(blocker / "sub"))


def test_corrupted_database_pages(tmp_path):
    db = tmp_path / "c.db"
    store_with_sessions(db, n_utterances=300)
    data = bytearray(db.read_bytes())
    rng = np.random.default_rng(1)
    data[4096 * 2:] = rng.integers(0, 256, len(data) - 4096 * 2, dtype=np.uint8).tobytes()  # keep the header
    db.write_bytes(bytes(data))
    for cmd in (["history"], ["trainees"], ["report", "1", "--format", "json"]):
        assert_clean_error(coach(*cmd, "--db", str(db)), 2, str(db))


def test_disk_full_during_a_store_write_still_writes_the_reports(tmp_path):
    folder = tmp_path / "rec"
    clips(folder, 2)
    db = tmp_path / "c.db"
    Store(db).close()
    # Grow the WAL beyond the size limit and keep it (an idle connection keeps the file; no
    # checkpoint): the child's first write must append past the limit → EFBIG, like a full disk.
    keep = sqlite3.connect(str(db), isolation_level=None)
    keep.execute("PRAGMA wal_autocheckpoint = 0")
    keep.execute("CREATE TABLE IF NOT EXISTS pad (x BLOB)")
    keep.execute("INSERT INTO pad VALUES (zeroblob(400000))")
    try:
        assert (tmp_path / "c.db-wal").stat().st_size > 200_000
        out = tmp_path / "out"
        proc = coach("analyze", str(folder), "--db", str(db), "--out", str(out), fsize=200_000)
        err = assert_clean_error(proc, 2)
        assert str(db) in err and "未能写入会话数据库" in err
        index = (out / "index.html").read_text("utf-8")
        assert "未写入数据库" in index and index.count("c0.wav") >= 1 and "c1.wav" in index
        assert len(list((out / "sessions").glob("unsaved-*.html"))) == 2   # both results kept
    finally:
        keep.close()


def test_unwritable_out_keeps_the_results_in_the_store(tmp_path):
    folder = tmp_path / "rec"
    clips(folder, 2)
    db = tmp_path / "c.db"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = coach("analyze", str(folder), "--db", str(db), "--out", str(blocker / "out"))
    err = assert_clean_error(proc, 2)
    assert "报告未能写入" in err and str(db) in err
    with Store(db) as store:
        assert len(store.sessions(kind="review")) == 2


def test_single_file_out_failure_prints_the_result_instead(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = coach("analyze", str(clip(tmp_path / "a.wav")), "--json", "--out", str(blocker / "o"))
    assert_clean_error(proc, 2, "标准输出")
    assert json.loads(proc.stdout)["file"].endswith("a.wav")


def test_models_dir_that_is_a_file(tmp_path):
    f = tmp_path / "models"
    f.write_text("x")
    proc = coach("transcribe", str(clip(tmp_path / "a.wav")), COACH_MODELS_DIR=str(f))
    assert_clean_error(proc, 2, str(f), "COACH_MODELS_DIR")


def test_scheduler_that_is_not_an_address(tmp_path):
    clips(tmp_path / "rec", 1)
    proc = coach("analyze", str(tmp_path / "rec"), "--scheduler", "notaurl", "--db", str(tmp_path / "c.db"),
                 "--out", str(tmp_path / "o"))
    assert_clean_error(proc, 2, "notaurl")


# ---------------------------------------------------------------- one row per recording

def test_upsert_keeps_one_row_per_recording_and_settings(tmp_path):
    ev = Evaluator.default()
    r = ev.evaluate([Utterance(0, 1, "clerk", "您好")], file="a.wav")
    k1, k2 = analysis_key("auto", None, None), analysis_key("auto", "left", None)
    with Store(tmp_path / "c.db") as store:
        a = store.save_result(r, audio_sha256="h", analysis_key=k1)
        b = store.save_result(r, audio_sha256="h", analysis_key=k1)
        c = store.save_result(r, audio_sha256="h", analysis_key=k2)
        assert a == b != c and len(store.sessions()) == 2
        with pytest.raises(Exception):  # the schema itself refuses a second row
            with store.transaction() as conn:
                conn.execute("INSERT INTO sessions (kind, started_at, audio_sha256, analysis_key, finished) "
                             "VALUES ('review', 0, 'h', ?, 1)", (k1,))


def test_migration_to_v4_removes_duplicate_review_rows(tmp_path):
    from coach.store import migrate

    db = tmp_path / "old.db"
    conn = sqlite3.connect(str(db), isolation_level=None)
    migrate(conn, target=3)
    for i in range(3):
        conn.execute("INSERT INTO sessions (kind, started_at, audio_sha256, finished, score) "
                     "VALUES ('review', ?, 'same', 1, ?)", (i, 50 + i))
    conn.close()
    with Store(db) as store:
        rows = store.sessions(kind="review")
        assert len(rows) == 1 and rows[0].score == 52


APP = textwrap.dedent("""
    import sys, numpy as np
    from coach.schema import Utterance
    from coach.session.evaluate import Evaluator
    from coach.session.live import LiveSession, SessionMeta
    from coach.store import Store, SessionWriter
    live = LiveSession(Evaluator.default(), SessionMeta(kind="practice", trainee="app"), SessionWriter(Store(sys.argv[1])))
    for n in range(200):
        live.audio(np.zeros(800, np.float32))
        live.add(Utterance(n, n + 0.5, "clerk", "您好，请稍等"))
    live.finish()
""")


def test_two_batches_and_the_app_at_once_store_each_recording_once(tmp_path):
    folder = tmp_path / "rec"
    files = clips(folder, 3)
    db = tmp_path / "c.db"
    Store(db).close()
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    env = coach_env()
    procs = [subprocess.Popen([sys.executable, "-m", "coach", "analyze", str(folder), "--db", str(db), "--rerun",
                               "--out", str(tmp_path / f"o{i}")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    procs.append(subprocess.Popen([sys.executable, str(tmp_path / "app.py"), str(db)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    with Store(db) as store:
        reviews = store.sessions(kind="review")
        assert len(reviews) == len(files)
        assert {r.source_file for r in reviews} == {str(f.resolve()) for f in files}
        assert len(store.sessions(kind="practice")) == 1
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ---------------------------------------------------------------- process hygiene

def _workers(parent: psutil.Process, n: int, proc: subprocess.Popen) -> list[psutil.Process]:
    """Wait (on state: the parent's children) until ``n`` pool workers exist."""
    while True:
        kids = [k for k in parent.children(recursive=True) if "resource_tracker" not in " ".join(k.cmdline())]
        if len(kids) >= n:
            return kids
        if proc.poll() is not None:
            raise AssertionError(f"batch ended before its workers started: {proc.stderr.read()[-2000:]}")
        psutil.wait_procs([parent], timeout=0.05)  # returns when the parent exits, else after 50 ms


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_jobs_2_workers_die_with_their_parent(tmp_path, sig):
    folder = tmp_path / "rec"
    clips(folder, 6)
    proc = subprocess.Popen([sys.executable, "-m", "coach", "analyze", str(folder), "--jobs", "2", "--db",
                             str(tmp_path / "c.db"), "--out", str(tmp_path / "o")], env=coach_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        parent = psutil.Process(proc.pid)
        workers = _workers(parent, 2, proc)
        everyone = workers + [k for w in workers for k in w.children(recursive=True)]
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        gone, alive = psutil.wait_procs(everyone, timeout=60)
        assert not alive, [p.pid for p in alive]
        if sig == signal.SIGTERM:
            assert proc.returncode == 143 and "Traceback" not in err, err[-2000:]
            assert "已中断" in err
        else:
            assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()


# ---------------------------------------------------------------- CLI contract

def test_files_on_the_command_line_go_on_and_exit_3(tmp_path):
    good = clip(tmp_path / "a.wav")
    bad = tmp_path / "b.wav"
    bad.write_text("不是音频", encoding="utf-8")
    out = tmp_path / "o"
    proc = coach("analyze", str(good), str(bad), str(clip(tmp_path / "c.wav")), "--out", str(out))
    assert_clean_error(proc, 3, "b.wav")
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "c.json"]


def test_same_file_name_in_two_folders_does_not_overwrite(tmp_path):
    a = clip(tmp_path / "x" / "rec.wav", start=0.0)
    b = clip(tmp_path / "y" / "rec.wav", start=5.0)
    out = tmp_path / "o"
    assert coach("analyze", str(a), str(b), "--out", str(out)).returncode == 0
    files = sorted(out.iterdir())
    assert [p.name for p in files] == ["rec-2.json", "rec.json"]
    assert {json.loads(p.read_text("utf-8"))["file"] for p in files} == {str(a), str(b)}


def test_clerk_channel_on_mono_is_refused_by_every_command(tmp_path):
    mono = clip(tmp_path / "m.wav")
    msgs = []
    for cmd in (("analyze",), ("transcribe",), ("live", "--input"), ("practice", "--input"), ("review",)):
        msgs.append(assert_clean_error(coach(*cmd, str(mono), "--clerk-channel", "right"), 2, "m.wav", "单声道"))
    assert len(set(msgs)) == 1
    proc = coach("analyze", str(tmp_path), "--clerk-channel", "right", "--db", str(tmp_path / "c.db"),
                 "--out", str(tmp_path / "o"))
    assert proc.returncode == 3 and "单声道" in proc.stderr


def test_control_characters_are_escaped_when_echoed(tmp_path):
    proc = coach("analyze", str(tmp_path / "evil\x1b[2J\x07.wav"))
    assert_clean_error(proc, 2, "\\x1b[2J\\x07")
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr


def test_devices_without_a_microphone(tmp_path):
    from coach.audio.sources import list_input_devices

    if list_input_devices():
        pytest.skip("this machine has a microphone")
    assert_clean_error(coach("devices"), 2, "没有找到录音设备")


def test_a_failed_start_leaves_no_session_row(tmp_path):
    from coach.session.live import SessionMeta
    from coach.store import SessionWriter

    with Store(tmp_path / "c.db") as store:
        w = SessionWriter(store)
        w.start(SessionMeta(kind="live", trainee="x"))
        wav = w.audio_path
        w.close()  # e.g. the microphone could not be opened
        assert store.sessions() == [] and not wav.exists()
        w = SessionWriter(store)
        w.start(SessionMeta(kind="practice", trainee="x"))
        w.finish(Evaluator.default().evaluate([]))
        assert store.sessions() == []


# ---------------------------------------------------------------- truthful metadata

def test_cut_off_wav_is_stored_at_its_real_length_and_marked(tmp_path):
    whole = clip(tmp_path / "whole.wav", 4.0)
    cut = tmp_path / "cut.wav"
    data = whole.read_bytes()
    cut.write_bytes(data[: 44 + (len(data) - 44) // 2])
    huge = tmp_path / "huge.wav"                      # a header claiming ~2 GB of audio
    h = bytearray(data)
    h[40:44] = (0x7FFFFFF0).to_bytes(4, "little")
    huge.write_bytes(bytes(h))
    proc = coach("analyze", str(cut), str(huge), "--json")
    assert proc.returncode == 0, proc.stderr
    got = {Path(r["file"]).name: r for r in json.loads(proc.stdout)}
    assert abs(got["cut.wav"]["duration_s"] - 2.0) < 0.05 and got["cut.wav"]["truncated"] is True
    assert abs(got["huge.wav"]["duration_s"] - 4.0) < 0.05 and got["huge.wav"]["truncated"] is True
    assert not [f for f in got["cut.wav"]["findings"] if f["rule"] == "missing_farewell"]
    warns = [ln for ln in proc.stderr.splitlines() if "警告" in ln]
    assert warns and all(ln.startswith("coach: 警告：") for ln in warns)
    assert ".py" not in proc.stderr and "warnings.warn" not in proc.stderr


# ---------------------------------------------------------------- no speech, no verdict

def test_no_speech_has_no_score_anywhere(tmp_path):
    silence = tmp_path / "rec" / "silence.wav"
    silence.parent.mkdir()
    sf.write(str(silence), np.zeros(3 * SR, np.float32), SR, subtype="PCM_16")
    proc = coach("analyze", str(silence), "--json")
    data = json.loads(proc.stdout)
    assert data["outcome"] == "no_speech" and data["score"] is None
    db = tmp_path / "c.db"
    clip(tmp_path / "rec" / "speech.wav")
    proc = coach("analyze", str(tmp_path / "rec"), "--db", str(db), "--out", str(tmp_path / "o"), "--trainee", "李")
    assert proc.returncode == 0, proc.stderr
    with Store(db) as store:
        rows = {Path(r.source_file).name: r for r in store.sessions()}
        assert rows["silence.wav"].outcome == "no_speech" and rows["silence.wav"].score is None
        stats = store.trainee_stats("李")[0]
        assert stats.scores == [rows["speech.wav"].score] and stats.mean_score == rows["speech.wav"].score
        sid = rows["silence.wav"].id
    hist = coach("history", "--db", str(db), COLUMNS="200")
    assert NO_SPEECH_LABEL in hist.stdout
    for fmt in ("html", "md", "csv", "json"):
        text = coach("report", str(sid), "--format", fmt, "--out", str(tmp_path / f"s.{fmt}"), "--db", str(db))
        assert text.returncode == 0, text.stderr
        body = (tmp_path / f"s.{fmt}").read_text("utf-8")
        assert (NO_SPEECH_LABEL in body) if fmt != "json" else json.loads(body)["score"] is None
    csv = coach("report", "--trainee", "李", "--format", "csv", "--db", str(db)).stdout
    assert NO_SPEECH_LABEL in csv
    index = (tmp_path / "o" / "index.md").read_text("utf-8")
    assert NO_SPEECH_LABEL in index and f"**平均得分**：{rows['speech.wav'].score:g}" in index


# ---------------------------------------------------------------- silent model corruption

def test_damaged_weights_with_size_and_mtime_unchanged_are_caught(tmp_path):
    from coach.asr.models import ensure, model_path

    src = ensure("whisper-base")
    models = tmp_path / "models"
    dst = models / "whisper-base"
    shutil.copytree(src, dst)
    assert model_path("whisper-base") != dst
    binf = dst / "model.bin"
    st = binf.stat()
    with open(binf, "r+b") as fh:           # damage 64 KB of weights in the middle, in place
        fh.seek(st.st_size // 2)
        fh.write(np.random.default_rng(7).integers(0, 256, 1 << 16, dtype=np.uint8).tobytes())
    os.utime(binf, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert binf.stat().st_size == st.st_size and binf.stat().st_mtime_ns == st.st_mtime_ns
    proc = coach("analyze", str(clip(tmp_path / "a.wav")), COACH_MODELS_DIR=str(models))
    assert_clean_error(proc, 2, "已损坏", "coach models")


# ---------------------------------------------------------------- progress on a terminal only

def _run_with_tty_stderr(*args: str) -> tuple[int, str, str]:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "coach", *args], env=coach_env(COLUMNS="120"),
                            stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read()
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_single_file_progress_on_a_terminal_and_quiet_json_to_a_pipe(tmp_path):
    wav = clip(tmp_path / "a.wav", 6.0)
    code, out, err = _run_with_tty_stderr("analyze", str(wav))
    assert code == 0 and "分析 a.wav：" in err and "音频" in err
    code, out, err = _run_with_tty_stderr("analyze", str(wav), "--json")
    assert code == 0 and json.loads(out)["file"] == str(wav)
    assert "分析 a.wav" not in err


# ---------------------------------------------------------------- never a traceback

def test_an_unexpected_error_is_one_line_exit_4_with_a_log(tmp_path, monkeypatch, capsys):
    import coach.commands.history as history
    from coach.cli import main

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(history, "run_history", broken)  # a bug anywhere in a command
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("COACH_DEBUG", raising=False)
    assert main(["history", "--db", str(tmp_path / "c.db")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("coach: 内部错误：RuntimeError: boom")
    logs = list((tmp_path / "state").rglob("coach-error.log"))
    assert logs and "Traceback" in logs[0].read_text("utf-8") and str(logs[0]) in err[0]
