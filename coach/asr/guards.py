"""Hallucination guards for Whisper output (text- and level-based).

Whisper invents text on silence and noise ("字幕by…", "请不吝点赞 订阅 转发 打赏", "谢谢观看")
and sometimes loops ("请稍等请稍等请稍等…").  These checks run on every decoded segment:

* :func:`is_silence_hallucination` — a known subtitle/video phrase: dropped when the audio is
  quiet, and the subtitle credits / "like and subscribe" lines always (never said at a counter);
* :func:`collapse_loops` — a unit repeated ≥ 4 times in a row is cut to 2 repetitions
  (two are legitimate: 您好您好, 谢谢谢谢);
* :func:`active_dbfs` — the segment level used for the quiet test.
"""

from __future__ import annotations

import re

import numpy as np

from coach.audio.level import level_dbfs as rms_dbfs

# Said on near-silent audio by Whisper models trained on subtitled video.
_ALWAYS = re.compile(
    r"字幕|subtitle|amara|请不吝点赞|点赞.{0,3}订阅|订阅.{0,3}转发|打赏支持|明镜与点点|优优独播|"
    r"独播剧场|YoYo|Television Series|中文字幕|字幕组|本字幕|由.{0,8}提供的字幕|感谢.{0,4}观看|欢迎订阅",
    re.IGNORECASE,
)
_QUIET_ONLY = re.compile(r"^(谢谢观看|谢谢大家|谢谢收看|谢谢|感谢收看|再见|嗯|啊|呃|哦|好)[。！!.，, ]*$")
QUIET_DBFS = -45.0
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def active_dbfs(audio: np.ndarray, frame: int = 320) -> float:
    """Level of the loudest 20 % of 20 ms frames: robust to leading/trailing silence."""
    n = len(audio) // frame
    if n == 0:
        return rms_dbfs(audio)
    e = np.mean(np.square(audio[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    top = np.sort(e)[-max(1, n // 5):]
    return max(-120.0, 10.0 * np.log10(float(top.mean()) + 1e-12))


def is_silence_hallucination(text: str, level_dbfs: float) -> bool:
    t = text.strip()
    if not _PUNCT.sub("", t):
        return True
    if _ALWAYS.search(t):
        return True
    return level_dbfs < QUIET_DBFS and bool(_QUIET_ONLY.match(t))


_LOOP = re.compile(r"(.{1,15}?)\1{3,}", re.DOTALL)


def collapse_loops(text: str) -> str:
    """Cut any unit repeated 4+ times in a row down to two repetitions."""
    return _LOOP.sub(lambda m: m.group(1) * 2, text)


def looks_like_loop(text: str) -> bool:
    return bool(_LOOP.search(text))
