"""Text for the screens: styles are Textual theme variables, Chinese lines break properly.

    t = Styled("✓ ", "bold $text-success").append("您好", "$text-success")
    static.update(t)                      # shown with the current theme's colours

:class:`Styled` builds a :class:`textual.content.Content` (styles such as ``$text-success`` or
``$text-error`` are resolved from the theme when drawn, so a theme change recolours them).
Shown through :class:`ZhVisual`, its lines are broken the Chinese way: no line starts with
closing punctuation (，。、；：？！）」…) and none ends with an opening one (（「《“).
:func:`zh_punct` turns the half-width punctuation an engine writes between Chinese
characters into full-width (one character for one, so offsets into the text stay valid).
"""

from __future__ import annotations

import re
from typing import Iterable

from rich.cells import cell_len
from textual.content import Content
from textual.visual import Visual

NO_LINE_START = set("，。、；：？！）」』》〉】”’…—·,.;:?!)%")
NO_LINE_END = set("（「『《〈【“‘(")
_CJK = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]"
_HALF = {",": "，", ".": "。", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）"}


def zh_punct(text: str) -> str:
    """Half-width punctuation next to Chinese characters → full-width (same length)."""
    if not text:
        return text
    return re.sub(rf"(?<={_CJK})[,.?!:;]|[,.?!:;](?={_CJK})", lambda m: _HALF[m.group(0)], text)


def hang_of(para: str) -> int:
    """Hanging indent of a paragraph: one that starts with spaces (a finding under its
    utterance) continues two columns further in, under its text."""
    lead = len(para) - len(para.lstrip(" "))
    return lead + 2 if lead else 0


def kinsoku_lines(text: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text`` wrapped at ``width`` cells, breaking between any
    two characters (Chinese has no spaces) but never before closing or after opening
    punctuation.  Existing newlines are kept; continuation lines of an indented paragraph
    are ``hang_of`` narrower (the caller indents them)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for para in text.split("\n"):
        start, used = pos, 0
        i = pos
        end = pos + len(para)
        hang = hang_of(para) if width - hang_of(para) >= 8 else 0
        limit = width
        while i < end:
            w = cell_len(text[i])
            if used + w > limit and i > start:
                cut = i
                # pull characters down while the next line would start with closing punctuation
                # or this one would end with opening punctuation
                while cut - 1 > start and (text[cut] in NO_LINE_START or text[cut - 1] in NO_LINE_END):
                    cut -= 1
                if cut - 1 <= start and (text[cut] in NO_LINE_START or text[cut - 1] in NO_LINE_END):
                    cut = i          # a line of punctuation only: break where it falls
                out.append((start, cut))
                start, used = cut, sum(cell_len(c) for c in text[cut:i])
                limit = width - hang
                continue
            used += w
            i += 1
        out.append((start, end))
        pos = end + 1
    return out


class ZhVisual(Visual):
    """A Content wrapped with :func:`kinsoku_lines` at whatever width it is given."""

    def __init__(self, content: Content):
        self.content = content
        self._cache: dict[int, Content] = {}

    @property
    def plain(self) -> str:
        return self.content.plain

    @property
    def spans(self):
        return self.content.spans

    def __str__(self) -> str:
        return self.content.plain

    def wrapped(self, width: int) -> Content:
        if width <= 0 or cell_len(self.content.plain) <= width and "\n" not in self.content.plain:
            return self.content
        got = self._cache.get(width)
        if got is None:
            plain = self.content.plain
            rows = []
            para_start = 0
            for a, b in kinsoku_lines(plain, width):
                if a == 0 or plain[a - 1] == "\n":
                    para_start = a
                    rows.append(self.content[a:b])
                else:   # a continuation line: indented under the paragraph's text
                    para = plain[para_start:plain.find("\n", para_start) if "\n" in plain[para_start:] else len(plain)]
                    hang = hang_of(para) if width - hang_of(para) >= 8 else 0
                    rows.append(Content(" " * hang) + self.content[a:b])
            got = self._cache[width] = Content("\n").join(rows)
        return got

    def render_strips(self, width, height, style, options):
        return self.wrapped(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules, container_width: int) -> int:
        return self.content.get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules) -> int:
        return self.content.get_minimal_width(rules)

    def get_height(self, rules, width: int) -> int:
        return self.wrapped(width).get_height(rules, width)


class Styled:
    """A mutable builder of :class:`Content` with theme-variable styles (Rich ``Text``-like)."""

    def __init__(self, text: str = "", style: str = ""):
        self._content = Content.styled(text, style) if style else Content(text)

    @property
    def content(self) -> Content:
        return self._content

    @property
    def plain(self) -> str:
        return self._content.plain

    def __len__(self) -> int:
        return len(self._content.plain)

    def __str__(self) -> str:
        return self._content.plain

    def append(self, text: "str | Styled | Content", style: str = "") -> "Styled":
        if isinstance(text, Styled):
            text = text.content
        if isinstance(text, Content):
            self._content = self._content + (text.stylize_before(style) if style else text)
        else:
            self._content = self._content + (Content.styled(text, style) if style else Content(text))
        return self

    append_text = append

    def stylize(self, style: str, start: int = 0, end: int | None = None) -> "Styled":
        self._content = self._content.stylize(style, start, end)
        return self

    def __add__(self, other: "Styled | str") -> "Styled":
        out = Styled()
        out._content = self._content
        return out.append(other)

    def join(self, items: Iterable["Styled | str"]) -> "Styled":
        out = Styled()
        for i, item in enumerate(items):
            if i:
                out.append(self._content)
            out.append(item)
        return out

    def visualize(self, widget=None, obj=None) -> Visual:
        return ZhVisual(self._content)


__all__ = ["NO_LINE_END", "NO_LINE_START", "Styled", "ZhVisual", "kinsoku_lines", "zh_punct"]
