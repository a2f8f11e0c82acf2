"""Pieces shared by several screens."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


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
