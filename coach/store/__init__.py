"""Session store (SQLite, WAL): past sessions, their utterances, findings and audio.

>>> from coach.store import Store, SessionWriter
>>> with Store() as store:                      # --db PATH / $COACH_DB / user data dir
...     rows = store.sessions(trainee="张三")
"""

from coach.store.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SessionRow,
    Store,
    StoreError,
    TraineeStats,
    add_db_argument,
    analysis_key,
    store_error,
    db_from_args,
    default_db_path,
    migrate,
    parse_since,
    resolve_db_path,
    schema_version,
    store_from_args,
)
from coach.store.wavfile import GrowingWav, repair_wav
from coach.store.writer import SessionWriter, file_sha256

__all__ = [
    "MIGRATIONS", "SCHEMA_VERSION", "SessionRow", "Store", "StoreError", "TraineeStats", "add_db_argument", "analysis_key", "store_error", "db_from_args", "store_from_args", "default_db_path",
    "migrate", "parse_since", "resolve_db_path", "schema_version", "GrowingWav", "repair_wav",
    "SessionWriter", "file_sha256",
]
