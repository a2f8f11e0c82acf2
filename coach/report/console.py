"""Print a :class:`~coach.schema.Result` to the terminal in colour (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from coach.schema import NO_SPEECH_LABEL, SPEAKER_LABEL, Finding, Result

STRUCTURE_LABEL = {
    "missing_greeting": "缺少问候",
    "missing_farewell": "缺少送别",
    "unannounced_hold": "等待前未说“请稍等”",
    "no_apology_after_wait": "等待后未致歉",
    "referral_without_place": "转办未指明具体窗口",
    "too_fast": "语速过快",
    "missed_expected": "本轮应说未说",
}


def verdict(score: float | None, outcome: str | None = "scored") -> str:
    """A score as shown everywhere: the number, "未检测到讲话" for no speech, "—" for none."""
    if outcome == "no_speech":
        return NO_SPEECH_LABEL
    if score is None or score != score:  # None or NaN
        return "—"
    return f"{score:g}"


def fmt_time(t: float | None) -> str:
    if t is None:
        return ""
    m, s = divmod(t, 60)
    return f"{int(m):02d}:{s:04.1f}"


def finding_line(f: Finding) -> Text:
    """One finding as a coloured line (shared by the CLI and the reports)."""
    line = Text("  ")
    if f.type == "brush_off":
        line.append("✗ 忌语 ", style="bold red")
        line.append(f"「{f.phrase}」", style="red")
        if f.heard and f.heard != f.phrase:
            line.append(f" 听到“{f.heard}”", style="red dim")
    elif f.rule == "near_miss":
        line.append("△ 不完整 ", style="bold yellow")
        line.append(f"“{f.heard}”", style="yellow")
    elif f.type == "courtesy":
        line.append("✓ 文明用语 ", style="bold green")
        line.append(f"「{f.phrase}」", style="green")
        if f.heard and f.heard != f.phrase:
            line.append(f" 听到“{f.heard}”", style="green dim")
    else:
        style = "bold red" if f.severity == "violation" else "bold yellow"
        line.append(f"! {STRUCTURE_LABEL.get(f.rule, f.rule)}", style=style)
        if f.start is not None:
            line.append(f" @{fmt_time(f.start)}", style="dim")
    if f.suggestion:
        line.append("  → ", style="dim")
        line.append(f.suggestion, style="cyan")
    return line


def print_result(result: Result, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    if result.file:
        console.print(Text(f"{result.file}", style="bold"))  # rich's Text drops control characters
    by_utt: dict[int | None, list[Finding]] = {}
    for f in result.findings:
        by_utt.setdefault(f.utterance, []).append(f)
    for i, u in enumerate(result.utterances):
        head = Text()
        if u.start is not None:
            head.append(f"[{fmt_time(u.start)}-{fmt_time(u.end)}] ", style="dim")
        dim = u.speaker == "background"     # heard, judged by nobody
        head.append(f"{SPEAKER_LABEL.get(u.speaker, u.speaker)}：", style="dim" if dim else "bold")
        head.append(u.text, style="dim" if dim else "")
        console.print(head)
        for f in by_utt.get(i, []):
            console.print(finding_line(f))
    for f in by_utt.get(None, []):
        console.print(finding_line(f))
    counts = result.breakdown.get("counts", {})
    if result.no_speech:
        summary = Text(f"{NO_SPEECH_LABEL}（不评分）", style="bold yellow")
    else:
        summary = Text(f"得分 {verdict(result.score)}/100", style="bold")
    if result.truncated:
        summary.append("  录音不完整（只分析了能读到的部分）", style="yellow")
    summary.append(f"   文明用语 {counts.get('courtesy', 0)} 次 · 忌语 {counts.get('brush_off', 0)} 次 · "
                   f"结构问题 {counts.get('structure', 0)} 项", style="dim")
    console.print(summary)
