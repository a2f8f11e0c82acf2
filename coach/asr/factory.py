"""Open the speech engine the user asked for (one place for the CLI, the app and batch work)."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from coach.asr.base import Engine
from coach.asr.models import resolve


def open_engine(engine: str = "auto", *, live: bool = False, model: str | None = None,
                hotwords: Sequence[str] = ()) -> Engine:
    """``engine``: auto | whisper | vosk.  ``auto`` prefers an installed Mandarin Vosk model for
    live mode and Whisper otherwise.  Models are loaded once per process."""
    r = resolve(engine, live=live, model=model)
    return _cached(r.engine, str(r.path), r.model, tuple(hotwords))


@lru_cache(maxsize=4)
def _cached(engine: str, path: str, model: str, hotwords: tuple[str, ...]) -> Engine:
    if engine == "whisper":
        from coach.asr.whisper import WhisperEngine

        return WhisperEngine(path, hotwords=hotwords, model=model)
    from coach.asr.vosk import VoskEngine

    return VoskEngine(path, hotwords=hotwords, model=model)
