"""Speech recognition: engines (Whisper default, Vosk for live), models, and file transcription.

Import from here: ``open_engine``, ``transcribe_file``, ``Partial``, ``Final``, ``Engine``.
Heavy libraries (faster-whisper, vosk) are imported only when an engine is created.
"""

from coach.asr.base import Engine, Event, Final, Partial
from coach.asr.factory import open_engine, transcribe_file

__all__ = ["Engine", "Event", "Final", "Partial", "open_engine", "transcribe_file"]
