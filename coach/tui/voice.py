"""The citizen's voice in practice, and where any sound the app plays goes.

    voice = Voice(default_player())
    voice.say("你好，我想办营业执照。")      # returns at once; plays in a thread

Lines of the bundled scenarios are pre-rendered OGG files in ``coach/data/voices`` (made
with espeak-ng by ``scripts/render_voices.py``; ``index.json`` maps each line to its file).
A line a trainer wrote is rendered with espeak-ng when first needed and kept in the user
cache dir.  Without espeak-ng (and no pre-rendered file) the line is only shown.

Players: :class:`SpeakerPlayer` (sounddevice), and :class:`FilePlayer`, which writes every
clip it is given to a WAV file in a directory instead of playing it — set
``COACH_PLAYBACK_SINK=DIR`` to send all of the app's sound there (tests, machines without a
speaker: what would have been heard can be inspected).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np

from coach.errors import CoachError

VOICES_DIR = Path(__file__).resolve().parents[1] / "data" / "voices"
ESPEAK_VOICE = "cmn-latn-pinyin+f3"     # measured: Whisper-base reads it best (scripts/render_voices.py)
ESPEAK_WPM = 130
SAMPLE_RATE = 16000


def line_key(text: str) -> str:
    """File stem of a rendered line: a hash of its text (and the voice)."""
    return hashlib.sha1(f"{ESPEAK_VOICE}|{ESPEAK_WPM}|{text.strip()}".encode("utf-8")).hexdigest()[:16]


def cache_dir() -> Path:
    env = os.environ.get("COACH_VOICE_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("coach", appauthor=False)) / "voices"


def espeak_wav(text: str, out: Path) -> Path:
    """Render ``text`` with espeak-ng to a WAV file (its own rate, 22.05 kHz)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise CoachError("没有安装 espeak-ng，无法朗读新的句子", hint="sudo apt-get install espeak-ng")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part.wav")
    subprocess.run([exe, "-v", ESPEAK_VOICE, "-s", str(ESPEAK_WPM), "-w", str(tmp), text.strip()],
                   check=True, capture_output=True, timeout=60)
    os.replace(tmp, out)
    return out


def read_clip(path: Path) -> np.ndarray:
    from coach.audio.decode import read
    return read(path)


class Lines:
    """Where a line's audio comes from: the bundled OGG, else the cache, else espeak-ng now."""

    def __init__(self, bundled: Path = VOICES_DIR, cache: Path | None = None):
        self.bundled = bundled
        self.cache = cache
        try:
            self.index: dict[str, str] = json.loads((bundled / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.index = {}

    def path(self, text: str) -> Path:
        name = self.index.get(text.strip())
        if name and (self.bundled / name).is_file():
            return self.bundled / name
        cached = (self.cache or cache_dir()) / f"{line_key(text)}.wav"
        if cached.is_file():
            return cached
        return espeak_wav(text, cached)

    def audio(self, text: str) -> np.ndarray:
        return read_clip(self.path(text))


class SpeakerPlayer:
    """Plays through the default output device (sounddevice)."""

    def play(self, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
        import sounddevice as sd
        try:
            sd.query_devices(kind="output")
        except Exception as exc:
            raise OSError(f"没有可用的音频输出设备（{exc}）") from None
        sd.play(samples, rate)
        sd.wait()

    def stop(self) -> None:
        try:
            import sounddevice as sd
            sd.stop()
        except Exception:
            pass


class FilePlayer:
    """A playback sink: every clip becomes ``NNN.wav`` in ``folder`` (16-bit mono), and is
    listed in ``played`` — the sound the app would have made, to inspect."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.played: list[Path] = []
        self._lock = threading.Lock()

    def play(self, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            path = self.folder / f"{len(self.played) + 1:03d}.wav"
            pcm = (np.clip(np.asarray(samples, np.float32), -1, 1) * 32767).astype("<i2")
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(rate)
                w.writeframes(pcm.tobytes())
            self.played.append(path)

    def stop(self) -> None:
        pass


def default_player():
    sink = os.environ.get("COACH_PLAYBACK_SINK")
    return FilePlayer(sink) if sink else SpeakerPlayer()


class Voice:
    """Says citizen lines in a background thread; a new line stops the one playing."""

    def __init__(self, player=None, lines: Lines | None = None, *, on_error=None):
        self.player = player or default_player()
        self.lines = lines or Lines()
        self.on_error = on_error
        self.spoken: list[str] = []
        self._lock = threading.Lock()

    def say(self, text: str) -> threading.Thread | None:
        if not text.strip():
            return None
        self.player.stop()
        thread = threading.Thread(target=self._say, args=(text,), name="coach-voice", daemon=True)
        thread.start()
        return thread

    def _say(self, text: str) -> None:
        try:
            audio = self.lines.audio(text)
            with self._lock:
                self.player.play(audio, SAMPLE_RATE)
                self.spoken.append(text)
        except Exception as exc:   # no voice is not an error worth stopping practice for
            if self.on_error is not None:
                self.on_error(exc)

    def stop(self) -> None:
        self.player.stop()


__all__ = ["FilePlayer", "Lines", "SpeakerPlayer", "Voice", "default_player", "espeak_wav", "line_key"]
