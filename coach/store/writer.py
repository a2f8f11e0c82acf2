""":class:`SessionWriter`: the store as a :class:`~coach.session.live.SessionSink`.

    store = Store()                       # or Store(path)
    sink = SessionWriter(store)
    session = LiveSession(evaluator, SessionMeta(kind="practice", trainee="张三"), sink)

``start`` creates the session row and the WAV file, ``audio`` appends to the WAV (valid
after every block), ``utterance`` commits the utterance and its findings at once and
``finish`` stores the final result and the audio's SHA-256.  A crash at any point leaves
every utterance committed before it and a playable WAV; :meth:`Store.recover` finishes
such a session later.  A start that failed (no audio block and no utterance ever arrived:
the microphone could not be opened, the input file was unreadable) leaves no row: ``finish``
and ``close`` delete such an empty session and its WAV.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from coach.schema import Finding, Result, Utterance
from coach.store.db import Store
from coach.store.wavfile import GrowingWav


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class SessionWriter:
    """Writes one session (start → audio/utterances → finish) into a :class:`Store`.

    ``store`` may be a Store or a database path (then the writer opens and closes its own).
    ``keep_audio=False`` records no WAV.  ``fsync=True`` also forces the WAV to disk on each
    block (survives a power cut, costs a disk flush per block).
    """

    def __init__(self, store: Store | str | os.PathLike | None = None, *, audio_dir: str | os.PathLike | None = None,
                 keep_audio: bool = True, sample_rate: int = 16000, fsync: bool = False,
                 phrasebook: str | None = None):
        self._own = not isinstance(store, Store)
        self.store = store if isinstance(store, Store) else Store(store)
        self.audio_dir = Path(audio_dir) if audio_dir else self.store.audio_dir
        self.keep_audio = keep_audio
        self.sample_rate = sample_rate
        self.fsync = fsync
        self.phrasebook = phrasebook
        self.session_id: int | None = None
        self.wav: GrowingWav | None = None
        self.meta = None
        self._n = 0
        self._blocks = 0
        self._lock = threading.Lock()  # audio() may come from the audio thread, utterances from another

    @property
    def audio_path(self) -> Path | None:
        return self.wav.path if self.wav else None

    def start(self, meta) -> None:
        self.meta = meta
        self.session_id = self.store.create_session(
            kind=meta.kind, trainee=meta.trainee, scenario=meta.scenario, started_at=meta.started_at,
            engine=meta.engine, model=meta.model, phrasebook=self.phrasebook)
        if self.keep_audio:
            path = self.audio_dir / f"session-{self.session_id:06d}.wav"
            self.wav = GrowingWav(path, self.sample_rate, fsync=self.fsync)
            with self.store.transaction() as c:
                c.execute("UPDATE sessions SET audio_path = ? WHERE id = ?", (str(path), self.session_id))

    def audio(self, block: np.ndarray) -> None:
        with self._lock:
            self._blocks += 1
            if self.wav is not None and not self.wav.closed:
                self.wav.write(block)

    def utterance(self, u: Utterance, findings: list[Finding]) -> None:
        if self.session_id is None:
            raise RuntimeError("SessionWriter.utterance() before start()")
        with self._lock:
            self.store.add_utterance(self.session_id, self._n, u, findings)
            self._n += 1

    def finish(self, result: Result) -> None:
        if self.session_id is None:
            raise RuntimeError("SessionWriter.finish() before start()")
        if self._discard_if_empty():
            return
        digest = duration = None
        if self.wav is not None:
            with self._lock:
                self.wav.close()
            digest = file_sha256(self.wav.path)
            if self.wav.frames:
                duration = round(self.wav.duration_s, 3)  # the recording is the session's length
        self.store.finish_session(self.session_id, result, audio_sha256=digest, duration_s=duration)
        if self._own:
            self.store.close()

    def close(self) -> None:
        """Release the WAV and the database without finishing (the session stays unfinished)."""
        if self.wav is not None:
            with self._lock:
                self.wav.close()
        if not self._discard_if_empty() and self._own:
            self.store.close()

    @property
    def empty(self) -> bool:
        """Nothing was recorded: no audio block, no utterance."""
        return self._blocks == 0 and self._n == 0

    def _discard_if_empty(self) -> bool:
        """A failed start: remove the session row and its (empty) WAV; True if it was removed."""
        if self.session_id is None or not self.empty:
            return False
        if self.wav is not None:
            with self._lock:
                self.wav.close()
            try:
                Path(self.wav.path).unlink(missing_ok=True)
            except OSError:
                pass
        self.store.delete_session(self.session_id)
        self.session_id = None
        if self._own:
            self.store.close()
        return True
