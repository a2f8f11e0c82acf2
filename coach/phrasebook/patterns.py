"""The phrasebook's pattern language, compiled to RE2 (linear-time matching by construction).

A pattern describes the *shape* of a wording over normalised text (no punctuation, no spaces,
simplified characters).  Syntax (documented for trainers in ``phrasebook/README.md``)::

    不知道              literal characters (traditional or full-width are folded like the text)
    (去|到)别处          alternation inside a group
    {you}               a named synonym set from ``sets.toml`` (any one of its wordings)
    {filler}?           ``?`` after a character, group or set: optional
    {digit}+            ``+``: one to eight repetitions (never unbounded)
    说…遍               ``…`` (or ``...``): a gap of 0-4 characters inside one clause
    …8  …2-10           a gap of 0-8, or 2-10, characters (at most 20), inside one clause
    不清楚……16我帮您     ``……`` (or ``......``): a gap that may run across clause punctuation
                        (the Chinese ellipsis); nothing else does, so 别急，什么 is not 急什么
                        and 不归我管，你去问 is not 我…问
    ^喂$                ``^`` / ``$``: start / end of the utterance
    a|b                 top-level alternation

Punctuation and spaces inside a pattern are ignored (the text has none).  Between the parts of
a pattern (around a group, a set, an optional part), one spoken filler (:data:`FILLERS`: 啊 呢
吧 嘛 …) is skipped automatically, so 你去(投诉|告)(吧|好了) also matches 你去投诉嘛好了; inside
a run of plain characters (投诉) nothing is skipped.  Every pattern has
two forms: the *text* form over the characters and the *sound* form over
:func:`~coach.phrasebook.normalize.sound_text`, where each character stands for its toneless
syllable, so 不归我(管|问) also matches 不归我关.  A sound-form match must be at least
``MIN_SOUND_SPAN`` characters long and keep at least half of its characters as written in the
pattern (so 笨 does not match 本人, while 不归我关 still matches).  A pattern is checked in full
at load time (an error names it) and its two RE2 forms are compiled when first needed: most
patterns are never a candidate in a short session, and compiling all of them was most of
``coach check``'s start-up.  What could make RE2 refuse a parsed pattern is ruled out at load
(:func:`_repeats`: nested repetition past RE2's limit; :func:`_size`: a pattern big enough to
come near its memory limit is compiled at once).  Groups never capture, so no engine-specific
feature (back-references, look-arounds, named groups) can be written at all.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, ClassVar, Final, Iterable, Iterator, Mapping

import re2

from coach import _native
from coach.phrasebook.normalize import fold_char, per_char_bytes, sound_char

MAX_GAP: Final = 20
DEFAULT_GAP: Final = 4
MAX_REPEAT: Final = 8
MAX_LENGTH: Final = 400
MIN_SOUND_SPAN: Final = 3
RE2_MAX_REPEAT: Final = 1000    # RE2's limit on nested counted repetition
EAGER_SIZE: Final = 50_000      # a pattern this large (expanded, :func:`_size`) is compiled at load
FILLERS: Final = "啊呢吧嘛哦呀啦哈咯撒哟嘞噢诶"

_OPTIONS: Final = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 64 << 20     # room for the DFA of a whole set (else RE2 falls back to a slower NFA)


class PatternError(ValueError):
    """A pattern that does not parse or compile; the message says where."""


# --------------------------------------------------------------------------- syntax tree
# Nodes: ("lit", str) | ("set", name) | ("gap", lo, hi, crosses_clauses) | ("alt", [seq, ...]) | ("seq", [node, ...])
#        | ("opt", node) | ("rep", node) | ("bol",) | ("eol",)

class _Parser:
    def __init__(self, src: str, sets: Mapping[str, tuple[str, ...]]):
        self.src, self.sets, self.pos = src, sets, 0

    def fail(self, what: str) -> PatternError:
        return PatternError(f"{what} at position {self.pos + 1} of {self.src!r}")

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def parse(self):
        node = self.alt()
        if self.pos < len(self.src):
            raise self.fail(f"unexpected '{self.peek()}'")
        return node

    def alt(self):
        seqs = [self.seq()]
        while self.peek() == "|":
            self.pos += 1
            seqs.append(self.seq())
        if any(not s[1] for s in seqs) and len(seqs) > 1:
            raise self.fail("empty alternative in '|'")
        return seqs[0] if len(seqs) == 1 else ("alt", seqs)

    def seq(self):
        items: list = []
        while True:
            ch = self.peek()
            if ch in ("", "|", ")"):
                return ("seq", _merge_literals(items))
            if ch in "?+":
                if not items or items[-1][0] in ("gap", "bol", "eol", "opt", "rep"):
                    raise self.fail(f"'{ch}' must follow a character, a group or a set")
                self.pos += 1
                items[-1] = ("opt" if ch == "?" else "rep", items[-1])
                continue
            items.append(self.atom())

    def atom(self):
        ch = self.peek()
        if ch == "(":
            self.pos += 1
            inner = self.alt()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
            if inner == ("seq", []):
                raise self.fail("empty group '()'")
            return inner
        if ch == "{":
            end = self.src.find("}", self.pos)
            if end < 0:
                raise self.fail("missing '}'")
            name = self.src[self.pos + 1:end].strip()
            if name not in self.sets:
                known = ", ".join(sorted(self.sets)) or "none defined"
                raise self.fail(f"unknown set '{{{name}}}' (known: {known})")
            self.pos = end + 1
            return ("set", name)
        if ch == "…" or self.src.startswith("...", self.pos):
            self.pos += 1 if ch == "…" else 3
            cross = self.peek() == "…" or self.src.startswith("...", self.pos)
            if cross:
                self.pos += 1 if self.peek() == "…" else 3
            return self.gap(cross)
        if ch == "^":
            self.pos += 1
            return ("bol",)
        if ch == "$":
            self.pos += 1
            return ("eol",)
        if ch in "}[]\\*.":
            raise self.fail(f"'{ch}' is not part of the pattern language (see phrasebook/README.md)")
        self.pos += 1
        folded = fold_char(ch)
        return ("lit", folded) if folded else ("seq", [])

    def gap(self, cross: bool):
        lo_s = self._digits()
        if not lo_s:
            return ("gap", 0, DEFAULT_GAP, cross)
        lo, hi = 0, int(lo_s)
        if self.peek() == "-":
            self.pos += 1
            hi_s = self._digits()
            if not hi_s:
                raise self.fail("a gap range needs two numbers, e.g. …2-6")
            lo, hi = int(lo_s), int(hi_s)
        if hi > MAX_GAP or lo > hi or hi == 0:
            raise self.fail(f"a gap must be between 1 and {MAX_GAP} characters (got {lo}-{hi})")
        return ("gap", lo, hi, cross)

    def _digits(self) -> str:
        start = self.pos
        while self.peek().isascii() and self.peek().isdigit():
            self.pos += 1
        return self.src[start:self.pos]


def _merge_literals(items: list) -> list:
    """Adjacent plain characters as one literal node (fewer nodes; no filler between them)."""
    out: list = []
    for n in items:
        if n == ("seq", []):
            continue
        if n[0] == "lit" and out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + n[1])
        else:
            out.append(n)
    return out


def _skips_filler(a, b) -> bool:
    """A filler may stand between two parts unless both are plain characters (or a gap / an
    anchor is involved)."""
    if a[0] in ("gap", "bol", "eol") or b[0] in ("gap", "bol", "eol"):
        return False
    return not (a[0] == "lit" and b[0] == "lit")


_META: Final = frozenset("\\.^$|?*+()[]{}-")


def _esc(text: str) -> str:
    """Escape regex syntax (normalised text is letters and digits; this is belt and braces)."""
    return "".join("\\" + c if c in _META else c for c in text)


@lru_cache(maxsize=1024)
def _set_regex(words: tuple[str, ...], char: Callable[[str], str]) -> str:
    forms = sorted({"".join(map(char, w)) for w in words}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(map(_esc, forms)) + ")"


def _emit(node, sets: Mapping[str, tuple[str, ...]], char: Callable[[str], str], cache: dict | None = None,
          frag: Callable[[str], str] | None = None, memo: dict | None = None) -> str:
    """The regex of a syntax tree: ``char`` maps each character (identity for the text form,
    :func:`sound_char` for the sound form).  ``frag``, if given, writes each character's
    regex instead (the one-byte alphabet of :class:`PatternSet`; ``memo`` keeps each set's
    regex)."""
    if frag is None:
        frag = lambda c: _esc(char(c))  # noqa: E731
        lit = lambda w: _esc("".join(map(char, w)))  # noqa: E731
        set_regex = lambda words: _set_regex(words, char)  # noqa: E731
    else:
        lit = lambda w: "".join(map(frag, w))  # noqa: E731
        memo = {} if memo is None else memo

        def set_regex(words):
            out = memo.get(words)
            if out is None:
                out = memo[words] = "(?:" + "|".join(sorted({lit(w) for w in words})) + ")"
            return out
    if cache is None:
        cache = {"filler": "[" + "".join(sorted({frag(c) for c in FILLERS})) + "]?", "lit": lit, "set": set_regex}
    return _emit_node(node, sets, cache)


def _emit_node(node, sets, cache: dict) -> str:
    kind = node[0]
    if kind == "lit":
        return cache["lit"](node[1])
    if kind == "seq":
        items = node[1]
        out = []
        for k, n in enumerate(items):
            if k and _skips_filler(items[k - 1], n):
                out.append(cache["filler"])
            out.append(_emit_node(n, sets, cache))
        return "".join(out)
    if kind == "alt":
        return "(?:" + "|".join(_emit_node(n, sets, cache) for n in node[1]) + ")"
    if kind == "set":
        return cache["set"](sets[node[1]])
    if kind == "gap":   # BREAK stands between clauses in the subject: only …… may take it
        return f"{'.' if node[3] else '[^' + BREAK + ']'}{{{node[1]},{node[2]}}}"
    if kind == "opt":
        return f"(?:{_emit_node(node[1], sets, cache)})?"
    if kind == "rep":
        return f"(?:{_emit_node(node[1], sets, cache)}){{1,{MAX_REPEAT}}}"
    if kind == "bol":
        return "^"
    return "$"


# --------------------------------------------------------------------------- compiled pattern

class Subject:
    """A normalised text and its sound form, as UTF-8 bytes once (RE2 runs on bytes; spans come
    back as character offsets of ``chars``).  ``breaks[k]`` says clause punctuation stood before
    ``chars[k]``: there the bytes carry :data:`BREAK`, which no literal, set or plain gap
    matches, so only a ``……`` gap runs across a clause boundary."""

    __slots__ = ("chars", "sounds", "chars_b", "sounds_b", "sounds_marked", "_cuts", "_unmarked",
                 "_coded", "_coded_by")

    def __init__(self, chars: str, sounds: str, breaks: tuple[bool, ...] = ()):
        self.chars, self.sounds = chars, sounds
        cuts = [k for k, b in enumerate(breaks) if b and 0 < k < len(chars)] if any(breaks) else ()
        self._cuts = cuts
        self._unmarked: list[int] | None = None
        self._coded_by: SoundAlphabet | None = None   # the SoundAlphabet that encoded it last,
        self._coded = b""                               # and its bytes
        if cuts:
            self.sounds_marked = _marked(sounds, cuts)
            self.chars_b, self.sounds_b = _marked(chars, cuts).encode(), self.sounds_marked.encode()
        else:
            self.chars_b, self.sounds_b = chars.encode(), sounds.encode()
            self.sounds_marked = sounds

    def char_span(self, data: bytes, s: int, e: int) -> tuple[int, int]:
        a = len(data[:s].decode())
        b = a + len(data[s:e].decode())
        if not self._cuts:
            return a, b
        unmarked = self._unmarked
        if unmarked is None:
            # marked position -> characters of ``chars`` before it (a marker is not one)
            cuts = self._cuts
            unmarked, n, at = [], 0, set(k + j for j, k in enumerate(cuts))
            for m in range(len(self.chars) + len(cuts) + 1):
                unmarked.append(n)
                n += m not in at
            self._unmarked = unmarked
        return unmarked[a], unmarked[b]


BREAK: Final = "\x1f"      # the clause marker: a control character, never in normalised text


def _marked(text: str, cuts: list[int]) -> str:
    out, prev = [], 0
    for k in cuts:
        out.append(text[prev:k])
        out.append(BREAK)
        prev = k
    out.append(text[prev:])
    return "".join(out)


def _subject(chars, sounds) -> Subject:
    return chars if isinstance(chars, Subject) else Subject(chars, sounds)


class Pattern:
    """One trainer-written pattern; its two regexes (text and sound form) are written and
    compiled with RE2 on first use (:func:`compile_pattern` has checked that they compile)."""

    __slots__ = ("source", "letters", "has_gap", "min_bytes", "tree", "sets", "_text_rx", "_sound_rx")

    def __init__(self, source: str, tree: tuple, sets: Mapping[str, tuple[str, ...]]):
        self.source, self.tree, self.sets = source, tree, sets
        self.letters: frozenset = frozenset(_letters(tree, sets))  # every character the pattern writes
        self.has_gap: bool = _crosses(tree)          # a …… gap: the pattern may run across clause punctuation
        self.min_bytes: int = max(1, _min_bytes(tree, sets))  # the shortest match, in UTF-8 bytes of the text form
        self._text_rx: Any = None
        self._sound_rx: Any = None

    def __repr__(self) -> str:
        return f"Pattern({self.source!r})"

    @property
    def text_regex(self) -> str:
        return _emit(self.tree, self.sets, _same)

    @property
    def sound_regex(self) -> str:
        return _emit(self.tree, self.sets, sound_char)

    def compile(self) -> "Pattern":
        """Both forms compiled now (else on first use)."""
        self._text_rx, self._sound_rx = self.text_rx, self.sound_rx
        return self

    @property
    def text_rx(self) -> Any:
        return self._text_rx if self._text_rx is not None else self._compiled(False)

    @property
    def sound_rx(self) -> Any:
        return self._sound_rx if self._sound_rx is not None else self._compiled(True)

    def _compiled(self, sound: bool) -> Any:
        if sound:
            rx = self._sound_rx = compile_regex(self.sound_regex, f"pattern {self.source!r} (sound form)")
        else:
            rx = self._text_rx = compile_regex(self.text_regex, f"pattern {self.source!r}")
        return rx

    def spans(self, chars: "str | Subject", sounds: str | None = None) -> list[tuple[int, int]]:
        """Half-open spans over the normalised text: where the text form matches or, when it
        matches nowhere, where the sound form does.  Give the text and its sound form, or a
        :class:`Subject`."""
        subj = _subject(chars, sounds)
        return self.text_spans(subj) or self.sound_spans(subj)

    def _matches(self, rx, data: bytes, first: tuple[int, int] | None = None) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) byte spans, leftmost first (a search loop: cheaper than
        the wrapper's finditer, and no search where too little text is left).  ``first``: the
        first match, ``search_span(rx, data)``, when the caller has it already."""
        out = []
        pos, n = 0, len(data)
        span = first
        while n - pos >= self.min_bytes:
            if span is None:
                span = search_span(rx, data, pos)
                if span is None:
                    break
            s, e = span
            if e > s:
                out.append((s, e))
            pos = e if e > s else e + 1
            span = None
        return out

    def text_spans(self, subj: Subject, first=None) -> list[tuple[int, int]]:
        data, char_span = subj.chars_b, subj.char_span
        return [char_span(data, s, e) for s, e in self._matches(self.text_rx, data, first)]

    def sound_spans(self, subj: Subject) -> list[tuple[int, int]]:
        data, chars, letters = subj.sounds_b, subj.chars, self.letters
        out = []
        for bs, be in self._matches(self.sound_rx, data):
            s, e = subj.char_span(data, bs, be)
            if e - s >= MIN_SOUND_SPAN and 2 * sum(c in letters for c in chars[s:e]) >= e - s:
                out.append((s, e))
        return out

    def search(self, chars: "str | Subject", sounds: str | None = None) -> bool:
        return bool(self.spans(chars, sounds))


def normalize_sets(raw: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """Set wordings as the matcher sees them (folded characters); an empty wording is an error."""
    out: dict[str, tuple[str, ...]] = {}
    for name, words in raw.items():
        folded = []
        for w in words:
            f = "".join(fold_char(c) for c in w)
            if not f:
                raise PatternError(f"set '{name}' has an empty wording {w!r}")
            folded.append(f)
        out[name] = tuple(folded)
    return out


# RE2 through the binding's own objects (re2._re2): a regex's and a set's Match without the
# Python wrappers' work per call (match objects, type checks; about twice as quick).
_UNANCHORED: Final = re2._Anchor.UNANCHORED


def _compile(regex: bytes, options):
    rx = re2._re2.RE2(regex, options)
    if not rx.ok():
        raise re2.error(rx.error())
    return rx


def search_span(rx, data: bytes, pos: int = 0) -> tuple[int, int] | None:
    """(start, end) of the leftmost match of ``rx`` (:func:`compile_regex`,
    :func:`compile_one_byte`) in ``data[pos:]`` (byte offsets), or None."""
    span = rx.Match(_UNANCHORED, data, pos, len(data))[0]
    return None if span[0] < 0 else span


def compile_regex(regex: str, what: str):
    """Compile for matching UTF-8 bytes (the pattern itself is checked as text first)."""
    try:
        return _compile(regex.encode(), _OPTIONS)
    except re2.error as exc:
        msg = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"{what} does not compile ({msg})") from None


def compile_pattern(src: str, sets: Mapping[str, tuple[str, ...]]) -> Pattern:
    """Parse ``src`` and compile both forms with RE2; :class:`PatternError` says what is wrong."""
    if not isinstance(src, str) or not src.strip():
        raise PatternError("empty pattern")
    if len(src) > MAX_LENGTH:
        raise PatternError(f"pattern longer than {MAX_LENGTH} characters: {src[:20]!r}…")
    tree = _Parser(src, sets).parse()
    if _min_bytes(tree, sets) == 0:
        raise PatternError(f"pattern {src!r} matches empty text (give it at least one character)")
    if _repeats(tree) > RE2_MAX_REPEAT:
        raise PatternError(f"pattern {src!r} repeats too much: nested '+' and gaps allow more than "
                           f"{RE2_MAX_REPEAT} repetitions (nest fewer)")
    p = Pattern(src, tree, sets)
    return p.compile() if _size(tree, sets) > EAGER_SIZE else p   # near RE2's memory limit: find out now


def _same(c: str) -> str:
    return c


def _repeats(node) -> int:
    """The most repetitions nested counted repeats allow (``+`` is {1,8}, a gap {lo,hi}): RE2
    refuses a regex where this exceeds :data:`RE2_MAX_REPEAT`."""
    kind = node[0]
    if kind in ("seq", "alt"):
        return max((_repeats(n) for n in node[1]), default=1)
    if kind == "rep":
        return MAX_REPEAT * _repeats(node[1])
    if kind == "opt":
        return _repeats(node[1])
    if kind == "gap":
        return node[2]
    return 1


def _size(node, sets) -> int:
    """An upper bound of the regex's size once RE2 has expanded its counted repeats (bytes;
    a gap's any-character class counted as 8)."""
    kind = node[0]
    if kind == "lit":
        return len(node[1].encode())
    if kind == "set":
        return sum(len(w.encode()) + 1 for w in sets[node[1]])
    if kind in ("seq", "alt"):
        return sum(_size(n, sets) + 16 for n in node[1])   # + a filler class between parts
    if kind == "rep":
        return MAX_REPEAT * _size(node[1], sets)
    if kind == "opt":
        return _size(node[1], sets)
    if kind == "gap":
        return 8 * node[2]
    return 1


def _crosses(node) -> bool:
    """Whether the pattern has a ``……`` gap (one that may run across clause punctuation)."""
    kind = node[0]
    if kind == "gap":
        return node[3]
    if kind in ("seq", "alt"):
        return any(_crosses(n) for n in node[1])
    if kind in ("opt", "rep"):
        return _crosses(node[1])
    return False


def _min_bytes(node, sets) -> int:
    """Fewest UTF-8 bytes a match can take (sound characters are CJK too: same byte counts
    for CJK; 1 byte per ASCII letter or digit)."""
    kind = node[0]
    if kind == "lit":
        return len(node[1].encode())
    if kind == "seq":
        return sum(_min_bytes(n, sets) for n in node[1])
    if kind == "alt":
        return min(_min_bytes(n, sets) for n in node[1])
    if kind == "set":
        return min(len(w.encode()) for w in sets[node[1]])
    if kind == "gap":
        return node[1]          # at least one byte per character
    if kind == "rep":
        return _min_bytes(node[1], sets)
    return 0                    # opt, bol, eol


def _letters(node, sets) -> Iterator[str]:
    kind = node[0]
    if kind == "lit":
        yield from node[1]
    elif kind == "set":
        for w in sets[node[1]]:
            yield from w
    elif kind in ("seq", "alt"):
        for n in node[1]:
            yield from _letters(n, sets)
    elif kind in ("opt", "rep"):
        yield from _letters(node[1], sets)


_BYTE_OPTIONS: Final = re2.Options()
_BYTE_OPTIONS.log_errors = False
_BYTE_OPTIONS.max_mem = _OPTIONS.max_mem
_BYTE_OPTIONS.encoding = re2.Options.Encoding.LATIN1


def regex_set(regexes: list[str], *, one_byte: bool = False):
    """One RE2 set that says which of ``regexes`` match somewhere in UTF-8 bytes (None if there
    are none): ``.Match(data)`` lists their indices (an empty list: none matches).  ``one_byte``:
    the data is one byte per character (an alphabet of at most 256 symbols), not UTF-8."""
    if not regexes:
        return None
    s = re2._re2.Set(_UNANCHORED, _BYTE_OPTIONS if one_byte else _OPTIONS)
    for rx in regexes:
        if s.Add(rx.encode()) < 0:
            raise re2.error(f"cannot add {rx!r} to a set")
    if not s.Compile():
        raise re2.error("cannot compile a set")
    return s


class SoundAlphabet(dict):
    """The set's alphabet: one byte per sound character its patterns write (the most used ones;
    where they are more than the bytes, the rest share ``BUCKETS`` bytes, a few sounds each),
    one byte (``SHARED``) for every sound no pattern writes, :data:`BREAK` its own.  With one
    byte per character RE2's set automaton stays small and quick; a byte shared by several
    sounds only lets more patterns through as candidates, which their own regexes then settle.
    (A pattern's rare sound must not share the byte of the sounds no pattern writes: almost
    every text holds one of those, and the pattern would be a candidate on almost every text.)"""

    SHARED: ClassVar[int] = 255
    BUCKETS: ClassVar[int] = 24

    def __init__(self, patterns: list[Pattern]):
        super().__init__()
        freq: dict[str, int] = {}
        for p in patterns:
            for s in {sound_char(c) for c in p.letters}:
                freq[s] = freq.get(s, 0) + 1
        for c in FILLERS:                       # between almost any two parts: a byte each
            s = sound_char(c)
            freq[s] = freq.get(s, 0) + len(patterns) + 1
        reserved = {0x0A, ord(BREAK)}            # '.' takes no newline; BREAK is itself
        codes = [b for b in range(1, self.SHARED) if b not in reserved]
        ranked = sorted(freq, key=lambda s: (-freq[s], s))
        if len(ranked) > len(codes):                # the rarest share the last bytes, in turn
            cut = len(codes) - self.BUCKETS
            unique, buckets = codes[:cut], codes[cut:]
            self.codes = dict(zip(ranked, unique))
            for i, s in enumerate(ranked[len(unique):]):
                self.codes[s] = buckets[i % len(buckets)]
        else:
            self.codes = dict(zip(ranked, codes))
        self[BREAK] = ord(BREAK)
        self._frags: dict[str, str] = {}
        self._sets: dict = {}            # a set's regex, once per set (patterns share sets)
        self._encode = per_char_bytes(self)     # asking this memo (in C where it is built)

    def __missing__(self, ch: str) -> int:
        code = self[ch] = self.codes.get(ch, self.SHARED)
        return code

    def code(self, ch: str) -> int:
        """The byte of a pattern character (its sound character's)."""
        return self.codes.get(sound_char(ch), self.SHARED)

    def frag(self, ch: str) -> str:
        out = self._frags.get(ch)
        if out is None:
            out = self._frags[ch] = f"\\x{self.code(ch):02x}"
        return out

    def regex(self, p: Pattern) -> str:
        return _emit(p.tree, p.sets, sound_char, frag=self.frag, memo=self._sets)

    def encode(self, subj: Subject) -> bytes:
        """The subject's sound form (clause breaks marked), one byte per character (kept on the
        subject: sets that share this alphabet encode it once)."""
        if subj._coded_by is not self:
            subj._coded, subj._coded_by = self._encode(subj.sounds_marked), self
        return subj._coded


def compile_one_byte(regex: str):
    """One regex over one-byte-per-character data (an alphabet's codes, not UTF-8)."""
    return _compile(regex.encode(), _BYTE_OPTIONS)


class OneByteRegexes:
    """Regexes over one-byte data, run on the few candidates a :class:`Prefilter` names.

    A group of candidates runs each one's own regex (compiled on first need) until it has been
    met ``COMPILE_AFTER`` times; from then on it runs as one small RE2 set over just those
    regexes: one call instead of one per regex, on an automaton as small as the group, where
    one set over all the regexes has to build states as large as itself for every new text.
    Compiling a group costs as much as a hundred calls of its regexes, so only groups that keep
    coming back (the same kinds of sentence) are compiled; a group met once or twice (unseen
    text) never pays for it.  The ``MAX_GROUPS`` groups used last are kept compiled, and the
    counts of the ``MAX_GROUPS`` not yet compiled met last are remembered.
    """

    MAX_GROUPS: ClassVar[int] = 1024
    COMPILE_AFTER: ClassVar[int] = 8

    def __init__(self, regexes: list[str]):
        self.regexes = regexes
        self._rx: list = [None] * len(regexes)
        self._groups: dict[tuple[int, ...], Any] = {}      # compiled, least recently used first
        self._met: dict[tuple[int, ...], int] = {}             # not compiled yet: times met
        self.compile_after = self.COMPILE_AFTER

    def matches(self, k: int, data: bytes) -> bool:
        """Whether regex ``k`` matches somewhere in ``data``."""
        rx = self._rx[k]
        if rx is None:
            rx = self._rx[k] = compile_one_byte(self.regexes[k])
        return search_span(rx, data) is not None

    def matching(self, candidates: list[int], data: bytes) -> list[int]:
        """The candidates whose regex matches ``data``, ascending."""
        if len(candidates) < 2:
            return [k for k in candidates if self.matches(k, data)]
        key = tuple(candidates)
        groups = self._groups
        group = groups.pop(key, None)
        if group is None:
            met = self._met.pop(key, 0) + 1
            if met < self.compile_after:
                if len(self._met) >= self.MAX_GROUPS:
                    del self._met[next(iter(self._met))]
                self._met[key] = met                            # now the most recently met
                return [k for k in candidates if self.matches(k, data)]
            if len(groups) >= self.MAX_GROUPS:
                del groups[next(iter(groups))]
            group = regex_set([self.regexes[k] for k in candidates], one_byte=True)
        groups[key] = group                                     # now the most recently used
        return [candidates[i] for i in sorted(group.Match(data) or ())]


PAIR: Final = 0x100      # the least item that is a pair of bytes (see Prefilter)


class Prefilter:
    """Which of many regexes over one-byte data can match, found without running them all.

    The *items* of one-byte data are its bytes and each two adjacent bytes as ``a << 8 | b``
    (the alphabets never use byte 0, so a pair is at least ``PAIR``).
    Each member has *clauses*: sets of items of which a text it matches holds
    at least one (a necessary condition, derived from the regex).  The most telling ``lanes``
    clauses of each member (pairs of bytes are rarer than single bytes, items many members
    need are common ones) are kept as bit sets, one bit per member and lane: an item's mask
    has the bit of every member with a clause holding it, so OR-ing the masks of the text's
    items and AND-ing the lanes leaves the members whose kept clauses all meet the text, in
    one pass at C speed.  The caller then runs the candidates' own regexes: the answer is that
    of one RE2 set over all of them, while the work per text stays small and, unlike a set's
    automaton, does not grow with every new text seen (RE2 builds a set's DFA states lazily,
    each one as large as the whole set: on unseen text that building was most of the
    matcher's time).
    """

    def __init__(self, clauses: list[list[frozenset[int]]], shared: int | None = None, lanes: int = 3):
        """``shared``: the byte many characters share (an item with it is a common one)."""
        n = self.size = len(clauses)
        self.lanes = lanes
        used: dict[int, int] = {}
        for member in clauses:
            for item in {i for c in member for i in c}:
                used[item] = used.get(item, 0) + 1
        if shared is not None:
            for item in used:
                if item == shared or (item >= PAIR and shared in (item & 0xFF, item >> 8)):
                    used[item] *= 64

        def weight(clause: frozenset[int]) -> int:
            return sum((1 if item >= PAIR else 8) * used[item] for item in clause)

        masks: dict[int, int] = {}
        start = 0                       # lanes a member has no clause for: always met
        for k, member in enumerate(clauses):
            kept = sorted(dict.fromkeys(member), key=weight)[:lanes]
            for lane in range(lanes):
                bit = 1 << (lane * n + k)
                if lane >= len(kept):
                    start |= bit
                    continue
                for item in kept[lane]:
                    masks[item] = masks.get(item, 0) | bit
        self._start = start
        self._masks = masks
        self._last: tuple[bytes | None, int] = (None, 0)     # see met_in
        hot = _native.hot()             # the same bit sets as 64-bit words in C (coach/_hot.c)
        self._hot = hot.Masks(masks, start, n, lanes) if hot is not None else None

    def met(self, data: bytes) -> int:
        """The members whose kept clauses all meet one-byte ``data``, one bit each: the masks
        of its items OR-ed (misses skipped), then the lanes AND-ed."""
        masks = self._masks
        found = self._start
        prev = 0                        # no byte before (the alphabets never use byte 0)
        for b in data:
            mask = masks.get(b)
            if mask is not None:
                found |= mask
            if prev:
                mask = masks.get(prev << 8 | b)
                if mask is not None:
                    found |= mask
            prev = b
        n = self.size
        left = found & ((1 << n) - 1)
        for lane in range(1, self.lanes):
            left &= found >> (lane * n)
        return left

    def met_in(self, data: bytes) -> int:
        """:meth:`met` of one-byte ``data``, kept for the last data given: the
        sets that share this prefilter ask in turn about the same subject's bytes (the same
        object, :meth:`SoundAlphabet.encode`), which are then looked up once."""
        last, met = self._last
        if data is not last:
            met = self.met(data)
            self._last = (data, met)
        return met

    def candidates(self, data: bytes) -> list[int]:
        """The members whose kept clauses all meet one-byte ``data``, in ascending order."""
        return members(self.met(data))

    def members_in(self, data: bytes, lo: int, hi: int) -> list[int]:
        """``members(self.met_in(data), lo, hi)``, in C where it is built."""
        if self._hot is not None:
            return self._hot.members(data, lo, hi)
        return members(self.met_in(data), lo, hi)


def members(met: int, lo: int = 0, hi: int | None = None) -> list[int]:
    """The members ``lo`` to ``hi - 1`` in ``met`` (:meth:`Prefilter.met`), ascending,
    counted from ``lo``."""
    left = met >> lo
    if hi is not None:
        left &= (1 << (hi - lo)) - 1
    digits = bin(left)                  # '0b…', the highest member first
    top = len(digits) - 1
    out = []
    at = digits.rfind("1")
    while at > 1:
        out.append(top - at)
        at = digits.rfind("1", 0, at)
    return out


class PrefilterPart:
    """The members ``lo`` to ``hi - 1`` of a :class:`Prefilter` that several sets share, as
    a prefilter of their own (members counted from ``lo``)."""

    def __init__(self, prefilter: Prefilter, lo: int = 0, hi: int | None = None):
        self.prefilter, self.lo = prefilter, lo
        self.hi = prefilter.size if hi is None else hi

    def candidates(self, data: bytes) -> list[int]:
        return members(self.prefilter.met(data), self.lo, self.hi)

    def candidates_in(self, data: bytes) -> list[int]:
        """:meth:`candidates`, kept for the last data given (see :meth:`Prefilter.met_in`)."""
        return self.prefilter.members_in(data, self.lo, self.hi)


def _weight(clause: frozenset[int]) -> int:
    """How telling a clause is, within one pattern: pairs of bytes before single bytes."""
    return sum(1 if item >= PAIR else 8 for item in clause)


def _clauses(node, sets: Mapping[str, tuple[str, ...]], code: Callable[[str], int]) -> list[frozenset[int]]:
    """Necessary conditions for the one-byte form of a syntax tree to match (``code``: a
    character's byte): clauses of :func:`items`, one of each in every match.  Within a
    run of plain characters nothing is skipped, so each two neighbours stand side by side."""
    kind = node[0]
    if kind == "lit":
        w = [code(c) for c in node[1]]
        return [frozenset((a << 8 | b,)) for a, b in zip(w, w[1:])] or [frozenset(w)]
    if kind == "seq":
        return [c for n in node[1] for c in _clauses(n, sets, code)]
    if kind == "rep":
        return _clauses(node[1], sets, code)
    if kind == "alt":
        best = [min(_clauses(n, sets, code), key=_weight, default=frozenset()) for n in node[1]]
        return [] if not all(best) else [frozenset().union(*best)]
    if kind == "set":
        best = [min(_clauses(("lit", w), sets, code), key=_weight) for w in sets[node[1]]]
        return [frozenset().union(*best)]
    return []                   # opt, gap, bol, eol: nothing is sure to be there


def _pattern_clauses(patterns: list[Pattern], alphabet: SoundAlphabet) -> list[list[frozenset[int]]]:
    """The prefilter clauses of each pattern's one-byte sound form."""
    return [_clauses(p.tree, p.sets, alphabet.code) for p in patterns]


class PatternSet:
    """Many patterns, one look-up: which of them can match this text at all.

    The sound forms settle it: a text-form match is also a sound-form match (the sound form is
    the text form with every character replaced by its sound character, and so is the
    subject's sound text), so the sound forms' answer covers both.  Each pattern's sound form
    is written over the one-byte alphabet; a :class:`Prefilter` names the few that can match
    and only their regexes run (compiled on first need).  The answer is that of one RE2 set
    over all of them.
    """

    def __init__(self, patterns: list[Pattern], alphabet: SoundAlphabet | None = None,
                 prefilter: PrefilterPart | None = None):
        """``alphabet``: one shared with other sets (built over all their patterns);
        ``prefilter``: a part of one shared with them (:meth:`sharing`)."""
        self.patterns = patterns
        self._alphabet = alphabet if alphabet is not None else SoundAlphabet(patterns)
        self._regexes = OneByteRegexes([self._alphabet.regex(p) for p in patterns])
        if prefilter is None:
            prefilter = PrefilterPart(Prefilter(_pattern_clauses(patterns, self._alphabet), self._alphabet.SHARED))
        self._prefilter = prefilter

    @classmethod
    def sharing(cls, groups: list[list[Pattern]]) -> list["PatternSet"]:
        """One set per group of patterns, all on one alphabet and one prefilter, so that a
        text's sound bytes are encoded and looked up once for all of them."""
        alphabet = SoundAlphabet([p for group in groups for p in group])
        prefilter = Prefilter([c for group in groups for c in _pattern_clauses(group, alphabet)], alphabet.SHARED)
        sets, lo = [], 0
        for group in groups:
            sets.append(cls(group, alphabet, PrefilterPart(prefilter, lo, lo + len(group))))
            lo += len(group)
        return sets

    def _matched(self, subj: Subject) -> list[int]:
        """The patterns whose one-byte sound form matches somewhere, ascending."""
        data = self._alphabet.encode(subj)
        return self._regexes.matching(self._prefilter.candidates_in(data), data)

    def candidates(self, chars: "str | Subject", sounds: str | None = None) -> set[int]:
        """Patterns whose text or sound form matches somewhere (``sounds`` is
        ``sound_text(chars)``)."""
        return set(self._matched(_subject(chars, sounds)))

    def spans(self, chars: "str | Subject", sounds: str | None = None) -> list[tuple[int, tuple[int, int]]]:
        """(pattern index, span) for every pattern, each as :meth:`Pattern.spans` would give:
        the text form's spans where it matches somewhere, else the sound form's.  Patterns whose
        text form matches come first, each group in the patterns' order: where two patterns
        report equal spans the earlier one is named, whatever other patterns the set holds."""
        subj = _subject(chars, sounds)
        matched = self._matched(subj)
        if not matched:
            return []
        text_b = subj.chars_b
        out: list[tuple[int, tuple[int, int]]] = []
        sound_only = []
        for k in matched:
            first = search_span(self.patterns[k].text_rx, text_b)
            if first is None:
                sound_only.append(k)
            else:
                out += [(k, span) for span in self.patterns[k].text_spans(subj, first)]
        for k in sound_only:
            out += [(k, span) for span in self.patterns[k].sound_spans(subj)]
        return out
