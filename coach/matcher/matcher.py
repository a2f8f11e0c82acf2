"""Find courtesies, brush-offs and near misses in one utterance's text.

Each phrasebook phrase (and each variant) is aligned against the normalised text with a
small semi-global edit distance whose substitution cost knows how Mandarin sounds:

* same character                    0
* same toneless pinyin (管/关, 喂/为)  ``HOMOPHONE``
* same accent-tolerant pinyin        ``NEAR_HOMOPHONE``  (zh/z, n/l, -ng/-n)
* anything else                      1
* an extra character inside the phrase (请您稍等 ~ 请稍等)  ``INSERT``
* a phrase character missing         ``DELETE``

A phrase of *m* characters matches where the cost is at most ``(1 - match_score) * m``.
An inverted index over pinyin syllables keeps the alignment to the few phrases whose sounds
occur in the text, so matching stays fast.  Brush-off hits that overlap one of the entry's
exceptions (benign uses such as 不知道您还需要什么) are dropped; interjections marked
``standalone`` (喂, 哎) only count where they stand alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from coach.matcher.normalize import (
    Normalized,
    coarse_readings,
    fold_char,
    normalize,
    normalize_phrase,
    readings,
)
from coach.rules.phrasebook import Entry, Phrasebook

HOMOPHONE = 0.2
NEAR_HOMOPHONE = 0.45
INSERT = 0.5
DELETE = 1.0


@dataclass(frozen=True)
class Hit:
    kind: str            # "courtesy" | "brush_off" | "near_miss"
    entry: Entry
    heard: str           # the text as heard (original characters, punctuation included)
    start: int           # half-open span in the original text
    end: int
    score: float         # 1.0 = exact

    @property
    def phrase(self) -> str:
        return self.entry.phrase

    @property
    def suggestion(self) -> str | None:
        if self.kind == "near_miss":
            return f"请说完整的“{self.entry.phrase}”"
        return self.entry.suggestion if self.kind == "brush_off" else None


@lru_cache(maxsize=262144)
def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if readings(a) & readings(b):
        return HOMOPHONE
    if coarse_readings(a) & coarse_readings(b):
        return NEAR_HOMOPHONE
    return 1.0


def align(pattern: str, text: str, max_cost: float) -> list[tuple[float, int, int]]:
    """Approximate occurrences of ``pattern`` in ``text`` (both normalised).

    Returns ``(cost, start, end)`` spans over ``text`` with cost <= ``max_cost``, best
    first, not overlapping each other.
    """
    m, n = len(pattern), len(text)
    if m == 0 or n == 0:
        return []
    prev = [0.0] * (n + 1)            # free start anywhere in the text
    prev_start = list(range(n + 1))
    for i in range(1, m + 1):
        pc = pattern[i - 1]
        inner = i < m
        cur = [i * DELETE] + [0.0] * n
        cur_start = [0] * (n + 1)
        best_row = cur[0]
        for j in range(1, n + 1):
            c = prev[j - 1] + _sub_cost(pc, text[j - 1])
            s = prev_start[j - 1]
            d = prev[j] + DELETE
            if d < c:
                c, s = d, prev_start[j]
            if inner:
                e = cur[j - 1] + INSERT
                if e < c:
                    c, s = e, cur_start[j - 1]
            cur[j] = c
            cur_start[j] = s
            if c < best_row:
                best_row = c
        if best_row > max_cost:
            return []
        prev, prev_start = cur, cur_start
    found = sorted(
        ((prev[j], prev_start[j], j) for j in range(1, n + 1) if prev[j] <= max_cost and prev_start[j] < j),
        key=lambda x: (x[0], -(x[2] - x[1])),
    )
    chosen: list[tuple[float, int, int]] = []
    for cost, s, e in found:
        if all(e <= cs or s >= ce for _, cs, ce in chosen):
            chosen.append((cost, s, e))
    return chosen


@dataclass(frozen=True)
class _Form:
    """One wording of an entry (phrase, variant, near miss or exception), normalised."""

    entry_index: int
    role: str            # "phrase" | "near_miss" | "exception"
    chars: str
    max_cost: float
    max_missing: int


class Matcher:
    """Compiled entries: ``Matcher.from_phrasebook(pb).find(text)`` -> list of :class:`Hit`."""

    def __init__(self, entries: list[Entry] | tuple[Entry, ...], threshold: float):
        self.entries: list[Entry] = list(entries)
        self.threshold = threshold
        self._forms: list[_Form] = []
        self._index: dict[str, list[tuple[int, int]]] = {}
        for ei, entry in enumerate(self.entries):
            for w in dict.fromkeys((entry.phrase, *entry.variants)):
                self._add_form(ei, "phrase", w)
            for w in entry.near_misses:
                self._add_form(ei, "near_miss", w)
        self._exceptions: dict[int, list[_Form]] = {}
        for ei, entry in enumerate(self.entries):
            forms = [self._make_form(ei, "exception", w) for w in entry.exceptions]
            self._exceptions[ei] = [f for f in forms if f]

    @classmethod
    def from_phrasebook(cls, phrasebook: Phrasebook, extra_brush_offs: tuple[Entry, ...] = ()) -> "Matcher":
        entries = [*phrasebook.courtesies, *phrasebook.brush_offs, *extra_brush_offs]
        return cls(entries, phrasebook.thresholds.match_score)

    # -- compilation
    def _make_form(self, ei: int, role: str, wording: str) -> _Form | None:
        chars = normalize_phrase(wording)
        if not chars:
            return None
        max_cost = (1.0 - self.threshold) * len(chars) + 1e-9
        return _Form(ei, role, chars, max_cost, int(max_cost // 1.0))

    def _add_form(self, ei: int, role: str, wording: str) -> None:
        form = self._make_form(ei, role, wording)
        if form is None:
            return
        fi = len(self._forms)
        self._forms.append(form)
        for pos, ch in enumerate(form.chars):
            for syl in coarse_readings(ch):
                self._index.setdefault(syl, []).append((fi, pos))

    # -- matching
    def _candidates(self, text: str) -> list[int]:
        present: dict[int, set[int]] = {}
        for syl in {s for ch in set(text) for s in coarse_readings(ch)}:
            for fi, pos in self._index.get(syl, ()):
                present.setdefault(fi, set()).add(pos)
        return [fi for fi, pos in present.items()
                if len(self._forms[fi].chars) - len(pos) <= self._forms[fi].max_missing]

    def find(self, text: str) -> list[Hit]:
        norm = normalize(text)
        t = norm.chars
        if not t:
            return []
        raw: dict[tuple[int, str], list[tuple[float, int, int]]] = {}
        for fi in self._candidates(t):
            form = self._forms[fi]
            spans = align(form.chars, t, form.max_cost)
            if spans:
                key = (form.entry_index, form.role)
                raw.setdefault(key, []).extend(
                    (1.0 - cost / len(form.chars), s, e) for cost, s, e in spans)
        for ei, entry in enumerate(self.entries):
            for rx in entry.patterns:
                for mo in rx.finditer(t):
                    raw.setdefault((ei, "phrase"), []).append((1.0, mo.start(), mo.end()))

        hits: list[Hit] = []
        for (ei, role), spans in raw.items():
            entry = self.entries[ei]
            kind = entry.kind if role == "phrase" else "near_miss"
            for score, s, e in _best_disjoint(spans):
                if entry.standalone and not _stands_alone(norm, s, e, exact=(score == 1.0)):
                    continue
                if entry.kind == "brush_off" and self._excepted(ei, norm, s, e):
                    continue
                a, b = norm.span_to_original(s, e)
                hits.append(Hit(kind, entry, text[a:b], a, b, round(score, 3)))

        # A near miss inside a full courtesy (慢走 in 请慢走) or a brush-off (等着 in 等着吧) is not one.
        taken = [(h.start, h.end) for h in hits if h.kind != "near_miss"]
        hits = [h for h in hits if h.kind != "near_miss"
                or not any(h.start < e and s < h.end for s, e in taken)]
        hits.sort(key=lambda h: (h.start, -h.end, h.kind))
        return hits

    def _excepted(self, ei: int, norm: Normalized, s: int, e: int) -> bool:
        entry = self.entries[ei]
        t = norm.chars
        for rx in entry.exception_patterns:
            for mo in rx.finditer(t):
                if mo.start() < e and s < mo.end():
                    return True
        for form in self._exceptions[ei]:
            for _, xs, xe in align(form.chars, t, form.max_cost):
                if xs < e and s < xe:
                    return True
        return False


def _best_disjoint(spans: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    chosen: list[tuple[float, int, int]] = []
    for score, s, e in sorted(spans, key=lambda x: (-x[0], -(x[2] - x[1]))):
        if all(e <= cs or s >= ce for _, cs, ce in chosen):
            chosen.append((score, s, e))
    return chosen


def _stands_alone(norm: Normalized, s: int, e: int, *, exact: bool) -> bool:
    """An interjection counts at the start of a clause and followed by a pause.

    Exact characters may also be followed directly by speech when jieba keeps them as a word
    of their own (喂后面那个过来); a sound-alike (为) must be followed by punctuation or end.
    """
    text = norm.original
    a, b = norm.span_to_original(s, e)
    if a > 0 and fold_char(text[a - 1]) != "":
        return False
    if b >= len(text) or fold_char(text[b]) == "":
        return True
    if not exact:
        return False
    return _word_ends_at(text, a, b)


def _word_ends_at(text: str, a: int, b: int) -> bool:
    import jieba  # loaded on first need: building its dictionary takes about a second

    jieba.setLogLevel(60)
    pos = 0
    for tok in jieba.cut(text[a:], HMM=False):
        pos += len(tok)
        if a + pos >= b:
            return a + pos == b
    return False
