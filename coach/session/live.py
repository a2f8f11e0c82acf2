"""A session that grows as speech arrives (practice and live self-check).

Utterances are judged as they come (phrases, referral, speed); the whole-visit rules
(greeting, farewell, holds) are applied when the session finishes.  A :class:`SessionSink`
(the store) receives audio, utterances and the final result as they happen, so a session
survives a crash up to its last utterance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from coach.rules.structure import WAITING_STAGES
from coach.schema import Finding, Result, Utterance
from coach.session.evaluate import Evaluator


@dataclass
class SessionMeta:
    kind: str                      # "practice" | "live" | "review"
    trainee: str = ""
    scenario: str | None = None
    engine: str | None = None
    model: str | None = None
    started_at: float = field(default_factory=time.time)
    clerk_channel: str | None = None   # the source is the clerk's channel of a stereo input


class SessionSink(Protocol):
    """Where a running session is kept (``coach.store`` implements it)."""

    def start(self, meta: SessionMeta) -> None: ...
    def audio(self, block: np.ndarray) -> None: ...          # 16 kHz float32 mono
    def utterance(self, u: Utterance, findings: list[Finding]) -> None: ...
    def finish(self, result: Result) -> None: ...


def judge(evaluator: Evaluator, u: Utterance) -> list[Finding]:
    """The findings of one final utterance on its own (phrases, referral, speed); pure, so a
    worker thread can judge while the UI thread keeps the session."""
    return evaluator.evaluate([u], session=False).findings


class LiveSession:
    """``attributor``: who said each utterance on one microphone (default: by the trainee's enrolled
    voice, else clustering of the session so far — not in practice, where the trainee speaks
    alone); None = no attribution (``unknown``, judged as the clerk).  With ``meta.clerk_channel``
    the audio is the clerk's own channel: all ``clerk``."""

    def __init__(self, evaluator: Evaluator, meta: SessionMeta, sink: SessionSink | None = None, *,
                 attributor="auto"):
        self.evaluator = evaluator
        self.meta = meta
        self.sink = sink
        self.utterances: list[Utterance] = []
        self.findings: list[Finding] = []
        if attributor == "auto":
            attributor = None
            if not meta.clerk_channel:
                from coach.speaker.apply import LiveAttributor
                from coach.speaker.profile import load_profile
                profile = load_profile(meta.trainee)
                # practice: the trainee speaks alone (the citizen's lines are on the screen), so
                # without a profile there is nobody to tell apart
                if profile is not None or meta.kind != "practice":
                    attributor = LiveAttributor(evaluator, profile)
        self.attributor = attributor
        if sink:
            sink.start(meta)

    def audio(self, block: np.ndarray) -> None:
        if self.attributor is not None:
            self.attributor.audio(block)
        if self.sink:
            self.sink.audio(block)

    def attribute(self, u: Utterance) -> Utterance:
        """``u`` with its speaker decided (only ``unknown`` utterances change)."""
        if u.speaker != "unknown":
            return u
        if self.meta.clerk_channel:
            return replace(u, speaker="clerk")
        return self.attributor.attribute(u) if self.attributor is not None else u

    def speaker_so_far(self, u: Utterance) -> str:
        """Who is saying the utterance still in progress (``u``: a partial hypothesis, ``start``–
        ``end`` so far): what :meth:`attribute` would decide now, nothing kept — ``unknown``
        where it would not decide (judged as the clerk)."""
        if u.speaker != "unknown":
            return u.speaker
        if self.meta.clerk_channel:
            return "clerk"
        a = self.attributor.peek(u) if self.attributor is not None else None
        return a.speaker if a is not None else "unknown"

    def add(self, u: Utterance, found: list[Finding] | None = None) -> list[Finding]:
        """Add one final utterance; returns its findings (courtesies, brush-offs, referral,
        speed).  ``found``: the utterance was already attributed and judged in a worker
        (:meth:`attribute`, :func:`judge`); else both happen here."""
        if found is None:
            u = self.attribute(u)
        index = len(self.utterances)
        self.utterances.append(u)
        judged = judge(self.evaluator, u) if found is None else found
        found = []
        for f in judged:
            f.utterance = index
            found.append(f)
        self.findings.extend(found)
        if self.sink:
            self.sink.utterance(u, found)
        return found

    def hold_alert(self, now: float, voice_at: float | None = None) -> float | None:
        """Seconds of an ongoing silence that has outlasted ``hold_s`` without 请稍等, else None.

        The silence runs from the end of the last utterance, or from the last moment the audio
        had someone speaking (``voice_at``, from the input level) if that is later: no alert
        while anybody talks, even before the recogniser has turned it into an utterance."""
        timed = [u for u in self.utterances if u.end is not None]
        if not timed:
            return None
        last_end = max(u.end for u in timed)
        silent = now - max(last_end, voice_at if voice_at is not None else last_end)
        if silent <= self.evaluator.phrasebook.thresholds.hold_s:
            return None
        lookback = self.evaluator.phrasebook.thresholds.announce_lookback_s
        announced = any(
            f.type == "courtesy" and f.utterance is not None
            and self.evaluator.phrasebook.courtesy(f.rule) is not None
            and self.evaluator.phrasebook.courtesy(f.rule).stage in WAITING_STAGES
            and (self.utterances[f.utterance].end or 0) >= last_end - lookback
            for f in self.findings)
        return None if announced else silent

    def finish(self, *, file: str | None = None, duration_s: float | None = None) -> Result:
        result = self.evaluator.evaluate(self.utterances, session=True, file=file,
                                         engine=self.meta.engine, duration_s=duration_s)
        if self.sink:
            self.sink.finish(result)
        return result
