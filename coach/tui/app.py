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

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette

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
    """Keys everywhere: ``q`` quits (asks first while a session is being recorded; typed into a
    text field it is just a letter), Esc goes back, ``?``/F1 help for the screen, Ctrl+P the
    command palette (scenarios, recent sessions, themes)."""

    CSS_PATH = "coach.tcss"
    TITLE = "窗口文明用语教练"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "request_quit", "退出", show=False, priority=True),
        Binding("q", "request_quit", "退出"),
        Binding("question_mark,f1", "help", "帮助"),
        Binding("ctrl+p", "command_palette", "命令", show=False, priority=True),
    ]

    def __init__(self, *, start: str = "home", scenario: str | None = None, input_file: str | None = None,
                 device: Any = None, review: str | None = None, settings: Settings | None = None,
                 phrasebook: str | None = None, engine_factory: Callable[[bool], Any] | None = None,
                 source_factory: Callable[[str | None, Any], Any] | None = None,
                 sink_factory: SinkFactory | None = None, save_settings: bool = True,
                 preload: bool = False, voice: Any = None):
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
        self.recent_sessions: list = []
        self._voice = voice            # a coach.tui.voice.Voice (None: made from the settings)
        self._voice_failed = False
        self._phrasebook: Phrasebook | None = None
        self._evaluators: dict[str | None, Evaluator] = {}
        if preload:
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

    @property
    def voice(self):
        """The citizen's voice, or None when the setting turns it off."""
        if not self.settings.voice_on:
            return None
        if self._voice is None:
            from coach.tui.voice import Voice
            self._voice = Voice(on_error=self._voice_error)
        return self._voice

    def _voice_error(self, exc: BaseException) -> None:
        if self._voice_failed:
            return
        self._voice_failed = True
        text = exc.message if isinstance(exc, CoachError) else str(exc)
        self.call_from_thread(self.notify, f"无法朗读客户的话：{text}（可在「设置」里关闭朗读）",
                              severity="warning", timeout=6)

    def speak(self, text: str) -> None:
        """Say a citizen's line (practice) while it is shown; see :mod:`coach.tui.voice`."""
        voice = self.voice
        if voice is not None:
            voice.say(text)

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

    # ------------------------------------------------------------------ keys shared by every screen
    def action_help(self) -> None:
        from coach.tui.screens.common import HelpScreen
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_help_quit(self) -> None:
        """Ctrl+C (Textual's hint that it does not quit), in Chinese."""
        self.notify("按 q 或 Ctrl+Q 退出（在输入框里用 Ctrl+Q）", title="要退出吗？")

    def busy_screens(self) -> list:
        return [s for s in self.screen_stack if getattr(s, "busy", False)]

    def action_request_quit(self) -> None:
        """Quit; while a practice or live session is recording, ask first."""
        if not self.busy_screens():
            self.exit()
            return
        from coach.tui.screens.common import ConfirmScreen
        if isinstance(self.screen, ConfirmScreen):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                for screen in self.busy_screens():
                    end = getattr(screen, "end_for_quit", None)
                    if end is not None:
                        end()
                self.exit()
        self.push_screen(ConfirmScreen("正在记录，确定退出？", "实时自检会结束并保存；未完成的练习不打分。"),
                         answered)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder="搜索命令：情景、最近记录、主题…", id="--command-palette"))

    def get_system_commands(self, screen) -> Any:
        """The command palette: the app's own commands, in Chinese."""
        from coach.tui.screens.home import open_screen
        yield SystemCommand("实时自检", "边接待边听，实时标出文明用语和忌语", lambda: open_screen(self, "live"))
        yield SystemCommand("回看", "打开录音、结果文件或已保存的记录", lambda: open_screen(self, "review"))
        yield SystemCommand("设置", "识别引擎、模型、麦克风、规则库、学员姓名", lambda: open_screen(self, "settings"))
        try:
            scenarios = self.phrasebook().scenarios
        except CoachError:
            scenarios = ()
        for sc in scenarios:
            yield SystemCommand(f"情景练习：{sc.title or sc.id}", sc.description or f"{len(sc.turns)} 轮",
                                lambda sc=sc: open_screen(self, "practice", sc.id))
        for row in self.recent_sessions:
            yield SystemCommand(f"最近记录 #{row.id} {session_label(row)}", "在回看中打开",
                                lambda rid=row.id: open_screen(self, "review", str(rid)))
        for name in sorted(self.available_themes):
            yield SystemCommand(f"主题：{name}", "切换界面配色", lambda name=name: setattr(self, "theme", name))
        yield SystemCommand("帮助", "本屏幕的按键和说明", self.action_help)
        yield SystemCommand("退出", "退出教练", self.action_request_quit)

    def load_recent_sessions(self) -> None:
        """The store's latest sessions for the palette (read in a thread)."""
        def load() -> None:
            try:
                from coach.store import Store, default_db_path
                if default_db_path().exists():
                    with Store() as store:
                        self.recent_sessions = store.sessions(limit=8)
            except Exception:       # no store: the palette simply lists none
                pass
        threading.Thread(target=load, name="coach-recent", daemon=True).start()

    # ------------------------------------------------------------------ start
    def on_mount(self) -> None:
        self.load_recent_sessions()
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
        if self._voice is not None:
            self._voice.stop()
        super().exit(*args, **kwargs)

    def save_settings(self) -> Path | None:
        if not self.save_settings_enabled:
            return None
        return self.settings.save()


def session_label(row) -> str:
    """One line for a stored session: kind, scenario, trainee, duration, unfinished mark."""
    kind = {"practice": "练习", "live": "自检", "review": "回看"}.get(row.kind, row.kind)
    parts = [row.started.strftime("%m-%d %H:%M"), kind]
    if row.scenario:
        parts.append(row.scenario)
    if row.trainee:
        parts.append(row.trainee)
    if row.duration_s:
        m, s = divmod(int(row.duration_s), 60)
        parts.append(f"{m}分{s:02d}秒")
    parts.append("未完成" if not row.finished else (f"{row.score:g} 分" if row.score is not None else ""))
    return " · ".join(p for p in parts if p)


__all__ = ["CoachApp", "session_label"]
