"""What every speech engine offers: finals for a file, partials + finals for live audio.

Times are seconds from the start of the audio (plus ``offset``).  ``hotwords`` is a list of
phrases that matter (the phrasebook's canonical courtesies); each engine uses it as far as it
can (Whisper: verifies them on the audio, coach.asr.verify; Vosk: ignored unless a grammar is
requested).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence, Union

import numpy as np

from coach.schema import Speaker, Utterance


@dataclass(frozen=True)
class Partial:
    """Text so far of the utterance in progress (will change; not for scoring)."""

    text: str
    start: float
    speaker: Speaker = "unknown"
    end: float | None = None    # audio time the hypothesis reaches (who is speaking: the span start–end)


@dataclass(frozen=True)
class Final:
    """A finished utterance."""

    utterance: Utterance


Event = Union[Partial, Final]


class Engine(ABC):
    name: str = "?"

    def __init__(self, *, model: str = "?", hotwords: Sequence[str] | None = None):
        self.model = model
        self.hotwords = list(hotwords or [])

    @abstractmethod
    def transcribe(
        self, chunks: Iterable[np.ndarray], *, speaker: Speaker = "unknown", offset: float = 0.0
    ) -> Iterator[Utterance]:
        """Final utterances of 16 kHz float32 mono ``chunks`` (e.g. from ``coach.audio.decode``)."""

    @abstractmethod
    def stream(self, source: Iterable[np.ndarray], *, speaker: Speaker = "unknown") -> Iterator[Event]:
        """Partials and finals while ``source`` (an :class:`~coach.audio.sources.AudioSource`) plays."""

    def close(self) -> None:
        """Let go of process-wide caches of what the engine holds, so that it is freed with the
        engine (:func:`coach.asr.factory.release_engine`); the engine itself keeps working."""
