"""The session store: one SQLite file (WAL) with sessions, utterances and findings.

Where: ``--db PATH``, else ``$COACH_DB``, else ``coach.db`` in the platformdirs user data
directory.  Several processes may use one file at once (the app recording a practice
session while a batch review writes its results): WAL mode lets readers run beside the
writer, every write is a short ``BEGIN IMMEDIATE`` transaction and waits up to
``busy_timeout`` for the other writer.

The schema is versioned with ``PRAGMA user_version``; :data:`MIGRATIONS` is the ordered list
of steps, step *n* taking a database from version *n* to *n + 1*.  Never edit a released
step: append a new one.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from coach.errors import CoachError
from coach.schema import Finding, Result, Utterance

BUSY_TIMEOUT_MS = 30_000


class StoreError(CoachError):
    """The session database cannot be opened or used."""


def default_db_path() -> Path:
    """``$COACH_DB`` or ``coach.db`` in the user data directory."""
    env = os.environ.get("COACH_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("coach", appauthor=False)) / "coach.db"


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path).expanduser() if path else default_db_path()


# --------------------------------------------------------------------------- migrations

def _v1(c: sqlite3.Connection) -> None:
    c.execute("""
        CREATE TABLE sessions (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            trainee      TEXT NOT NULL DEFAULT '',
            scenario     TEXT,
            kind         TEXT NOT NULL,
            started_at   REAL NOT NULL,
            engine       TEXT,
            model        TEXT,
            score        REAL,
            breakdown    TEXT,
            audio_path   TEXT,
            audio_sha256 TEXT,
            source_file  TEXT,
            duration_s   REAL,
            finished     INTEGER NOT NULL DEFAULT 0
        )""")
    c.execute("""
        CREATE TABLE utterances (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL,
            start_s    REAL,
            end_s      REAL,
            speaker    TEXT NOT NULL,
            text       TEXT NOT NULL,
            PRIMARY KEY (session_id, idx)
        )""")
    c.execute("""
        CREATE TABLE findings (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            utterance_idx INTEGER,
            type          TEXT NOT NULL,
            rule          TEXT NOT NULL,
            phrase        TEXT,
            heard         TEXT,
            start_s       REAL,
            end_s         REAL,
            speaker       TEXT NOT NULL,
            severity      TEXT NOT NULL,
            suggestion    TEXT
        )""")


def _v2(c: sqlite3.Connection) -> None:
    # Which phrasebook judged the session, when it was finished, the matcher's score per finding.
    c.execute("ALTER TABLE sessions ADD COLUMN phrasebook TEXT")
    c.execute("ALTER TABLE sessions ADD COLUMN finished_at REAL")
    c.execute("ALTER TABLE findings ADD COLUMN score REAL")
    c.execute("UPDATE sessions SET finished_at = started_at + COALESCE(duration_s, 0) WHERE finished = 1")


def _v3(c: sqlite3.Connection) -> None:
    c.execute("CREATE INDEX sessions_trainee ON sessions(trainee, started_at)")
    c.execute("CREATE INDEX sessions_audio_sha256 ON sessions(audio_sha256)")
    c.execute("CREATE INDEX findings_session ON findings(session_id, utterance_idx)")


def _v4(c: sqlite3.Connection) -> None:
    # Outcome ("scored" | "no_speech": then score is NULL), audio that ended early, and one row per
    # recording per analysis settings: a review row carries the key of the settings it was
    # analysed with, unique together with the audio hash (rows saved before v4: one kept per
    # hash, engine and phrasebook — the latest).
    c.execute("ALTER TABLE sessions ADD COLUMN outcome TEXT NOT NULL DEFAULT 'scored'")
    c.execute("ALTER TABLE sessions ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0")
    c.execute("ALTER TABLE sessions ADD COLUMN analysis_key TEXT")
    c.execute("UPDATE sessions SET analysis_key = 'legacy|' || COALESCE(engine, '') || '|' || COALESCE(phrasebook, '') "
              "WHERE kind = 'review' AND finished = 1 AND audio_sha256 IS NOT NULL")
    c.execute("DELETE FROM sessions WHERE analysis_key IS NOT NULL AND EXISTS (SELECT 1 FROM sessions t "
              "WHERE t.audio_sha256 = sessions.audio_sha256 AND t.analysis_key = sessions.analysis_key "
              "AND t.id > sessions.id)")
    c.execute("CREATE UNIQUE INDEX sessions_one_per_recording ON sessions(audio_sha256, analysis_key) "
              "WHERE analysis_key IS NOT NULL")


def _v5(c: sqlite3.Connection) -> None:
    # The speaker attribution score of each utterance on one microphone (> 0 clerk, < 0 citizen;
    # NULL: not attributed by voice — stereo, text input, or saved before v5).
    c.execute("ALTER TABLE utterances ADD COLUMN speaker_score REAL")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to ``target`` (default: current); returns the version it had."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = schema_version(conn)
        if before > SCHEMA_VERSION:
            raise StoreError(f"数据库版本 {before} 比本程序支持的 {SCHEMA_VERSION} 新，请升级 coach "
                             f"/ database schema v{before} is newer than this coach (v{SCHEMA_VERSION})")
        for n in range(before, target):
            MIGRATIONS[n](conn)
        if target > before:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
        return before
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def analysis_key(engine: str | None, clerk_channel: str | None, phrasebook: str | None) -> str:
    """The analysis settings a review row was made with (one row per recording per key)."""
    return f"{engine or 'auto'}|{clerk_channel or 'mix'}|{phrasebook or 'default'}"


_SQLITE_REASON = (
    ("SQLITE_FULL", "磁盘已满，无法写入 / disk full"),
    ("SQLITE_READONLY", "只读，无法写入（检查文件及其文件夹的写权限）/ read-only"),
    ("SQLITE_CORRUPT", "文件已损坏（可从备份恢复，或换一个 --db 文件）/ database disk image is malformed"),
    ("SQLITE_NOTADB", "不是会话数据库文件 / not a database"),
    ("SQLITE_CANTOPEN", "无法打开（文件夹不存在或没有权限）/ cannot open"),
    ("SQLITE_BUSY", "被其他程序占用，等待超时 / database is locked"),
    ("SQLITE_LOCKED", "被其他程序占用，等待超时 / database is locked"),
    ("SQLITE_IOERR", "读写出错（磁盘已满、文件过大或磁盘故障）/ disk I/O error"),
    ("SQLITE_PERM", "没有权限 / permission denied"),
)


def store_error(path: str | os.PathLike, exc: BaseException, action: str = "会话数据库出错") -> "StoreError":
    """A sqlite3/OS error on the database ``path`` as one line naming the file and the problem."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    folder = Path(path).parent
    if name.startswith("SQLITE_CANTOPEN") and folder.is_dir() and not Path(path).exists() \
            and not os.access(folder, os.W_OK):
        return StoreError(f"{path}: {action}：文件夹 {folder} 没有写入权限，无法新建数据库 / "
                          "no write permission in the folder, cannot create the database")
    for prefix, reason in _SQLITE_REASON:
        if name.startswith(prefix):
            return StoreError(f"{path}: {action}：{reason}（{exc}）")
    if isinstance(exc, OSError):
        from coach.store.files import os_reason

        return StoreError(f"{path}: 会话数据库无法使用（{os_reason(exc)}）/ cannot use the session database")
    return StoreError(f"{path}: 会话数据库出错（{exc}）/ session database error")


def _switch_to_wal(conn: sqlite3.Connection, timeout_s: float) -> str:
    """``PRAGMA journal_mode = WAL``, waiting up to ``timeout_s`` for other connections.  On a fresh
    file several processes race to switch it, and SQLite returns SQLITE_BUSY at once, without the
    busy handler, where waiting could deadlock (a lock upgrade); so wait here, backing off."""
    deadline, pause = time.monotonic() + timeout_s, 0.005
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            # the extended codes too (SQLITE_BUSY_RECOVERY…), as store_error reads them; the text on
            # Python 3.10, whose exceptions have no sqlite_errorname
            name = getattr(exc, "sqlite_errorname", "") or ""
            busy = name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.1)


def connect(path: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A connection in autocommit mode (we write with explicit BEGIN IMMEDIATE), WAL, busy wait."""
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    mode = _switch_to_wal(conn, busy_timeout_ms / 1000)
    if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network file system
        raise StoreError(f"{path}: 无法启用 WAL 模式（{mode}）/ cannot use WAL journal mode")
    # NORMAL in WAL mode: a commit survives the process being killed (not a power cut).
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


# --------------------------------------------------------------------------- records

@dataclass
class SessionRow:
    id: int
    trainee: str
    scenario: str | None
    kind: str
    started_at: float
    engine: str | None
    model: str | None
    score: float | None
    breakdown: dict[str, Any]
    audio_path: str | None
    audio_sha256: str | None
    source_file: str | None
    duration_s: float | None
    finished: bool
    phrasebook: str | None = None
    finished_at: float | None = None
    outcome: str = "scored"
    truncated: bool = False
    n_utterances: int = 0
    n_courtesy: int = 0
    n_brush_off: int = 0
    n_violation: int = 0
    n_structure: int = 0

    @property
    def started(self) -> datetime:
        return datetime.fromtimestamp(self.started_at)

    @property
    def name(self) -> str:
        """What to call the session in a table: its source file, else its kind and trainee."""
        if self.source_file:
            return Path(self.source_file).name
        return f"{self.trainee or '—'} {self.kind}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "trainee": self.trainee, "scenario": self.scenario, "kind": self.kind,
            "started_at": datetime.fromtimestamp(self.started_at).isoformat(timespec="seconds"),
            "engine": self.engine, "model": self.model, "score": self.score,
            "audio_path": self.audio_path, "audio_sha256": self.audio_sha256,
            "source_file": self.source_file, "duration_s": self.duration_s,
            "finished": self.finished, "phrasebook": self.phrasebook,
            "outcome": self.outcome, "truncated": self.truncated,
        }

    @property
    def no_speech(self) -> bool:
        return self.outcome == "no_speech"


@dataclass
class TraineeStats:
    trainee: str
    sessions: int
    first_score: float | None
    last_score: float | None
    mean_score: float | None
    scores: list[float] = field(default_factory=list)
    first_at: float | None = None
    last_at: float | None = None
    top_violations: list[tuple[str, int]] = field(default_factory=list)  # (label key, count)

    @property
    def trend(self) -> float | None:
        if self.first_score is None or self.last_score is None or self.sessions < 2:
            return None
        return round(self.last_score - self.first_score, 1)


_SESSION_COLS = ("id, trainee, scenario, kind, started_at, engine, model, score, breakdown, audio_path, "
                 "audio_sha256, source_file, duration_s, finished, phrasebook, finished_at, outcome, truncated")
_COUNTS = """
    (SELECT COUNT(*) FROM utterances u WHERE u.session_id = s.id) AS n_utterances,
    (SELECT COUNT(*) FROM findings f WHERE f.session_id = s.id AND f.type = 'courtesy'
        AND f.rule != 'near_miss') AS n_courtesy,
    (SELECT COUNT(*) FROM findings f WHERE f.session_id = s.id AND f.type = 'brush_off') AS n_brush_off,
    (SELECT COUNT(*) FROM findings f WHERE f.session_id = s.id AND f.severity = 'violation') AS n_violation,
    (SELECT COUNT(*) FROM findings f WHERE f.session_id = s.id AND f.type = 'structure') AS n_structure
"""


def _row(r: sqlite3.Row) -> SessionRow:
    keys = r.keys()
    return SessionRow(
        id=r["id"], trainee=r["trainee"] or "", scenario=r["scenario"], kind=r["kind"],
        started_at=r["started_at"], engine=r["engine"], model=r["model"], score=r["score"],
        breakdown=json.loads(r["breakdown"]) if r["breakdown"] else {},
        audio_path=r["audio_path"], audio_sha256=r["audio_sha256"], source_file=r["source_file"],
        duration_s=r["duration_s"], finished=bool(r["finished"]), phrasebook=r["phrasebook"],
        finished_at=r["finished_at"], outcome=r["outcome"] or "scored", truncated=bool(r["truncated"]),
        **{k: r[k] for k in ("n_utterances", "n_courtesy", "n_brush_off", "n_violation", "n_structure")
           if k in keys},
    )


def parse_since(text: str) -> float:
    """``YYYY-MM-DD`` (local midnight), ``YYYY-MM-DD HH:MM``, or ``7d`` / ``2w`` / ``12h`` ago."""
    s = text.strip()
    units = {"h": 3600, "d": 86400, "w": 7 * 86400}
    if s[-1:].lower() in units and s[:-1].isdigit():
        return time.time() - int(s[:-1]) * units[s[-1].lower()]
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y%m%d"):
        try:
            return datetime.strptime(s, fmt).timestamp()
        except ValueError:
            continue
    raise CoachError(f"无法识别的日期 '{text}'（例如 2024-05-01 或 7d）/ bad date '{text}' (e.g. 2024-05-01 or 7d)")


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


# --------------------------------------------------------------------------- the store

class Store:
    """One SQLite session database.  Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = resolve_db_path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from coach.store.files import os_reason

            raise StoreError(f"{self.path}: 无法创建会话数据库所在的文件夹 {self.path.parent}（{os_reason(exc)}）"
                             " / cannot create the database folder") from None
        if self.path.is_dir():
            raise StoreError(f"{self.path}: 这是一个文件夹，不是会话数据库文件 / is a directory")
        try:
            self.conn = connect(self.path, busy_timeout_ms=busy_timeout_ms)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "无法打开会话数据库") from None
        try:
            migrate(self.conn)
        except sqlite3.Error as exc:
            self.conn.close()
            raise store_error(self.path, exc, "无法打开会话数据库") from None

    # -- plumbing
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def audio_dir(self) -> Path:
        """Where recorded session audio goes: ``audio/`` beside the database."""
        return self.path.parent / "audio"

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error); SQLite errors come out as
        one-line :class:`StoreError` naming the database."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error):
                raise store_error(self.path, exc) from None
            raise

    # -- writing
    def create_session(self, *, kind: str, trainee: str = "", scenario: str | None = None,
                       started_at: float | None = None, engine: str | None = None, model: str | None = None,
                       audio_path: str | None = None, audio_sha256: str | None = None,
                       source_file: str | None = None, phrasebook: str | None = None) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO sessions (trainee, scenario, kind, started_at, engine, model, audio_path, "
                "audio_sha256, source_file, phrasebook, finished) VALUES (?,?,?,?,?,?,?,?,?,?,0)",
                (trainee or "", scenario, kind, started_at if started_at is not None else time.time(),
                 engine, model, audio_path, audio_sha256, source_file, phrasebook))
            return int(cur.lastrowid)

    @staticmethod
    def _insert_utterance(c: sqlite3.Connection, session_id: int, idx: int, u: Utterance) -> None:
        c.execute("INSERT OR REPLACE INTO utterances (session_id, idx, start_s, end_s, speaker, text, speaker_score) "
                  "VALUES (?,?,?,?,?,?,?)", (session_id, idx, u.start, u.end, u.speaker, u.text, _num(u.speaker_score)))

    @staticmethod
    def _insert_findings(c: sqlite3.Connection, session_id: int, findings: Iterable[Finding],
                         default_idx: int | None = None) -> None:
        c.executemany(
            "INSERT INTO findings (session_id, utterance_idx, type, rule, phrase, heard, start_s, end_s, "
            "speaker, severity, suggestion, score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(session_id, f.utterance if f.utterance is not None else default_idx, f.type, f.rule, f.phrase,
              f.heard, f.start, f.end, f.speaker, f.severity, f.suggestion, _num(f.score)) for f in findings])

    def add_utterance(self, session_id: int, idx: int, u: Utterance, findings: Iterable[Finding] = ()) -> None:
        """Commit one utterance and its findings at once (survives a crash right after)."""
        with self.transaction() as c:
            self._insert_utterance(c, session_id, idx, u)
            self._insert_findings(c, session_id, findings, default_idx=idx)

    def finish_session(self, session_id: int, result: Result, *, audio_sha256: str | None = None,
                       audio_path: str | None = None, model: str | None = None,
                       duration_s: float | None = None) -> None:
        """Replace the session's utterances and findings by the final result and mark it finished."""
        with self.transaction() as c:
            self._write_result(c, session_id, result)
            sets = ["score = ?", "breakdown = ?", "duration_s = ?", "finished = 1", "finished_at = ?",
                    "engine = COALESCE(?, engine)", "outcome = ?", "truncated = ?"]
            vals: list[Any] = [_score(result), json.dumps(result.breakdown, ensure_ascii=False),
                               duration_s if duration_s is not None else result.duration_s,
                               time.time(), result.engine, result.outcome, int(result.truncated)]
            for col, v in (("audio_sha256", audio_sha256), ("audio_path", audio_path), ("model", model)):
                if v is not None:
                    sets.append(f"{col} = ?")
                    vals.append(v)
            c.execute(f"UPDATE sessions SET {', '.join(sets)} WHERE id = ?", (*vals, session_id))

    def _write_result(self, c: sqlite3.Connection, session_id: int, result: Result) -> None:
        c.execute("DELETE FROM findings WHERE session_id = ?", (session_id,))
        c.execute("DELETE FROM utterances WHERE session_id = ?", (session_id,))
        for i, u in enumerate(result.utterances):
            self._insert_utterance(c, session_id, i, u)
        self._insert_findings(c, session_id, result.findings)

    def save_result(self, result: Result, *, kind: str = "review", trainee: str = "", scenario: str | None = None,
                    started_at: float | None = None, model: str | None = None, audio_path: str | None = None,
                    audio_sha256: str | None = None, source_file: str | None = None,
                    phrasebook: str | None = None, analysis_key: str | None = None) -> int:
        """Store a whole analysed session in one transaction (batch review); returns its id.

        With ``audio_sha256`` and ``analysis_key`` this is an upsert: the recording's row for
        those settings is replaced (one row per recording per settings, enforced by a unique
        index, so two batches over the same folder and the app may write at once)."""
        now = time.time()
        if audio_sha256 is None:
            analysis_key = None
        cols = ("trainee, scenario, kind, started_at, engine, model, score, breakdown, audio_path, audio_sha256, "
                "source_file, duration_s, finished, phrasebook, finished_at, outcome, truncated, analysis_key")
        vals = (trainee or "", scenario, kind, started_at if started_at is not None else now, result.engine,
                model or result.extra.get("model"), _score(result), json.dumps(result.breakdown, ensure_ascii=False),
                audio_path, audio_sha256, source_file if source_file is not None else result.file, result.duration_s,
                1, phrasebook, now, result.outcome, int(result.truncated), analysis_key)
        upsert = ""
        if analysis_key is not None:
            keep = ("audio_sha256", "analysis_key")
            upsert = (" ON CONFLICT (audio_sha256, analysis_key) WHERE analysis_key IS NOT NULL DO UPDATE SET "
                      + ", ".join(f"{c} = excluded.{c}" for c in (x.strip() for x in cols.split(",")) if c not in keep))
        with self.transaction() as c:
            cur = c.execute(f"INSERT INTO sessions ({cols}) VALUES ({','.join('?' * len(vals))}){upsert}", vals)
            if analysis_key is not None:
                sid = int(c.execute("SELECT id FROM sessions WHERE audio_sha256 = ? AND analysis_key = ?",
                                    (audio_sha256, analysis_key)).fetchone()[0])
            else:
                sid = int(cur.lastrowid)
            self._write_result(c, sid, result)
        return sid

    def delete_session(self, session_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- reading
    def sessions(self, *, trainee: str | None = None, since: float | None = None, kind: str | None = None,
                 finished: bool | None = None, limit: int | None = None,
                 ids: Iterable[int] | None = None) -> list[SessionRow]:
        where, args = [], []
        if trainee is not None:
            where.append("s.trainee = ?")
            args.append(trainee)
        if since is not None:
            where.append("s.started_at >= ?")
            args.append(since)
        if kind is not None:
            where.append("s.kind = ?")
            args.append(kind)
        if finished is not None:
            where.append("s.finished = ?")
            args.append(int(finished))
        if ids is not None:
            ids = list(ids)
            where.append(f"s.id IN ({','.join('?' * len(ids))})" if ids else "0")
            args.extend(ids)
        sql = f"SELECT {_SESSION_COLS}, {_COUNTS} FROM sessions s"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.started_at DESC, s.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = [_row(r) for r in self.conn.execute(sql, args)]
        rows.reverse()  # oldest first; with a limit, the latest ``limit``
        return rows

    def session(self, session_id: int) -> SessionRow | None:
        rows = self.sessions(ids=[session_id])
        return rows[0] if rows else None

    def result(self, session_id: int) -> Result:
        """The stored session as a :class:`Result` (an unfinished one has score from its findings so far)."""
        row = self.session(session_id)
        if row is None:
            raise StoreError(f"没有编号为 {session_id} 的会话 / no session {session_id}")
        utts = [Utterance(r["start_s"], r["end_s"], r["speaker"], r["text"], speaker_score=r["speaker_score"])
                for r in self.conn.execute(
            "SELECT start_s, end_s, speaker, text, speaker_score FROM utterances WHERE session_id = ? ORDER BY idx",
            (session_id,))]
        findings = [Finding(type=r["type"], rule=r["rule"], phrase=r["phrase"], heard=r["heard"],
                            start=r["start_s"], end=r["end_s"], speaker=r["speaker"], severity=r["severity"],
                            suggestion=r["suggestion"], utterance=r["utterance_idx"], score=r["score"])
                    for r in self.conn.execute("SELECT * FROM findings WHERE session_id = ? ORDER BY id",
                                               (session_id,))]
        extra = {"session_id": row.id, "trainee": row.trainee, "kind": row.kind, "finished": row.finished}
        if row.model:
            extra["model"] = row.model
        score, breakdown = row.score, row.breakdown
        if score is None and not row.no_speech:
            # Cut off before the end: score what was saved (phrase rules only), marked provisional.
            from coach.session.evaluate import Evaluator, score as score_findings

            score, breakdown = score_findings(findings, Evaluator.default().phrasebook)
            breakdown["provisional"] = True
        duration = row.duration_s
        if duration is None and utts:
            ends = [u.end for u in utts if u.end is not None]
            duration = max(ends) if ends else None
        return Result(utterances=utts, findings=findings, score=None if row.no_speech else score, breakdown=breakdown,
                      file=row.source_file or row.audio_path, duration_s=duration, engine=row.engine, extra=extra,
                      outcome=row.outcome, truncated=row.truncated)

    def find_hash(self, sha256: str, analysis_key: str | None = None) -> SessionRow | None:
        """The latest finished session of audio with this content hash (analysed with these
        settings, when ``analysis_key`` is given)."""
        cond, args = "audio_sha256 = ? AND finished = 1", [sha256]
        if analysis_key is not None:
            cond += " AND analysis_key = ?"
            args.append(analysis_key)
        r = self.conn.execute(f"SELECT {_SESSION_COLS} FROM sessions s WHERE {cond} ORDER BY id DESC LIMIT 1",
                              args).fetchone()
        return _row(r) if r else None

    def known_hashes(self) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT audio_sha256 FROM sessions WHERE finished = 1 AND audio_sha256 IS NOT NULL")}

    def trainee_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT trainee FROM sessions ORDER BY trainee")]

    def trainee_stats(self, trainee: str | None = None, *, since: float | None = None,
                      top: int = 3) -> list[TraineeStats]:
        """Per trainee: scores over time (finished sessions) and the most frequent problems."""
        out = []
        names = [trainee] if trainee is not None else self.trainee_names()
        for name in names:
            args: list[Any] = [name]
            conds = ["s.trainee = ?", "s.finished = 1", "s.score IS NOT NULL", "s.outcome = 'scored'"]
            if since is not None:
                conds.append("s.started_at >= ?")
                args.append(since)
            cond = " AND ".join(conds)
            rows = self.conn.execute(f"SELECT s.id, s.score, s.started_at FROM sessions s WHERE {cond} "
                                     "ORDER BY s.started_at, s.id", args).fetchall()
            n_all = self.conn.execute("SELECT COUNT(*) FROM sessions WHERE trainee = ?", (name,)).fetchone()[0]
            if not rows and not n_all:
                continue
            scores = [r["score"] for r in rows]
            problems = self.conn.execute(
                f"""SELECT CASE WHEN f.type = 'brush_off' THEN 'brush_off:' || f.phrase
                              WHEN f.rule = 'near_miss' THEN 'near_miss:' || COALESCE(f.heard, '')
                              ELSE f.rule END AS k, COUNT(*) AS n
                    FROM findings f JOIN sessions s ON s.id = f.session_id
                    WHERE {cond} AND f.speaker NOT IN ('citizen', 'uncertain')
                      AND (f.type != 'courtesy' OR f.rule = 'near_miss')
                    GROUP BY k ORDER BY n DESC, k LIMIT ?""", (*args, top)).fetchall()
            out.append(TraineeStats(
                trainee=name, sessions=len(rows),
                first_score=scores[0] if scores else None, last_score=scores[-1] if scores else None,
                mean_score=round(sum(scores) / len(scores), 1) if scores else None, scores=scores,
                first_at=rows[0]["started_at"] if rows else None, last_at=rows[-1]["started_at"] if rows else None,
                top_violations=[(r["k"], r["n"]) for r in problems]))
        return out

    def recover(self, session_id: int, evaluator=None) -> Result:
        """Finish a session that was cut off (crash, power cut): repair its WAV, judge the
        utterances that were saved as a whole visit and store the result."""
        from coach.session.evaluate import Evaluator
        from coach.store.wavfile import repair_wav

        row = self.session(session_id)
        if row is None:
            raise StoreError(f"没有编号为 {session_id} 的会话 / no session {session_id}")
        duration = repair_wav(row.audio_path) if row.audio_path else None
        stored = self.result(session_id)
        evaluator = evaluator or Evaluator.default()
        result = evaluator.evaluate(stored.utterances, session=True, file=stored.file, engine=row.engine,
                                    duration_s=duration if duration is not None else stored.duration_s)
        result.breakdown["recovered"] = True
        self.finish_session(session_id, result)
        return result


def _score(result: Result) -> float | None:
    return None if result.outcome == "no_speech" else _num(result.score)


def _guarded(method):
    """SQLite / OS errors of a Store method as one-line StoreErrors naming the database."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise store_error(self.path, exc) from None

    return wrapper


for _name in ("create_session", "add_utterance", "finish_session", "save_result", "delete_session", "sessions",
              "result", "find_hash", "known_hashes", "trainee_names", "trainee_stats", "recover"):
    setattr(Store, _name, _guarded(getattr(Store, _name)))


def since_days(days: int) -> float:
    return (datetime.now() - timedelta(days=days)).timestamp()


# --------------------------------------------------------------------------- command line

def add_db_argument(parser) -> None:
    """``--db PATH`` on a sub-command (``args.db`` is always set, None when not given).  A global
    ``coach --db PATH`` should use ``dest="global_db"``: :func:`db_from_args` honours both."""
    parser.add_argument("--db", metavar="PATH", default=None,
                        help="会话数据库文件（默认：环境变量 COACH_DB 或用户数据目录下的 coach.db）")


def db_from_args(args) -> str | None:
    return getattr(args, "db", None) or getattr(args, "global_db", None)


def store_from_args(args) -> Store:
    return Store(db_from_args(args))
