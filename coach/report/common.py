"""What the file reports (HTML, Markdown, CSV) share: labels, grouping, small formatters.

Labels come from :mod:`coach.report.console` so that the terminal and the files say the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from coach.report.console import SPEAKER_LABEL, STRUCTURE_LABEL, finding_line, fmt_time, verdict
from coach.schema import Finding, Result

KIND_LABEL = {"practice": "情景练习", "live": "实时自检", "review": "录音复核"}
TYPE_LABEL = {"courtesy": "文明用语", "brush_off": "服务忌语", "structure": "接待流程"}
SEVERITY_LABEL = {"info": "提示", "warning": "注意", "violation": "违规"}
PENALTY_LABEL = {
    "brush_off_violation": "服务忌语（严重）",
    "brush_off_warning": "服务忌语（一般）",
    "near_miss": "用语不完整",
    **STRUCTURE_LABEL,
}
SPARK = "▁▂▃▄▅▆▇█"

__all__ = ["IndexEntry", "STATUS_LABEL", "index_entry", "meta_pairs", "KIND_LABEL", "TYPE_LABEL", "SEVERITY_LABEL", "PENALTY_LABEL", "SPEAKER_LABEL", "STRUCTURE_LABEL",
           "fmt_time", "finding_text", "problem_label", "is_problem", "problems", "by_utterance",
           "fmt_date", "fmt_score", "scored", "verdict", "fmt_duration", "sparkline", "trend_arrow", "rule_label", "counts"]


@dataclass
class IndexEntry:
    """One file of a batch review, as the index report lists it."""

    file: str
    status: str                       # "analysed" | "skipped" (already in the store) | "failed"
    session_id: int | None = None
    score: float | None = None
    duration_s: float | None = None
    courtesies: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)   # (label, severity)
    error: str | None = None
    link: str | None = None           # relative path of the file's own report
    outcome: str = "scored"           # "no_speech": no score, shown as 未检测到讲话
    truncated: bool = False
    note: str | None = None           # e.g. not saved to the store

    @property
    def violations(self) -> int:
        return sum(1 for _, sev in self.problems if sev == "violation")


STATUS_LABEL = {"analysed": "已分析", "skipped": "已跳过（此前已分析）", "failed": "失败"}


def index_entry(file: str, status: str, result: Result | None = None, *, session_id: int | None = None,
                error: str | None = None, link: str | None = None) -> IndexEntry:
    e = IndexEntry(file=file, status=status, session_id=session_id, error=error, link=link)
    if result is not None:
        e.outcome, e.truncated = result.outcome, result.truncated
        e.score = None if result.no_speech else result.score
        e.duration_s = result.duration_s
        e.courtesies = counts(result)["courtesy"]
        e.problems = [(rule_label(f), f.severity) for f in problems(result)]
    return e


def finding_text(f: Finding) -> str:
    """One finding as plain text, exactly as the terminal shows it (without colour)."""
    return finding_line(f).plain.strip()


def rule_label(f: Finding) -> str:
    """Short name of what a finding is about."""
    if f.type == "brush_off":
        return f"忌语「{f.phrase}」"
    if f.rule == "near_miss":
        return f"不完整“{f.heard}”（应为「{f.phrase}」）" if f.phrase else f"不完整“{f.heard}”"
    if f.type == "courtesy":
        return f"文明用语「{f.phrase}」"
    return STRUCTURE_LABEL.get(f.rule, f.rule)


def problem_label(key: str) -> str:
    """A key of :attr:`TraineeStats.top_violations` in words."""
    if key.startswith("brush_off:"):
        return f"忌语「{key.split(':', 1)[1]}」"
    if key.startswith("near_miss:"):
        return f"不完整“{key.split(':', 1)[1]}”"
    return STRUCTURE_LABEL.get(key, key)


def is_problem(f: Finding) -> bool:
    """Everything but a credited courtesy (and not the citizen's words)."""
    return f.speaker != "citizen" and (f.type != "courtesy" or f.rule == "near_miss")


def problems(result: Result) -> list[Finding]:
    return [f for f in result.findings if is_problem(f)]


def counts(result: Result) -> dict[str, int]:
    c = result.breakdown.get("counts") or {}
    if c:
        return {k: int(c.get(k, 0)) for k in ("courtesy", "brush_off", "near_miss", "structure")}
    out = {"courtesy": 0, "brush_off": 0, "near_miss": 0, "structure": 0}
    for f in result.findings:
        key = "near_miss" if f.rule == "near_miss" else f.type
        out[key] = out.get(key, 0) + 1
    return out


def by_utterance(result: Result) -> dict[int | None, list[Finding]]:
    out: dict[int | None, list[Finding]] = {}
    for f in result.findings:
        idx = f.utterance if f.utterance is not None and 0 <= f.utterance < len(result.utterances) else None
        out.setdefault(idx, []).append(f)
    return out


def fmt_date(ts: float | None, *, seconds: bool = False) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_score(score: float | None, outcome: str | None = "scored") -> str:
    return verdict(score, outcome)


def scored(items: Iterable[Any]) -> list[Any]:
    """Rows / results / index entries that have a score (no-speech and unscored ones left out)."""
    return [x for x in items if getattr(x, "outcome", "scored") != "no_speech" and x.score is not None
            and not (isinstance(x.score, float) and math.isnan(x.score))]


def fmt_duration(s: float | None) -> str:
    if s is None:
        return ""
    m, sec = divmod(int(round(s)), 60)
    return f"{m}分{sec:02d}秒" if m else f"{sec}秒"


def sparkline(scores: Iterable[float], lo: float = 0.0, hi: float = 100.0) -> str:
    out = []
    for s in scores:
        x = (min(max(s, lo), hi) - lo) / (hi - lo or 1)
        out.append(SPARK[min(int(x * len(SPARK)), len(SPARK) - 1)])
    return "".join(out)


def trend_arrow(delta: float | None) -> str:
    if delta is None:
        return "—"
    if delta > 2:
        return f"↑ +{delta:g}"
    if delta < -2:
        return f"↓ {delta:g}"
    return f"→ {delta:+g}"


def meta_pairs(row: Any, result: Result) -> list[tuple[str, str]]:
    """(label, value) lines describing a session, for report headers."""
    pairs: list[tuple[str, str]] = []
    if row is not None:
        pairs.append(("会话编号", str(row.id)))
        if row.trainee:
            pairs.append(("学员", row.trainee))
        pairs.append(("类型", KIND_LABEL.get(row.kind, row.kind)))
        if row.scenario:
            pairs.append(("情景", row.scenario))
        pairs.append(("时间", fmt_date(row.started_at)))
        if not row.finished:
            pairs.append(("状态", "未完成（中途中断）"))
    if result.no_speech:
        pairs.append(("结果", "未检测到讲话（不评分）"))
    if result.truncated:
        pairs.append(("录音", "不完整（文件提前结束，只分析了能读到的部分）"))
    if result.file:
        pairs.append(("文件", str(result.file)))
    if result.duration_s is not None:
        pairs.append(("时长", fmt_duration(result.duration_s)))
    engine = result.engine or (row.engine if row is not None else None)
    model = (row.model if row is not None else None) or result.extra.get("model")
    if engine or model:
        pairs.append(("识别引擎", " / ".join(x for x in (engine, model) if x)))
    return pairs
