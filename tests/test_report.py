"""Reports from a real session store: HTML (rendered in headless Chromium), Markdown, CSV, JSON,
and the ``coach report`` / ``history`` / ``trainees`` commands."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from coach.cli import main
from coach.report import csv_export, html, markdown
from coach.report.common import index_entry
from coach.schema import Result, Utterance as U
from coach.session.evaluate import Evaluator
from coach.store import Store

DAY = 86400

RUDE = [
    U(0.5, 2.0, "citizen", "你好，我来办社保转移。"),
    U(2.6, 4.2, "clerk", "不知道，自己看墙上。"),
    U(4.8, 6.0, "citizen", "我排了半天队了。"),
    U(6.5, 8.0, "clerk", "急什么，后面排队去。"),
    U(16.5, 18.0, "clerk", "好了，慢走。"),
]
POLITE = [
    U(0.4, 2.5, "clerk", "您好，请问您要办什么业务？"),
    U(3.0, 4.5, "citizen", "我想办营业执照。"),
    U(5.0, 6.5, "clerk", "好的，请稍等，我帮您查一下。"),
    U(14.0, 16.0, "clerk", "不好意思，让您久等了，已经办好了。"),
    U(16.5, 17.5, "citizen", "谢谢。"),
    U(18.0, 19.5, "clerk", "不客气，请慢走。"),
]


@pytest.fixture()
def store(tmp_path):
    ev = Evaluator.default()
    t0 = time.time() - 5 * DAY
    with Store(tmp_path / "coach.db") as st:
        for day, lines in enumerate([RUDE, RUDE[:4] + POLITE[5:], POLITE]):
            st.save_result(ev.evaluate(lines, engine="faster-whisper", file=f"rec{day}.wav"), kind="practice",
                           trainee="王小明", scenario="inquiry", started_at=t0 + day * DAY, model="base")
        st.save_result(ev.evaluate(POLITE), trainee="李四", started_at=t0)
        yield st


def _no_network(doc: str) -> None:
    assert "http://" not in doc and "https://" not in doc and "file:" not in doc
    assert not re.search(r"(src|href)=\"(?!sessions/)", doc)  # only links to sibling reports
    assert not re.search(r"<(link|script|img|iframe|object|embed)\b", doc)
    assert "url(" not in doc and "@import" not in doc


def test_session_html_is_self_contained_with_all_parts(store):
    row = store.sessions(trainee="王小明")[0]
    doc = html.session_html(store.result(row.id), row)
    _no_network(doc)
    assert doc.startswith("<!DOCTYPE html>") and "<svg class=\"timeline\"" in doc
    for part in ("时间轴", "问题与建议", "对话记录", "得分明细", "王小明"):
        assert part in doc
    # coloured transcript: the brush-offs are marked in the text, with their suggestions nearby
    assert "<mark class=\"brush_off\"" in doc and ">不知道</mark>" in doc
    assert "这个问题我帮您确认一下" in doc
    assert "<mark class=\"near_miss\"" in doc  # 慢走 instead of 请慢走
    assert f">{row.score:g}</text>" in doc


def test_background_speech_is_stored_and_shown_apart_in_every_report(tmp_path):
    # speech the segmenter set apart (a neighbouring window) round-trips through the store and is
    # listed as 背景, never marked, never on the clerk's or the citizen's lane of the timeline
    lines = POLITE[:2] + [U(3.2, 4.4, "background", "不知道啊，我也不清楚。")] + POLITE[2:]
    with Store(tmp_path / "coach.db") as st:
        sid = st.save_result(Evaluator.default().evaluate(lines), trainee="李四")
        row = next(r for r in st.sessions() if r.id == sid)
        result = st.result(sid)
    assert [u.speaker for u in result.utterances].count("background") == 1
    assert not [f for f in result.findings if f.type == "brush_off"]
    doc = html.session_html(result, row)
    assert "<div class=\"who background\">背景</div>" in doc and "不知道啊，我也不清楚。" in doc
    assert "<mark class=\"brush_off\"" not in doc
    svg = doc[doc.index("<svg class=\"timeline\""): doc.index("</svg>")]
    assert "不知道啊" not in svg
    assert "**背景**：不知道啊，我也不清楚。" in markdown.session_md(result, row)


def test_trainee_html_has_a_trend_chart(store):
    rows = store.sessions(trainee="王小明")
    stats = store.trainee_stats("王小明")[0]
    doc = html.trainee_html(stats, rows, {r.id: store.result(r.id) for r in rows})
    _no_network(doc)
    chart = doc[doc.index("<svg class=\"trend\""):]
    chart = chart[:chart.index("</svg>")]
    assert chart.count("<circle") == 3 and "<polyline" in chart
    assert stats.trend > 0 and "↑" in doc


def test_markdown_and_json(store):
    row = store.sessions(trainee="王小明")[0]
    result = store.result(row.id)
    md = markdown.session_md(result, row)
    assert md.startswith("# 窗口文明用语评估报告")
    assert "| 时间 | 类别 | 问题 | 程度 | 建议说法 |" in md and "忌语「不知道」" in md and "**不知道**" in md
    rows = store.sessions(trainee="王小明")
    tmd = markdown.trainee_md(store.trainee_stats("王小明")[0], rows, {r.id: store.result(r.id) for r in rows})
    assert "# 学员成长报告：王小明" in tmd and tmd.count("| practice |") == 0 and tmd.count("情景练习") == 3


def test_csv_has_bom_and_opens_as_a_table(store):
    row = store.sessions(trainee="王小明")[0]
    result = store.result(row.id)
    text = csv_export.session_csv(result, row)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0][:3] == ["会话编号", "学员", "文件"]
    assert len(table) == 1 + len(result.findings)
    assert any(r[8] == "忌语「不知道」" and r[11] == "违规" for r in table[1:])
    rows = store.sessions(trainee="王小明")
    t = list(csv.reader(io.StringIO(csv_export.trainee_csv(rows, {r.id: store.result(r.id) for r in rows})[1:])))
    assert [r[7] for r in t[1:]] == [f"{r.score}" for r in rows]


def test_report_command_all_formats(store, tmp_path, capsys):
    db = str(store.path)
    sid = store.sessions(trainee="王小明")[0].id
    for fmt in ("html", "md", "csv", "json"):
        out = tmp_path / f"r.{fmt}"
        assert main(["report", str(sid), "--format", fmt, "--out", str(out), "--db", db]) == 0
        assert out.stat().st_size > 200
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    back = Result.from_json(json.loads((tmp_path / "r.json").read_text("utf-8")))
    assert back.score == store.session(sid).score and back.findings
    # the format follows --out's suffix; the trainee report too
    assert main(["report", "--trainee", "王小明", "--out", str(tmp_path / "t.md"), "--db", db]) == 0
    assert (tmp_path / "t.md").read_text("utf-8").startswith("# 学员成长报告")
    capsys.readouterr()
    assert main(["report", "--trainee", "王小明", "-F", "json", "--db", db]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trainee"] == "王小明" and len(data["sessions"]) == 3
    assert set(data["sessions"][0]["result"]) == {"file", "duration_s", "truncated", "engine", "utterances",
                                                  "findings", "outcome", "score", "breakdown"}


def test_report_errors_are_one_line_exit_2(store, capsys):
    db = str(store.path)
    assert main(["report", "9999", "--db", db]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("coach: ") and "9999" in err and "\n" not in err
    assert main(["report", "--trainee", "无此人", "--db", db]) == 2
    assert main(["report", "--db", db]) == 2
    assert main(["history", "--since", "昨天", "--db", db]) == 2


def test_history_and_trainees_commands(store, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    db = str(store.path)
    assert main(["history", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "王小明" in out and "李四" in out and "历史会话（4 条）" in out
    assert main(["history", "--trainee", "李四", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "李四" in out and "王小明" not in out
    assert main(["history", "--since", "1d", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["trainees", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "王小明" in out and "↑" in out and "忌语" in out
    monkeypatch.setenv("COACH_DB", db)
    assert main(["trainees", "--json"]) == 0
    stats = {s["trainee"]: s for s in json.loads(capsys.readouterr().out)}
    assert stats["王小明"]["sessions"] == 3 and stats["王小明"]["top_problems"]


# ---------------------------------------------------------------- real browser

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(page: Path, png: Path, tmp: Path, size: str = "1100,1800") -> None:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (scripts/test.sh installs the Debian package)")
        pytest.skip("chromium not installed")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}",
           f"--window-size={size}", f"--screenshot={png}", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.exists(), proc.stderr[-2000:]


def pixel_stats(png: Path) -> tuple[int, float, int]:
    """(distinct colours, share of non-background pixels, reddish pixels)."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    small = img.resize((img.width // 2, img.height // 2))
    colours = small.getcolors(maxcolors=1 << 20) or []
    bg = max(colours)[1]
    total = small.width * small.height
    busy = sum(n for n, c in colours if c != bg) / total
    red = sum(n for n, (r, g, b) in colours if r > 150 and g < 110 and b < 110)
    return len(colours), busy, red


def test_html_reports_render_in_chromium(store, tmp_path):
    rude = store.sessions(trainee="王小明")[0]
    rows = store.sessions(trainee="王小明")
    pages = {
        "session": html.session_html(store.result(rude.id), rude),
        "trainee": html.trainee_html(store.trainee_stats("王小明")[0], rows, {r.id: store.result(r.id) for r in rows}),
        "index": html.index_html([index_entry(f"rec{r.id}.wav", "analysed", store.result(r.id), session_id=r.id)
                                  for r in rows] + [index_entry("bad.wav", "failed", error="无法解码")]),
    }
    for name, doc in pages.items():
        page = tmp_path / f"{name}.html"
        page.write_text(doc, encoding="utf-8")
        png = tmp_path / f"{name}.png"
        screenshot(page, png, tmp_path)
        colours, busy, red = pixel_stats(png)
        assert colours > 50, (name, colours)        # text, charts and colours, not a blank page
        assert busy > 0.05, (name, busy)
        assert red > 20, (name, red)                # the violations are shown in red
