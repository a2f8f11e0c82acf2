"""Read a text transcript: one utterance a line, optional time and speaker prefixes.

    [12.5-14.0] 窗口：您好，请问您要办什么业务？
    [00:15.2-00:17.9] 客户: 我想办营业执照
    请稍等

Times are seconds or [hh:]mm:ss(.s); speakers 窗口/工作人员/clerk or 客户/群众/citizen.
Blank lines and lines starting with '#' are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from coach.errors import InputError
from coach.schema import Utterance

CLERK_NAMES = {"窗口", "工作人员", "职员", "柜员", "clerk", "staff", "a"}
CITIZEN_NAMES = {"客户", "群众", "市民", "办事人", "办事群众", "citizen", "customer", "b"}

_TIME = r"(\d+(?::\d{1,2}){0,2}(?:\.\d+)?)"
_LINE = re.compile(rf"^\s*\[\s*{_TIME}\s*[-–~,]\s*{_TIME}\s*\]\s*(.*)$")
_SPEAKER = re.compile(r"^\s*([^\s:：]{1,6})\s*[:：]\s*(.*)$")


def _seconds(s: str) -> float:
    value = 0.0
    for part in s.split(":"):
        value = value * 60 + float(part)
    return value


def parse_line(line: str) -> Utterance | None:
    """Parse one line; None for blank or comment lines. Raises ValueError on bad times."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    start = end = None
    m = _LINE.match(line)
    if m:
        start, end, line = _seconds(m.group(1)), _seconds(m.group(2)), m.group(3)
        if end < start:
            raise ValueError(f"end time {m.group(2)} is before start time {m.group(1)}")
    speaker = "unknown"
    s = _SPEAKER.match(line)
    if s and s.group(1).lower() in CLERK_NAMES | CITIZEN_NAMES:
        speaker = "clerk" if s.group(1).lower() in CLERK_NAMES else "citizen"
        line = s.group(2)
    text = line.strip()
    if not text:
        return None
    return Utterance(start=start, end=end, speaker=speaker, text=text)


def read_transcript(path: str | Path) -> list[Utterance]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found / 文件不存在") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text / 不是 UTF-8 文本（请另存为 UTF-8）") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            u = parse_line(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n}: {exc}") from None
        if u is not None:
            out.append(u)
    if not out:
        raise InputError(f"{path}: no utterances (empty transcript) / 文本为空")
    return out
