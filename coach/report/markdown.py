"""Markdown reports (for wikis, issue trackers, or reading as plain text)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from coach.report.common import (KIND_LABEL, PENALTY_LABEL, SEVERITY_LABEL, SPEAKER_LABEL, STATUS_LABEL, TYPE_LABEL,
                                 by_utterance, counts, fmt_date, fmt_duration, fmt_score, fmt_time,
                                 scored, is_problem,
                                 meta_pairs, problem_label, problems, rule_label, sparkline, trend_arrow)
from coach.schema import Finding, Result


def cell(x: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return ("" if x is None else str(x)).replace("|", "\\|").replace("\n", " ")


def _mark(f: Finding) -> str:
    if f.type == "brush_off":
        return "✗"
    if f.rule == "near_miss":
        return "△"
    if f.type == "courtesy":
        return "✓"
    return "!"


def _bold_heard(text: str, findings: Sequence[Finding]) -> str:
    """Problems heard in the utterance in **bold**."""
    for f in findings:
        if is_problem(f) and f.heard and f.heard in text and f"**{f.heard}**" not in text:
            text = text.replace(f.heard, f"**{f.heard}**", 1)
    return text


def session_md(result: Result, row: Any = None) -> str:
    out = ["# 窗口文明用语评估报告", ""]
    for k, v in meta_pairs(row, result):
        out.append(f"- **{k}**：{v}")
    c = counts(result)
    out += ["", (f"**{fmt_score(None, result.outcome)}（不评分）**　" if result.no_speech
                 else f"**得分：{fmt_score(result.score)} / 100**　") + f"（文明用语 {c['courtesy']} 次 · 忌语 {c['brush_off']} 次 · "
                f"用语不完整 {c['near_miss']} 次 · 流程问题 {c['structure']} 项）", ""]

    out += ["## 问题与建议", ""]
    probs = problems(result)
    if probs:
        out += ["| 时间 | 类别 | 问题 | 程度 | 建议说法 |", "|---:|---|---|---|---|"]
        for f in probs:
            cat = "用语不完整" if f.rule == "near_miss" else TYPE_LABEL.get(f.type, f.type)
            out.append(f"| {fmt_time(f.start)} | {cat} | {cell(rule_label(f))} | "
                       f"{SEVERITY_LABEL.get(f.severity, f.severity)} | {cell(f.suggestion)} |")
    else:
        out.append("✓ 未发现服务忌语或接待流程问题。")

    out += ["", "## 对话记录", ""]
    groups = by_utterance(result)
    for i, u in enumerate(result.utterances):
        fs = groups.get(i, [])
        when = f"`{fmt_time(u.start)}–{fmt_time(u.end)}` " if u.start is not None else ""
        out.append(f"- {when}**{SPEAKER_LABEL.get(u.speaker, u.speaker)}**：{_bold_heard(u.text, fs)}")
        for f in fs:
            line = f"  - {_mark(f)} {rule_label(f)}"
            if f.suggestion and is_problem(f):
                line += f" → 建议：{f.suggestion}"
            out.append(line)
    rest = groups.get(None, [])
    if rest:
        out += ["", "整体："]
        for f in rest:
            out.append(f"- {_mark(f)} {rule_label(f)}" + (f" @{fmt_time(f.start)}" if f.start is not None else "")
                       + (f" → 建议：{f.suggestion}" if f.suggestion else ""))

    out += ["", "## 得分明细", "", "| 项目 | 分数 |", "|---|---:|", f"| 基础分 | {result.breakdown.get('base', 100)} |"]
    for key, pts in (result.breakdown.get("penalties") or {}).items():
        out.append(f"| {cell(PENALTY_LABEL.get(key, key))} | −{float(pts):g} |")
    out.append(f"| **得分** | **{fmt_score(result.score, result.outcome)}** |")
    said = result.breakdown.get("courtesies_said") or []
    if said:
        out += ["", "说到的文明用语：" + "、".join(said)]
    return "\n".join(out) + "\n"


def trainee_md(stats: Any, rows: Sequence[Any], results: dict[int, Result] | None = None) -> str:
    results = results or {}
    name = stats.trainee if stats is not None else (rows[0].trainee if rows else "")
    done = [r for r in scored(rows) if r.finished]
    out = [f"# 学员成长报告：{name or '（未填写姓名）'}", ""]
    if rows:
        out.append(f"- **时间范围**：{fmt_date(rows[0].started_at)} 至 {fmt_date(rows[-1].started_at)}")
    out.append(f"- **会话数**：{len(rows)}（已完成 {len(done)}）")
    if stats is not None and stats.sessions:
        out += [f"- **首次 / 最近 / 平均得分**：{fmt_score(stats.first_score)} / {fmt_score(stats.last_score)} / "
                f"{fmt_score(stats.mean_score)}",
                f"- **变化**：{trend_arrow(stats.trend)}　走势 `{sparkline(r.score for r in done)}`"]
    if stats is not None and stats.top_violations:
        out += ["", "## 最常见的问题", "", "| 问题 | 次数 |", "|---|---:|"]
        out += [f"| {cell(problem_label(k))} | {n} |" for k, n in stats.top_violations]
    out += ["", "## 全部会话", "", "| 编号 | 时间 | 类型 | 情景/文件 | 时长 | 得分 | 忌语 | 流程 | 问题 |",
            "|---:|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        res = results.get(r.id)
        probs = "、".join(rule_label(f) for f in problems(res)) if res is not None else ""
        what = r.scenario or (Path(r.source_file).name if r.source_file else "")
        score = fmt_score(r.score, r.outcome) + ("" if r.finished else "（未完成）")
        out.append(f"| {r.id} | {fmt_date(r.started_at)} | {KIND_LABEL.get(r.kind, r.kind)} | {cell(what)} | "
                   f"{fmt_duration(r.duration_s)} | {score} | {r.n_brush_off} | {r.n_structure} | {cell(probs)} |")
    return "\n".join(out) + "\n"


def index_md(entries: Sequence[Any], *, title: str = "录音批量复核", source: str | None = None,
             db: str | None = None) -> str:
    with_score = scored(entries)
    mean = round(sum(e.score for e in with_score) / len(with_score), 1) if with_score else None
    out = [f"# {title}", ""]
    if source:
        out.append(f"- **目录**：{source}")
    out += [f"- **生成时间**：{fmt_date(datetime.now().timestamp())}",
            f"- **文件**：{len(entries)} 个（本次分析 {sum(e.status == 'analysed' for e in entries)}，"
            f"跳过 {sum(e.status == 'skipped' for e in entries)}，失败 {sum(e.status == 'failed' for e in entries)}）",
            f"- **平均得分**：{fmt_score(mean)}　**违规总数**：{sum(e.violations for e in entries)}"]
    if db:
        out.append(f"- **会话数据库**：{db}")
    out += ["", "| 文件 | 状态 | 时长 | 得分 | 文明用语 | 违规 | 问题 | 会话 |", "|---|---|---:|---:|---:|---:|---|---:|"]
    for e in sorted(entries, key=lambda e: e.file):
        name = f"[{cell(e.file)}]({e.link})" if e.link else cell(e.file)
        detail = e.error if e.status == "failed" else "、".join(label for label, _ in e.problems) or "无问题"
        detail = ("录音不完整；" if e.truncated else "") + (detail or "") + (f"（{e.note}）" if e.note else "")
        out.append(f"| {name} | {STATUS_LABEL.get(e.status, e.status)} | {fmt_duration(e.duration_s)} | "
                   f"{fmt_score(e.score, e.outcome)} | {e.courtesies} | {e.violations} | {cell(detail)} | {e.session_id or ''} |")
    return "\n".join(out) + "\n"
