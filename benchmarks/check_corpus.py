"""Consistency check for benchmarks/data/clerk_utterances.tsv (run: python benchmarks/check_corpus.py).

Compares the hand labels with a *literal* reading of the phrasebook:

* courtesies: phrase or variant of ``phrasebook/courtesies.toml`` is a substring of the normalised text
  (punctuation/spaces removed, traditional -> simplified), or one of its ``patterns`` matches;
  "tolerant" additionally allows 1-2 extra characters inside a phrase/variant (the README's rule).
* brush-offs: the canonical banned string, or a variant/pattern of that entry in
  ``phrasebook/brush_offs.toml`` (if present), occurs in the normalised text. Hits of brush_offs.toml
  entries outside the 23 canonical labels are only allowed in ``hard_negative`` rows, so a label set
  never silently misses a phrasebook brush-off.

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
CATEGORIES = ["courtesy", "synonym", "brush_off", "hard_negative", "near_miss", "neutral"]
MIN_COUNTS = {"courtesy": 90, "synonym": 40, "brush_off": 80, "hard_negative": 60, "near_miss": 20, "neutral": 30}

_PUNCT = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~…—·“”‘’]")


def normalize(text: str) -> str:
    text = zhconv.convert(text, "zh-hans")
    text = "".join(chr(ord(c) - 0xFEE0) if "\uff10" <= c <= "\uff19" or "\uff21" <= c <= "\uff5a" else c for c in text)
    return _PUNCT.sub("", text)


def load_courtesies() -> list[dict]:
    return tomllib.loads(COURTESIES.read_text(encoding="utf-8"))["courtesy"]


def _tolerant_in(needle: str, hay: str, extra: int = 2) -> bool:
    pat = re.compile(".{0,%d}?".join(map(re.escape, needle)) % ((extra,) * (len(needle) - 1)) if len(needle) > 1 else re.escape(needle))
    for m in pat.finditer(hay):
        if len(m.group(0)) <= len(needle) + extra:
            return True
    # overlapping starts
    for i in range(len(hay)):
        m = pat.match(hay, i)
        if m and len(m.group(0)) <= len(needle) + extra:
            return True
    return False


def literal_courtesies(text: str, courtesies: list[dict], tolerant: bool = False) -> set[str]:
    norm = normalize(text)
    found = set()
    for c in courtesies:
        forms = [c["phrase"]] + list(c.get("variants", []))
        forms = [normalize(f) for f in forms if "X" not in f]
        hit = any(f in norm for f in forms)
        if not hit and tolerant:
            hit = any(_tolerant_in(f, norm) for f in forms)
        if not hit:
            hit = any(re.search(p, norm) for p in c.get("patterns", []))
        if hit:
            found.add(c["phrase"])
    return found


def load_brush_offs() -> list[dict]:
    if not BRUSH_OFF_TOML.exists():
        return [{"phrase": b} for b in BRUSH_OFFS]
    entries = tomllib.loads(BRUSH_OFF_TOML.read_text(encoding="utf-8"))["brush_off"]
    have = {e["phrase"] for e in entries}
    return entries + [{"phrase": b} for b in BRUSH_OFFS if b not in have]


def _spans(entry: dict, norm: str) -> list[tuple[int, int]]:
    out = []
    for f in [entry["phrase"]] + list(entry.get("variants", [])):
        f = normalize(f)
        out += [(m.start(), m.end()) for m in re.finditer(re.escape(f), norm)]
    for p in entry.get("patterns", []):
        out += [(m.start(), m.end()) for m in re.finditer(p, norm)]
    return out


def literal_brush_offs(text: str, entries: list[dict]) -> set[str]:
    norm = normalize(text)
    return {e["phrase"] for e in entries if _spans(e, norm)}


def preview_brush_offs(text: str, entries: list[dict]) -> set[str]:
    """Literal hits minus those overlapping an exception; standalone entries need a non-Han next char."""
    norm = normalize(text)
    found = set()
    for e in entries:
        exc = []
        for x in e.get("exceptions", []):
            x = normalize(x)
            exc += [(m.start(), m.end()) for m in re.finditer(re.escape(x), norm)]
        for p in e.get("exception_patterns", []):
            exc += [(m.start(), m.end()) for m in re.finditer(p, norm)]
        for a, b in _spans(e, norm):
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
        for x in lb - set(BRUSH_OFFS):
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
        if cat in ("near_miss", "neutral") and lc:
            problems.append(f"{rid}: courtesies on a {cat} row")
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
    for c in canon_c:
        if courtesy_use[c] < 3:
            problems.append(f"courtesy {c} used {courtesy_use[c]}x (< 3)")
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
