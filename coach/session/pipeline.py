"""Audio file -> ASR -> matcher -> rules -> :class:`~coach.schema.Result` (``coach analyze``).

Mono recordings are transcribed once, then each utterance is attributed by voice
(:mod:`coach.speaker`: clerk / citizen / uncertain, against the trainee's enrolled profile, else
by clustering the recording in two); ``attribute=False`` keeps ``unknown`` (judged as the clerk).  Stereo
counter recordings keep clerk and citizen on separate channels; :func:`coach.asr.transcribe_file`
transcribes each channel on its own (streamed) and merges the two timelines.  A clerk channel
asked of a mono file is refused (:func:`coach.audio.decode.require_channels`), as every command does.

The stored duration is what was decoded (samples counted as they stream by), not what the
header claims; a file that ends early is marked ``truncated`` (and not charged for a missing
farewell: the end of the visit is not in the file).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable

from coach.asr import Engine, open_engine, transcribe_file
from coach.asr.factory import release_engine
from coach.asr.native import trim_native_heap
from coach.audio.decode import DecodeStats, probe, require_channels
from coach.schema import Result, Utterance
from coach.session.evaluate import Evaluator


def hotwords(evaluator: Evaluator) -> list[str]:
    """The courtesies the recogniser verifies on the audio (canonical wordings, no placeholders)."""
    return [c.phrase for c in evaluator.phrasebook.courtesies if "X" not in c.phrase]


def brush_off_wordings(evaluator: Evaluator) -> tuple[str, ...]:
    """The brush-offs' wordings (phrase and variants, ≥ 3 characters, no placeholders) that the
    recogniser verifies by sound (``WhisperEngine.partial_targets``): live partials (a greedy
    partial mishears 急什么 as 吉沈梦) and finals (in babble 不归我管 is heard as 不给我管)."""
    out: dict[str, None] = {}
    for e in evaluator.phrasebook.brush_offs:
        for w in (e.phrase, *e.variants):
            if len(w) >= 3 and all("\u4e00" <= c <= "\u9fff" for c in w):
                out[w] = None
    return tuple(out)


def honorific_wordings(evaluator: Evaluator) -> tuple[str, ...]:
    """The courtesies' wordings with 您 (phrase and variants, no placeholders): where the
    recogniser's encoder probe reads 您 against 你 (``WhisperEngine.honorific_phrases``: 你好 for
    您好, 你慢走 for the variant 您慢走)."""
    out: dict[str, None] = {}
    for c in evaluator.phrasebook.courtesies:
        for w in (c.phrase, *c.variants):
            if "您" in w and "X" not in w:
                out[w] = None
    return tuple(out)


def set_targets(engine: Engine, evaluator: Evaluator) -> None:
    """Hand an engine the phrasebook's wordings it verifies beyond its hotwords (an engine without
    such verification, Vosk, has no such attributes and is left alone)."""
    if hasattr(engine, "partial_targets"):
        engine.partial_targets = brush_off_wordings(evaluator)
    if hasattr(engine, "honorific_phrases"):
        engine.honorific_phrases = honorific_wordings(evaluator)


# A recording at least this long frees the recogniser it opened before the speaker attribution, so
# that the attribution's memory does not land on top of the recogniser's (bench_memory.py: 8 h,
# peak 534 MB with both, the recognition alone stays at 467 MB).  Loading the model again for a
# next file costs about a second, under 0.1 % of analysing such a recording.
RELEASE_ENGINE_AFTER_S = 30 * 60


class Cancelled(Exception):
    """Raised inside :func:`analyze_file` when its ``cancelled()`` turns true."""


def analyze_file(path: str | Path, *, engine: str | Engine = "auto", clerk_channel: str | None = None,
                 evaluator: Evaluator | None = None, profile=None, attribute: bool = True,
                 on_progress: Callable[[DecodeStats, float | None], None] | None = None,
                 on_utterance: Callable[[Utterance], None] | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> Result | None:
    """Analyse one recording; times in seconds from the start of the file.

    A mono recording is attributed by voice (``profile``: the clerk's enrolled voice, else
    two-speaker clustering) unless ``attribute`` is false.  ``on_progress(stats,
    declared_seconds)`` is called after every decoded chunk, ``on_utterance(u)`` as each
    utterance is transcribed (before attribution; per channel for stereo).  When ``cancelled()``
    turns true the analysis stops at the next utterance and None is returned."""
    evaluator = evaluator or Evaluator.default()
    info = probe(path)
    require_channels(path, clerk_channel, info)
    words = hotwords(evaluator)
    eng = open_engine(engine, hotwords=words)
    set_targets(eng, evaluator)
    stats = DecodeStats()
    if on_progress is not None:
        stats.on_chunk = lambda st: on_progress(st, info.duration)

    def heard(u: Utterance) -> None:
        if cancelled():
            raise Cancelled
        if on_utterance is not None:
            on_utterance(u)

    try:
        utterances = transcribe_file(path, engine=eng, clerk_channel=clerk_channel, hotwords=words,
                                     stats=stats, on_utterance=heard)
    except Cancelled:
        return None
    if cancelled():
        return None
    engine_name = f"{eng.name}:{eng.model}"
    if isinstance(engine, str) and stats.seconds >= RELEASE_ENGINE_AFTER_S:
        release_engine(eng)   # opened here by name; freed now unless another thread uses it
        del eng
        gc.collect()
        trim_native_heap()
    if attribute and clerk_channel is None:
        from coach.speaker.apply import attribute_file
        utterances = attribute_file(path, utterances, evaluator, profile)
    duration = round(stats.seconds, 3) if stats.samples else info.duration
    return evaluator.evaluate(utterances, session=True, file=str(path), engine=engine_name,
                              duration_s=duration, truncated=stats.truncated or info.truncated)
