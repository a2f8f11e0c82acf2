"""Audio file -> ASR -> matcher -> rules -> :class:`~coach.schema.Result` (``coach analyze``).

Mono recordings are transcribed once with speaker ``unknown`` (judged as the clerk).  Stereo
counter recordings keep clerk and citizen on separate channels: each channel is transcribed on
its own (streamed, so a long file never sits in memory) and the two timelines are merged.
"""

from __future__ import annotations

from pathlib import Path

from coach.asr.base import Engine
from coach.asr.factory import open_engine
from coach.audio.decode import decode, probe
from coach.schema import Result, Utterance
from coach.session.evaluate import Evaluator

CHANNELS = ("left", "right")


def hotwords(evaluator: Evaluator) -> list[str]:
    """The courtesies to bias recognition toward (canonical wordings, no placeholders)."""
    return [c.phrase for c in evaluator.phrasebook.courtesies if "X" not in c.phrase]


def transcribe_file(path: str | Path, engine: Engine, *, clerk_channel: str | None = None) -> list[Utterance]:
    if clerk_channel is None:
        return list(engine.transcribe(decode(path, channels="mix"), speaker="unknown"))
    if clerk_channel not in CHANNELS:
        raise ValueError(f"clerk_channel must be one of {CHANNELS}")
    citizen_channel = "right" if clerk_channel == "left" else "left"
    clerk = list(engine.transcribe(decode(path, channels=clerk_channel), speaker="clerk"))
    citizen = list(engine.transcribe(decode(path, channels=citizen_channel), speaker="citizen"))
    return sorted(clerk + citizen, key=lambda u: (u.start or 0.0, u.speaker != "clerk"))


def analyze_file(path: str | Path, *, engine: str | Engine = "auto", clerk_channel: str | None = None,
                 evaluator: Evaluator | None = None) -> Result:
    """Analyse one recording; times in seconds from the start of the file."""
    evaluator = evaluator or Evaluator.default()
    info = probe(path)
    if clerk_channel is not None and info.channels < 2:
        clerk_channel = None  # a mono file has no channels to split (decode warns)
    eng = engine if isinstance(engine, Engine) else open_engine(engine, hotwords=hotwords(evaluator))
    utterances = transcribe_file(path, eng, clerk_channel=clerk_channel)
    return evaluator.evaluate(utterances, session=True, file=str(path), engine=f"{eng.name}:{eng.model}",
                              duration_s=round(info.duration, 3) if info.duration else None)
