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
Only a few wordings are aligned at all: one RE2 set over the text's accent-tolerant sounds,
one byte per character (the *sieve*, :func:`_sieve_regex`), names the wordings whose sounds
occur in order closely enough for a match to be possible; of those, one found verbatim needs
no alignment, and a stretch where a bound from common subsequences already exceeds the budget
(:func:`_beyond_budget`) is not aligned either.  Entries' *patterns* (the
phrasebook's pattern language, :mod:`coach.phrasebook.patterns`, compiled to RE2) run on the
text and on its sound form; a :class:`~coach.phrasebook.patterns.PatternSet` over the sound
form says which of them can match at all (a prefilter on the text's sound bytes, then only the
candidates' own regexes), and another, sharing its prefilter, does the same for the benign
contexts.

A hit is dropped when it overlaps a benign context: one of the entry's ``exceptions`` or
``exception_patterns``, its family's ``exception_patterns``, or a ``context.toml`` rule for
its family (不清楚…我帮您问问).  Interjections marked ``standalone`` (喂, 哎) only count where
they stand alone.  :meth:`Matcher.explain` reports what decided, dropped hits included.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Final

from coach.phrasebook.normalize import (
    CLAUSE_MARKS,
    Normalized,
    Value,
    coarse,
    coarse_char,
    coarse_text,
    fold_char,
    normalize,
    per_char_bytes,
    sound_text,
    syllable,
)
from coach.phrasebook import Entry, Phrasebook
from coach.phrasebook.model import ContextRule, Family
from coach.phrasebook.patterns import Pattern, PatternSet, Subject, regex_set

_INF: Final = float("inf")
HOMOPHONE: Final = 0.2
NEAR_HOMOPHONE: Final = 0.42
SUBSTITUTE: Final = 1.5
INSERT: Final = 0.5
DELETE: Final = 1.2
CROSS_CLAUSE: Final = 1.0


class Hit(Value):
    """One finding in one text."""

    FIELDS: ClassVar[tuple[str, ...]] = ("kind", "entry", "heard", "start", "end", "score", "via")
    kind: Final[str]            # "courtesy" | "brush_off" | "near_miss"
    entry: Final[Entry]
    heard: Final[str]           # the text as heard (original characters, punctuation included)
    start: Final[int]           # half-open span in the original text
    end: Final[int]
    score: Final[float]         # 1.0 = exact
    via: Final[str]             # what matched: the wording (phrase/variant) or "pattern <source>"

    def __init__(self, kind: str, entry: Entry, heard: str, start: int, end: int, score: float,
                 via: str = "") -> None:
        self.kind, self.entry, self.heard = kind, entry, heard
        self.start, self.end, self.score, self.via = start, end, score, via

    @property
    def phrase(self) -> str:
        return self.entry.phrase

    @property
    def rule(self) -> str:
        """The finding's rule: the brush-off family id, or the courtesy id."""
        return self.entry.rule

    @property
    def family(self) -> str:
        return self.entry.family or self.entry.id

    @property
    def suggestion(self) -> str | None:
        if self.kind == "near_miss":
            return f"请说完整的“{self.entry.phrase}”"
        return self.entry.suggestion if self.kind == "brush_off" else None


class _CostRow(dict):
    """Substitution costs of one phrase character against any text character (memoised)."""

    def __init__(self, ch: str):
        super().__init__()
        self.ch = ch

    def __missing__(self, other: str) -> float:
        a = self.ch
        if a == other:
            cost = 0.0
        elif syllable(a) == syllable(other):
            cost = HOMOPHONE
        elif coarse(a) == coarse(other):
            cost = NEAR_HOMOPHONE
        else:
            cost = SUBSTITUTE
        self[other] = cost
        return cost


class _CostRows(dict):
    def __missing__(self, ch: str) -> _CostRow:
        row = self[ch] = _CostRow(ch)
        return row


_COSTS: Final = _CostRows()


def _sub_cost(a: str, b: str) -> float:
    return _COSTS[a][b]


def align(pattern: str, text: str, max_cost: float, text_breaks: tuple[bool, ...] = (),
          pattern_breaks: tuple[bool, ...] = ()) -> list[tuple[float, int, int]]:
    """Approximate occurrences of ``pattern`` in ``text`` (both normalised).

    ``text_breaks[j]`` says clause punctuation stood before ``text[j]``; a match that runs
    across one where the pattern has none pays ``CROSS_CLAUSE``.  Returns ``(cost, start,
    end)`` spans over ``text`` with cost <= ``max_cost``, best first, not overlapping.
    """
    m, n = len(pattern), len(text)
    if m == 0 or n == 0:
        return []
    at = text.find(pattern)
    if at >= 0 and not _crosses_break(text_breaks, pattern_breaks, at, m):
        return [(0.0, at, at + m)]   # verbatim (the usual case): nothing can beat it
    # Only cells that can stay within the budget are computed (costs only grow along a path):
    # in each row, from the first to one past the last cell of the row above that is within
    # it, then on through insertions while they stay within it.  Every other cell is beyond
    # the budget whatever its exact value, so it is left at infinity: each cell within the
    # budget, and where its best path starts, comes out as the full table would have it.
    tb = text_breaks if text_breaks and any(text_breaks) else (False,) * n
    pb = pattern_breaks or (False,) * m
    prev = [0.0] * (n + 1)            # free start anywhere in the text
    prev_start = list(range(n + 1))
    lo_prev, hi_prev = 0, n           # the cells of the row above within the budget lie here
    for i in range(1, m + 1):
        costs = _COSTS[pattern[i - 1]]
        inner = i < m
        cross_diag = CROSS_CLAUSE if i > 1 and not pb[i - 1] else 0.0
        cross_ins = CROSS_CLAUSE if inner and not pb[i] else 0.0
        cur = [_INF] * (n + 1)
        cur_start = [0] * (n + 1)
        cur[0] = i * DELETE
        lo = hi = -1
        if cur[0] <= max_cost:
            lo = hi = 0
        last = min(n, hi_prev + 1)
        for j in range(max(1, lo_prev), n + 1):
            brk = tb[j - 1]
            if j <= last:
                c = prev[j - 1] + costs[text[j - 1]] + (cross_diag if brk else 0.0)
                st = prev_start[j - 1]
                d = prev[j] + DELETE
                if d < c:
                    c, st = d, prev_start[j]
                if inner:
                    e = cur[j - 1] + INSERT + (cross_ins if brk else 0.0)
                    if e < c:
                        c, st = e, cur_start[j - 1]
            else:                     # past the row above: only an insertion can get here
                if not inner:
                    break
                c = cur[j - 1] + INSERT + (cross_ins if brk else 0.0)
                if c > max_cost:
                    break
                st = cur_start[j - 1]
            cur[j] = c
            cur_start[j] = st
            if c <= max_cost:
                if lo < 0:
                    lo = j
                hi = j
        if lo < 0:
            return []
        prev, prev_start, lo_prev, hi_prev = cur, cur_start, lo, hi
    found = sorted(
        ((prev[j], prev_start[j], j) for j in range(1, n + 1) if prev[j] <= max_cost and prev_start[j] < j),
        key=lambda x: (x[0], -(x[2] - x[1])),
    )
    chosen: list[tuple[float, int, int]] = []
    for cost, start, end in found:
        if all(end <= cs or start >= ce for _, cs, ce in chosen):
            chosen.append((cost, start, end))
    return chosen


def _crosses_break(text_breaks: tuple[bool, ...], pattern_breaks: tuple[bool, ...], at: int, m: int) -> bool:
    """Whether ``m`` characters of text from ``at`` run across clause punctuation where the
    pattern has none (``text_breaks`` empty: no breaks at all)."""
    if True not in text_breaks[at + 1:at + m]:      # the usual case, at C speed
        return False
    return any(text_breaks[at + k] and not (pattern_breaks and pattern_breaks[k]) for k in range(1, m))


@dataclass(frozen=True)
class Dropped:
    """A hit that a benign context took back (for ``coach phrasebook explain``)."""

    hit: Hit
    reason: str          # e.g. "context help_offered 〈{unsure}…{help}〉"


@dataclass(frozen=True)
class _Form:
    """One wording of an entry (phrase, variant, near miss or exception), normalised."""

    entry_index: int
    role: str                              # "phrase" | "near_miss" | "exception"
    chars: str
    breaks: tuple[bool, ...]
    max_cost: float
    max_missing: int                       # positions whose sound may be absent from the text
    sounds: str                            # accent-tolerant syllable per position (coarse_text)
    all_sounds: frozenset[str]
    max_span: int                          # longest stretch of text a match can cover


class Matcher:
    """Compiled entries: ``Matcher.from_phrasebook(pb).find(text)`` -> list of :class:`Hit`."""

    def __init__(self, entries: list[Entry] | tuple[Entry, ...], threshold: float,
                 families: tuple[Family, ...] = (), contexts: tuple[ContextRule, ...] = ()):
        self.entries: list[Entry] = list(entries)
        self.threshold = threshold
        self._order = {e.id: i for i, e in enumerate(self.entries)}
        forms = []
        for ei, entry in enumerate(self.entries):
            forms += [self._make_form(ei, "phrase", w) for w in dict.fromkeys((entry.phrase, *entry.variants))]
            forms += [self._make_form(ei, "near_miss", w) for w in entry.near_misses]
        self._forms: list[_Form] = [f for f in forms if f]
        # One RE2 set over the text's sounds, one byte per character, says which forms can
        # match at all (the sieve): only those are aligned.
        self._alphabet = _Alphabet(f.sounds for f in self._forms)
        self._sieve_forms: list[int] = []
        self._unsieved: list[int] = []
        sieves = []
        for fi, form in enumerate(self._forms):
            rx = _sieve_regex(form, self._alphabet)
            if rx is None:
                self._unsieved.append(fi)
            else:
                self._sieve_forms.append(fi)
                sieves.append(rx)
        self._sieve = regex_set(sieves, one_byte=True)
        # Patterns run on the text and on its sound form, so a homophone slip inside a pattern
        # (请您到3号窗扣办理, 看不清除) does not defeat it; a PatternSet over the sound form (a
        # text-form match is a sound-form match too) picks the few patterns worth running.
        self._pattern_owner: list[tuple[int, Pattern]] = [
            (ei, pat) for ei, e in enumerate(self.entries) for pat in e.patterns]
        # Benign contexts per entry: (label, pattern): its own, then those of its family (the
        # family's and its other entries'), then the context rules for the family.
        fam_exc: dict[str, list[tuple[str, Pattern]]] = {}
        for f in families:
            if f.kind == "brush_off":
                fam_exc.setdefault(f.id, []).extend(
                    (f"family {f.id} exception_patterns 〈{p.source}〉", p) for p in f.exception_patterns)
        for e in self.entries:
            if e.kind == "brush_off":
                fam_exc.setdefault(e.family or e.id, []).extend(
                    (f"{e.id} exception_patterns 〈{p.source}〉", p) for p in e.exception_patterns)
        benign: dict[int, list[tuple[str, Pattern]]] = {}     # (label, pattern) per entry
        for ei, e in enumerate(self.entries):
            own = [(f"exception_patterns 〈{p.source}〉", p) for p in e.exception_patterns]
            if e.kind == "brush_off":
                fam = e.family or e.id
                own += [x for x in fam_exc.get(fam, ()) if x[1] not in e.exception_patterns]
                own += [(f"context {c.id} 〈{p.source}〉", p) for c in contexts if c.applies_to(fam)
                        for p in c.patterns]
            benign[ei] = own
        # All benign-context patterns in one PatternSet: one look-up says which can match at all
        # (sharing the patterns' alphabet and prefilter — and the pattern set, built with it: a
        # text's sounds are looked up once).
        slot: dict[int, int] = {}
        distinct: dict[int, Pattern] = {}
        for own in benign.values():
            for _, p in own:
                slot.setdefault(id(p), len(slot))
                distinct[id(p)] = p
        patterns = [pat for _, pat in self._pattern_owner]
        self._pattern_set, self._exception_set = PatternSet.sharing([patterns, [distinct[k] for k in slot]])
        # (label, pattern, its place in the set of benign contexts) per entry
        self._exception_patterns: dict[int, list[tuple[str, Pattern, int]]] = {
            ei: [(label, p, slot[id(p)]) for label, p in own] for ei, own in benign.items()}
        # per entry, the places of its benign-context patterns (most texts match none of them)
        self._exception_slots = {ei: frozenset(x[2] for x in own) for ei, own in self._exception_patterns.items()}
        self._aligned: dict[tuple[int, str, tuple[bool, ...]], tuple] = {}     # see _align
        self._exceptions: dict[int, list[_Form]] = {}
        for ei, entry in enumerate(self.entries):
            forms = [self._make_form(ei, "exception", w) for w in entry.exceptions]
            self._exceptions[ei] = [f for f in forms if f]

    @classmethod
    def from_phrasebook(cls, phrasebook: Phrasebook, extra_brush_offs: tuple[Entry, ...] = ()) -> "Matcher":
        entries = [*phrasebook.courtesies, *phrasebook.brush_offs, *extra_brush_offs]
        return cls(entries, phrasebook.thresholds.match_score, phrasebook.families, phrasebook.contexts)

    # -- compilation
    def _make_form(self, ei: int, role: str, wording: str) -> _Form | None:
        norm = normalize(wording)
        if not norm.chars:
            return None
        max_cost = (1.0 - self.threshold) * len(norm.chars) + 1e-9
        # A position whose sound is absent costs at least a deletion or a substitution.
        max_missing = int(max_cost // min(DELETE, SUBSTITUTE))
        sounds = coarse_text(norm.chars)
        max_span = len(norm.chars) + int(max_cost // INSERT)
        return _Form(ei, role, norm.chars, norm.breaks, max_cost, max_missing, sounds,
                     frozenset(sounds), max_span)

    def warm_up(self) -> None:
        """Load what the first utterance would otherwise wait for (jieba's dictionary, ~1 s)."""
        _jieba()

    # -- matching
    def _sieved(self, text: str) -> list[int]:
        """The forms that can match ``text`` at all (those the sieve lets through), ascending."""
        found = self._unsieved
        if self._sieve is not None:
            hit = self._sieve.Match(self._alphabet.encode(text))
            if hit:
                found = sorted(map(self._sieve_forms.__getitem__, hit))
                if self._unsieved:
                    found = sorted(found + self._unsieved)
        return found

    def _form_spans(self, form: _Form, norm: Normalized, sounds: str,
                    present: set[str]) -> tuple[tuple[float, int, int], ...]:
        """:func:`align` of ``form`` on the text, as ``(cost, start, end)`` in the text's offsets; the
        alignment runs only on the stretch where the form can match (:func:`_form_window`;
        ``sounds``: the text's :func:`coarse_text`, ``present``: their set)."""
        t, m = norm.chars, len(form.chars)
        at = t.find(form.chars)
        if at >= 0 and not _crosses_break(norm.breaks, form.breaks, at, m):
            # Verbatim: what align gives on any stretch holding the first occurrence, and the
            # window holds every occurrence (all its sounds are there, side by side).
            return ((0.0, at, at + m),)
        window = _form_window(form, sounds, present)
        if window is None:
            return ()
        lo, hi = window
        spans = self._align(form, t[lo:hi], norm.breaks[lo:hi], sounds[lo:hi])
        return tuple((cost, s + lo, e + lo) for cost, s, e in spans) if lo else spans

    MAX_ALIGNED: ClassVar[int] = 1 << 16

    def _align(self, form: _Form, text: str, breaks: tuple[bool, ...],
               sounds: str) -> tuple[tuple[float, int, int], ...]:
        """:func:`align` of ``form`` on ``text`` (``sounds``: its :func:`coarse_text`), memoised:
        the same stretch of text (the same kinds of sentence, a phrase said again) is aligned
        once.  The memo is dropped whole when it reaches ``MAX_ALIGNED`` entries."""
        key = (id(form), text, breaks)
        spans = self._aligned.get(key)
        if spans is None:
            if len(self._aligned) >= self.MAX_ALIGNED:
                self._aligned.clear()
            spans = () if _beyond_budget(form, text, sounds) else tuple(align(form.chars, text, form.max_cost, breaks,
                                                                         form.breaks))
            self._aligned[key] = spans
        return spans

    def find(self, text: str) -> list[Hit]:
        return self._find(text, None)

    def explain(self, text: str) -> tuple[list[Hit], list[Dropped]]:
        """The hits, and the hits that a benign context (exception, context rule) took back."""
        dropped: list[Dropped] = []
        return self._find(text, dropped), dropped

    def _find(self, text: str, dropped: list[Dropped] | None) -> list[Hit]:
        norm = normalize(text)
        t = norm.chars
        if not t:
            return []
        raw: dict[tuple[int, str], list[tuple[float, int, int, str]]] = {}
        coarse = coarse_text(t)
        present = set(coarse)
        for fi in self._sieved(t):
            form = self._forms[fi]
            found = self._form_spans(form, norm, coarse, present)
            if found:
                key = (form.entry_index, form.role)
                raw.setdefault(key, []).extend(
                    (1.0 - cost / len(form.chars), s, e, form.chars) for cost, s, e in found)
        sounds = sound_text(t)
        subj = Subject(t, sounds, norm.breaks)   # clause breaks marked: only …… runs across one
        for k, (s, e) in self._pattern_set.spans(subj):
            ei, pat = self._pattern_owner[k]
            raw.setdefault((ei, "phrase"), []).append((1.0, s, e, "pattern " + pat.source))

        hits: list[Hit] = []
        possible: set[int] | None = None      # benign-context patterns that match somewhere
        for (ei, role), spans in raw.items():
            entry = self.entries[ei]
            kind = entry.kind if role == "phrase" else "near_miss"
            for score, s, e, via in _best_disjoint(spans):
                if entry.standalone and not _stands_alone(norm, s, e, exact=(score == 1.0)):
                    continue
                a, b = norm.span_to_original(s, e)
                hit = Hit(kind, entry, text[a:b], a, b, round(score, 3), via)
                if possible is None and self._exception_patterns[ei]:
                    possible = self._exception_set.candidates(subj)
                reason = self._excepted(ei, norm, subj, s, e, possible, coarse, present)
                if reason is not None:
                    if dropped is not None:
                        dropped.append(Dropped(hit, reason))
                    continue
                hits.append(hit)

        hits = _one_per_family(hits, self._order)
        # A near miss inside a full courtesy (慢走 in 请慢走) or a brush-off (等着 in 等着吧) is not one.
        taken = [(h.start, h.end) for h in hits if h.kind != "near_miss"]
        hits = [h for h in hits if h.kind != "near_miss"
                or not any(h.start < e and s < h.end for s, e in taken)]
        hits.sort(key=lambda h: (h.start, -h.end, h.kind))
        return hits

    def _excepted(self, ei: int, norm: Normalized, subj: Subject, s: int, e: int,
                  possible: set[int] | None, coarse: str, present: set[str]) -> str | None:
        """Why the hit at [s, e) is benign (the first exception or context it overlaps), or None.
        ``possible``: the benign-context patterns that match somewhere in the text; ``coarse``,
        ``present``: the text's coarse sounds and their set (as for :meth:`_form_spans`)."""
        if possible and not possible.isdisjoint(self._exception_slots[ei]):
            for label, pat, slot in self._exception_patterns[ei]:
                if slot not in possible:
                    continue
                for xs, xe in pat.spans(subj):
                    if xs < e and s < xe:
                        return label
        for form in self._exceptions[ei]:
            for _, xs, xe in self._form_spans(form, norm, coarse, present):     # as for hits
                if xs < e and s < xe:
                    return f"exceptions 〈{form.chars}〉"
        return None


def _one_per_family(hits: list[Hit], order: dict[str, int]) -> list[Hit]:
    """One occurrence of one intent is one hit.

    Overlapping brush-off hits of one family: keep the one matched by a wording (phrase or
    variant) over a pattern, then the better score, then the entry listed first (canonical
    wordings come before the shapes).  A courtesy hit found only by a pattern is dropped where
    it overlaps another hit of its stage (nested wordings such as 谢谢 in 谢谢您的配合 all stay).
    """
    ranked = sorted(hits, key=lambda h: (h.via.startswith("pattern"), -h.score, order.get(h.entry.id, 0), h.start))
    kept: list[Hit] = []
    for h in ranked:
        if h.kind == "near_miss" or (h.kind == "courtesy" and not h.via.startswith("pattern")):
            kept.append(h)
        elif not any(k.kind == h.kind and k.family == h.family and h.start < k.end and k.start < h.end
                     for k in kept):
            kept.append(h)
    return kept


class _Alphabet(dict):
    """The sieve's alphabet: one byte per accent-tolerant syllable (:func:`coarse_char`), the
    syllables the forms use most each a byte of their own, all others (and syllables no form
    uses) one shared byte.  A shared byte only lets the sieve pass more, never fewer."""

    SHARED: ClassVar[int] = 255

    def __init__(self, sounds):
        super().__init__()
        freq: dict[str, int] = {}
        for form_sounds in sounds:
            for syl in form_sounds:
                freq[syl] = freq.get(syl, 0) + 1
        codes = [b for b in range(1, self.SHARED) if b != 0x0A]     # '.' does not take a newline
        ranked = sorted(freq, key=lambda syl: (-freq[syl], syl))
        self.codes = dict(zip(ranked, codes))
        self._encode = per_char_bytes(self)     # asking this memo (in C where it is built)

    def __missing__(self, ch: str) -> int:
        code = self[ch] = self.codes.get(coarse_char(ch), self.SHARED)
        return code

    def encode(self, text: str) -> bytes:
        return self._encode(text)

    def regex(self, syl: str) -> str:
        return f"\\x{self.codes.get(syl, self.SHARED):02x}"


def _sieve_regex(form: _Form, alphabet: _Alphabet) -> str | None:
    """A regex over the text's sounds that matches wherever ``form`` can match (a necessary
    condition, so a form it rules out is not aligned at all), or None where there is none.

    An alignment within ``max_cost`` pairs every phrase character but at most ``max_missing``
    of them with a text character of the same accent-tolerant sound, in order (any other
    pairing costs ``SUBSTITUTE``, a dropped character ``DELETE``: no cheaper than the budget
    allows ``max_missing`` of).  Between two paired neighbours stand only inserted characters,
    at most ``max_cost // INSERT`` of them.  Cut the phrase into ``max_missing + 1`` runs of
    neighbours: one of them misses nothing, so its sounds occur in order with such gaps.
    """
    m, k = len(form.sounds), form.max_missing
    if m < k + 1:
        return None              # every character may be missing: no condition at all
    gap = f".{{0,{int(form.max_cost // INSERT)}}}"
    cuts = [m * r // (k + 1) for r in range(k + 2)]
    return "|".join(gap.join(map(alphabet.regex, form.sounds[a:b])) for a, b in zip(cuts, cuts[1:]))


def _beyond_budget(form: _Form, text: str, sounds: str) -> bool:
    """Whether every alignment of ``form`` on ``text`` (``sounds``: its :func:`coarse_text`)
    costs more than its budget, by a lower bound two longest common subsequences give
    (computed in C: a fifth of the windows on corrupted text are ruled out so, for a tenth of
    an alignment's time).

    An alignment pairs phrase characters, in order, with text characters: at most ``sound``
    of them (the LCS of the accent-tolerant sounds) with one that sounds the same, at most
    ``same`` (the LCS of the characters) with the same character.  Every other phrase
    character costs at least ``min(DELETE, SUBSTITUTE)``, a pairing with another character
    that sounds the same at least ``HOMOPHONE`` (insertions and clause crossings only add).
    """
    lcs = _lcs_similarity()
    sound, same = lcs(form.sounds, sounds), lcs(form.chars, text)
    unpaired = min(DELETE, SUBSTITUTE)
    bound = unpaired * (len(form.chars) - sound) + HOMOPHONE * (sound - same)
    return bound > form.max_cost + 1e-6      # a margin over float rounding: never a match lost


@lru_cache(maxsize=1)
def _lcs_similarity():
    from rapidfuzz.distance import LCSseq   # loaded on first need (about 20 ms of start-up)

    return LCSseq.similarity


def _form_window(form: _Form, sounds: str, present: set[str]) -> tuple[int, int] | None:
    """The stretch of text (``sounds``: its :func:`coarse_text`, ``present``: their set) where
    ``form`` could match, or None where it cannot: its sounds must be there, but for at most
    ``max_missing`` of its positions, then close enough together (:func:`_window`)."""
    alls = form.all_sounds
    if form.max_missing == 0:
        if not alls <= present:
            return None
    else:
        absent = alls - present
        if absent and (len(absent) > form.max_missing
                       or sum(x in absent for x in form.sounds) > form.max_missing):
            return None
    pos = [j for j, x in enumerate(sounds) if x in alls]
    if len(pos) < len(form.chars) - form.max_missing:
        return None
    return _window(form, pos, len(sounds))


def _window(form: _Form, pos: list[int], n: int) -> tuple[int, int] | None:
    """The stretch of text where ``form`` could match, or None where it cannot.

    ``pos`` lists the text positions whose sound occurs in the form.  A match pairs at least
    ``len - max_missing`` of the form's characters with such positions, all within
    ``max_span`` characters; the alignment only runs there.
    """
    need = len(form.chars) - form.max_missing
    lo = hi = -1
    k = 0
    for i, p in enumerate(pos):
        while p - pos[k] >= form.max_span:
            k += 1
        if i - k + 1 >= need:
            if lo < 0:
                lo = pos[k]
            hi = p
    if lo < 0:
        return None
    slack = form.max_missing
    return max(0, lo - slack), min(n, hi + 1 + slack)


def _best_disjoint(spans: list[tuple[float, int, int, str]]) -> list[tuple[float, int, int, str]]:
    """Disjoint spans, greedily: the better score first, then the longer, then in the order
    given (wordings, then patterns in the phrasebook's order), so the choice does not depend on
    what else the phrasebook holds."""
    if len(spans) == 1:
        return spans
    chosen: list[tuple[float, int, int, str]] = []
    for span in sorted(spans, key=lambda x: (-x[0], -(x[2] - x[1]))):
        _, s, e, _ = span
        if all(e <= cs or s >= ce for _, cs, ce, _ in chosen):
            chosen.append(span)
    return chosen


def _stands_alone(norm: Normalized, s: int, e: int, *, exact: bool) -> bool:
    """An interjection counts at the start of a clause and followed by a pause.

    A sound-alike (为 for 喂) needs clause punctuation (or the text's edge) on both sides.
    The exact character may also sit between spaces (ASR output), or run straight into the
    next words where jieba keeps it a word of its own (喂后面那个过来).
    """
    text = norm.original
    a, b = norm.span_to_original(s, e)
    before = text[:a].rstrip()
    if before and before[-1] not in CLAUSE_MARKS and not (exact and text[a - 1].isspace()):
        return False
    after = text[b:].lstrip()
    if not after or after[0] in CLAUSE_MARKS:
        return True
    if exact and text[b].isspace():
        return True
    if not exact and (before or not _simplified(after).startswith(_CALLED_AFTER_INTERJECTION)):
        return False
    # Run straight into the next words: only where jieba keeps it a word of its own.  A
    # sound-alike must also open the utterance and be followed by a typical call
    # (为后面那个过来 is 喂; 为您办理, 爱办不办 are not).
    return _word_ends_at(_simplified(text), a, b)


# How a rude call goes on after 喂/哎 (后面那个，过来): where a sound-alike (为, 爱) runs
# straight into one of these, it is taken for the interjection.
_CALLED_AFTER_INTERJECTION: Final = ("后面", "前面", "那个", "这个", "那边", "这边", "过来", "下一个", "下一位",
                              "排队", "站住", "等等", "干什么", "干嘛", "别")


def _simplified(text: str) -> str:
    """Traditional -> simplified character by character, punctuation kept (for jieba)."""
    return "".join(f if len(f) == 1 else c for c, f in zip(text, map(fold_char, text)))


def _jieba():
    import jieba  # loaded on first need: building its dictionary takes about a second

    if not jieba.dt.initialized:
        jieba.setLogLevel(60)
        jieba.initialize()
    return jieba


def _word_ends_at(text: str, a: int, b: int) -> bool:
    pos = 0
    for tok in _jieba().cut(text[a:], HMM=False):
        pos += len(tok)
        if a + pos >= b:
            return a + pos == b
    return False
