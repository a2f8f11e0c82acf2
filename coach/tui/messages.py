"""Messages that the listening and analysis workers post to the screens (thread-safe).

A worker never touches a widget: it posts one of these and the screen's handler updates
the display on the UI thread.  Floods coalesce: a queued :class:`PartialText` or
:class:`AudioLevel` is dropped when a newer one of the same kind is right behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from coach.schema import Finding, Result, Utterance


@dataclass
class AudioLevel(Message):
    """Input level of the latest block, and how far the audio has got (session clock).

    ``voice_at``: session time of the last block loud enough to be someone speaking (level
    above the adaptive noise floor), None before any; ``behind``: seconds the recogniser is
    behind the audio clock (0 for a file read faster than real time)."""

    dbfs: float
    at: float
    voice_at: float | None = None
    behind: float = 0.0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AudioLevel)


@dataclass
class PartialText(Message):
    """The words heard so far in the utterance being spoken (replaced as it grows), with the
    phrases already complete in it (provisional findings, matched in the worker thread)."""

    text: str
    start: float | None = None
    findings: list[Finding] = field(default_factory=list)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PartialText)


@dataclass
class FinalUtterance(Message):
    """A finished utterance and its phrase findings (judged in the worker thread)."""

    utterance: Utterance
    findings: list[Finding] | None = None


@dataclass
class Preparing(Message):
    """The worker is loading something before audio flows (model, phrasebook)."""

    text: str


@dataclass
class EngineReady(Message):
    """The model is loaded and audio is flowing."""

    engine: str
    model: str = ""


@dataclass
class ListenError(Message):
    """A problem the user can fix (no microphone, no model, no PortAudio …)."""

    message: str
    hint: str | None = None


@dataclass
class ListenDone(Message):
    """The source ended (end of file) or was stopped."""

    at: float = 0.0
    stopped: bool = False


@dataclass
class AnalysisProgress(Message):
    text: str
    fraction: float | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AnalysisProgress)


@dataclass
class AnalysisUtterance(Message):
    """One utterance of a recording being analysed, with its phrase findings (the timeline
    fills as the analysis runs; the whole-visit rules come with :class:`AnalysisDone`)."""

    utterance: Utterance
    findings: list[Finding] = field(default_factory=list)


@dataclass
class PlaybackState(Message):
    """Playback started (``span`` = (start, end) seconds) or ended (None)."""

    span: tuple[float, float] | None = None
    error: str | None = None


@dataclass
class AnalysisDone(Message):
    result: Result
    audio: str | None = None
    extra: dict = field(default_factory=dict)


__all__ = ["AnalysisDone", "AnalysisProgress", "AnalysisUtterance", "PlaybackState", "AudioLevel", "EngineReady", "FinalUtterance",
           "ListenDone", "ListenError", "PartialText", "Preparing"]
