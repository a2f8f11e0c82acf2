"""Pieces shared by several screens."""

from __future__ import annotations

from coach.tui.styled import Styled
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from coach.tui.listen import Listener
from coach.tui.messages import ListenError, Preparing


def error_text(message: str, hint: str | None = None) -> Styled:
    t = Styled("✗ ", style="bold $text-error")
    t.append(message, style="bold")
    if hint:
        t.append("\n解决办法：", style="bold $text-primary")
        t.append(hint)
    return t


class ErrorBox(Static):
    """An in-screen error with the fix (hidden until :meth:`show_error`)."""

    def __init__(self, **kw):
        super().__init__("", **kw)
        self.display = False

    def show_error(self, message: str, hint: str | None = None) -> None:
        self.update(error_text(message, hint))
        self.display = True

    def clear(self) -> None:
        self.update("")
        self.display = False


GLOBAL_KEYS = (("q", "退出（正在记录时先确认）"), ("Esc", "返回上一屏"), ("? / F1", "本帮助"),
               ("Ctrl+P", "命令面板：情景、最近记录、主题"))


class HelpScreen(ModalScreen[None]):
    """Help for the screen below: what it is for, and its keys (those active right now)."""

    BINDINGS = [Binding("escape,enter,question_mark,f1", "dismiss", "关闭")]

    def __init__(self, screen: Screen):
        super().__init__()
        self.target = screen

    def compose(self) -> ComposeResult:
        target = self.target
        t = Styled(f"{target.title or self.app.title} · 帮助", "bold")
        about = getattr(target, "HELP", "")
        if about:
            t.append("\n\n" + about)
        t.append("\n\n本屏按键", "bold")
        seen = set()
        for key, active in target.active_bindings.items():
            b = active.binding
            if not b.show or not b.description or b.action in ("help", "request_quit", "command_palette") \
                    or b.description in seen:
                continue
            seen.add(b.description)
            t.append(f"\n  {self.app.get_key_display(b):<8}", "bold $text-primary")
            t.append(f" {b.description}")
        t.append("\n\n所有屏幕", "bold")
        for key, what in GLOBAL_KEYS:
            t.append(f"\n  {key:<8}", "bold $text-primary")
            t.append(f" {what}")
        with Vertical(id="help-dialog"):
            yield Static(t, id="help-text")
            yield Static(Styled("Esc 或 Enter 关闭", "dim"))

    def action_dismiss(self) -> None:
        self.dismiss(None)


class ErrorScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "dismiss", "关闭")]

    def __init__(self, message: str, hint: str | None = None):
        super().__init__()
        self.message, self.hint = message, hint

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Static(error_text(self.message, self.hint))
            yield Static("按 Enter 或 Esc 关闭", classes="dim")

    def action_dismiss(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question (y/Enter = yes, n/Esc = no)."""

    BINDINGS = [Binding("y,enter", "answer(True)", "是"), Binding("n,escape", "answer(False)", "否")]

    def __init__(self, question: str, detail: str = ""):
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(Styled(self.question, "bold"))
            if self.detail:
                yield Static(Styled(self.detail, "dim"))
            yield Static(Styled("y / Enter 确定    n / Esc 取消", "dim"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ListeningScreen(Screen):
    """A screen fed by a :class:`Listener` worker (practice, live): start, stop, errors.

    ``state`` is reactive: every change redraws the status bar and the footer's keys.
    Subclasses set ``input_file``, ``evaluator()`` (built in the worker, off the UI thread)
    and implement ``_prepare`` (called on the UI thread once the engine and the phrasebook
    are loaded, before the first block of audio; returns the audio tap or None) and
    ``_set_status``.
    """

    input_file: str | None = None
    state: reactive[str] = reactive("idle", init=False)
    loading_text: reactive[str] = reactive("正在加载语音模型…", init=False)
    behind: reactive[float] = reactive(0.0, init=False)   # seconds the recogniser is behind

    def __init__(self) -> None:
        super().__init__()
        self.listener: Listener | None = None

    def watch_state(self) -> None:
        if self.is_mounted:
            self._set_status()

    def watch_loading_text(self) -> None:
        if self.is_mounted and self.state == "loading":
            self._set_status()

    def watch_behind(self, old: float, new: float) -> None:
        if self.is_mounted and (int(old) != int(new)):
            self._set_status()

    def behind_text(self) -> str:
        """"识别落后 N 秒" when the recogniser lags the audio by 2 s or more."""
        return f"  识别落后 {self.behind:.0f} 秒" if self.behind >= 2.0 else ""

    def evaluator(self):
        return self.app.evaluator()

    def on_preparing(self, msg: Preparing) -> None:
        self.loading_text = msg.text

    def _begin_listening(self) -> None:
        self.query_one(ErrorBox).clear()
        self.state = "loading"
        self.listener = Listener(self.app.engine_factory, self.app.source_factory,
                                 input_file=self.input_file, device=self.app.mic_device, live=True,
                                 evaluator=self.evaluator)
        self.app.listeners.add(self.listener)
        self._listen(self.listener)

    @work(thread=True, exclusive=True, group="listen")
    def _listen(self, listener: Listener) -> None:
        listener.run(self.post_message, prepare=lambda: self.app.call_from_thread(self._prepare))

    def _prepare(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_status(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _stop_listening(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.app.listeners.discard(self.listener)

    def on_unmount(self) -> None:
        self._stop_listening()

    def on_listen_error(self, msg: ListenError) -> None:
        self.state = "error"
        self.query_one(ErrorBox).show_error(msg.message, msg.hint)
