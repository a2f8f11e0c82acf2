"""Pieces shared by several screens."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from coach.tui.listen import Listener
from coach.tui.messages import ListenError


def error_text(message: str, hint: str | None = None) -> Text:
    t = Text("✗ ", style="bold red")
    t.append(message, style="bold")
    if hint:
        t.append("\n解决办法：", style="bold cyan")
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


class ErrorScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss", "关闭")]

    def __init__(self, message: str, hint: str | None = None):
        super().__init__()
        self.message, self.hint = message, hint

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Static(error_text(self.message, self.hint))
            yield Static("按 Enter 或 Esc 关闭", classes="dim")

    def action_dismiss(self) -> None:
        self.dismiss(None)


class ListeningScreen(Screen):
    """A screen fed by a :class:`Listener` worker (practice, live): start, stop, errors.

    Subclasses set ``input_file`` and implement ``_prepare`` (called on the UI thread once the
    engine is loaded, before the first block of audio; returns the audio tap or None) and
    ``_set_status``.
    """

    input_file: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.listener: Listener | None = None
        self.state = "idle"

    def _begin_listening(self) -> None:
        self.query_one(ErrorBox).clear()
        self.state = "loading"
        self._set_status()
        self.listener = Listener(self.app.engine_factory, self.app.source_factory,
                                 input_file=self.input_file, device=self.app.mic_device, live=True)
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
        self._set_status()
        self.query_one(ErrorBox).show_error(msg.message, msg.hint)
