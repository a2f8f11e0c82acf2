"""CSV for spreadsheets: UTF-8 with a byte-order mark, so Excel shows the Chinese correctly.

A session gives one row per finding (with the utterance it was heard in); a trainee gives one
row per session.  Every string returned here starts with the BOM; write it as UTF-8 as is.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

from coach.report.common import (KIND_LABEL, SEVERITY_LABEL, SPEAKER_LABEL, STATUS_LABEL, TYPE_LABEL, counts,
                                 fmt_date, problems, rule_label)
from coach.schema import NO_SPEECH_LABEL, Result

BOM = "\ufeff"

SESSION_COLUMNS = ["会话编号", "学员", "文件", "开始(秒)", "结束(秒)", "说话人", "类别", "规则", "内容", "标准说法",
                   "听到", "程度", "建议说法", "所在语句"]
TRAINEE_COLUMNS = ["会话编号", "学员", "时间", "类型", "情景", "文件", "时长(秒)", "得分", "文明用语次数", "忌语次数",
                   "违规次数", "流程问题", "用语不完整", "已完成", "问题"]
INDEX_COLUMNS = ["文件", "状态", "会话编号", "时长(秒)", "得分", "文明用语次数", "违规次数", "问题", "错误"]


def _score(x: Any) -> Any:
    """The score cell: the number, or 未检测到讲话 (never a number for no speech)."""
    return NO_SPEECH_LABEL if getattr(x, "outcome", "scored") == "no_speech" else x.score


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return BOM + buf.getvalue()


def session_csv(result: Result, row: Any = None) -> str:
    sid = row.id if row is not None else ""
    trainee = row.trainee if row is not None else ""
    rows = []
    for f in result.findings:
        utt = result.utterances[f.utterance].text if f.utterance is not None and 0 <= f.utterance < len(
            result.utterances) else ""
        cat = "用语不完整" if f.rule == "near_miss" else TYPE_LABEL.get(f.type, f.type)
        rows.append([sid, trainee, result.file, f.start, f.end, SPEAKER_LABEL.get(f.speaker, f.speaker), cat, f.rule,
                     rule_label(f), f.phrase, f.heard, SEVERITY_LABEL.get(f.severity, f.severity), f.suggestion, utt])
    if result.no_speech:  # no verdict: say so instead of an empty table
        rows.insert(0, [sid, trainee, result.file, None, None, None, "结果", "no_speech", NO_SPEECH_LABEL,
                        None, None, None, None, None])
    return _csv(SESSION_COLUMNS, rows)


def trainee_csv(rows: Sequence[Any], results: dict[int, Result] | None = None) -> str:
    results = results or {}
    out = []
    for r in rows:
        res = results.get(r.id)
        near = counts(res)["near_miss"] if res is not None else ""
        probs = "；".join(rule_label(f) for f in problems(res)) if res is not None else ""
        out.append([r.id, r.trainee, fmt_date(r.started_at, seconds=True), KIND_LABEL.get(r.kind, r.kind), r.scenario,
                    r.source_file, r.duration_s, _score(r), r.n_courtesy, r.n_brush_off, r.n_violation, r.n_structure,
                    near, "是" if r.finished else "否", probs])
    return _csv(TRAINEE_COLUMNS, out)


def index_csv(entries: Sequence[Any]) -> str:
    return _csv(INDEX_COLUMNS, [[e.file, STATUS_LABEL.get(e.status, e.status), e.session_id, e.duration_s, _score(e),
                                 e.courtesies, e.violations, "；".join(label for label, _ in e.problems), e.error]
                                for e in sorted(entries, key=lambda e: e.file)])


def write_csv(path: str | Path, text: str) -> Path:
    from coach.store.files import write_atomic

    if not text.startswith(BOM):
        text = BOM + text
    return write_atomic(path, text)
