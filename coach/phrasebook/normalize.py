"""Text normalisation for matching: one kept character per token, each with its sounds.

ASR text arrives noisy: traditional characters, full-width forms, punctuation or none,
spaces between words.  :func:`normalize` keeps letters and digits only (NFKC, lower-case,
traditional -> simplified, character by character so positions stay aligned) and
remembers, for every kept character, where it stood in the original text.  Each kept
character also has a toneless pinyin syllable (:func:`syllable`, the everyday reading) and
a coarser "accent" form (:func:`coarse`: zh/z, ch/c, sh/s, n/l, -ng/-n merged) so that
homophone slips such as 管→关 or 喂→为 can be recognised.
"""

from __future__ import annotations

import importlib.util
import os
import unicodedata
from bisect import bisect_left
from functools import lru_cache
from itertools import compress
from typing import Callable, ClassVar, Final

from coach import _native


def _import_zhconv():
    """zhconv, imported without pkg_resources: zhconv finds its dictionary through it when it
    can (importing it costs ~65 ms, a tenth of ``coach check``'s start-up) and otherwise opens
    the same file beside its module.  Masked only while nobody has imported it."""
    import sys

    mask = "pkg_resources" not in sys.modules
    if mask:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # the import inside raises ImportError
    try:
        import zhconv
    finally:
        if mask:
            del sys.modules["pkg_resources"]
    return zhconv


zhconv = _import_zhconv()

_DIGIT_READINGS: Final = dict(zip("0123456789", ["ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu"]))


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """The normalised form of one character: '' for punctuation/space, else 1+ chars."""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        cat = unicodedata.category(c)
        if cat[0] not in "LN":
            continue
        if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff":
            c = zhconv.convert(c, "zh-cn")
        out.append(c.lower())
    return "".join(out)


def is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


@lru_cache(maxsize=65536)
def syllable(ch: str) -> str:
    """Toneless pinyin of one normalised character (the character itself if it has none).

    Only the everyday reading: rare readings (机 also reads "wei" in old dictionaries) would
    make unrelated characters sound alike.
    """
    if ch in _DIGIT_READINGS:
        return _DIGIT_READINGS[ch]
    if not is_han(ch):
        return ch
    readings = _readings()
    if readings is None:  # pragma: no cover - pypinyin without its data file layout
        from pypinyin import Style, pinyin

        got = pinyin(ch, style=Style.NORMAL, heteronym=False, errors="default")
        return got[0][0] if got and got[0] and got[0][0] else ch
    marked = readings.get(ord(ch))
    if not marked:
        return ch
    # First (everyday) reading, tone marks dropped, ü written v: what pypinyin's Style.NORMAL
    # gives for a single character (checked for every character U+3400-U+9FFF).
    plain = unicodedata.normalize("NFD", marked.split(",", 1)[0]).replace("u\u0308", "v")
    return "".join(c for c in plain if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _readings() -> dict | None:
    """pypinyin's single-character dictionary, loaded on its own: importing the pypinyin
    package also loads its phrase dictionary (~0.15 s of start-up) that we never use."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), "pinyin_dict.py")
    if not os.path.isfile(path):
        return None
    sub = importlib.util.spec_from_file_location("_coach_pinyin_dict", path)
    if sub is None or sub.loader is None:
        return None
    module = importlib.util.module_from_spec(sub)
    sub.loader.exec_module(module)
    return getattr(module, "pinyin_dict", None)


_SOUND_REPS: Final[dict[str, str]] = {}


@lru_cache(maxsize=65536)
def sound_char(ch: str) -> str:
    """One fixed character per toneless syllable, so that homophones become equal (管, 关 -> same)."""
    if not is_han(ch):
        return ch
    return _SOUND_REPS.setdefault(syllable(ch), ch)


class _PerChar(dict):
    """A memo of a per-character function that maps whole strings at C speed (``map`` over the
    dict's own lookup; only a character seen for the first time calls the function)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, ch: str) -> str:
        out = self[ch] = self.fn(ch)
        return out


_SOUND_CHARS: Final = _PerChar(sound_char)
_FOLDED: Final = _PerChar(fold_char)

# The loops in C (coach/_hot.c); None where the compiled modules are not used (coach/_native.py).
_HOT: Final = _native.hot()


def per_char_text(memo: dict) -> Callable[[str], str]:
    """``"".join(map(memo.__getitem__, chars))`` as a function of ``chars``: in C where it is
    built (asking ``memo`` for a character seen the first time), else that very expression."""
    get = memo.__getitem__
    fast = _HOT.CharMap(get).map if _HOT is not None else None

    def mapped(chars: str) -> str:
        out = fast(chars) if fast is not None else None     # None: a character maps to other than one
        return out if out is not None else "".join(map(get, chars))

    return mapped


def per_char_bytes(memo: dict) -> Callable[[str], bytes]:
    """``bytes(map(memo.__getitem__, text))`` as a function of ``text`` (``memo`` gives a byte per
    character): in C where it is built, else that very expression."""
    get = memo.__getitem__
    if _HOT is not None:
        return _HOT.CharMap(get, bytes=True).encode
    return lambda text: bytes(map(get, text))


_FOLD_MAP: Final = _HOT.CharMap(_FOLDED.__getitem__) if _HOT is not None else None   # normalize's loop
_sound_text: Final = per_char_text(_SOUND_CHARS)


def sound_text(chars: str) -> str:
    """``chars`` with every character replaced by its syllable's representative (same length)."""
    return _sound_text(chars)


@lru_cache(maxsize=65536)
def coarse(ch: str) -> str:
    """Accent-tolerant syllable: zh/z, ch/c, sh/s, n/l and -ng/-n merged (是~四, 年~连)."""
    s = syllable(ch)
    if not is_han(ch):
        return s
    for hard, soft in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(hard):
            s = soft + s[len(hard):]
            break
    if s.startswith("n") and not s.startswith("ng"):
        s = "l" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


_COARSE_REPS: Final[dict[str, str]] = {}


def coarse_char(ch: str) -> str:
    """One fixed character per accent-tolerant syllable (:func:`coarse`): 是, 四 -> same."""
    return _COARSE_REPS.setdefault(coarse(ch), ch)


_COARSE_CHARS: Final = _PerChar(coarse_char)
_coarse_text: Final = per_char_text(_COARSE_CHARS)


def coarse_text(chars: str) -> str:
    """``chars`` with every character replaced by its accent-tolerant syllable's representative."""
    return _coarse_text(chars)


# Clause punctuation: a phrase rarely runs across it (您别急，什么… is not 急什么).  Spaces are
# not clause marks: ASR puts them between words.
CLAUSE_MARKS: Final = frozenset("，。！？；：、,.!?;:…—\n")
_MARKS: Final = "".join(sorted(CLAUSE_MARKS))


class Value:
    """A value of the compiled matcher modules (:class:`Normalized`, ``matcher.Hit``): equal,
    hashed and shown by its ``FIELDS``, which are not reassigned.  A plain class rather than a
    frozen dataclass: compiled (setup.py), a frozen dataclass costs ~30× as much to build."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and type(other) is type(self) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__name__}({shown})"


class Normalized(Value):
    """Normalised text plus, per kept character, its index in the original text and whether
    clause punctuation stood right before it."""

    FIELDS: ClassVar[tuple[str, ...]] = ("original", "chars", "index", "breaks")
    original: Final[str]
    chars: Final[str]
    index: Final[tuple[int, ...]]
    breaks: Final[tuple[bool, ...]]

    def __init__(self, original: str, chars: str, index: tuple[int, ...], breaks: tuple[bool, ...] = ()) -> None:
        self.original, self.chars, self.index, self.breaks = original, chars, index, breaks

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of normalised chars to a half-open span of the original."""
        if not self.index:
            return (0, 0)
        return (self.index[start], self.index[end - 1] + 1)

    def heard(self, start: int, end: int) -> str:
        a, b = self.span_to_original(start, end)
        return self.original[a:b]


def normalize(text: str) -> Normalized:
    if _FOLD_MAP is not None:
        done = _FOLD_MAP.fold(text, _MARKS)         # the loop below, in C
        if done is not None:
            return Normalized(original=text, chars=done[0], index=done[1], breaks=done[2])
        return _normalize_slow(text)
    return _normalize_py(text)


def _normalize_py(text: str) -> Normalized:
    """:func:`normalize` in Python (the reference of the loop in C)."""
    folded = list(map(_FOLDED.__getitem__, text))
    chars = "".join(folded)
    index = tuple(compress(range(len(folded)), folded))     # where the kept characters stood
    if len(chars) != len(index):     # a character folds to several (a ligature, ㎏): the long way
        return _normalize_slow(text)
    breaks = [False] * len(index)
    if len(index) < len(text):       # something was dropped: was clause punctuation among it?
        for i, ch in enumerate(text):
            if ch in CLAUSE_MARKS and not folded[i]:
                k = bisect_left(index, i)         # the kept character right after the mark
                if 0 < k < len(index):
                    breaks[k] = True
    return Normalized(original=text, chars=chars, index=index, breaks=tuple(breaks))


def _normalize_slow(text: str) -> Normalized:
    chars: list[str] = []
    index: list[int] = []
    breaks: list[bool] = []
    pending = False
    for i, ch in enumerate(text):
        folded = fold_char(ch)
        if not folded:
            pending = pending or ch in CLAUSE_MARKS
            continue
        for c in folded:
            chars.append(c)
            index.append(i)
            breaks.append(pending and len(chars) > 1)
            pending = False
    return Normalized(original=text, chars="".join(chars), index=tuple(index), breaks=tuple(breaks))


def phrase_breaks(text: str) -> tuple[bool, ...]:
    """Where a phrasebook wording itself has clause punctuation (谢谢您，欢迎您…)."""
    return normalize(text).breaks


def normalize_phrase(text: str) -> str:
    """Normalised characters only (for phrasebook phrases and comparisons)."""
    return "".join(fold_char(ch) for ch in text)


def clause_bounds(text: str) -> list[bool]:
    """For each original character: True where it is a boundary (punctuation or space)."""
    return [fold_char(ch) == "" for ch in text]
