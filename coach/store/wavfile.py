"""A WAV file that is valid after every write, so a crash loses at most the last block.

The header is written first with sizes of zero; each :meth:`GrowingWav.write` appends the
PCM data and *then* rewrites the two size fields.  The header therefore never claims more
data than is on disk: a process killed at any instant leaves a playable file holding every
block written before the kill (at worst minus the block being written).  :func:`repair_wav`
extends the header over whole samples that made it to disk after the last header update.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

HEADER_BYTES = 44


def _header(sample_rate: int, channels: int, data_bytes: int) -> bytes:
    block_align = channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate,
                                     sample_rate * block_align, block_align, 16)
            + b"data" + struct.pack("<I", data_bytes))


def to_pcm16(block: np.ndarray) -> bytes:
    """float (-1..1) or int16 samples -> little-endian 16-bit PCM bytes."""
    a = np.asarray(block)
    if a.dtype != np.int16:
        a = np.clip(np.nan_to_num(a.astype(np.float32)), -1.0, 1.0)
        a = np.round(a * 32767.0).astype("<i2")
    return a.astype("<i2", copy=False).tobytes()


class GrowingWav:
    """Append-only 16-bit PCM WAV writer whose header is kept current."""

    def __init__(self, path: str | os.PathLike, sample_rate: int = 16000, channels: int = 1,
                 *, fsync: bool = False):
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.data_bytes = 0
        os.pwrite(self._fd, _header(sample_rate, channels, 0), 0)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    @property
    def frames(self) -> int:
        return self.data_bytes // (2 * self.channels)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def write(self, block: np.ndarray) -> None:
        data = to_pcm16(block)
        if not data:
            return
        offset = HEADER_BYTES + self.data_bytes
        view = memoryview(data)
        while view:
            n = os.pwrite(self._fd, view, offset)
            view, offset = view[n:], offset + n
        self.data_bytes += len(data)
        # Sizes after the data: the header never claims bytes that are not there yet.
        os.pwrite(self._fd, struct.pack("<I", 36 + self.data_bytes), 4)
        os.pwrite(self._fd, struct.pack("<I", self.data_bytes), 40)
        if self.fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "GrowingWav":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def repair_wav(path: str | os.PathLike) -> float | None:
    """Fix the sizes of a WAV left by :class:`GrowingWav` after a crash; returns its duration
    in seconds, or None when the file is missing or not one of ours."""
    p = Path(path)
    try:
        with open(p, "r+b") as fh:
            head = fh.read(HEADER_BYTES)
            if len(head) < HEADER_BYTES or head[:4] != b"RIFF" or head[36:40] != b"data":
                return None
            channels, rate = struct.unpack("<HI", head[22:28])
            align = max(channels, 1) * 2
            size = p.stat().st_size - HEADER_BYTES
            size -= size % align
            if struct.unpack("<I", head[40:44])[0] != size:
                fh.seek(4)
                fh.write(struct.pack("<I", 36 + size))
                fh.seek(40)
                fh.write(struct.pack("<I", size))
            return size / align / rate if rate else None
    except OSError:
        return None
