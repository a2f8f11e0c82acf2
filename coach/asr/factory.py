"""The two calls the rest of coach needs: pick an engine, transcribe a file.

``transcribe_file(path, clerk_channel="left")`` transcribes a two-channel counter recording
channel by channel (clerk / citizen) and merges the utterances by time.  Cross-talk guard:
an utterance whose own channel is quieter than the other channel over the same span (by
``bleed_db``) is the other party leaking into this microphone and is dropped.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from coach.asr.base import Engine
from coach.audio.decode import SAMPLE_RATE, decode
from coach.errors import InputError
from coach.schema import Utterance

_ENGINES: dict[tuple, Engine] = {}
_FRAME = SAMPLE_RATE // 10  # 100 ms energy frames for the cross-talk guard


def open_engine(
    engine: str | Engine = "auto",
    *,
    live: bool = False,
    model: str | None = None,
    hotwords: Sequence[str] | None = None,
    **settings,
) -> Engine:
    """An engine ready to use: ``"auto"`` | ``"whisper"`` | ``"vosk"`` (or an engine object — an
    Engine, or anything with its ``transcribe``/``stream``, such as the app's test engines — returned as is).

    ``auto`` picks an installed Mandarin Vosk model for live mode and Whisper otherwise
    (:func:`coach.asr.models.resolve`).  ``settings`` go to :class:`WhisperSettings`
    (e.g. ``beam_size=2``) or to :class:`VoskEngine` (``grammar=[...]``).  Engines are cached
    per process and arguments.  A Mandarin model without a pinned hash is checked on a known
    clip at its first use (:mod:`coach.asr.selfcheck`).
    """
    if not isinstance(engine, str):
        return engine
    from coach.asr.models import resolve

    r = resolve(engine, live=live, model=model)
    key = (r.engine, r.model, str(r.path), tuple(hotwords or ()), tuple(sorted(settings.items())))
    if key in _ENGINES:
        return _ENGINES[key]
    if r.engine == "whisper":
        from dataclasses import replace

        from coach.asr.whisper import WhisperEngine, WhisperSettings

        eng: Engine = WhisperEngine(r.path, model=r.model, hotwords=hotwords,
                                    settings=replace(WhisperSettings(), **settings))
    else:
        from coach.asr.vosk import VoskEngine

        eng = VoskEngine(r.path, model=r.model, hotwords=hotwords, **settings)
    from coach.asr.selfcheck import check

    check(eng, r.model, r.path)  # a model without a known-good hash must still hear Mandarin (once)
    _ENGINES[key] = eng
    return eng


def release_engine(engine: Engine) -> None:
    """Forget a cached engine and its model (the next :func:`open_engine` loads them again): they
    are freed once the caller drops its last reference — a thread still using the engine keeps it.

    For a process about to do other memory-hungry work with no recognition for a while, e.g. the
    speaker attribution after a long recording (:func:`coach.session.pipeline.analyze_file`)."""
    for key in [k for k, e in _ENGINES.items() if e is engine]:
        del _ENGINES[key]
    engine.close()


def transcribe_file(
    path: str | os.PathLike,
    *,
    engine: str | Engine = "auto",
    clerk_channel: str | None = None,
    hotwords: Sequence[str] | None = None,
    on_utterance: Callable[[Utterance], None] | None = None,
    bleed_db: float = 6.0,
    stats=None,
) -> list[Utterance]:
    """Final utterances of an audio file, in time order.

    ``clerk_channel`` ``"left"``/``"right"``: stereo file with the clerk on that channel and the
    citizen on the other → speakers ``clerk``/``citizen``; None → the channels are mixed and
    speakers are ``unknown``.  ``on_utterance`` is called as each utterance is ready (per
    channel, so not in global time order for stereo).  ``stats``: a
    :class:`coach.audio.decode.DecodeStats` the decoder fills in (samples decoded, truncation).
    """
    eng = open_engine(engine, hotwords=hotwords)
    if clerk_channel in (None, "", "mix", "none"):
        out = []
        for u in eng.transcribe(decode(path, channels="mix", stats=stats)):
            out.append(u)
            if on_utterance:
                on_utterance(u)
        return out
    if clerk_channel not in ("left", "right"):
        raise InputError(f"--clerk-channel 只能是 left 或 right，不是 {clerk_channel!r}")
    from coach.audio.decode import require_channels

    require_channels(path, clerk_channel)
    citizen_channel = "right" if clerk_channel == "left" else "left"
    env = _envelopes(path)
    out = []
    for channel, speaker in ((clerk_channel, "clerk"), (citizen_channel, "citizen")):
        own = 0 if channel == "left" else 1
        for u in eng.transcribe(decode(path, channels=channel, stats=stats), speaker=speaker):
            if _is_bleed(env, own, u, bleed_db):
                continue
            out.append(u)
            if on_utterance:
                on_utterance(u)
    out.sort(key=lambda u: (u.start if u.start is not None else 0.0, u.speaker != "clerk"))
    return out


def _envelopes(path) -> np.ndarray:
    """Per-100 ms mean energy of (left, right), shape (n, 2); ~0.6 MB per hour of audio."""
    rows = []
    rest_l = rest_r = np.zeros(0, np.float32)
    for left, right in decode(path, channels="both", chunk_seconds=10.0):
        left, right = np.concatenate([rest_l, left]), np.concatenate([rest_r, right])
        n = len(left) // _FRAME
        if n:
            el = np.mean(np.square(left[: n * _FRAME].reshape(n, _FRAME), dtype=np.float64), axis=1)
            er = np.mean(np.square(right[: n * _FRAME].reshape(n, _FRAME), dtype=np.float64), axis=1)
            rows.append(np.stack([el, er], axis=1))
        rest_l, rest_r = left[n * _FRAME:], right[n * _FRAME:]
    return np.concatenate(rows) if rows else np.zeros((0, 2))


def _is_bleed(env: np.ndarray, own: int, u: Utterance, bleed_db: float) -> bool:
    """True when column ``own`` is > ``bleed_db`` quieter than the other one over ``u``."""
    if u.start is None or u.end is None or not len(env):
        return False
    a = int(u.start * 10)
    span = env[a: max(a + 1, int(np.ceil(u.end * 10)))]
    return bool(len(span)) and _db(span, own) < _db(span, 1 - own) - bleed_db


def _db(span: np.ndarray, col: int) -> float:
    return 10.0 * float(np.log10(span[:, col].mean() + 1e-12))
