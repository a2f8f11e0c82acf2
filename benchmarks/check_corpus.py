"""Consistency check for benchmarks/data/clerk_utterances.tsv (run: python benchmarks/check_corpus.py).

Compares the hand labels with a *literal* reading of the phrasebook:

* courtesies: phrase or variant of ``phrasebook/courtesies.toml`` is a substring of the normalised text
  (punctuation/spaces removed, traditional -> simplified), or one of its ``patterns`` matches;
  "tolerant" additionally allows 1-2 extra characters inside a phrase/variant (the README's rule).
  Patterns are the phrasebook's pattern language, compiled by the phrasebook loader (text form
  only, no sound-alikes); a pattern-only hit overlapping a wording or an earlier pattern hit of
  its stage does not count (the matcher's rule: 请稍等 is not also 请您稍等一会儿).
* brush-offs: the canonical banned string, or a variant/pattern of that entry in
  ``phrasebook/brush_offs.toml`` (if present), occurs in the normalised text; overlapping hits of one
  family count once (wording before pattern, then the entry listed first), as in the matcher.
  A label is one of the 23 canonical strings or another canonical ``phrase`` of brush_offs.toml.
  Phrasebook hits that survive the phrasebook's own exceptions (no context rules) must be labelled
  outside ``hard_negative`` rows, so a label set never silently misses a phrasebook brush-off.

Every label must be explained by the literal reading and vice versa, unless the row's note says
``rule-diff`` (a case where a trainer disagrees with the literal rule, e.g. 您好好看看) or, for a
tolerant-only courtesy, ``insertion``. Banned substrings outside ``brush_off`` rows must sit in
``hard_negative`` rows (traps). Exit status 1 on any problem.

``--preview`` also prints what a *literal* (non-fuzzy) reading of brush_offs.toml incl. its exceptions
would flag, versus the labels: a cheap look at which traps the exceptions do not cover yet and which
real brush-offs they cancel. It is not the coach matcher (no sound-alikes, no insertions).
"""

from __future__ import annotations

import csv
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

import zhconv

ROOT = Path(__file__).resolve().parents[1]
TSV = Path(__file__).resolve().parent / "data" / "clerk_utterances.tsv"
COURTESIES = ROOT / "phrasebook" / "courtesies.toml"
BRUSH_OFF_TOML = ROOT / "phrasebook" / "brush_offs.toml"

BRUSH_OFFS = [
    "不知道", "不清楚", "不归我管", "不是我们这儿的事", "喂", "哎", "没空", "没看我正忙着吗", "急什么",
    "自己看墙上", "明天再来", "下班了", "找别人去", "说了多少遍了", "听不懂吗", "有意见找领导去",
    "不是告诉你了吗", "你问我我问谁", "没办法", "快点", "我不管", "后面排队去", "爱办不办",
]
# The courtesies the corpus was written for (each needs >= 3 positive rows, as each of BRUSH_OFFS
# needs 2); the later stage shapes (请坐, 请原谅, 请走好 …) are labelled where the phrasebook finds
# them, and those with fewer rows are reported as thin, not as a problem.
COURTESIES_COVERED = [
    "您好", "请问您要办什么业务", "请问有什么可以帮您", "欢迎光临", "让您久等了", "请稍等", "不好意思", "对不起",
    "抱歉", "请您到X号窗口办理", "您的手续已办好，请核对", "请保管好您的资料", "谢谢", "请慢走", "谢谢您的配合",
    "再见", "谢谢您，欢迎您监督和帮助", "没关系，这是我们应该做的", "您好，XX政务服务中心", "请您再说一遍好吗",
    "请您听我详细解释好吗",
]
CATEGORIES = ["courtesy", "synonym", "brush_off", "hard_negative", "near_miss", "neutral"]
MIN_COUNTS = {"courtesy": 90, "synonym": 40, "brush_off": 80, "hard_negative": 60, "near_miss": 20, "neutral": 30}

_PUNCT = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~…—·“”‘’]")


def normalize(text: str) -> str:
    text = zhconv.convert(text, "zh-hans")
    text = "".join(chr(ord(c) - 0xFEE0) if "\uff10" <= c <= "\uff19" or "\uff21" <= c <= "\uff5a" else c for c in text)
    return _PUNCT.sub("", text)


_BOOK = None


def _book_patterns() -> dict[tuple[str, str, str], tuple]:
    """(kind, entry id, key) -> the phrasebook's compiled patterns.  The TOML strings are the
    pattern language (``{you}``, ``…4``, ``……``), not Python regexes, so they are read the way
    the phrasebook defines them (text form only: no sound-alikes)."""
    global _BOOK
    if _BOOK is None:
        sys.path.insert(0, str(ROOT))
        from coach.phrasebook import load_phrasebook
        book = load_phrasebook(ROOT / "phrasebook")
        _BOOK = {}
        for e in book.courtesies + book.brush_offs:
            _BOOK[(e.kind, e.id, "patterns")] = e.patterns
            _BOOK[(e.kind, e.id, "exception_patterns")] = e.exception_patterns
        for f in book.families:
            _BOOK[("family", f.id, "exception_patterns")] = f.exception_patterns
    return _BOOK


def pattern_spans(kind: str, entry: dict, text: str, key: str = "patterns") -> list[tuple[int, int]]:
    """Text-form spans of an entry's patterns over ``text`` (offsets of the normalised text)."""
    from coach.phrasebook.normalize import normalize as coach_normalize
    from coach.phrasebook.patterns import Subject
    pats = _book_patterns().get((kind, entry.get("id", ""), key), ())
    if not pats:
        return []
    n = coach_normalize(zhconv.convert(text, "zh-hans"))
    subj = Subject(n.chars, n.chars, n.breaks)
    return [span for p in pats for span in p.text_spans(subj)]


def load_courtesies() -> list[dict]:
    return tomllib.loads(COURTESIES.read_text(encoding="utf-8"))["courtesy"]


def _find_all(needle: str, hay: str) -> list[tuple[int, int]]:
    return [(m.start(), m.start() + len(needle)) for m in re.finditer("(?=%s)" % re.escape(needle), hay)] if needle else []


def _tolerant_spans(needle: str, hay: str, extra: int = 2) -> list[tuple[int, int]]:
    if len(needle) < 2:
        return _find_all(needle, hay)
    pat = re.compile(".{0,%d}?".join(map(re.escape, needle)) % ((extra,) * (len(needle) - 1)))
    out = []
    for i in range(len(hay)):
        m = pat.match(hay, i)
        if m and len(m.group(0)) <= len(needle) + extra:
            out.append((m.start(), m.end()))
    return out


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def literal_courtesies(text: str, courtesies: list[dict], tolerant: bool = False) -> set[str]:
    """Courtesies a literal reading finds.  As in the matcher, a courtesy found only by a
    pattern does not count where it overlaps a wording (phrase or variant, 1-2 characters
    inserted allowed) or an earlier-listed pattern hit of its stage: the stage's shapes
    (请您稍等一会儿) stand behind its listed wordings (请稍等), they add no second courtesy on
    the same words."""
    norm = normalize(text)
    kept: dict[str, list[tuple[int, int]]] = {}
    found = set()
    by_pattern = []
    for c in courtesies:
        forms = [normalize(f) for f in [c["phrase"]] + list(c.get("variants", [])) if "X" not in f]
        strict = [sp for f in forms for sp in _find_all(f, norm)]
        loose = [sp for f in forms for sp in _tolerant_spans(f, norm)]
        kept.setdefault(c["stage"], []).extend(loose)
        if strict or (tolerant and loose):
            found.add(c["phrase"])
        else:
            by_pattern.append(c)
    for c in by_pattern:
        new = [sp for sp in pattern_spans("courtesy", c, text) if not _overlaps(sp, kept.get(c["stage"], []))]
        if new:
            found.add(c["phrase"])
            kept[c["stage"]].extend(new)
    return found


def load_brush_offs() -> list[dict]:
    if not BRUSH_OFF_TOML.exists():
        return [{"phrase": b} for b in BRUSH_OFFS]
    entries = tomllib.loads(BRUSH_OFF_TOML.read_text(encoding="utf-8"))["brush_off"]
    have = {e["phrase"] for e in entries}
    return entries + [{"phrase": b} for b in BRUSH_OFFS if b not in have]


def _worded_spans(entry: dict, norm: str) -> list[tuple[int, int]]:
    return [sp for f in [entry["phrase"]] + list(entry.get("variants", [])) for sp in _find_all(normalize(f), norm)]


def _spans(entry: dict, norm: str, text: str) -> list[tuple[int, int]]:
    return _worded_spans(entry, norm) + pattern_spans("brush_off", entry, text)


def _exception_spans(entry: dict, entries: list[dict], norm: str, text: str) -> list[tuple[int, int]]:
    """Where the phrasebook's exceptions for ``entry`` match: its own, its family's and those of
    the family's other entries (they are shared, as in the matcher); no context rules."""
    fam = entry.get("family")
    out = pattern_spans("family", {"id": fam}, text, "exception_patterns") if fam else []
    for e in entries:
        if e is entry or (fam and e.get("family") == fam):
            out += [sp for x in e.get("exceptions", []) for sp in _find_all(normalize(x), norm)]
            out += pattern_spans("brush_off", e, text, "exception_patterns")
    return out


def literal_brush_offs(text: str, entries: list[dict], exceptions: bool = False) -> set[str]:
    """Brush-offs a literal reading finds (no context rules; with ``exceptions``, a hit overlapping
    one of the phrasebook's exceptions for it does not count).  As in the matcher, overlapping
    hits of one family count once: a wording (phrase or variant) before a pattern, then the
    entry listed first (canonical wordings come before the shapes)."""
    norm = normalize(text)
    ranked = []
    for order, e in enumerate(entries):
        spans = [(0, sp) for sp in _worded_spans(e, norm)] + [(1, sp) for sp in pattern_spans("brush_off", e, text)]
        if exceptions and spans:
            exc = _exception_spans(e, entries, norm, text)
            spans = [(k, sp) for k, sp in spans if not _overlaps(sp, exc)]
        ranked += [(k, order, sp, e) for k, sp in spans]
    kept: list[tuple[str, tuple[int, int]]] = []
    found = set()
    for _, _, sp, e in sorted(ranked, key=lambda x: (x[0], x[1], x[2])):
        fam = e.get("family") or e["phrase"]
        if not any(f == fam and sp[0] < ke and ks < sp[1] for f, (ks, ke) in kept):
            kept.append((fam, sp))
            found.add(e["phrase"])
    return found


def preview_brush_offs(text: str, entries: list[dict]) -> set[str]:
    """Literal hits minus those overlapping an exception; standalone entries need a non-Han next char."""
    norm = normalize(text)
    found = set()
    for e in entries:
        exc = []
        for x in e.get("exceptions", []):
            x = normalize(x)
            exc += [(m.start(), m.end()) for m in re.finditer(re.escape(x), norm)]
        exc += pattern_spans("brush_off", e, text, "exception_patterns")
        for a, b in _spans(e, norm, text):
            if any(a < eb and ea < b for ea, eb in exc):
                continue
            if e.get("standalone"):
                ch = e["phrase"]
                raw = zhconv.convert(text, "zh-hans")
                if not any(m for m in re.finditer(re.escape(ch) + "+(?![\u4e00-\u9fff])", raw)):
                    continue
            found.add(e["phrase"])
    return found


def split(field: str) -> set[str]:
    return {x for x in field.split("|") if x}


def main() -> int:
    preview = "--preview" in sys.argv[1:]
    courtesies = load_courtesies()
    bo_entries = load_brush_offs()
    pv_fp: list[str] = []
    pv_fn: list[str] = []
    canon_c = {c["phrase"] for c in courtesies}
    near_misses = {normalize(m) for c in courtesies for m in c.get("near_misses", [])}
    problems: list[str] = []
    infos: list[str] = []
    rows = list(csv.DictReader(TSV.open(encoding="utf-8"), delimiter="\t"))
    ids = Counter(r["id"] for r in rows)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    texts = Counter(r["text"] for r in rows)
    problems += [f"duplicate text {t}" for t, n in texts.items() if n > 1]
    cats = Counter(r["category"] for r in rows)
    banned_use = Counter()
    courtesy_use = Counter()
    for r in rows:
        rid, cat, text, note = r["id"], r["category"], r["text"], r["note"] or ""
        lc, lb = split(r["courtesies"]), split(r["brush_offs"])
        if cat not in CATEGORIES:
            problems.append(f"{rid}: unknown category {cat}")
        for x in lc - canon_c:
            problems.append(f"{rid}: non-canonical courtesy {x!r}")
        for x in lb - set(BRUSH_OFFS) - {e["phrase"] for e in bo_entries}:
            problems.append(f"{rid}: non-canonical brush-off {x!r}")
        strict = literal_courtesies(text, courtesies)
        tol = literal_courtesies(text, courtesies, tolerant=True)
        rule_diff = "rule-diff" in note
        if strict - lc and not rule_diff:
            problems.append(f"{rid}: literal rule finds {sorted(strict - lc)} not labelled: {text}")
        if lc - tol and not rule_diff:
            problems.append(f"{rid}: labelled {sorted(lc - tol)} not found even tolerantly: {text}")
        tol_only = (lc & tol) - strict
        if tol_only:
            (infos if "insertion" in note or rule_diff else problems).append(
                f"{rid}: {sorted(tol_only)} credited only with insertion tolerance: {text}")
        if rule_diff:
            infos.append(f"{rid}: rule-diff literal={sorted(strict)} label={sorted(lc)}: {text}")
        bl = literal_brush_offs(text, bo_entries)
        if lb - bl:
            problems.append(f"{rid}: labelled brush-off {sorted(lb - bl)} not literally in text: {text}")
        bl = literal_brush_offs(text, bo_entries, exceptions=True) if cat != "hard_negative" else bl
        if bl - lb and cat != "hard_negative":
            problems.append(f"{rid}: banned/phrasebook brush-off {sorted(bl - lb)} unlabelled outside hard_negative: {text}")
        if preview:
            pv = preview_brush_offs(text, bo_entries)
            if pv - lb:
                pv_fp.append(f"{rid} {cat}: flags {sorted(pv - lb)}: {text}")
            if lb - pv:
                pv_fn.append(f"{rid} {cat}: misses {sorted(lb - pv)}: {text}")
        if cat == "brush_off" and not lb:
            problems.append(f"{rid}: brush_off row without brush_offs")
        if cat != "brush_off" and lb:
            problems.append(f"{rid}: brush_offs on a {cat} row")
        if cat == "neutral" and lc:
            problems.append(f"{rid}: courtesies on a {cat} row")
        if cat == "near_miss" and lc and not any(nm in normalize(text) for nm in near_misses):
            # a near-miss row may be credited another courtesy (你好，请坐), as long as it still
            # says one of the phrasebook's near misses (你好, 慢走, 等着 …)
            problems.append(f"{rid}: courtesies on a near_miss row without a phrasebook near miss")
        if cat in ("courtesy", "synonym") and not lc:
            problems.append(f"{rid}: {cat} row without courtesies")
        if cat == "hard_negative" and not bl and "trap" not in note and "judgment" not in note:
            problems.append(f"{rid}: hard_negative without a trap note")
        banned_use.update(lb)
        if cat in ("courtesy", "synonym"):
            courtesy_use.update(lc)
    for cat, n in MIN_COUNTS.items():
        if cats[cat] < n:
            problems.append(f"category {cat}: {cats[cat]} < {n}")
    for b in BRUSH_OFFS:
        if banned_use[b] < 2:
            problems.append(f"brush-off {b} used {banned_use[b]}x (< 2)")
    for c in sorted(canon_c):
        if courtesy_use[c] < 3:
            (problems if c in COURTESIES_COVERED else infos).append(
                f"courtesy {c} used {courtesy_use[c]}x on courtesy/synonym rows (< 3)")
    print("rows:", len(rows), dict(cats))
    print("brush-off uses:", dict(banned_use))
    print("courtesy uses:", dict(courtesy_use))
    for line in infos:
        print("info:", line)
    if preview:
        print(f"preview (literal brush_offs.toml + exceptions): {len(pv_fp)} rows over-flagged, {len(pv_fn)} rows missed")
        for line in pv_fp:
            print("  over-flag:", line)
        for line in pv_fn:
            print("  miss:", line)
    for line in problems:
        print("PROBLEM:", line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
