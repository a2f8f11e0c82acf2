"""Where the app gets its audio source and speech engine (coach.audio / coach.asr)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from coach.session.evaluate import Evaluator
from coach.tui.settings import Settings


MIC_QUEUE_S = 120.0   # audio the microphone may buffer while the recogniser catches up


def open_source(input_file: str | None, device: Any = None, clerk_channel: str = "") -> Any:
    """A file played at real-time pace, or the microphone; only the clerk's channel of a stereo
    input when ``clerk_channel`` is left/right.  The microphone's queue holds ``MIC_QUEUE_S``:
    when recognition falls behind, partial work is dropped (the listener's tap), not audio."""
    from coach.audio.sources import FileSource, MicSource
    if input_file:
        return FileSource(input_file, realtime=True, channel=clerk_channel or "mix")
    return MicSource(device=device, channel=clerk_channel or "mix", max_queue_seconds=MIC_QUEUE_S)


def open_engine(settings: Settings, *, live: bool = True, hotwords: Sequence[str] = ()) -> Any:
    """The engine chosen in the settings (auto: Vosk for live when installed, else Whisper),
    biased toward ``hotwords`` (the phrasebook's courtesies)."""
    from coach.asr.factory import open_engine as _open
    return _open(settings.engine, live=live, model=settings.model or None, hotwords=tuple(hotwords))


def quick_hotwords(phrasebook: str | None) -> tuple[str, ...]:
    """``coach.session.pipeline.hotwords`` read straight from courtesies.toml (no full load),
    so the engine can load while the phrasebook is still being compiled."""
    import sys
    from pathlib import Path

    from coach.phrasebook import default_dir
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        root = Path(phrasebook) if phrasebook else default_dir()
        data = tomllib.loads((root / "courtesies.toml").read_text(encoding="utf-8"))
        return tuple(c["phrase"] for c in data.get("courtesy", [])
                     if isinstance(c, dict) and isinstance(c.get("phrase"), str) and "X" not in c["phrase"])
    except (OSError, ValueError):
        return ()


def analyze_file(path: str, engine_factory: Callable[[bool], Any], evaluator: Evaluator, *,
                 progress: Callable[..., Any] | None = None,
                 cancelled: Callable[[], bool] = lambda: False,
                 on_utterance: Callable[[Any, list], Any] | None = None, settings: Settings | None = None):
    """The review screen's worker: :func:`coach.session.pipeline.analyze_file` with the app's
    engine, clerk channel (stereo files only) and trainee profile, reporting progress in Chinese
    and each utterance with its phrase findings (``on_utterance(u, findings)``) so the timeline
    fills while the analysis runs; None when ``cancelled()`` turned true."""
    from coach.audio.decode import probe
    from coach.session.live import judge
    from coach.session.pipeline import analyze_file as analyze
    from coach.speaker.profile import load_profile

    info = probe(path)
    channel = (settings.clerk_channel or None) if settings and info.channels >= 2 else None
    if progress:
        progress("正在加载语音模型…")
    engine = engine_factory(False)
    if progress:
        progress("正在转写和分析录音…", 0.0)
    heard = 0

    def utterance(u) -> None:
        nonlocal heard
        heard += 1
        if on_utterance is not None:
            on_utterance(u, judge(evaluator, u))
        if progress and info.duration and u.end is not None and channel is None:
            progress(f"正在转写和分析录音… 已听到 {heard} 句", min(1.0, u.end / info.duration))

    return analyze(path, engine=engine, clerk_channel=channel, evaluator=evaluator,
                   profile=load_profile(settings.trainee if settings else None),
                   on_utterance=utterance, cancelled=cancelled)
