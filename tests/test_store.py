"""The session store on real SQLite files: round trip, migrations, crash safety, two writers."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf

from coach.schema import Result, Utterance
from coach.session.evaluate import Evaluator
from coach.session.live import LiveSession, SessionMeta
from coach.store import (SCHEMA_VERSION, SessionWriter, Store, StoreError, file_sha256, migrate,
                         parse_since, resolve_db_path, schema_version)
from coach.store.db import connect

SR = 16000


def tone(seconds: float, freq: float = 440.0, start: int = 0) -> np.ndarray:
    t = (np.arange(int(seconds * SR)) + start) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


LINES = [
    Utterance(0.5, 2.5, "clerk", "您好，请问您要办什么业务？"),
    Utterance(3.0, 5.0, "citizen", "我想办营业执照。"),
    Utterance(5.5, 7.0, "clerk", "不知道，自己看墙上。"),
    Utterance(7.5, 9.0, "clerk", "好的，请慢走。"),
]


def test_practice_session_round_trip(tmp_path):
    db = tmp_path / "coach.db"
    ev = Evaluator.default()
    with Store(db) as store:
        sink = SessionWriter(store)
        live = LiveSession(ev, SessionMeta(kind="practice", trainee="张三", scenario="inquiry",
                                           engine="faster-whisper", model="base"), sink)
        for k in range(10):
            live.audio(tone(1.0, start=k * SR))
        found = [live.add(u) for u in LINES]
        result = live.finish()
        sid = sink.session_id

    assert any(f.type == "brush_off" for f in found[2])
    with Store(db) as store:
        row = store.session(sid)
        assert row.finished and row.trainee == "张三" and row.scenario == "inquiry" and row.kind == "practice"
        assert row.model == "base" and row.engine == "faster-whisper"
        assert row.score == result.score < 100
        assert row.duration_s == pytest.approx(10.0)
        assert row.audio_sha256 == file_sha256(row.audio_path)
        back = store.result(sid)
    assert [u.text for u in back.utterances] == [u.text for u in LINES]
    assert [f.to_json() for f in back.findings] == [f.to_json() for f in result.findings]
    assert [f.utterance for f in back.findings] == [f.utterance for f in result.findings]
    assert back.breakdown == json.loads(json.dumps(result.breakdown, ensure_ascii=False))
    audio, rate = sf.read(row.audio_path, dtype="float32")
    assert rate == SR and len(audio) == 10 * SR
    assert np.allclose(audio[:SR], tone(1.0), atol=1e-4)


def test_db_path_from_env_and_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(None) == tmp_path / "env.db"
    assert resolve_db_path(tmp_path / "x.db") == tmp_path / "x.db"
    monkeypatch.delenv("COACH_DB")
    assert resolve_db_path(None).name == "coach.db"


def test_wal_mode_and_schema_version(tmp_path):
    with Store(tmp_path / "a.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert schema_version(store.conn) == SCHEMA_VERSION


def test_migrate_v1_database_to_current(tmp_path):
    db = tmp_path / "old.db"
    conn = connect(db)
    migrate(conn, target=1)
    assert schema_version(conn) == 1
    # A session as version 1 wrote it.
    conn.execute("INSERT INTO sessions (trainee, kind, started_at, score, breakdown, duration_s, finished, "
                 "audio_sha256) VALUES ('李四', 'review', 1700000000, 85, '{\"base\": 100}', 30, 1, 'abc')")
    conn.execute("INSERT INTO utterances VALUES (1, 0, 0.5, 2.0, 'clerk', '你好')")
    conn.execute("INSERT INTO findings (session_id, utterance_idx, type, rule, phrase, heard, start_s, end_s, "
                 "speaker, severity, suggestion) VALUES (1, 0, 'courtesy', 'near_miss', '您好', '你好', 0.5, "
                 "1.0, 'clerk', 'warning', '您好')")
    conn.close()

    with Store(db) as store:
        assert schema_version(store.conn) == SCHEMA_VERSION
        cols = {r[1] for r in store.conn.execute("PRAGMA table_info(sessions)")}
        assert {"phrasebook", "finished_at"} <= cols
        indexes = {r[1] for r in store.conn.execute("PRAGMA index_list(sessions)")}
        assert "sessions_audio_sha256" in indexes
        row = store.session(1)
        assert row.trainee == "李四" and row.score == 85 and row.finished
        assert row.finished_at == 1700000000 + 30
        result = store.result(1)
        assert result.utterances[0].text == "你好"
        assert result.findings[0].rule == "near_miss" and result.findings[0].score is None
        assert store.find_hash("abc").id == 1
        # The migrated database takes new rows with the new columns.
        sid = store.save_result(result, trainee="李四", phrasebook="default")
        assert store.session(sid).phrasebook == "default"


def test_migrate_v4_database_keeps_rows_and_stores_speaker_scores(tmp_path):
    db = tmp_path / "v4.db"
    conn = connect(db)
    migrate(conn, target=4)
    assert schema_version(conn) == 4
    # A review as version 4 wrote it: utterances without an attribution score.
    conn.execute("INSERT INTO sessions (trainee, kind, started_at, score, breakdown, duration_s, finished, "
                 "audio_sha256, analysis_key, outcome) VALUES ('王五', 'review', 1700000000, 90, '{}', 12, 1, "
                 "'h4', 'whisper|mix|default', 'scored')")
    conn.execute("INSERT INTO utterances (session_id, idx, start_s, end_s, speaker, text) "
                 "VALUES (1, 0, 0.5, 2.0, 'uncertain', '不知道')")
    conn.execute("INSERT INTO findings (session_id, utterance_idx, type, rule, phrase, heard, start_s, end_s, "
                 "speaker, severity, suggestion) VALUES (1, 0, 'brush_off', 'dont_know', '不知道', '不知道', 0.5, "
                 "2.0, 'uncertain', 'warning', '可能是窗口')")
    conn.close()

    with Store(db) as store:
        assert schema_version(store.conn) == SCHEMA_VERSION == 5
        cols = {r[1] for r in store.conn.execute("PRAGMA table_info(utterances)")}
        assert "speaker_score" in cols
        old = store.result(1)
        assert old.utterances[0].speaker == "uncertain" and old.utterances[0].speaker_score is None
        assert old.findings[0].speaker == old.utterances[0].speaker
        assert store.find_hash("h4", "whisper|mix|default").id == 1
        # New rows keep the score, through save_result and through a live session's add_utterance.
        new = Result(utterances=[Utterance(0.0, 1.5, "citizen", "我想办营业执照", speaker_score=-0.42),
                                 Utterance(2.0, 3.0, "clerk", "您好", speaker_score=0.31),
                                 Utterance(3.5, 4.0, "unknown", "嗯")],
                     findings=[], score=100.0, breakdown={})
        sid = store.save_result(new, trainee="王五")
        back = store.result(sid)
        assert [u.speaker_score for u in back.utterances] == [-0.42, 0.31, None]
        assert [u.speaker for u in back.utterances] == ["citizen", "clerk", "unknown"]
        live = store.create_session(kind="practice", trainee="王五")
        store.add_utterance(live, 0, Utterance(0.0, 1.0, "uncertain", "不清楚", speaker_score=0.02))
        assert store.result(live).utterances[0].speaker_score == 0.02


def test_newer_database_is_refused(tmp_path):
    db = tmp_path / "new.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="新"):
        Store(db)


def test_not_a_database_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="无法打开"):
        Store(bad)


def test_history_filters_and_trainee_stats(tmp_path):
    ev = Evaluator.default()
    good = ev.evaluate([LINES[0], LINES[1], LINES[3]])
    bad = ev.evaluate(LINES)
    day = 86400
    t0 = parse_since("2024-03-01")
    with Store(tmp_path / "h.db") as store:
        store.save_result(bad, trainee="张三", started_at=t0)
        store.save_result(bad, trainee="张三", started_at=t0 + day)
        store.save_result(good, trainee="张三", started_at=t0 + 2 * day)
        store.save_result(good, trainee="李四", started_at=t0 + day)
        store.create_session(kind="practice", trainee="李四", started_at=t0 + 3 * day)  # unfinished
        assert len(store.sessions()) == 5
        assert [r.trainee for r in store.sessions(trainee="张三")] == ["张三"] * 3
        assert len(store.sessions(since=t0 + day)) == 4
        assert [r.started_at for r in store.sessions(limit=2)] == [t0 + 2 * day, t0 + 3 * day]
        row = store.sessions(trainee="张三")[0]
        assert row.n_brush_off == 2 and row.n_violation >= 2 and row.n_utterances == 4
        stats = {s.trainee: s for s in store.trainee_stats()}
    z = stats["张三"]
    assert z.sessions == 3 and z.first_score == bad.score and z.last_score == good.score == 100
    assert z.trend == 100 - bad.score > 0
    assert z.top_violations[0][1] == 2 and z.top_violations[0][0].startswith("brush_off:")
    assert stats["李四"].sessions == 1 and stats["李四"].trend is None


def test_parse_since():
    assert parse_since("7d") == pytest.approx(time.time() - 7 * 86400, abs=5)
    assert parse_since("2024-05-01") < parse_since("2024-05-02")
    with pytest.raises(Exception, match="日期"):
        parse_since("yesterday")


# ---------------------------------------------------------------- crash safety

CHILD = textwrap.dedent("""
    import sys, numpy as np
    from coach.schema import Result, Utterance, Finding
    from coach.session.live import SessionMeta
    from coach.store import Store, SessionWriter
    store = Store(sys.argv[1])
    w = SessionWriter(store)
    w.start(SessionMeta(kind="practice", trainee="崩溃测试"))
    print("SID", w.session_id, w.audio_path, flush=True)
    n = 0
    block = 1600  # 0.1 s
    t = np.arange(block) / 16000
    while True:  # forever: the parent kills us
        for k in range(5):
            start = (n * 5 + k) * block
            w.audio((0.2 * np.sin(2 * np.pi * 300 * (t + start / 16000))).astype(np.float32))
        u = Utterance(n * 0.5, n * 0.5 + 0.4, "clerk", f"第{n}句 请稍等")
        f = Finding("courtesy", "waiting.please_wait", "请稍等", "请稍等", u.start, u.end, "clerk", "info",
                    utterance=n)
        w.utterance(u, [f])
        n += 1
        print("U", n, (n * 5) * block, flush=True)
""")


def test_sigkill_mid_session_keeps_utterances_and_a_playable_wav(tmp_path):
    db = tmp_path / "crash.db"
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        head = proc.stdout.readline().split()
        assert head[0] == "SID", head
        sid, wav = int(head[1]), head[2]
        committed, frames = 0, 0
        while committed < 40:
            parts = proc.stdout.readline().split()
            assert parts and parts[0] == "U", parts
            committed, frames = int(parts[1]), int(parts[2])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    with Store(db) as store:
        row = store.session(sid)
        assert not row.finished and row.audio_path == wav
        result = store.result(sid)
        texts = [u.text for u in result.utterances]
        assert len(texts) >= committed
        assert texts[:committed] == [f"第{n}句 请稍等" for n in range(committed)]
        assert sum(f.rule == "waiting.please_wait" for f in result.findings) == len(texts)
        # Playable as it was left, without any repair.
        info = sf.info(wav)
        assert info.samplerate == 16000 and info.frames >= frames
        audio, _ = sf.read(wav, dtype="float32")
        t = np.arange(frames) / 16000
        assert np.allclose(audio[:frames], 0.2 * np.sin(2 * np.pi * 300 * t), atol=1e-3)
        # And the interrupted session can be finished later.
        final = store.recover(sid)
        row = store.session(sid)
        assert row.finished and row.breakdown.get("recovered") is True
        assert row.duration_s == pytest.approx(info.frames / 16000, abs=0.2)
        assert len(final.utterances) == len(texts)


# ---------------------------------------------------------------- two writers

APP = textwrap.dedent("""
    import sys, numpy as np
    from coach.schema import Result, Utterance
    from coach.session.evaluate import Evaluator
    from coach.session.live import LiveSession, SessionMeta
    from coach.store import Store, SessionWriter
    store = Store(sys.argv[1])
    live = LiveSession(Evaluator.default(), SessionMeta(kind="practice", trainee="app"), SessionWriter(store))
    for n in range(int(sys.argv[2])):
        live.audio(np.zeros(800, np.float32))
        live.add(Utterance(n, n + 0.5, "clerk", "您好，请稍等"))
    live.finish()
    print("ok", flush=True)
""")

BATCH = textwrap.dedent("""
    import sys
    from coach.schema import Result, Utterance
    from coach.session.evaluate import Evaluator
    from coach.store import Store
    ev = Evaluator.default()
    store = Store(sys.argv[1])
    for n in range(int(sys.argv[2])):
        r = ev.evaluate([Utterance(0, 1, "clerk", "不知道"), Utterance(1, 2, "clerk", "再见")], file=f"f{n}.wav")
        store.save_result(r, trainee="batch", audio_sha256=f"hash{n}")
    print("ok", flush=True)
""")


def test_app_and_batch_write_the_same_db_at_once(tmp_path):
    db = tmp_path / "shared.db"
    Store(db).close()  # created and migrated once; both writers then race on it
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "batch.py").write_text(BATCH, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "app.py"), str(db), "150"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
             subprocess.Popen([sys.executable, str(tmp_path / "batch.py"), str(db), "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    with Store(db) as store:
        app = store.sessions(trainee="app")
        batch = store.sessions(trainee="batch")
        assert len(app) == 1 and app[0].finished and app[0].n_utterances == 150
        assert len(batch) == 60 and all(r.finished and r.n_brush_off == 1 for r in batch)
        assert len(store.known_hashes()) == 61  # 60 batch files + the app's recording
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_two_processes_migrating_a_fresh_db_at_once(tmp_path):
    db = tmp_path / "race.db"
    code = "import sys; from coach.store import Store; Store(sys.argv[1]).close(); print('ok')"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    with Store(db) as store:
        assert schema_version(store.conn) == SCHEMA_VERSION


def test_an_unfinished_session_reads_back_with_a_provisional_score(tmp_path):
    ev = Evaluator.default()
    with Store(tmp_path / "u.db") as store:
        live = LiveSession(ev, SessionMeta(kind="live", trainee="王五"), SessionWriter(store, keep_audio=False))
        for u in LINES:
            live.add(u)
        sid = live.sink.session_id
        result = store.result(sid)  # never finished: e.g. the app was closed by force
    assert result.breakdown["provisional"] is True
    assert 0 <= result.score < 100 and result.duration_s == 9.0
    json.dumps(result.to_json(), allow_nan=False)


def test_switching_a_fresh_db_to_wal_waits_out_a_busy_lock(tmp_path, monkeypatch):
    """SQLite answers SQLITE_BUSY at once (no busy handler) where a lock upgrade could deadlock —
    as when processes race to switch a fresh file to WAL (seen in CI under load).  The switch waits
    and tries again until the other connection lets go, and gives up with the error after the timeout."""
    import coach.store.db as db

    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(str(path), timeout=0, isolation_level=None)   # no busy handler
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db._switch_to_wal(other, 0.05)
    waits = []

    def let_go(seconds):       # the other connection finishes while this one backs off
        waits.append(seconds)
        holder.execute("COMMIT")

    monkeypatch.setattr(db.time, "sleep", let_go)
    assert db._switch_to_wal(other, 30.0).lower() == "wal"
    assert len(waits) == 1
    other.close()
    holder.close()
