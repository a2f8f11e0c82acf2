"""The data that flows through the pipeline, and its JSON form (the machine schema).

audio -> ASR yields :class:`Utterance`; matcher and rules yield :class:`Finding`;
a session bundles both into a :class:`Result`, which ``coach check --json`` and
``coach analyze --json`` print.  Keep the JSON keys stable: reports, the store and
other tools read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# clerk / citizen: attributed (stereo channel, or voice on one microphone); uncertain: attribution
# ran but could not decide (shown, never scored); unknown: no attribution ran (judged as the clerk);
# background: speech far under the foreground that the segmenter set apart (a neighbouring
# window, the hall; coach.asr.vad): transcribed and shown, never judged nor attributed.
Speaker = Literal["clerk", "citizen", "uncertain", "unknown", "background"]
FindingType = Literal["courtesy", "brush_off", "structure"]
Severity = Literal["info", "warning", "violation"]

SPEAKERS: tuple[str, ...] = ("clerk", "citizen", "uncertain", "unknown", "background")
# whose words are never the clerk's (shown dim, not highlighted, not judged as the clerk)
NOT_CLERK: tuple[str, ...] = ("citizen", "background")
# how each speaker is shown (reports, screens, `coach transcribe`)
SPEAKER_LABEL: dict[str, str] = {"clerk": "窗口", "citizen": "客户", "uncertain": "可能是窗口", "unknown": "窗口?",
                                 "background": "背景"}
SEVERITIES: tuple[str, ...] = ("info", "warning", "violation")


@dataclass(frozen=True)
class Word:
    """A word (or token) with times in seconds, where the engine gives them."""

    start: float
    end: float
    text: str


@dataclass
class Utterance:
    start: float | None
    end: float | None
    speaker: Speaker
    text: str
    words: list[Word] | None = None
    # Attribution score on one microphone (> 0 clerk, < 0 citizen; None: not attributed by voice).
    speaker_score: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "speaker": self.speaker, "text": self.text,
                "speaker_score": self.speaker_score}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Utterance":
        return cls(start=d.get("start"), end=d.get("end"), speaker=d.get("speaker", "unknown"), text=d["text"],
                   speaker_score=d.get("speaker_score"))


@dataclass
class Finding:
    type: FindingType
    rule: str
    phrase: str | None
    heard: str | None
    start: float | None
    end: float | None
    speaker: str
    severity: Severity
    suggestion: str | None = None
    # Index of the utterance the finding belongs to (not part of the stable schema).
    utterance: int | None = None
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("utterance")
        d.pop("score")
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Finding":
        keys = ("type", "rule", "phrase", "heard", "start", "end", "speaker", "severity", "suggestion")
        return cls(**{k: d.get(k) for k in keys})


OUTCOMES: tuple[str, ...] = ("scored", "no_speech")
NO_SPEECH_LABEL = "未检测到讲话"


@dataclass
class Result:
    """``outcome`` is ``"scored"``, or ``"no_speech"`` when the clerk said nothing that was
    heard: then ``score`` is None (no verdict) — never a number.  ``truncated``: the audio
    ended before its header said (the result covers what could be decoded)."""

    utterances: list[Utterance]
    findings: list[Finding]
    score: float | None
    breakdown: dict[str, Any]
    file: str | None = None
    duration_s: float | None = None
    engine: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    outcome: str = "scored"
    truncated: bool = False

    @property
    def no_speech(self) -> bool:
        return self.outcome == "no_speech"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "duration_s": self.duration_s,
            "truncated": self.truncated,
            "engine": self.engine,
            "utterances": [u.to_json() for u in self.utterances],
            "findings": [f.to_json() for f in self.findings],
            "outcome": self.outcome,
            "score": None if self.no_speech else self.score,
            "breakdown": self.breakdown,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Result":
        return cls(
            utterances=[Utterance.from_json(u) for u in d["utterances"]],
            findings=[Finding.from_json(f) for f in d["findings"]],
            score=d["score"],
            breakdown=d.get("breakdown", {}),
            file=d.get("file"),
            duration_s=d.get("duration_s"),
            engine=d.get("engine"),
            outcome=d.get("outcome") or "scored",
            truncated=bool(d.get("truncated", False)),
        )
