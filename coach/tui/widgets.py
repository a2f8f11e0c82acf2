"""Small widgets shared by the screens: level meter, clock, checklist, transcript."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from coach.report.console import SPEAKER_LABEL, STRUCTURE_LABEL, fmt_time
from coach.schema import Finding, Utterance

FLOOR_DB = -60.0


def finding_style(f: Finding) -> str:
    if f.speaker == "uncertain":          # 可能是窗口: shown, not scored
        return "bold yellow" if f.type == "brush_off" else "green"
    if f.type == "brush_off":
        return "bold red"
    if f.rule == "near_miss":
        return "bold yellow"
    if f.type == "courtesy":
        return "bold green"
    return "yellow"


def highlighted(text: str, findings: list[Finding]) -> Text:
    """``text`` with what each finding heard coloured: courtesies green, brush-offs red."""
    out = Text(text)
    taken: list[tuple[int, int]] = []
    for f in findings:
        heard = (f.heard or "").strip()
        if not heard or f.type == "structure":
            continue
        pos = 0
        while True:
            at = text.find(heard, pos)
            if at < 0:
                break
            span = (at, at + len(heard))
            if not any(a < span[1] and span[0] < b for a, b in taken):
                taken.append(span)
                out.stylize(finding_style(f), *span)
                break
            pos = at + 1
    return out


def suggestion_of(f: Finding) -> str:
    return " ".join((f.suggestion or "").split())


def finding_text(f: Finding, *, indent: str = "  ") -> Text:
    """One finding as a line: what went wrong and, right beside it, what to say instead."""
    line = Text(indent)
    if f.type == "brush_off" and f.speaker == "uncertain":
        line.append("?忌语", style="bold yellow")
        line.append(f"「{f.phrase}」", style="yellow")
        line.append("→", style="dim")
        line.append(suggestion_of(f), style="cyan")
    elif f.type == "brush_off":
        line.append("✗忌语", style="bold red")
        line.append(f"「{f.phrase}」", style="red")
        if f.suggestion:
            line.append("→改说：", style="dim")
            line.append(suggestion_of(f), style="cyan")
    elif f.rule == "near_miss":
        line.append("△不完整", style="bold yellow")
        line.append(f"“{f.heard}”", style="yellow")
        if f.suggestion:
            line.append("→", style="dim")
            line.append(suggestion_of(f), style="cyan")
    elif f.type == "courtesy":
        line.append("✓ ", style="bold green")
        line.append(f"{f.phrase}", style="green")
    else:
        line.append(f"!{STRUCTURE_LABEL.get(f.rule, f.rule)}", style="bold red" if f.severity == "violation"
                    else "bold yellow")
        if f.phrase and f.rule == "missed_expected":
            line.append(f"「{f.phrase}」", style="yellow")
        if f.suggestion:
            line.append("→", style="dim")
            line.append(suggestion_of(f), style="cyan")
    return line


def utterance_block(u: Utterance, findings: list[Finding], *, show_courtesies: bool = False,
                    speaker: bool = False) -> Text:
    """An utterance with its hits highlighted, and a line under it for every problem found."""
    head = Text()
    if u.start is not None:
        head.append(f"{fmt_time(u.start)} ", style="dim")
    if speaker:
        head.append(f"{SPEAKER_LABEL.get(u.speaker, u.speaker)}：", style="bold")
    head.append_text(highlighted(u.text, findings))
    lines = [head]
    for f in findings:
        if f.type == "courtesy" and f.rule != "near_miss" and not show_courtesies:
            continue
        lines.append(finding_text(f))
    return Text("\n").join(lines)


class LevelMeter(Static):
    """Input level as a bar (dBFS)."""

    DEFAULT_CSS = "LevelMeter { width: 22; height: 1; }"

    def __init__(self, **kw):
        super().__init__("", **kw)
        self.dbfs: float | None = None
        self.refresh_meter()

    def set_level(self, dbfs: float | None) -> None:
        self.dbfs = dbfs
        self.refresh_meter()

    def refresh_meter(self) -> None:
        width = 10
        t = Text("音量 ")
        if self.dbfs is None:
            t.append("░" * width, style="dim")
            t.append("  --", style="dim")
        else:
            frac = min(1.0, max(0.0, (self.dbfs - FLOOR_DB) / -FLOOR_DB))
            n = round(frac * width)
            style = "green" if self.dbfs < -6 else "red"
            t.append("█" * n, style=style)
            t.append("░" * (width - n), style="dim")
            t.append(f" {max(self.dbfs, -99):>3.0f}", style="dim")
        self.update(t)


class Clock(Static):
    """Elapsed time mm:ss."""

    DEFAULT_CSS = "Clock { width: 11; height: 1; }"

    def __init__(self, **kw):
        super().__init__("用时 00:00", **kw)
        self.seconds = 0

    def set_seconds(self, s: float) -> None:
        whole = int(max(s, 0))
        if whole != self.seconds:
            self.seconds = whole
            m, sec = divmod(whole, 60)
            self.update(f"用时 {m:02d}:{sec:02d}")


class Transcript(VerticalScroll):
    """Final utterances (highlighted) with the utterance in progress (partial) at the bottom."""

    DEFAULT_CSS = """
    Transcript { height: 1fr; }
    Transcript > .utt { margin-bottom: 0; }
    Transcript > #partial { color: $text-muted; text-style: italic; }
    """

    def __init__(self, *, placeholder: str = "", **kw):
        super().__init__(**kw)
        self.placeholder = placeholder
        self.count = 0

    def compose(self):
        yield Static(self.placeholder, id="placeholder", classes="placeholder")
        yield Static("", id="partial")

    def set_partial(self, text: str) -> None:
        partial = self.query_one("#partial", Static)
        partial.update(Text(f"… {text}", style="italic") if text else "")
        if text:
            self._drop_placeholder()
        self.scroll_end(animate=False)

    def _drop_placeholder(self) -> None:
        for w in self.query("#placeholder"):
            w.remove()

    def add(self, u: Utterance, findings: list[Finding], **kw) -> Static:
        self._drop_placeholder()
        self.count += 1
        block = Static(utterance_block(u, findings, **kw), classes="utt")
        self.mount(block, before=self.query_one("#partial"))
        self.query_one("#partial", Static).update("")
        self.call_after_refresh(self.scroll_end, animate=False)
        return block

    def add_note(self, text: Text | str) -> Static:
        """A line that is not an utterance (a turn divider, a pause mark)."""
        self._drop_placeholder()
        note = Static(text, classes="utt note")
        self.mount(note, before=self.query_one("#partial"))
        self.call_after_refresh(self.scroll_end, animate=False)
        return note

    def clear(self) -> None:
        for w in self.query(".utt"):
            w.remove()
        self.count = 0
        self.query_one("#partial", Static).update("")
