"""Decode any audio file to 16 kHz float32, streamed in chunks (PyAV / FFmpeg).

Memory stays bounded whatever the file length: frames are decoded, resampled and handed
out ``chunk_seconds`` at a time, so a two-hour recording never sits in memory whole.

Channels (``channels=``):

* ``"mix"``   — mean of all channels (mono files pass through unchanged);
* ``"left"`` / ``"right"`` — first / second channel (a mono file gives its only channel);
* ``"both"``  — yields ``(left, right)`` tuples of equal-length 1-D arrays, so the clerk's and
  the citizen's channel of a two-channel counter recording can be transcribed separately.
  A mono file raises :class:`~coach.errors.InputError`.

Damaged files: a file that ends early (truncated WAV, cut-off MP3 …) is decoded as far as it
goes and an :class:`AudioWarning` says how much was missing; only a file that yields no audio
at all raises :class:`~coach.errors.InputError`.  Missing, empty, non-audio files and files
without an audio stream raise :class:`~coach.errors.InputError` before anything is yielded.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Union

import numpy as np

from coach.errors import InputError

SAMPLE_RATE = 16000
Channels = Literal["mix", "left", "right", "both"]
CHANNEL_CHOICES: tuple[str, ...] = ("mix", "left", "right", "both")
Chunk = Union[np.ndarray, "tuple[np.ndarray, np.ndarray]"]

# A decoded file shorter than its header promises by more than this is reported as truncated.
_TRUNCATION_TOLERANCE_S = 0.1


class AudioWarning(UserWarning):
    """The file was decoded, but not entirely (truncated or partly corrupt)."""


@dataclass
class DecodeStats:
    """Filled in by :func:`decode` as it goes: the truth about what was decoded.

    ``samples`` counts the 16 kHz samples yielded so far (one pass; a second pass over the
    same file starts again from 0 and increments ``passes``); after the last chunk
    ``declared_s`` holds what the container claimed and ``truncated`` whether the file ended
    early or was corrupt part-way.  ``on_chunk(stats)`` is called after every chunk (progress).
    """

    samples: int = 0
    passes: int = 0
    declared_s: float | None = None
    truncated: bool = False
    warning: str | None = None
    on_chunk: object = None

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


@dataclass(frozen=True)
class AudioInfo:
    path: str
    duration: float | None  # seconds, as declared by the container (None when unknown)
    sample_rate: int
    channels: int
    codec: str
    format: str
    truncated: bool = False  # the file ends before its header says (WAV)


def _open(path: str | os.PathLike):
    import av

    p = Path(path)
    if not p.exists():
        raise InputError(f"找不到音频文件：{p}", hint="检查文件路径是否正确")
    if p.is_dir():
        raise InputError(f"这是一个文件夹，不是音频文件：{p}")
    if p.stat().st_size == 0:
        raise InputError(f"音频文件是空的（0 字节）：{p}", hint="重新录音或重新复制该文件")
    try:
        container = av.open(str(p), mode="r")
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        raise InputError(
            f"无法识别的音频文件（内容不是有效的 WAV/FLAC/MP3/M4A/AAC/OGG）：{p}",
            hint="用 `ffmpeg -i 输入文件 -ar 16000 -ac 1 output.wav` 转换后再试",
        ) from exc
    except av.error.FFmpegError as exc:
        raise InputError(f"无法打开音频文件：{p}（{exc}）") from exc
    if not container.streams.audio:
        container.close()
        raise InputError(f"文件里没有音轨：{p}", hint="确认这是录音文件而不是图片或纯视频")
    return container


def _wav_header_seconds(path) -> float | None:
    """Duration a RIFF/WAVE header promises (its data chunk size), None if not a plain WAV.

    FFmpeg estimates a WAV's duration from the file size, so a cut-off file looks complete
    to it; the header's data size tells the truth.
    """
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            byte_rate = 0
            while True:
                hdr = f.read(8)
                if len(hdr) < 8:
                    return None
                cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(size)
                    byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) >= 12 else 0
                    if size % 2:
                        f.read(1)
                elif cid == b"data":
                    if not byte_rate or size in (0, 0xFFFFFFFF):  # streaming writers leave it open
                        return None
                    return size / byte_rate
                else:
                    f.seek(size + (size % 2), 1)
    except OSError:
        return None


def _declared_duration(container) -> float | None:
    wav = _wav_header_seconds(container.name) if container.format.name == "wav" else None
    if wav is not None:
        return wav
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def probe(path: str | os.PathLike) -> AudioInfo:
    """Duration, sample rate and channel count, without decoding the audio."""
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        declared = _declared_duration(container)
        truncated = False
        if container.format.name == "wav" and declared and ctx.sample_rate and ctx.channels:
            stream_s = float(stream.duration * stream.time_base) if stream.duration else None
            truncated = stream_s is not None and declared - stream_s > _TRUNCATION_TOLERANCE_S
        return AudioInfo(
            path=str(path),
            duration=declared,
            sample_rate=int(ctx.sample_rate or stream.rate or 0),
            channels=int(ctx.channels or 0),
            codec=ctx.name or "?",
            format=container.format.name,
            truncated=truncated,
        )
    finally:
        container.close()


def require_channels(path: str | os.PathLike, clerk_channel: str | None, info: AudioInfo | None = None) -> None:
    """Refuse ``--clerk-channel`` on a file that has no second channel (one rule for every command)."""
    if clerk_channel in (None, "", "mix", "none"):
        return
    info = info or probe(path)
    if info.channels < 2:
        raise InputError(f"文件是单声道，无法按声道区分窗口和群众：{path}",
                         hint="去掉 --clerk-channel 选项（单声道录音不区分说话人）")


def _select(block: np.ndarray, channels: str):
    """``block`` is (n_channels, n) float32; return what ``channels`` asks for."""
    if channels == "mix":
        return block[0].copy() if block.shape[0] == 1 else block.mean(axis=0, dtype=np.float32)
    if channels == "left":
        return block[0].copy()
    if channels == "right":
        return block[1 if block.shape[0] > 1 else 0].copy()
    return block[0].copy(), block[1].copy()  # both


def decode(
    path: str | os.PathLike,
    *,
    channels: Channels = "mix",
    chunk_seconds: float = 1.0,
    stats: DecodeStats | None = None,
) -> Iterator[Chunk]:
    """Yield the file as 16 kHz float32 chunks of ``chunk_seconds`` (the last may be shorter).

    Errors about the file itself are raised on the first ``next()``; see the module doc.
    ``stats`` (optional) is updated as chunks are yielded, see :class:`DecodeStats`.
    """

    if channels not in CHANNEL_CHOICES:
        raise ValueError(f"channels must be one of {CHANNEL_CHOICES}, not {channels!r}")
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        n_in = int(stream.codec_context.channels or 1)
        if channels == "both" and n_in < 2:
            raise InputError(
                f"文件是单声道，无法分出窗口和群众两个声道：{path}",
                hint="去掉 --clerk-channel 选项（单声道录音不区分说话人）",
            )
        if channels in ("left", "right") and n_in < 2:
            warnings.warn(f"{path}: 单声道文件，忽略声道选择 {channels!r}", AudioWarning, stacklevel=2)
        yield from _decode_stream(container, stream, channels, chunk_seconds, str(path), stats)
    finally:
        container.close()


def _decode_stream(container, stream, channels: str, chunk_seconds: float, path: str,
                   stats: DecodeStats | None = None):
    import av

    if stats is not None:
        stats.samples = 0
        stats.passes += 1

    def counted(n: int) -> None:
        if stats is not None:
            stats.samples += n
            if callable(stats.on_chunk):
                stats.on_chunk(stats)

    chunk = max(1, int(round(chunk_seconds * SAMPLE_RATE)))
    stream.thread_type = "AUTO"
    resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)  # keep the source layout
    pending: list[np.ndarray] = []
    n_pending = 0
    n_total = 0
    error: Exception | None = None

    def frames():
        nonlocal error
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    yield from resampler.resample(frame)
        except (av.error.FFmpegError, ValueError) as exc:  # corrupt data mid-file
            error = exc
        yield from resampler.resample(None)  # flush the resampler's delay line

    for frame in frames():
        block = frame.to_ndarray()
        if block.ndim == 1:
            block = block[None, :]
        pending.append(block.astype(np.float32, copy=False))
        n_pending += block.shape[1]
        while n_pending >= chunk:
            data = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
            out, rest = data[:, :chunk], data[:, chunk:]
            pending, n_pending = ([rest] if rest.shape[1] else []), rest.shape[1]
            n_total += chunk
            yield _select(out, channels)
            counted(chunk)
    if n_pending:
        data = np.concatenate(pending, axis=1)
        n_total += data.shape[1]
        yield _select(data, channels)
        counted(data.shape[1])

    got = n_total / SAMPLE_RATE
    if n_total == 0:
        detail = f"（{error}）" if error else ""
        raise InputError(f"音频文件里没有可解码的声音：{path}{detail}", hint="文件可能已损坏，请重新导出或重新录音")
    declared = _declared_duration(container)
    if stats is not None:
        stats.declared_s = declared
    if error is not None or (declared is not None and declared - got > _TRUNCATION_TOLERANCE_S):
        want = f"，文件头声明 {declared:.1f} 秒" if declared else ""
        message = f"{path}: 文件不完整，只解码出 {got:.1f} 秒{want}（已处理能读到的部分）"
        if stats is not None:
            stats.truncated, stats.warning = True, message
        warnings.warn(message, AudioWarning, stacklevel=3)


def read(path: str | os.PathLike, *, channels: Channels = "mix"):
    """The whole file at once (for short clips and tests): an array, or (left, right) for "both"."""
    chunks = list(decode(path, channels=channels, chunk_seconds=10.0))
    if channels == "both":
        if not chunks:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
