"""Audio file -> ASR -> matcher -> rules -> :class:`~coach.schema.Result` (``coach analyze``).

Mono recordings are transcribed once, then each utterance is attributed by voice
(:mod:`coach.speaker`: clerk / citizen / uncertain, against the trainee's enrolled profile, else
by clustering the recording in two); ``attribute=False`` keeps ``unknown`` (judged as the clerk).  Stereo
counter recordings keep clerk and citizen on separate channels; :func:`coach.asr.transcribe_file`
transcribes each channel on its own (streamed) and merges the two timelines.
"""

from __future__ import annotations

from pathlib import Path

from coach.asr import Engine, open_engine, transcribe_file
from coach.audio.decode import probe
from coach.schema import Result
from coach.session.evaluate import Evaluator


def hotwords(evaluator: Evaluator) -> list[str]:
    """The courtesies to bias recognition toward (canonical wordings, no placeholders)."""
    return [c.phrase for c in evaluator.phrasebook.courtesies if "X" not in c.phrase]


def analyze_file(path: str | Path, *, engine: str | Engine = "auto", clerk_channel: str | None = None,
                 evaluator: Evaluator | None = None, profile=None, attribute: bool = True) -> Result:
    """Analyse one recording; times in seconds from the start of the file."""
    evaluator = evaluator or Evaluator.default()
    info = probe(path)
    if clerk_channel is not None and info.channels < 2:
        clerk_channel = None  # a mono file has no channels to split
    words = hotwords(evaluator)
    eng = open_engine(engine, hotwords=words)
    utterances = transcribe_file(path, engine=eng, clerk_channel=clerk_channel, hotwords=words)
    if attribute and clerk_channel is None:
        from coach.speaker.apply import attribute_file
        utterances = attribute_file(path, utterances, evaluator, profile)
    return evaluator.evaluate(utterances, session=True, file=str(path), engine=f"{eng.name}:{eng.model}",
                              duration_s=round(info.duration, 3) if info.duration else None)
