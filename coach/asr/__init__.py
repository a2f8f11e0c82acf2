"""Speech recognition: engines (Whisper default, Vosk for live), models, and file transcription.

Import from here: ``open_engine``, ``transcribe_file``, ``Partial``, ``Final``, ``Engine``.
Heavy libraries (faster-whisper, vosk) are imported only when an engine is created.
"""

import os

# CTranslate2's OpenMP (libgomp) busy-waits between parallel regions by default.  When the
# Whisper model is loaded in one thread and decodes in another (the app's workers, batch
# workers), the spinning teams starve the decoder (measured 5–50× slower on 2 cores).
# Passive waiting costs nothing measurable.  Must be set before ctranslate2 is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Flat memory over long recordings (oneDNN primitive cache, allocator settings): see native.py.
from coach.asr.native import bound_native_memory  # noqa: E402

bound_native_memory()

from coach.asr.base import Engine, Event, Final, Partial  # noqa: E402
from coach.asr.factory import open_engine, transcribe_file  # noqa: E402

__all__ = ["Engine", "Event", "Final", "Partial", "open_engine", "transcribe_file"]
