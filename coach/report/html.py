"""Self-contained HTML reports: one session, one trainee's progress, a batch index.

Everything is inline (CSS in ``<style>``, charts as ``<svg>``): the file opens offline, can be
mailed or printed, and loads nothing from the network.
"""

from __future__ import annotations

import html
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from coach import __version__
from coach.report.common import (KIND_LABEL, PENALTY_LABEL, SEVERITY_LABEL, SPEAKER_LABEL, TYPE_LABEL,
                                 by_utterance, counts, finding_text, fmt_date, fmt_duration, fmt_score, scored,
                                 fmt_time, is_problem, meta_pairs, problem_label, problems, rule_label,
                                 trend_arrow)
from coach.schema import Finding, Result

CSS = r"""
/* coach report: self-contained (inlined into every HTML report), print-friendly. */
:root {
  --ink: #1f2933; --muted: #66788a; --line: #d9e2ec; --bg: #f5f7fa; --card: #ffffff;
  --good: #1e8449; --good-bg: #e8f6ee; --warn: #b9770e; --warn-bg: #fdf3e1;
  --bad: #c0392b; --bad-bg: #fbeaea; --clerk: #2e86c1; --citizen: #95a5a6; --accent: #1a5276;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.6 "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
        "Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif;
}
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
header.top { display: flex; gap: 24px; align-items: center; justify-content: space-between;
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; }
h1 { font-size: 22px; margin: 0 0 6px; color: var(--accent); }
h2 { font-size: 17px; margin: 28px 0 10px; padding-left: 10px; border-left: 4px solid var(--accent); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; font-size: 14px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; word-break: break-all; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
.grid { display: grid; grid-template-columns: 240px 1fr; gap: 16px; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.stat .v { font-size: 26px; font-weight: 700; }
.stat .k { color: var(--muted); font-size: 13px; }
table { width: 100%; border-collapse: collapse; background: var(--card); font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef2f7; font-weight: 600; white-space: nowrap; }
td.nw { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.score-good { color: var(--good); } .score-warn { color: var(--warn); } .score-bad { color: var(--bad); }
.tag { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; line-height: 20px;
  margin: 1px 3px 1px 0; white-space: nowrap; }
.tag.violation { background: var(--bad-bg); color: var(--bad); }
.tag.warning { background: var(--warn-bg); color: var(--warn); }
.tag.info, .tag.courtesy { background: var(--good-bg); color: var(--good); }
.tag.skipped { background: #eef2f7; color: var(--muted); }
.utt { display: grid; grid-template-columns: 118px 52px 1fr; gap: 8px; padding: 8px 12px;
  border-bottom: 1px solid var(--line); background: var(--card); }
.utt:first-child { border-radius: 10px 10px 0 0; } .utt:last-child { border-radius: 0 0 10px 10px; border-bottom: 0; }
.utt .t { color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; padding-top: 2px; }
.who { font-size: 12px; border-radius: 4px; text-align: center; height: 22px; line-height: 22px; margin-top: 1px; color: #fff; }
.who.clerk, .who.unknown { background: var(--clerk); } .who.citizen { background: var(--citizen); }
.utt.citizen .text, .utt.background .text { color: #52606d; }
.who.background { background: transparent; color: var(--muted); border: 1px dashed var(--line); }
mark { border-radius: 3px; padding: 0 2px; }
mark.courtesy { background: var(--good-bg); color: var(--good); box-shadow: inset 0 -2px 0 var(--good); }
mark.brush_off { background: var(--bad-bg); color: var(--bad); box-shadow: inset 0 -2px 0 var(--bad); font-weight: 600; }
mark.brush_off.warning { background: var(--warn-bg); color: var(--warn); box-shadow: inset 0 -2px 0 var(--warn); }
mark.near_miss { background: var(--warn-bg); color: var(--warn); box-shadow: inset 0 -2px 0 var(--warn); }
ul.fx { list-style: none; margin: 4px 0 0; padding: 0; font-size: 13px; }
ul.fx li { margin: 2px 0; }
ul.fx li.violation { color: var(--bad); } ul.fx li.warning { color: var(--warn); } ul.fx li.info { color: var(--good); }
.sugg { color: #117a8b; } .sugg::before { content: "→ 建议："; color: var(--muted); }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 13px; color: var(--muted); margin-top: 6px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
svg text { font-family: inherit; }
.muted { color: var(--muted); } .small { font-size: 13px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; text-align: center; }
a { color: var(--accent); }
@media print { body { background: #fff; } .card, .stat, header.top { break-inside: avoid; } }
"""


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def score_class(score: float | None) -> str:
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return ""
    return "score-good" if score >= 90 else "score-warn" if score >= 70 else "score-bad"


_SCORE_COLOUR = {"score-good": "#1e8449", "score-warn": "#b9770e", "score-bad": "#c0392b", "": "#66788a"}
_SEV_COLOUR = {"violation": "#c0392b", "warning": "#d68910", "info": "#1e8449"}


def page(title: str, body: str) -> str:
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # Nothing may be fetched: the report is for offline use and may contain personal data.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
        f"<footer>由 coach {esc(__version__)} 离线生成 · {stamp} · 本报告不加载任何外部资源</footer>\n"
        "</main>\n</body>\n</html>\n")


def _meta_dl(pairs: Sequence[tuple[str, str]]) -> str:
    return "<dl class=\"meta\">" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"


def score_ring(score: float | None, size: int = 140, outcome: str | None = "scored") -> str:
    if outcome == "no_speech":
        return (f"<svg class=\"ring\" viewBox=\"0 0 140 140\" width=\"{size}\" height=\"{size}\" role=\"img\" "
                f"aria-label=\"{esc(fmt_score(None, outcome))}\">"
                "<circle cx=\"70\" cy=\"70\" r=\"52\" fill=\"none\" stroke=\"#e4e9f0\" stroke-width=\"14\"/>"
                "<text x=\"70\" y=\"76\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"700\" "
                f"fill=\"#66788a\">{esc(fmt_score(None, outcome))}</text>"
                "<text x=\"70\" y=\"98\" text-anchor=\"middle\" font-size=\"12\" fill=\"#66788a\">不评分</text></svg>")
    cls = score_class(score)
    colour = _SCORE_COLOUR[cls]
    circ = 2 * math.pi * 52
    frac = 0.0 if cls == "" else max(0.0, min(1.0, float(score) / 100))
    return (
        f"<svg class=\"ring\" viewBox=\"0 0 140 140\" width=\"{size}\" height=\"{size}\" role=\"img\" "
        f"aria-label=\"得分 {esc(fmt_score(score))}\">"
        "<circle cx=\"70\" cy=\"70\" r=\"52\" fill=\"none\" stroke=\"#e4e9f0\" stroke-width=\"14\"/>"
        + (f"<circle cx=\"70\" cy=\"70\" r=\"52\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"14\" "
           f"stroke-linecap=\"round\" stroke-dasharray=\"{circ * frac:.1f} {circ:.1f}\" "
           "transform=\"rotate(-90 70 70)\"/>" if frac > 0 else "")
        + f"<text x=\"70\" y=\"78\" text-anchor=\"middle\" font-size=\"34\" font-weight=\"700\" fill=\"{colour}\">"
        f"{esc(fmt_score(score))}</text>"
        "<text x=\"70\" y=\"100\" text-anchor=\"middle\" font-size=\"12\" fill=\"#66788a\">满分 100</text></svg>")


def breakdown_table(result: Result) -> str:
    b = result.breakdown or {}
    rows = [f"<tr><td>基础分</td><td class=\"num\">{esc(b.get('base', 100))}</td></tr>"]
    for key, pts in (b.get("penalties") or {}).items():
        rows.append(f"<tr><td>{esc(PENALTY_LABEL.get(key, key))}</td>"
                    f"<td class=\"num score-bad\">−{float(pts):g}</td></tr>")
    if b.get("recovered") or b.get("provisional"):
        rows.append("<tr><td colspan=\"2\" class=\"muted small\">此会话曾中断，得分按中断前保存的内容计算"
                    + ("（暂定，未检查接待流程）" if b.get("provisional") else "") + "</td></tr>")
    rows.append(f"<tr><th>得分</th><th class=\"num {score_class(result.score)}\">"
                f"{esc(fmt_score(result.score, result.outcome))}</th></tr>")
    c = counts(result)
    said = b.get("courtesies_said") or []
    note = (f"文明用语 {c['courtesy']} 次 · 忌语 {c['brush_off']} 次 · 用语不完整 {c['near_miss']} 次 · "
            f"流程问题 {c['structure']} 项")
    tags = "".join(f"<span class=\"tag courtesy\">{esc(p)}</span>" for p in said)
    return (f"<table class=\"breakdown\"><tbody>{''.join(rows)}</tbody></table>"
            f"<p class=\"small muted\">{esc(note)}</p>" + (f"<div>{tags}</div>" if tags else ""))


# --------------------------------------------------------------------------- timeline

def _mmss(t: float) -> str:
    m, s = divmod(int(round(t)), 60)
    return f"{m}:{s:02d}"


def _tick_step(total: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if total / step <= 12:
            return step
    return 7200


def timeline_svg(result: Result) -> str:
    """Lanes for the clerk and the citizen, findings as markers above, holds as shaded spans."""
    ends = [u.end for u in result.utterances if u.end is not None]
    ends += [f.end for f in result.findings if f.end is not None]
    total = max([result.duration_s or 0.0, *ends, 1.0])
    W, left, right = 960, 56, 16
    pw = W - left - right
    lanes = {"clerk": 36, "citizen": 68}
    H = 124

    def x(t: float) -> float:
        return left + max(0.0, min(t, total)) / total * pw

    out = [f"<svg class=\"timeline\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" "
           "aria-label=\"时间轴\">"]
    for who, y in lanes.items():
        out.append(f"<rect x=\"{left}\" y=\"{y}\" width=\"{pw}\" height=\"24\" fill=\"#f0f3f7\" rx=\"3\"/>")
        out.append(f"<text x=\"{left - 8}\" y=\"{y + 17}\" text-anchor=\"end\" font-size=\"13\" fill=\"#52606d\">"
                   f"{SPEAKER_LABEL[who]}</text>")
    # Spans of session-level problems (e.g. a hold without 请稍等).
    for f in result.findings:
        if f.type == "structure" and f.start is not None and f.end is not None and f.utterance is None \
                and f.end - f.start >= 1.0:
            out.append(f"<rect x=\"{x(f.start):.1f}\" y=\"30\" width=\"{max(x(f.end) - x(f.start), 2):.1f}\" "
                       f"height=\"68\" fill=\"{_SEV_COLOUR.get(f.severity, '#c0392b')}\" fill-opacity=\"0.13\">"
                       f"<title>{esc(finding_text(f))}</title></rect>")
    for u in result.utterances:
        if u.start is None or u.end is None or u.speaker == "background":
            continue    # background speech has no lane: it is neither party's (listed below, dim)
        who = "citizen" if u.speaker == "citizen" else "clerk"
        colour = "#95a5a6" if who == "citizen" else "#2e86c1"
        out.append(f"<rect x=\"{x(u.start):.1f}\" y=\"{lanes[who] + 3}\" width=\"{max(x(u.end) - x(u.start), 2):.1f}\" "
                   f"height=\"18\" rx=\"3\" fill=\"{colour}\"><title>[{fmt_time(u.start)}] "
                   f"{esc(SPEAKER_LABEL.get(u.speaker, u.speaker))}：{esc(u.text)}</title></rect>")
    # Markers: problems as red/amber triangles, courtesies as green dots.
    for f in result.findings:
        if f.start is None or f.speaker == "citizen":
            continue
        cx = x(f.start)
        tip = esc(f"[{fmt_time(f.start)}] {finding_text(f)}")
        if is_problem(f):
            colour = _SEV_COLOUR.get(f.severity, "#c0392b")
            out.append(f"<path d=\"M{cx - 6:.1f},8 L{cx + 6:.1f},8 L{cx:.1f},20 Z\" fill=\"{colour}\">"
                       f"<title>{tip}</title></path>")
        else:
            out.append(f"<circle cx=\"{cx:.1f}\" cy=\"14\" r=\"5\" fill=\"#1e8449\"><title>{tip}</title></circle>")
    out.append(f"<line x1=\"{left}\" y1=\"100\" x2=\"{left + pw}\" y2=\"100\" stroke=\"#9aa5b1\"/>")
    step = _tick_step(total)
    t = 0.0
    while t <= total + 1e-6:
        out.append(f"<line x1=\"{x(t):.1f}\" y1=\"100\" x2=\"{x(t):.1f}\" y2=\"105\" stroke=\"#9aa5b1\"/>"
                   f"<text x=\"{x(t):.1f}\" y=\"118\" text-anchor=\"middle\" font-size=\"11\" fill=\"#66788a\">"
                   f"{_mmss(t)}</text>")
        t += step
    out.append("</svg>")
    legend = ("<div class=\"legend\"><span><i style=\"background:#2e86c1\"></i>窗口人员说话</span>"
              "<span><i style=\"background:#95a5a6\"></i>群众说话</span>"
              "<span><i style=\"background:#1e8449;border-radius:6px\"></i>文明用语</span>"
              "<span><i style=\"background:#c0392b\"></i>违规</span>"
              "<span><i style=\"background:#d68910\"></i>注意</span>"
              "<span><i style=\"background:#c0392b;opacity:.2\"></i>等待/流程问题区间</span></div>")
    return "".join(out) + legend


# --------------------------------------------------------------------------- transcript

def _locate(text: str, heard: str, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Where ``heard`` is in ``text`` (exactly, else ignoring punctuation/spaces), not overlapping ``taken``."""
    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    pos = text.find(heard)
    while pos >= 0:
        if free(pos, pos + len(heard)):
            return pos, pos + len(heard)
        pos = text.find(heard, pos + 1)
    keep = [i for i, ch in enumerate(text) if ch.isalnum()]
    stripped = "".join(text[i] for i in keep)
    needle = "".join(ch for ch in heard if ch.isalnum())
    if not needle:
        return None
    pos = stripped.find(needle)
    while pos >= 0:
        a, b = keep[pos], keep[pos + len(needle) - 1] + 1
        if free(a, b):
            return a, b
        pos = stripped.find(needle, pos + 1)
    return None


def _mark_class(f: Finding) -> str:
    return "near_miss" if f.rule == "near_miss" else f.type


def highlight(text: str, findings: Iterable[Finding]) -> str:
    """The utterance as HTML, with the words the findings are about marked in colour."""
    spans: list[tuple[int, int, Finding]] = []
    order = {"brush_off": 0, "near_miss": 1, "courtesy": 2}
    for f in sorted((f for f in findings if f.heard and f.type in ("brush_off", "courtesy")),
                    key=lambda f: order[_mark_class(f)]):
        where = _locate(text, f.heard, [(a, b) for a, b, _ in spans])
        if where:
            spans.append((*where, f))
    spans.sort(key=lambda s: s[0])
    out, pos = [], 0
    for a, b, f in spans:
        out.append(esc(text[pos:a]))
        cls = _mark_class(f) + (" warning" if f.type == "brush_off" and f.severity == "warning" else "")
        out.append(f"<mark class=\"{cls}\" title=\"{esc(finding_text(f))}\">{esc(text[a:b])}</mark>")
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def _finding_li(f: Finding) -> str:
    if f.type == "brush_off":
        head = f"✗ {rule_label(f)}"
    elif f.rule == "near_miss":
        head = f"△ {rule_label(f)}"
    elif f.type == "courtesy":
        head = f"✓ {rule_label(f)}"
    else:
        head = f"! {rule_label(f)}" + (f" @{fmt_time(f.start)}" if f.start is not None else "")
    sugg = f" <span class=\"sugg\">{esc(f.suggestion)}</span>" if f.suggestion and is_problem(f) else ""
    return f"<li class=\"{esc(f.severity)}\">{esc(head)}{sugg}</li>"


def transcript_html(result: Result) -> str:
    groups = by_utterance(result)
    rows = []
    for i, u in enumerate(result.utterances):
        fs = groups.get(i, [])
        when = f"{fmt_time(u.start)}–{fmt_time(u.end)}" if u.start is not None else ""
        items = "".join(_finding_li(f) for f in fs)
        rows.append(
            f"<div class=\"utt {esc(u.speaker)}\"><div class=\"t\">{esc(when)}</div>"
            f"<div class=\"who {esc(u.speaker)}\">{esc(SPEAKER_LABEL.get(u.speaker, u.speaker))}</div>"
            f"<div><div class=\"text\">{highlight(u.text, fs)}</div>"
            + (f"<ul class=\"fx\">{items}</ul>" if items else "") + "</div></div>")
    if not rows:
        return "<p class=\"muted\">（没有识别到语音）</p>"
    return "<div class=\"transcript\">" + "".join(rows) + "</div>"


def findings_table(result: Result) -> str:
    rows = []
    for f in problems(result):
        when = fmt_time(f.start) if f.start is not None else ""
        cat = "用语不完整" if f.rule == "near_miss" else TYPE_LABEL.get(f.type, f.type)
        rows.append(
            f"<tr><td class=\"num\">{esc(when)}</td><td>{esc(cat)}</td><td>{esc(rule_label(f))}"
            + (f"<div class=\"small muted\">听到：“{esc(f.heard)}”</div>" if f.heard and f.heard != f.phrase
               and f.rule != "near_miss" else "")
            + f"</td><td><span class=\"tag {esc(f.severity)}\">{esc(SEVERITY_LABEL.get(f.severity, f.severity))}"
            f"</span></td><td>{esc(f.suggestion or '')}</td></tr>")
    if not rows:
        return "<p class=\"card score-good\">✓ 未发现服务忌语或接待流程问题。</p>"
    return ("<table class=\"findings\"><thead><tr><th class=\"num\">时间</th><th>类别</th><th>问题</th>"
            "<th>程度</th><th>建议说法</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def session_body(result: Result, row: Any = None, *, heading: str = "窗口文明用语评估报告") -> str:
    return (
        f"<header class=\"top\"><div><h1>{esc(heading)}</h1>{_meta_dl(meta_pairs(row, result))}</div>"
        f"{score_ring(result.score, outcome=result.outcome)}</header>"
        "<h2>时间轴</h2><div class=\"card\">" + timeline_svg(result) + "</div>"
        "<h2>问题与建议</h2>" + findings_table(result)
        + "<h2>对话记录</h2>" + transcript_html(result)
        + "<h2>得分明细</h2><div class=\"card\">" + breakdown_table(result) + "</div>")


def session_html(result: Result, row: Any = None) -> str:
    """One session: header, score, timeline, findings with suggestions, coloured transcript, breakdown."""
    name = (row.trainee if row is not None and row.trainee else None) or (
        Path(result.file).name if result.file else "会话")
    return page(f"文明用语评估 · {name}", session_body(result, row))


# --------------------------------------------------------------------------- trainee

def trend_svg(points: Sequence[tuple[float, float]], mean: float | None = None) -> str:
    """Score (0–100) per session over time: ``points`` are (timestamp, score), oldest first."""
    W, H = 960, 270
    left, right, top, bottom = 44, 20, 18, 42
    pw, ph = W - left - right, H - top - bottom
    n = len(points)

    def x(i: int) -> float:
        return left + (pw / 2 if n == 1 else i * pw / (n - 1))

    def y(s: float) -> float:
        return top + (1 - max(0.0, min(100.0, s)) / 100) * ph

    out = [f"<svg class=\"trend\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"得分趋势\">"]
    for g in range(0, 101, 20):
        out.append(f"<line x1=\"{left}\" y1=\"{y(g):.1f}\" x2=\"{left + pw}\" y2=\"{y(g):.1f}\" stroke=\"#e4e9f0\"/>"
                   f"<text x=\"{left - 8}\" y=\"{y(g) + 4:.1f}\" text-anchor=\"end\" font-size=\"11\" "
                   f"fill=\"#66788a\">{g}</text>")
    out.append(f"<rect x=\"{left}\" y=\"{y(100):.1f}\" width=\"{pw}\" height=\"{y(90) - y(100):.1f}\" "
               "fill=\"#1e8449\" fill-opacity=\"0.06\"/>")
    if not points:
        out.append(f"<text x=\"{W / 2}\" y=\"{H / 2}\" text-anchor=\"middle\" fill=\"#66788a\">暂无已完成的会话</text>")
    else:
        if mean is not None:
            out.append(f"<line x1=\"{left}\" y1=\"{y(mean):.1f}\" x2=\"{left + pw}\" y2=\"{y(mean):.1f}\" "
                       "stroke=\"#1a5276\" stroke-dasharray=\"6 4\" stroke-opacity=\"0.6\"/>"
                       f"<text x=\"{left + pw - 4}\" y=\"{y(mean) - 5:.1f}\" text-anchor=\"end\" font-size=\"11\" "
                       f"fill=\"#1a5276\">平均 {mean:g}</text>")
        pts = " ".join(f"{x(i):.1f},{y(s):.1f}" for i, (_, s) in enumerate(points))
        if n > 1:
            area = f"{x(0):.1f},{y(0):.1f} {pts} {x(n - 1):.1f},{y(0):.1f}"
            out.append(f"<polygon points=\"{area}\" fill=\"#2e86c1\" fill-opacity=\"0.08\"/>")
            out.append(f"<polyline points=\"{pts}\" fill=\"none\" stroke=\"#2e86c1\" stroke-width=\"2.5\" "
                       "stroke-linejoin=\"round\"/>")
        every = max(1, math.ceil(n / 10))
        for i, (ts, s) in enumerate(points):
            colour = _SCORE_COLOUR[score_class(s)]
            out.append(f"<circle cx=\"{x(i):.1f}\" cy=\"{y(s):.1f}\" r=\"5\" fill=\"#fff\" stroke=\"{colour}\" "
                       f"stroke-width=\"2.5\"><title>{esc(fmt_date(ts))}：{s:g} 分</title></circle>")
            if n <= 24:
                out.append(f"<text x=\"{x(i):.1f}\" y=\"{y(s) - 10:.1f}\" text-anchor=\"middle\" font-size=\"11\" "
                           f"fill=\"{colour}\">{s:g}</text>")
            if i % every == 0 or i == n - 1:
                out.append(f"<text x=\"{x(i):.1f}\" y=\"{H - bottom + 18}\" text-anchor=\"middle\" font-size=\"11\" "
                           f"fill=\"#66788a\">{esc(datetime.fromtimestamp(ts).strftime('%m-%d'))}</text>")
    out.append("</svg>")
    return "".join(out)


def _stat(value: str, label: str, cls: str = "") -> str:
    return f"<div class=\"stat\"><div class=\"v {cls}\">{esc(value)}</div><div class=\"k\">{esc(label)}</div></div>"


def trainee_html(stats: Any, rows: Sequence[Any], results: dict[int, Result] | None = None) -> str:
    """A trainee's progress: score trend, most frequent problems, every session."""
    results = results or {}
    done = [r for r in scored(rows) if r.finished]
    arrow = trend_arrow(stats.trend if stats is not None else None)
    cards = "".join([
        _stat(str(len(rows)), "会话数"),
        _stat(fmt_score(stats.first_score) if stats else "—", "首次得分", score_class(stats.first_score if stats else None)),
        _stat(fmt_score(stats.last_score) if stats else "—", "最近得分", score_class(stats.last_score if stats else None)),
        _stat(fmt_score(stats.mean_score) if stats else "—", "平均得分", score_class(stats.mean_score if stats else None)),
        _stat(arrow, "变化（最近 − 首次）",
              "score-good" if arrow.startswith("↑") else "score-bad" if arrow.startswith("↓") else ""),
    ])
    span = ""
    if rows:
        span = f"{fmt_date(rows[0].started_at)} 至 {fmt_date(rows[-1].started_at)}"
    name = stats.trainee if stats is not None else (rows[0].trainee if rows else "")
    body = [f"<header class=\"top\"><div><h1>学员成长报告：{esc(name or '（未填写姓名）')}</h1>"
            + _meta_dl([("时间范围", span), ("已完成会话", str(len(done)))])
            + "</div>" + score_ring(stats.last_score if stats else None, 120) + "</header>",
            f"<h2>概览</h2><div class=\"stats\">{cards}</div>",
            "<h2>得分趋势</h2><div class=\"card\">"
            + trend_svg([(r.started_at, r.score) for r in done], stats.mean_score if stats else None) + "</div>"]
    top = stats.top_violations if stats is not None else []
    if top:
        body.append("<h2>最常见的问题</h2><table><thead><tr><th>问题</th><th class=\"num\">次数</th></tr></thead><tbody>"
                    + "".join(f"<tr><td>{esc(problem_label(k))}</td><td class=\"num\">{n}</td></tr>" for k, n in top)
                    + "</tbody></table>")
    trs = []
    for r in rows:
        res = results.get(r.id)
        tags = ""
        if res is not None:
            tags = "".join(f"<span class=\"tag {esc(f.severity)}\">{esc(rule_label(f))}</span>" for f in problems(res))
        what = r.scenario or (Path(r.source_file).name if r.source_file else "")
        trs.append(f"<tr><td class=\"num\">{r.id}</td><td class=\"nw\">{esc(fmt_date(r.started_at))}</td>"
                   f"<td class=\"nw\">{esc(KIND_LABEL.get(r.kind, r.kind))}</td><td>{esc(what)}</td>"
                   f"<td class=\"num\">{esc(fmt_duration(r.duration_s))}</td>"
                   f"<td class=\"num {score_class(r.score)}\"><b>{esc(fmt_score(r.score, r.outcome))}</b>"
                   + ("" if r.finished else " <span class=\"tag warning\">未完成</span>")
                   + f"</td><td class=\"num\">{r.n_brush_off}</td><td class=\"num\">{r.n_structure}</td>"
                   f"<td>{tags}</td></tr>")
    body.append("<h2>全部会话</h2><table><thead><tr><th class=\"num\">编号</th><th>时间</th><th>类型</th>"
                "<th>情景/文件</th><th class=\"num\">时长</th><th class=\"num\">得分</th><th class=\"num\">忌语</th>"
                "<th class=\"num\">流程</th><th>问题</th></tr></thead><tbody>" + "".join(trs) + "</tbody></table>")
    return page(f"学员成长报告 · {name}", "".join(body))


# --------------------------------------------------------------------------- batch index

def index_html(entries: Sequence[Any], *, title: str = "录音批量复核", source: str | None = None,
               db: str | None = None) -> str:
    """The batch index: every file with its score and problems, linking to its own report."""
    with_score = scored(entries)
    mean = round(sum(e.score for e in with_score) / len(with_score), 1) if with_score else None
    n_fail = sum(e.status == "failed" for e in entries)
    total_s = sum(e.duration_s or 0 for e in entries)
    cards = "".join([
        _stat(str(len(entries)), "文件数"),
        _stat(str(sum(e.status == "analysed" for e in entries)), "本次分析"),
        _stat(str(sum(e.status == "skipped" for e in entries)), "已分析过（跳过）"),
        _stat(str(n_fail), "失败", "score-bad" if n_fail else ""),
        _stat(fmt_score(mean), "平均得分", score_class(mean)),
        _stat(str(sum(e.violations for e in entries)), "违规总数"),
    ])
    trs = []
    for e in sorted(entries, key=lambda e: e.file):
        name = esc(e.file)
        if e.link:
            name = f"<a href=\"{esc(e.link)}\">{name}</a>"
        if e.status == "failed":
            detail = f"<span class=\"tag violation\">失败</span> {esc(e.error or '')}"
        else:
            detail = "".join(f"<span class=\"tag {esc(sev)}\">{esc(label)}</span>" for label, sev in e.problems) \
                or "<span class=\"tag courtesy\">无问题</span>"
            if e.status == "skipped":
                detail = "<span class=\"tag skipped\">此前已分析</span> " + detail
            if e.truncated:
                detail = "<span class=\"tag warning\">录音不完整</span> " + detail
            if e.note:
                detail += f" <span class=\"tag warning\">{esc(e.note)}</span>"
        trs.append(f"<tr><td>{name}</td><td class=\"num\">{esc(fmt_duration(e.duration_s))}</td>"
                   f"<td class=\"num {score_class(e.score)}\"><b>{esc(fmt_score(e.score, e.outcome))}</b></td>"
                   f"<td class=\"num\">{e.courtesies}</td><td class=\"num\">{e.violations}</td>"
                   f"<td>{detail}</td><td class=\"num\">{esc(e.session_id or '')}</td></tr>")
    meta = [("生成时间", fmt_date(datetime.now().timestamp())), ("录音总时长", fmt_duration(total_s))]
    if source:
        meta.insert(0, ("目录", source))
    if db:
        meta.append(("会话数据库", db))
    body = (f"<header class=\"top\"><div><h1>{esc(title)}</h1>{_meta_dl(meta)}</div>{score_ring(mean, 120)}</header>"
            f"<h2>概览</h2><div class=\"stats\">{cards}</div>"
            "<h2>文件</h2><table><thead><tr><th>文件</th><th class=\"num\">时长</th><th class=\"num\">得分</th>"
            "<th class=\"num\">文明用语</th><th class=\"num\">违规</th><th>问题</th><th class=\"num\">会话</th></tr></thead>"
            "<tbody>" + "".join(trs) + "</tbody></table>")
    return page(title, body)


def write(path: str | os.PathLike, text: str) -> Path:
    """Write a report whole or not at all (see :mod:`coach.store.files`)."""
    from coach.store.files import write_atomic

    return write_atomic(path, text)
