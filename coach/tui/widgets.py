"""Small widgets shared by the screens: level meter, clock, checklist, transcript."""

from __future__ import annotations

from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from coach.report.console import SPEAKER_LABEL, STRUCTURE_LABEL, fmt_time
from coach.schema import Finding, Utterance
from coach.tui.styled import Styled, zh_punct

FLOOR_DB = -60.0


def finding_style(f: Finding) -> str:
    if f.speaker == "uncertain":          # 可能是窗口: shown, not scored
        return "bold $text-warning" if f.type == "brush_off" else "$text-success"
    if f.type == "brush_off":
        return "bold $text-error"
    if f.rule == "near_miss":
        return "bold $text-warning"
    if f.type == "courtesy":
        return "bold $text-success"
    return "$text-warning"


def highlighted(text: str, findings: list[Finding], *, provisional: bool = False) -> Styled:
    """``text`` (full-width punctuation) with what each finding heard coloured: courtesies
    green, brush-offs red — dimmed while ``provisional`` (heard in a partial, not yet final)."""
    text = zh_punct(text)
    out = Styled(text)
    taken: list[tuple[int, int]] = []
    for f in findings:
        heard = zh_punct((f.heard or "").strip())
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
                style = finding_style(f)
                out.stylize(style.replace("bold ", "") + " dim underline" if provisional else style, *span)
                break
            pos = at + 1
    return out


def suggestion_of(f: Finding) -> str:
    return " ".join((f.suggestion or "").split())


def finding_text(f: Finding, *, indent: str = "  ") -> Styled:
    """One finding as a line: what went wrong and, right beside it, what to say instead."""
    line = Styled(indent)
    if f.type == "brush_off" and f.speaker == "uncertain":
        line.append("?忌语", style="bold $text-warning")
        line.append(f"「{f.phrase}」", style="$text-warning")
        line.append("→", style="dim")
        line.append(suggestion_of(f), style="$text-accent")
    elif f.type == "brush_off":
        line.append("✗忌语", style="bold $text-error")
        line.append(f"「{f.phrase}」", style="$text-error")
        if f.suggestion:
            line.append("→改说：", style="dim")
            line.append(suggestion_of(f), style="$text-primary")
    elif f.rule == "near_miss":
        line.append("△不完整", style="bold $text-warning")
        line.append(f"“{f.heard}”", style="$text-warning")
        if f.suggestion:
            line.append("→", style="dim")
            line.append(suggestion_of(f), style="$text-primary")
    elif f.type == "courtesy":
        line.append("✓ ", style="bold $text-success")
        line.append(f"{f.phrase}", style="$text-success")
    else:
        line.append(f"!{STRUCTURE_LABEL.get(f.rule, f.rule)}", style="bold $text-error" if f.severity == "violation"
                    else "bold $text-warning")
        if f.phrase and f.rule == "missed_expected":
            line.append(f"「{f.phrase}」", style="$text-warning")
        if f.suggestion:
            line.append("→", style="dim")
            line.append(suggestion_of(f), style="$text-primary")
    return line


def utterance_block(u: Utterance, findings: list[Finding], *, show_courtesies: bool = False,
                    speaker: bool = False) -> Styled:
    """An utterance with its hits highlighted, and a line under it for every problem found
    (the time goes in a column of its own: :class:`Transcript`)."""
    head = Styled()
    if speaker:
        head.append(f"{SPEAKER_LABEL.get(u.speaker, u.speaker)}：", style="bold")
    head.append_text(highlighted(u.text, findings))
    lines = [head]
    for f in findings:
        if f.type == "courtesy" and f.rule != "near_miss" and not show_courtesies:
            continue
        lines.append(finding_text(f))
    return Styled("\n").join(lines)


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
        t = Styled("音量 ")
        if self.dbfs is None:
            t.append("░" * width, style="dim")
            t.append("  --", style="dim")
        else:
            frac = min(1.0, max(0.0, (self.dbfs - FLOOR_DB) / -FLOOR_DB))
            n = round(frac * width)
            style = "$text-success" if self.dbfs < -6 else "$text-error"
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


def time_cell(at: float | None) -> Styled:
    return Styled(fmt_time(at) if at is not None else "", "dim")


class Transcript(VerticalScroll):
    """Final utterances (highlighted), each in a row with its time in a column of its own (the
    text wraps under itself: a hanging indent), and the utterance in progress at the bottom
    (the partial, with the phrases already heard in it dimly highlighted).  ``follow``: keep
    the newest line in view."""

    DEFAULT_CSS = """
    Transcript { height: 1fr; }
    Transcript .row { height: auto; }
    Transcript .ts { width: 8; height: auto; color: $text-muted; }
    Transcript .utt { width: 1fr; height: auto; }
    Transcript #partial { color: $text-muted; text-style: italic; }
    """

    follow: reactive[bool] = reactive(True)

    def __init__(self, *, placeholder: str = "", **kw):
        super().__init__(**kw)
        self.placeholder = placeholder
        self.count = 0
        self.partial_findings: list[Finding] = []

    def compose(self):
        yield Static(self.placeholder, id="placeholder", classes="placeholder")
        with Horizontal(id="partial-row", classes="row"):
            yield Static("", id="partial-ts", classes="ts")
            yield Static("", id="partial", classes="partial")

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def _scroll(self) -> None:
        if self.follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def set_partial(self, text: str, findings: list[Finding] | None = None, start: float | None = None) -> None:
        """The utterance in progress; ``findings`` are provisional (dim) until the final."""
        self.partial_findings = list(findings or []) if text else []
        partial = self.query_one("#partial", Static)
        if text:
            partial.update(Styled("… ", "italic").append(highlighted(text, self.partial_findings,
                                                                    provisional=True)))
            self.query_one("#partial-ts", Static).update(time_cell(start))
            self._drop_placeholder()
        else:
            partial.update("")
            self.query_one("#partial-ts", Static).update("")
        self._scroll()

    def _drop_placeholder(self) -> None:
        for w in self.query("#placeholder"):
            w.remove()

    def _row(self, at: float | None, body: Static) -> Horizontal:
        row = Horizontal(Static(time_cell(at), classes="ts"), body, classes="row line")
        self.mount(row, before=self.query_one("#partial-row"))
        return row

    def add(self, u: Utterance, findings: list[Finding], **kw) -> Static:
        self._drop_placeholder()
        self.count += 1
        block = Static(utterance_block(u, findings, **kw), classes="utt")
        self._row(u.start, block)
        self.set_partial("")
        return block

    def add_note(self, text: Styled | str, at: float | None = None) -> Static:
        """A line that is not an utterance (a turn divider, a pause mark)."""
        self._drop_placeholder()
        note = Static(text, classes="utt note")
        self._row(at, note)
        self._scroll()
        return note

    def clear(self) -> None:
        for w in self.query(".line"):
            w.remove()
        self.count = 0
        self.set_partial("")
