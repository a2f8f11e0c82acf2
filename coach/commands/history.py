"""``coach history`` (past sessions and scores) and ``coach trainees`` (progress per trainee)."""

from __future__ import annotations

import json
from datetime import datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from coach.report.common import (KIND_LABEL, fmt_date, fmt_score, problem_label, sparkline,
                                 trend_arrow)
from coach.store import add_db_argument, parse_since, store_from_args


def register(sub) -> None:
    p = sub.add_parser("history", help="查看历史会话及得分",
                       description="列出会话数据库中的练习、自检和录音复核记录。")
    p.add_argument("--trainee", metavar="NAME", help="只看这位学员")
    p.add_argument("--since", metavar="DATE", help="只看此日期之后（如 2024-05-01，或 7d 表示最近 7 天）")
    p.add_argument("--kind", choices=sorted(KIND_LABEL), help="只看这种会话（practice/live/review）")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="最多显示最近 N 条（默认 50；0 为全部）")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    add_db_argument(p)
    p.set_defaults(func=run_history)

    t = sub.add_parser("trainees", help="每位学员的得分走势和常见问题",
                       description="按学员汇总：首次/最近/平均得分、变化趋势、最常见的问题。")
    t.add_argument("--since", metavar="DATE", help="只统计此日期之后的会话")
    t.add_argument("--json", action="store_true", help="输出 JSON")
    add_db_argument(t)
    t.set_defaults(func=run_trainees)


def _score_text(score, outcome: str = "scored") -> Text:
    s = fmt_score(score, outcome)
    if outcome == "no_speech":
        return Text(s, style="yellow")
    if s == "—":
        return Text(s, style="dim")
    style = "bold green" if score >= 90 else "bold yellow" if score >= 70 else "bold red"
    return Text(s, style=style)


def _mmss(s: float | None) -> str:
    if s is None:
        return ""
    m, sec = divmod(int(round(s)), 60)
    return f"{m}:{sec:02d}"


def run_history(args) -> int:
    since = parse_since(args.since) if args.since else None
    with store_from_args(args) as store:
        rows = store.sessions(trainee=args.trainee, since=since, kind=args.kind, limit=args.limit or None)
        path = store.path
    if args.json:
        print(json.dumps([dict(r.to_json(), verdict=fmt_score(r.score, r.outcome), courtesies=r.n_courtesy, brush_offs=r.n_brush_off,
                               violations=r.n_violation, structure=r.n_structure) for r in rows],
                         ensure_ascii=False, indent=2))
        return 0
    console = Console(highlight=False)
    if not rows:
        console.print(f"没有找到会话记录（数据库：{path}）。")
        return 0
    table = Table(title=f"历史会话（{len(rows)} 条）", caption=f"数据库：{path}", caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    nw = {"no_wrap": True}
    num = {"justify": "right", "no_wrap": True}
    for col, kw in (("#", num), ("时间", nw), ("学员", {"min_width": 4}), ("类型", nw),
                    ("情景/文件", {"overflow": "fold", "ratio": 1, "min_width": 14}),
                    ("时长", num), ("得分", num), ("忌语", num), ("流程", num), ("文明", num)):
        table.add_column(col, **kw)
    year = str(datetime.now().year)
    for r in rows:
        what = r.scenario or (r.name if r.source_file else "")
        score = _score_text(r.score, r.outcome)
        if r.truncated:
            score.append(" 不完整", style="yellow")
        if not r.finished:
            score = Text("未完成", style="yellow")
        when = fmt_date(r.started_at)
        when = when[5:] if when.startswith(year) else when
        table.add_row(str(r.id), when, r.trainee or "—", KIND_LABEL.get(r.kind, r.kind), what,
                      _mmss(r.duration_s), score,
                      Text(str(r.n_brush_off), style="red" if r.n_brush_off else ""),
                      Text(str(r.n_structure), style="yellow" if r.n_structure else ""), str(r.n_courtesy))
    console.print(table)
    return 0


def run_trainees(args) -> int:
    since = parse_since(args.since) if args.since else None
    with store_from_args(args) as store:
        stats = store.trainee_stats(since=since)
        path = store.path
    if args.json:
        print(json.dumps([{"trainee": s.trainee, "sessions": s.sessions, "first_score": s.first_score,
                           "last_score": s.last_score, "mean_score": s.mean_score, "trend": s.trend,
                           "scores": s.scores,
                           "top_problems": [{"problem": problem_label(k), "key": k, "count": n}
                                            for k, n in s.top_violations]} for s in stats],
                         ensure_ascii=False, indent=2))
        return 0
    console = Console(highlight=False)
    if not stats:
        console.print(f"还没有学员记录（数据库：{path}）。")
        return 0
    table = Table(title="学员得分走势", caption=f"数据库：{path}", caption_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for col, kw in (("学员", {}), ("会话", {"justify": "right"}), ("首次", {"justify": "right"}),
                    ("最近", {"justify": "right"}), ("平均", {"justify": "right"}), ("变化", {}),
                    ("走势", {}), ("常见问题", {"overflow": "fold"})):
        table.add_column(col, **kw)
    for s in stats:
        arrow = trend_arrow(s.trend)
        style = "green" if arrow.startswith("↑") else "red" if arrow.startswith("↓") else "dim"
        last = fmt_date(s.last_at) if s.last_at else ""
        problems = "、".join(f"{problem_label(k)}×{n}" for k, n in s.top_violations) or "—"
        table.add_row(s.trainee or "（未填写）", str(s.sessions), _score_text(s.first_score), _score_text(s.last_score),
                      _score_text(s.mean_score), Text(arrow, style=style),
                      Text(sparkline(s.scores[-20:]), style="cyan") if s.scores else "",
                      Text(problems).append(f"\n最近：{last}" if last else "", style="dim"))
    console.print(table)
    return 0
