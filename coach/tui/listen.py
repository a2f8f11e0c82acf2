"""Audio source → speech engine, run inside a worker thread; results go out as messages.

The screens start a :class:`Listener` from a ``@work(thread=True)`` worker and give it the
screen's ``post_message`` (thread-safe).  The listener never touches a widget.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable, Iterator

import numpy as np

from coach.errors import CoachError
from coach.matcher.fallback import RULE as FALLBACK_RULE
from coach.schema import Finding, Utterance
from coach.session.live import judge
from coach.tui.messages import (AudioLevel, EngineReady, FinalUtterance, ListenDone, ListenError,
                                PartialText, Preparing)

SAMPLE_RATE = 16000
LEVEL_INTERVAL_S = 0.1   # the meter's refresh (level messages also coalesce in the queue)
BEHIND_S = 1.0           # the recogniser is this far behind the audio clock: skip partial decodes
Post = Callable[[Any], Any]


def dbfs(block: np.ndarray) -> float:
    if block.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))
    return 20 * math.log10(rms) if rms > 1e-6 else -120.0


class VoiceActivity:
    """Is someone speaking?  A block is voice when its level is ``margin_db`` above the noise
    floor, which falls at once to a quieter block and rises slowly (``rise_db`` per block), so
    a steady noise becomes the floor and speech over it does not."""

    def __init__(self, *, margin_db: float = 12.0, min_db: float = -55.0, rise_db: float = 0.05):
        self.margin_db, self.min_db, self.rise_db = margin_db, min_db, rise_db
        self.floor: float | None = None

    def update(self, db: float) -> bool:
        if self.floor is None or db < self.floor:
            self.floor = db
        else:
            self.floor += min(db - self.floor, self.rise_db)
        return db > max(self.floor + self.margin_db, self.min_db)


class Tap:
    """Wraps an audio source: measures each block, hands it to the session's sink, can pause.

    Paused, a file stops advancing (so it resumes where it was); a microphone keeps being read
    and the engine gets silence instead (nothing said while paused is transcribed).
    """

    def __init__(self, source, *, on_block: Callable[[np.ndarray], None] | None = None,
                 post: Post | None = None, is_file: bool = False):
        self.source = source
        self.on_block = on_block
        self.post = post
        self.is_file = is_file
        self.samples = 0
        self.voice = VoiceActivity()
        self.voice_at: float | None = None   # session time of the last block with voice
        self.lag = 0.0                        # seconds the consumer (the engine) is behind real time
        self.stopped = threading.Event()
        self.resumed = threading.Event()
        self.resumed.set()
        self._last_post = 0.0
        self._lock = threading.Lock()   # no block reaches the sink after stop() returns

    def __getattr__(self, name):  # sample_rate, stop() … of the wrapped source
        return getattr(self.source, name)

    @property
    def at(self) -> float:
        return self.samples / SAMPLE_RATE

    @property
    def paused(self) -> bool:
        return not self.resumed.is_set()

    @property
    def behind(self) -> bool:
        """The engine should drop partial work to catch up (never audio)."""
        return self.lag >= BEHIND_S

    def pause(self) -> None:
        self.resumed.clear()

    def resume(self) -> None:
        self.resumed.set()

    def stop(self) -> None:
        self.stopped.set()
        self.resumed.set()
        stop = getattr(self.source, "stop", None)
        if stop:
            stop()
        with self._lock:
            pass

    def __iter__(self) -> Iterator[np.ndarray]:
        t0 = time.monotonic()
        paused_total = 0.0
        realtime = self.is_file and getattr(self.source, "realtime", False)
        for block in self.source:
            if self.stopped.is_set():
                break
            if self.paused:
                if self.is_file:
                    since = time.monotonic()
                    while self.paused and not self.stopped.is_set():
                        self.resumed.wait(0.1)
                    if self.stopped.is_set():
                        break
                    paused_total += time.monotonic() - since
                else:
                    block = np.zeros_like(block)
            if realtime and paused_total:
                # the file source paces by its own clock and would rush to catch up after a pause
                delay = t0 + paused_total + self.samples / SAMPLE_RATE - time.monotonic()
                if delay > 0 and self.stopped.wait(delay):
                    break
            block = np.asarray(block, dtype=np.float32)
            if block.ndim > 1:
                block = block.mean(axis=1) if block.shape[1] <= 2 else block.reshape(-1)
            with self._lock:
                if self.stopped.is_set():
                    break
                self.samples += len(block)
                if self.on_block is not None:
                    self.on_block(block)
            now = time.monotonic()
            level = -120.0 if self.paused else dbfs(block)
            if self.voice.update(level) and not self.paused:
                self.voice_at = self.at
            if self.is_file and not realtime:
                self.lag = 0.0
            else:  # the audio clock runs in real time: how late is this block being taken?
                self.lag = max(0.0, now - t0 - paused_total - self.at)
            if self.post is not None and now - self._last_post >= LEVEL_INTERVAL_S:
                self._last_post = now
                self.post(AudioLevel(level, self.at, self.voice_at, round(self.lag, 2)))
            yield block


EngineFactory = Callable[[bool], Any]          # live -> engine with .stream(source)
SourceFactory = Callable[[str | None, Any], Any]  # (input_file, device) -> iterable of blocks


def provisional(evaluator, text: str, start: float | None) -> list[Finding]:
    """Courtesies and brush-offs already complete in a partial hypothesis (no near misses:
    in a growing partial those are mostly phrases not yet finished; not the statistical
    fallback's guess either: on a half-heard partial it was mostly withdrawn by the final,
    docs/benchmarks.md "Live")."""
    if not text:
        return []
    found = evaluator.evaluate([Utterance(start, None, "clerk", text)], session=False).findings
    return [f for f in found if f.type in ("courtesy", "brush_off") and f.rule not in ("near_miss", FALLBACK_RULE)]


def partial_findings(evaluator, partial, speaker_so_far: Callable[[Utterance], str] | None = None) -> list[Finding]:
    """What a partial (``text``, ``start``, ``end``, ``speaker``) shows: :func:`provisional`, and
    nothing where ``speaker_so_far`` (:meth:`LiveSession.speaker_so_far`) says the citizen is
    speaking — the citizen's words are not the clerk's, neither a brush-off alert nor a courtesy
    highlight.  Only a partial with something to show asks (a window of the voice is embedded
    once per utterance, ~25 ms)."""
    text, start = getattr(partial, "text", ""), getattr(partial, "start", None)
    found = provisional(evaluator, text, start)
    if speaker_so_far is not None and found and speaker_so_far(
            Utterance(start, getattr(partial, "end", None), getattr(partial, "speaker", "unknown"), text)) == "citizen":
        return []
    return found


class Listener:
    """One listening run: open the engine, open the source, stream, report.

    With ``evaluator`` (a callable returning the :class:`~coach.session.evaluate.Evaluator`),
    the phrasebook is compiled here, partials are matched as they grow and finals are judged
    here, in the worker thread, so the UI thread only displays.
    """

    def __init__(self, engine_factory: EngineFactory, source_factory: SourceFactory, *,
                 input_file: str | None = None, device=None, live: bool = True,
                 on_block: Callable[[np.ndarray], None] | None = None,
                 evaluator: Callable[[], Any] | None = None):
        self.engine_factory = engine_factory
        self.source_factory = source_factory
        self.input_file = input_file
        self.device = device
        self.live = live
        self.on_block = on_block
        self.evaluator_factory = evaluator
        self.evaluator = None
        self.tap: Tap | None = None
        self._stop = threading.Event()
        self._paused = False
        self.ending = False

    def stop(self) -> None:
        """Stop now: what is still being recognised is dropped."""
        self._stop.set()
        if self.tap is not None:
            self.tap.stop()

    def end(self) -> None:
        """End the audio but let the engine finish the utterance in progress (its Final
        still arrives, then :class:`ListenDone` with ``stopped=False``)."""
        self.ending = True
        if self.tap is not None:
            self.tap.stop()

    def pause(self) -> None:
        self._paused = True
        if self.tap is not None:
            self.tap.pause()

    def resume(self) -> None:
        self._paused = False
        if self.tap is not None:
            self.tap.resume()

    @property
    def at(self) -> float:
        return self.tap.at if self.tap is not None else 0.0

    def run(self, post: Post, prepare: Callable[[], Callable[[np.ndarray], None] | None] | None = None) -> None:
        """Blocking; call from a worker thread.  Every outcome is posted, nothing is raised.

        ``prepare`` runs once the engine is loaded and before any audio flows; it returns the
        session (:class:`~coach.session.live.LiveSession`): every block goes to its ``audio``
        (the sink and the speaker attribution), so not one block escapes the recording, and each
        final is attributed here, in the worker, before it is judged; a partial with a brush-off
        to alert is asked who is speaking so far, and the citizen's show nothing.
        """
        try:
            self._run(post, prepare)
        except CoachError as exc:
            post(ListenError(exc.message, exc.hint))
        except Exception as exc:  # an unexpected failure is still shown in-app, not as a traceback
            post(ListenError(*explain(exc)))
        finally:
            post(ListenDone(self.at, self._stop.is_set()))

    def _run(self, post: Post, prepare) -> None:
        post(Preparing("正在加载语音模型…"))
        engine = self.engine_factory(self.live)
        if self._stop.is_set():
            return
        if self.evaluator_factory is not None:
            post(Preparing("正在加载规则库和分词词典…"))
            self.evaluator = self.evaluator_factory()
            self.evaluator.matcher.warm_up()
            from coach.session.pipeline import set_targets

            set_targets(engine, self.evaluator)
            if self._stop.is_set():
                return
        attribute = speaker_so_far = None
        if prepare is not None:
            session = prepare()
            if session is not None:
                self.on_block, attribute, speaker_so_far = session.audio, session.attribute, session.speaker_so_far
            if self._stop.is_set():
                return
        source = self.source_factory(self.input_file, self.device)
        self.tap = Tap(source, on_block=self.on_block, post=post, is_file=self.input_file is not None)
        if self._paused:
            self.tap.pause()
        if self._stop.is_set() or self.ending:
            self.tap.stop()
            return
        post(EngineReady(getattr(engine, "name", type(engine).__name__), getattr(engine, "model", "")))
        ev = self.evaluator
        for event in engine.stream(self.tap):
            if self._stop.is_set():
                break
            utterance = getattr(event, "utterance", None)
            if utterance is not None:
                if attribute is not None and ev is not None:
                    utterance = attribute(utterance)   # who said it decides what is charged
                post(FinalUtterance(utterance, judge(ev, utterance) if ev is not None else None))
            else:   # behind, the engine decodes no partial (catches up on the audio); one it decoded is shown
                post(PartialText(getattr(event, "text", ""), getattr(event, "start", None),
                                 partial_findings(ev, event, speaker_so_far) if ev is not None else []))


def explain(exc: BaseException) -> tuple[str, str | None]:
    """A clear message and fix for errors that did not come as a CoachError."""
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if "portaudio" in low:
        return ("找不到 PortAudio 音频库，无法使用麦克风：" + text,
                "安装 PortAudio（Debian/Ubuntu：sudo apt-get install libportaudio2），或用 --input 文件 代替麦克风")
    if isinstance(exc, (OSError,)) and ("device" in low or "audio" in low):
        return ("无法打开音频设备：" + text, "在「设置」里选择另一个麦克风，或用 --input 文件")
    if isinstance(exc, (FileNotFoundError,)):
        return ("找不到文件：" + text, "检查路径是否正确")
    return (f"出错了：{type(exc).__name__}: {text}", None)


__all__ = ["Listener", "Tap", "VoiceActivity", "dbfs", "explain", "judge", "partial_findings", "partial_targets", "provisional"]
