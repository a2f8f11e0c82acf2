"""The ``coach`` terminal app (Textual): home, practice, live self-check, review, settings.

    CoachApp().run()                                  # home screen
    CoachApp(start="live", input_file="demo.ogg").run()

Speech runs in worker threads (:mod:`coach.tui.listen`); the engine and the audio source come
from factories so that tests and ``--input`` use the same screens as the microphone.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from textual.app import App
from textual.binding import Binding

from coach.errors import CoachError
from coach.phrasebook import Phrasebook, Scenario, load_phrasebook
from coach.session.evaluate import Evaluator
from coach.session.live import SessionMeta, SessionSink
from coach.tui.settings import Settings

SinkFactory = Callable[[SessionMeta], "SessionSink | None"]


def default_source_factory(input_file: str | None, device, clerk_channel: str = "") -> Any:
    from coach.tui.engines import open_source
    return open_source(input_file, device, clerk_channel)


class CoachApp(App):
    CSS_PATH = "coach.tcss"
    TITLE = "窗口文明用语教练"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "退出", show=False, priority=True)]

    def __init__(self, *, start: str = "home", scenario: str | None = None, input_file: str | None = None,
                 device: Any = None, review: str | None = None, settings: Settings | None = None,
                 phrasebook: str | None = None, engine_factory: Callable[[bool], Any] | None = None,
                 source_factory: Callable[[str | None, Any], Any] | None = None,
                 sink_factory: SinkFactory | None = None, save_settings: bool = True,
                 preload: bool = False):
        super().__init__()
        self.settings = settings or Settings.load()
        self.save_settings_enabled = save_settings
        self.phrasebook_dir = phrasebook
        self.start_mode = start
        self.start_scenario = scenario
        self.input_file = input_file
        self.device = device
        self.review_target = review
        self._engine_factory = engine_factory
        self.source_factory = source_factory or (
            lambda f, d: default_source_factory(f, d, self.settings.clerk_channel))
        self.sink_factory = sink_factory
        self._lock = threading.RLock()
        self.listeners: set = set()      # running Listeners, stopped on exit
        self._traced: set[str] = set()
        self.trace("app")
        self._phrasebook: Phrasebook | None = None
        self._evaluators: dict[str | None, Evaluator] = {}
        if preload and engine_factory is None:
            self._start_preload()

    def trace(self, event: str) -> None:
        """First time of each event (wall clock) to $COACH_TUI_TRACE: how fast the demo shows things."""
        path = os.environ.get("COACH_TUI_TRACE")
        if not path or event in self._traced:
            return
        self._traced.add(event)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.3f} {event}\n")

    # ------------------------------------------------------------------ shared state
    def _start_preload(self) -> None:
        """Load the phrasebook while the UI starts and the worker loads the engine (``demo``, ``live``).

        The engine itself is loaded by the listening worker, in the thread that runs it: a
        Whisper model loaded in one thread and run in another decoded several times slower here.
        """
        def load() -> None:
            try:
                self.evaluator().matcher.warm_up()
            except Exception:  # a broken phrasebook is reported by the screen that needs it
                pass
        threading.Thread(target=load, name="coach-preload", daemon=True).start()

    def hotwords(self) -> tuple[str, ...]:
        """The courtesies the engine is biased toward (as ``coach.session.pipeline.hotwords``),
        read without waiting for the phrasebook to compile."""
        from coach.tui.engines import quick_hotwords
        return quick_hotwords(self.phrasebook_dir or self.settings.phrasebook or None)

    @property
    def engine_factory(self) -> Callable[[bool], Any]:
        if self._engine_factory is not None:
            return self._engine_factory
        settings = self.settings

        def make(live: bool):
            from coach.tui.engines import open_engine
            return open_engine(settings, live=live, hotwords=self.hotwords())
        return make

    @property
    def mic_device(self) -> Any:
        return self.device if self.device is not None else self.settings.device_arg

    def phrasebook(self) -> Phrasebook:
        with self._lock:
            if self._phrasebook is None:
                path = self.phrasebook_dir or self.settings.phrasebook or None
                self._phrasebook = load_phrasebook(path)
            return self._phrasebook

    def reset_phrasebook(self) -> None:
        with self._lock:
            self._phrasebook = None
            self._evaluators.clear()

    def evaluator(self, scenario: Scenario | None = None) -> Evaluator:
        """The evaluator (thread-safe: workers may build it while the UI starts)."""
        with self._lock:
            key = scenario.id if scenario else None
            if key not in self._evaluators:
                self._evaluators[key] = Evaluator(self.phrasebook(), scenario)
            return self._evaluators[key]

    def make_sink(self, meta: SessionMeta) -> SessionSink | None:
        if self.sink_factory is None:
            return None
        try:
            return self.sink_factory(meta)
        except CoachError as exc:
            self.notify(f"无法保存本次记录：{exc.message}", severity="warning", timeout=8)
        except Exception as exc:  # keep practising even when the store is unavailable
            self.notify(f"无法保存本次记录：{exc}", severity="warning", timeout=8)
        return None

    def meta(self, kind: str, scenario: str | None = None) -> SessionMeta:
        return SessionMeta(kind=kind, trainee=self.settings.trainee, scenario=scenario,
                           engine=self.settings.engine, model=self.settings.model or None,
                           clerk_channel=self.settings.clerk_channel or None)

    # ------------------------------------------------------------------ start
    def on_mount(self) -> None:
        from coach.tui.screens.home import HomeScreen
        self.push_screen(HomeScreen())
        try:
            self._open_start()
        except CoachError as exc:
            from coach.tui.screens.common import ErrorScreen
            self.push_screen(ErrorScreen(exc.message, exc.hint))

    def _open_start(self) -> None:
        mode = self.start_mode
        if mode == "practice":
            from coach.tui.screens.practice import PracticeScreen, ScenarioPicker
            if self.start_scenario:
                scenario = self.phrasebook().scenario(self.start_scenario)
                self.push_screen(PracticeScreen(scenario, input_file=self.input_file,
                                                autostart=self.input_file is not None))
            else:
                self.push_screen(ScenarioPicker(input_file=self.input_file))
        elif mode == "live":
            from coach.tui.screens.live import LiveScreen
            self.push_screen(LiveScreen(input_file=self.input_file, autostart=True))
        elif mode == "review":
            from coach.tui.screens.review import ReviewOpen, ReviewScreen
            if self.review_target:
                self.push_screen(ReviewScreen(self.review_target))
            else:
                self.push_screen(ReviewOpen())

    def stop_listeners(self) -> None:
        for listener in list(self.listeners):
            listener.stop()
        self.listeners.clear()

    def exit(self, *args, **kwargs) -> None:
        self.stop_listeners()
        super().exit(*args, **kwargs)

    def save_settings(self) -> Path | None:
        if not self.save_settings_enabled:
            return None
        return self.settings.save()


__all__ = ["CoachApp"]
