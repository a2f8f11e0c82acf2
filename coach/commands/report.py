"""``coach report``: one session, or one trainee's progress, as HTML, Markdown, CSV or JSON."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from coach.errors import CoachError
from coach.report import csv_export, html, markdown
from coach.store import add_db_argument, parse_since, store_from_args

FORMATS = ("html", "md", "csv", "json")
_SUFFIX = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".csv": "csv", ".json": "json"}


def register(sub) -> None:
    p = sub.add_parser("report", help="生成会话或学员报告（HTML / Markdown / CSV / JSON）",
                       description="coach report 会话编号 [--format html] [--out 文件]；"
                                   "或 coach report --trainee 姓名 生成学员成长报告（含得分趋势图）。")
    p.add_argument("session", nargs="?", type=int, metavar="SESSION_ID", help="会话编号（见 coach history）")
    p.add_argument("--trainee", metavar="NAME", help="学员姓名：生成该学员全部会话的成长报告")
    p.add_argument("--since", metavar="DATE", help="学员报告只含此日期之后的会话")
    p.add_argument("--format", "-F", choices=FORMATS, help="html（默认）、md、csv（Excel 可直接打开）或 json")
    p.add_argument("--out", "-o", metavar="FILE", help="输出文件（默认：html 写入当前目录，其余输出到屏幕）")
    add_db_argument(p)
    p.set_defaults(func=run)


def _format(args) -> str:
    if args.format:
        return args.format
    if args.out:
        return _SUFFIX.get(Path(args.out).suffix.lower(), "html")
    return "html"


def _safe(name: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", name).strip("_") or "trainee"


def render_session(store, session_id: int, fmt: str) -> str:
    row = store.session(session_id)
    if row is None:
        raise CoachError(f"没有编号为 {session_id} 的会话（用 coach history 查看）/ no session {session_id}")
    result = store.result(session_id)
    if fmt == "html":
        return html.session_html(result, row)
    if fmt == "md":
        return markdown.session_md(result, row)
    if fmt == "csv":
        return csv_export.session_csv(result, row)
    return json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"


def render_trainee(store, trainee: str, fmt: str, since: float | None = None) -> str:
    rows = store.sessions(trainee=trainee, since=since)
    if not rows:
        known = "、".join(n or "（空）" for n in store.trainee_names()[:10]) or "无"
        raise CoachError(f"没有学员“{trainee}”的会话（已有：{known}）/ no sessions for trainee '{trainee}'")
    stats = store.trainee_stats(trainee, since=since)
    stats = stats[0] if stats else None
    results = {r.id: store.result(r.id) for r in rows}
    if fmt == "html":
        return html.trainee_html(stats, rows, results)
    if fmt == "md":
        return markdown.trainee_md(stats, rows, results)
    if fmt == "csv":
        return csv_export.trainee_csv(rows, results)
    return json.dumps({
        "trainee": trainee,
        "summary": None if stats is None else {
            "sessions": stats.sessions, "first_score": stats.first_score, "last_score": stats.last_score,
            "mean_score": stats.mean_score, "trend": stats.trend},
        "sessions": [dict(r.to_json(), result=results[r.id].to_json()) for r in rows],
    }, ensure_ascii=False, indent=2) + "\n"


def run(args) -> int:
    if (args.session is None) == (args.trainee is None):
        raise CoachError("请给出会话编号或 --trainee 姓名（二选一）/ give SESSION_ID or --trainee NAME")
    fmt = _format(args)
    since = parse_since(args.since) if args.since else None
    with store_from_args(args) as store:
        if args.session is not None:
            text = render_session(store, args.session, fmt)
            default_name = f"coach-session-{args.session}.html"
        else:
            text = render_trainee(store, args.trainee, fmt, since)
            default_name = f"coach-trainee-{_safe(args.trainee)}.html"
    out = args.out or (default_name if fmt == "html" else None)
    if out is None:
        sys.stdout.write(text)
        return 0
    path = Path(out)
    try:
        if fmt == "csv":
            csv_export.write_csv(path, text)
        else:
            html.write(path, text)
    except OSError as exc:
        raise CoachError(f"{path}: 无法写入（{exc.strerror}）/ cannot write") from None
    print(f"已写入 {path}", file=sys.stderr)
    return 0
