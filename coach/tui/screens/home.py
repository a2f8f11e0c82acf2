"""Home: 情景练习 · 实时自检 · 回看 · 设置."""

from __future__ import annotations

from coach.tui.styled import Styled
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from coach.errors import CoachError

ITEMS = (
    ("practice", "1", "情景练习", "按情景逐轮作答，对照每轮应说的文明用语，结束后看成绩单"),
    ("live", "2", "实时自检", "边接待边听：实时标出文明用语和忌语，等待过久时提醒"),
    ("review", "3", "回看", "打开录音或结果文件，逐条查看问题并回放"),
    ("settings", "4", "设置", "识别引擎、模型、麦克风、规则库、学员姓名"),
)


def _prompt(key: str, title: str, desc: str) -> Styled:
    t = Styled()
    t.append(f" {key}  ", style="bold $text-primary")
    t.append(title, style="bold")
    t.append(f"\n    {desc}", style="dim")
    return t


class HomeScreen(Screen):
    BINDINGS = [
        Binding("1", "open('practice')", "情景练习", show=False),
        Binding("2", "open('live')", "实时自检", show=False),
        Binding("3", "open('review')", "回看", show=False),
        Binding("4", "open('settings')", "设置", show=False),
    ]
    HELP = ("主页。情景练习：按情景逐轮作答；实时自检：边接待边听；回看：查看录音或记录；设置：引擎、麦克风等。"
            "Ctrl+P 打开命令面板（可直接选情景、最近记录、主题）。")

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static(Styled("窗口文明用语教练", style="bold") + Styled("  来有迎声 · 问有答声 · 走有送声", style="dim"),
                         id="home-title")
            yield OptionList(*[Option(_prompt(k, t, d), id=i) for i, k, t, d in ITEMS], id="home-menu")
            yield Static(self._status(), id="home-status")
        yield Footer()

    def _status(self) -> Styled:
        s = self.app.settings
        t = Styled()
        t.append("学员：", style="dim")
        t.append(s.trainee or "（未设置）")
        t.append("   引擎：", style="dim")
        t.append({"auto": "自动", "whisper": "Whisper", "vosk": "Vosk"}.get(s.engine, s.engine))
        t.append("   规则库：", style="dim")
        t.append(s.phrasebook or "内置")
        if not s.clerk_channel:
            from coach.speaker.profile import load_profile
            if load_profile(s.trainee.strip() or None) is None:
                t.append("\n提示：单个麦克风自检时，先登记自己的声音（coach enroll），群众说的话就不会算到你头上",
                         style="$text-warning")
        t.append("\n↑↓ 选择 · Enter 打开 · 数字键直达 · ? 帮助 · Ctrl+P 命令 · q 退出", style="dim")
        return t

    def on_screen_resume(self) -> None:
        self.query_one("#home-status", Static).update(self._status())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open(event.option.id)

    def action_open(self, what: str) -> None:
        open_screen(self.app, what)


def open_screen(app, what: str, arg: str | None = None) -> None:
    """Open one of the app's screens (home menu, command palette): practice (a scenario id
    starts it), live, review (a path or session number), settings."""
    try:
        if what == "practice":
            from coach.tui.screens.practice import PracticeScreen, ScenarioPicker
            if arg:
                app.push_screen(PracticeScreen(app.phrasebook().scenario(arg)))
            else:
                app.push_screen(ScenarioPicker())
        elif what == "live":
            from coach.tui.screens.live import LiveScreen
            app.push_screen(LiveScreen())
        elif what == "review":
            from coach.tui.screens.review import ReviewOpen, ReviewScreen
            app.push_screen(ReviewScreen(arg) if arg else ReviewOpen())
        elif what == "settings":
            from coach.tui.screens.settings import SettingsScreen
            app.push_screen(SettingsScreen())
    except CoachError as exc:
        from coach.tui.screens.common import ErrorScreen
        app.push_screen(ErrorScreen(exc.message, exc.hint))
