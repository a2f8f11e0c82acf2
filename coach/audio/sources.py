"""Live audio sources: blocks of 16 kHz float32 mono, stoppable from another thread.

* :class:`FileSource` plays a file at real-time pace (live mode without a microphone: demos,
  tests) or as fast as it decodes (``realtime=False``);
* :class:`MicSource` records from an input device via sounddevice/PortAudio.  The PortAudio
  callback only copies into a bounded queue; when the consumer falls behind, the oldest block
  is dropped and counted (``dropped_blocks``) so the live view never lags further and further.

Iterate a source to get blocks; call :meth:`AudioSource.stop` from any thread to end it (the
iteration then finishes after at most one block).  Sources are context managers.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from coach.audio.decode import SAMPLE_RATE, decode
from coach.audio.level import level_dbfs
from coach.errors import AudioDeviceError

BLOCK_SECONDS = 0.1

__all__ = ["AudioSource", "FileSource", "MicSource", "InputDevice", "list_input_devices", "level_dbfs"]


class AudioSource:
    """Base: an iterable of float32 blocks (``block_seconds`` long, the last may be shorter)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, block_seconds: float = BLOCK_SECONDS):
        self.block_seconds = block_seconds
        self.block_size = max(1, int(round(block_seconds * SAMPLE_RATE)))
        self._stop = threading.Event()
        self.samples = 0  # samples handed out so far

    @property
    def position(self) -> float:
        """Seconds of audio handed out so far (the live timeline)."""
        return self.samples / SAMPLE_RATE

    def stop(self) -> None:
        """End the stream; safe to call from any thread, any number of times."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def blocks(self) -> Iterator[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self.blocks():
            if self._stop.is_set():
                break
            self.samples += len(block)
            yield block

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class FileSource(AudioSource):
    """A file as a live source.  ``realtime=True`` paces blocks by the wall clock."""

    def __init__(self, path, *, realtime: bool = True, channel: str = "mix", block_seconds: float = BLOCK_SECONDS,
                 speed: float = 1.0):
        super().__init__(block_seconds)
        if channel not in ("mix", "left", "right"):
            raise ValueError("FileSource channel must be mix, left or right")
        self.path, self.realtime, self.channel, self.speed = path, realtime, channel, speed

    def blocks(self) -> Iterator[np.ndarray]:
        t0 = time.monotonic()
        sent = 0
        rest = np.zeros(0, np.float32)
        for chunk in decode(self.path, channels=self.channel, chunk_seconds=max(1.0, self.block_seconds)):
            rest = np.concatenate([rest, chunk]) if len(rest) else chunk
            while len(rest) >= self.block_size:
                block, rest = rest[: self.block_size], rest[self.block_size:]
                if not self._pace(t0, sent):
                    return
                sent += len(block)
                yield block
        if len(rest) and self._pace(t0, sent):
            yield rest

    def _pace(self, t0: float, sent: int) -> bool:
        """Wait until ``sent`` samples are due; False when stopped meanwhile."""
        if not self.realtime:
            return not self._stop.is_set()
        due = t0 + sent / SAMPLE_RATE / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            return not self._stop.wait(delay)
        return not self._stop.is_set()


# ---------------------------------------------------------------- microphone

def _sounddevice():
    """Import sounddevice, turning a missing PortAudio into a one-line error."""
    try:
        import sounddevice as sd
    except OSError as exc:  # raised at import when libportaudio is missing
        raise AudioDeviceError(
            f"找不到 PortAudio 音频库，无法使用麦克风（{exc}）",
            hint="sudo apt-get install libportaudio2",
        ) from exc
    return sd


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: float
    hostapi: str
    is_default: bool


def list_input_devices() -> list[InputDevice]:
    """Input-capable devices (empty list when there are none)."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_in = sd.default.device[0] if sd.default.device else -1
    except Exception as exc:  # PortAudio errors on broken setups
        raise AudioDeviceError(f"无法列出音频设备（{exc}）", hint="检查声卡驱动，或运行 `arecord -l` 查看") from exc
    out = []
    for i, d in enumerate(devices):
        if d.get("max_input_channels", 0) > 0:
            api = hostapis[d["hostapi"]]["name"] if d.get("hostapi") is not None else "?"
            out.append(InputDevice(i, d["name"], int(d["max_input_channels"]), float(d["default_samplerate"]),
                                   api, i == default_in))
    return out


class MicSource(AudioSource):
    """Record from ``device`` (index, name substring, or None = system default).

    ``channel`` ``"left"``/``"right"``: a two-channel interface (clerk on one microphone, citizen
    on the other) is opened in stereo and only that channel is handed out; ``"mix"``: mono."""

    def __init__(self, device: int | str | None = None, *, block_seconds: float = BLOCK_SECONDS,
                 max_queue_seconds: float = 5.0, channel: str = "mix"):
        super().__init__(block_seconds)
        if channel not in ("mix", "left", "right"):
            raise ValueError("MicSource channel must be mix, left or right")
        self.device = device
        self.channel = channel
        self.dropped_blocks = 0
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(2, int(max_queue_seconds / block_seconds)))
        self._lock = threading.Lock()
        self.status_flags = 0  # PortAudio over/underflows seen

    def _resolve_device(self, sd) -> int | None:
        devices = list_input_devices()
        if not devices:
            raise AudioDeviceError("没有找到任何录音设备（麦克风）", hint="插上麦克风后运行 `coach devices` 确认")
        index = self._find(devices)
        if self.channel != "mix":
            chosen = next((d for d in devices if d.index == index), None) if index is not None else \
                next((d for d in devices if d.is_default), devices[0])
            if chosen is not None and chosen.channels < 2:
                raise AudioDeviceError(f"录音设备 “{chosen.name}” 只有 1 个声道，无法按声道区分窗口和群众",
                                       hint="换用双声道声卡，或去掉 --clerk-channel（单麦克风按声音区分）")
        return index

    def _find(self, devices: list[InputDevice]) -> int | None:
        if self.device is None:
            return None
        if isinstance(self.device, int) or str(self.device).isdigit():
            idx = int(self.device)
            if not any(d.index == idx for d in devices):
                raise AudioDeviceError(f"没有编号为 {idx} 的录音设备", hint="运行 `coach devices` 查看可用编号")
            return idx
        hits = [d for d in devices if str(self.device).lower() in d.name.lower()]
        if not hits:
            raise AudioDeviceError(f"没有名字包含 “{self.device}” 的录音设备", hint="运行 `coach devices` 查看设备名")
        return hits[0].index

    def _put(self, block: np.ndarray) -> None:
        with self._lock:
            while True:
                try:
                    self._queue.put_nowait(block)
                    return
                except queue.Full:
                    try:
                        self._queue.get_nowait()  # drop the oldest
                        self.dropped_blocks += 1
                    except queue.Empty:
                        pass

    def blocks(self) -> Iterator[np.ndarray]:
        sd = _sounddevice()
        device = self._resolve_device(sd)

        column = 1 if self.channel == "right" else 0

        def callback(indata, frames, time_info, status):  # PortAudio thread: copy and return
            if status:
                self.status_flags += 1
            self._put(indata[:, column].astype(np.float32, copy=True))

        try:
            stream = sd.InputStream(samplerate=SAMPLE_RATE, blocksize=self.block_size, device=device,
                                    channels=1 if self.channel == "mix" else 2, dtype="float32", callback=callback)
        except Exception as exc:
            raise AudioDeviceError(f"无法打开录音设备 {device if device is not None else '（默认）'}（{exc}）",
                                   hint="运行 `coach devices` 选择其他设备，或检查麦克风是否被占用") from exc
        with stream:
            while not self._stop.is_set():
                try:
                    yield self._queue.get(timeout=0.2)
                except queue.Empty:
                    continue
