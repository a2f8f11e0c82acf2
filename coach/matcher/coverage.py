"""Family-level scoring on a labelled coverage file (``coach phrasebook test``, ``bench_coverage``).

Coverage TSV (UTF-8, tab-separated, header row): columns ``id text label family source note``;
``label`` is ``brush_off`` / ``courtesy`` / ``benign`` / ``neutral``; ``family`` is the brush-off
family id or the courtesy stage (empty for benign and neutral).  Each line is one clerk utterance.

Figures (per line):

* brush-off recall: brush-off lines with any brush-off hit (``family recall``: with a hit of the
  labelled family);
* courtesy recall: courtesy lines credited with any courtesy (``stage recall``: of that stage);
* false brush-off rate: benign and neutral lines with any brush-off hit;
* per family / stage: precision (lines predicted with it that carry its label) and recall.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from coach.errors import InputError
from coach.matcher.matcher import Matcher

LABELS = ("brush_off", "courtesy", "benign", "neutral")
COLUMNS = ("id", "text", "label", "family")


@dataclass(frozen=True)
class Line:
    id: str
    text: str
    label: str
    family: str
    source: str = ""
    where: str = ""


def is_coverage_header(header: list[str]) -> bool:
    low = [h.strip().lower() for h in header]
    return all(c in low for c in COLUMNS)


def read_coverage(path: str | Path) -> list[Line]:
    """Lines of a coverage TSV; a bad label or a missing column is an :class:`InputError`."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{p}: 无法读取（{exc.strerror}）/ cannot read") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: 不是 UTF-8 文本 / not UTF-8 text") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or not is_coverage_header(rows[0]):
        raise InputError(f"{p}:1: 表头需要 id、text、label、family 列 / header needs id, text, label, family")
    col = {h.strip().lower(): i for i, h in enumerate(rows[0])}
    out = []
    for n, r in enumerate(rows[1:], 2):
        if not r or not any(c.strip() for c in r):
            continue
        cells = r + [""] * (len(rows[0]) - len(r))
        label = cells[col["label"]].strip()
        if label not in LABELS:
            raise InputError(f"{p}:{n}: label 应为 {'/'.join(LABELS)}（得到 {label!r}）/ bad label")
        text_ = cells[col["text"]].strip()
        if not text_:
            raise InputError(f"{p}:{n}: text 列为空 / empty text")
        out.append(Line(cells[col["id"]].strip(), text_, label, cells[col["family"]].strip(),
                        cells[col["source"]].strip() if "source" in col else "", f"{p.name}:{n}"))
    return out


@dataclass
class Counts:
    tp: int = 0      # lines labelled with it and predicted with it
    fp: int = 0      # predicted with it, labelled otherwise
    fn: int = 0      # labelled with it, not predicted

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass
class Outcome:
    line: Line
    brush: frozenset[str]        # brush-off families hit
    stages: frozenset[str]       # courtesy stages credited

    @property
    def ok(self) -> bool:
        if self.line.label == "brush_off":
            return self.line.family in self.brush
        if self.line.label == "courtesy":
            return bool(self.stages) and not self.brush
        return not self.brush


@dataclass
class Coverage:
    outcomes: list[Outcome] = field(default_factory=list)
    families: dict[tuple[str, str], Counts] = field(default_factory=dict)   # (kind, id) -> counts

    def _rate(self, labels: tuple[str, ...], hit) -> tuple[int, int]:
        sel = [o for o in self.outcomes if o.line.label in labels]
        return sum(1 for o in sel if hit(o)), len(sel)

    @property
    def brush_recall(self) -> tuple[int, int]:
        return self._rate(("brush_off",), lambda o: bool(o.brush))

    @property
    def brush_family_recall(self) -> tuple[int, int]:
        return self._rate(("brush_off",), lambda o: o.line.family in o.brush)

    @property
    def courtesy_recall(self) -> tuple[int, int]:
        return self._rate(("courtesy",), lambda o: bool(o.stages))

    @property
    def courtesy_stage_recall(self) -> tuple[int, int]:
        return self._rate(("courtesy",), lambda o: o.line.family in o.stages)

    @property
    def false_brush(self) -> tuple[int, int]:
        return self._rate(("benign", "neutral"), lambda o: bool(o.brush))

    @property
    def courtesy_flagged(self) -> tuple[int, int]:
        return self._rate(("courtesy",), lambda o: bool(o.brush))


def score_coverage(matcher: Matcher, lines: list[Line], fallback=None) -> Coverage:
    """``fallback``: a :class:`coach.matcher.fallback.Fallback`; a line the matcher found nothing
    in that it flags counts as a brush-off of family ``fallback``, and brush-off hits the model
    does not confirm are taken back (as ``Evaluator`` does)."""
    from coach.matcher.fallback import confirmed

    cov = Coverage()
    for line in lines:
        hits = matcher.find(line.text)
        if fallback is not None:
            hits, _ = confirmed(hits, line.text, fallback)
        brush = frozenset(h.family for h in hits if h.kind == "brush_off")
        stages = frozenset(h.entry.stage for h in hits if h.kind == "courtesy" and h.entry.stage)
        if fallback is not None and not hits and fallback.flags(line.text):
            brush = frozenset({"fallback"})
        cov.outcomes.append(Outcome(line, brush, stages))
        labelled = {("brush_off", line.family)} if line.label == "brush_off" and line.family else set()
        if line.label == "courtesy" and line.family:
            labelled = {("courtesy", line.family)}
        predicted = {("brush_off", f) for f in brush} | {("courtesy", s) for s in stages}
        for key in labelled | predicted:
            c = cov.families.setdefault(key, Counts())
            if key in labelled and key in predicted:
                c.tp += 1
            elif key in predicted:
                c.fp += 1
            else:
                c.fn += 1
    return cov


def ratio(pair: tuple[int, int]) -> float | None:
    n, d = pair
    return n / d if d else None
