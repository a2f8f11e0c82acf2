"""Clerk voice profiles (enrolment): one per trainee, kept in the user data folder.

    profile = enrol(samples, trainee="张三")     # 10–30 s of the clerk's speech, 16 kHz mono
    save_profile(profile)                        # atomic: temp file, fsync, rename
    load_profile("张三")                          # None when the trainee has not enrolled

Folder: ``$COACH_VOICES_DIR`` if set, else ``voices/`` in platformdirs' user data dir
(``~/.local/share/coach/voices`` on Linux).  One JSON file per trainee: the name, the 256-d
GE2E embedding, the seconds of speech it was made from, when, and the encoder it needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.errors import InputError
from coach.speaker.embed import SAMPLE_RATE, embed

ENCODER = "ge2e-resemblyzer-0.1.4"
MIN_SPEECH_S = 10.0
MAX_SPEECH_S = 30.0
_FRAME = 320  # 20 ms


@dataclass(frozen=True)
class Profile:
    trainee: str
    embedding: np.ndarray
    speech_s: float
    created: float
    encoder: str = ENCODER

    def to_json(self) -> dict:
        return {"trainee": self.trainee, "embedding": [round(float(x), 6) for x in self.embedding],
                "speech_s": round(self.speech_s, 2), "created": self.created, "encoder": self.encoder}


def voices_dir() -> Path:
    env = os.environ.get("COACH_VOICES_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir
    return Path(user_data_dir("coach", appauthor=False)) / "voices"


def profile_path(trainee: str) -> Path:
    """A file name safe for any trainee name (Chinese included)."""
    digest = hashlib.sha1(trainee.strip().encode("utf-8")).hexdigest()[:16]
    return voices_dir() / f"{digest}.json"


def speech_only(samples: np.ndarray) -> np.ndarray:
    """The speech of a recording: 20 ms frames within 35 dB of the loudest (and above −55 dBFS),
    with 0.2 s kept around each, so pauses do not dilute the profile."""
    n = len(samples) // _FRAME
    if n == 0:
        return np.zeros(0, np.float32)
    frames = samples[: n * _FRAME].reshape(n, _FRAME)
    energy = np.mean(np.square(frames, dtype=np.float64), axis=1)
    floor = max(float(energy.max()) * 10 ** (-35 / 10), 10 ** (-55 / 10))
    active = energy > floor
    keep = np.convolve(active.astype(float), np.ones(21), mode="same") > 0
    return frames[keep].reshape(-1).astype(np.float32)


def enrol(samples: np.ndarray, trainee: str = "", *, source: str = "录音") -> Profile:
    """A profile from 10–30 s of one speaker (longer recordings: the first 30 s of speech)."""
    speech = speech_only(np.asarray(samples, np.float32))
    seconds = len(speech) / SAMPLE_RATE
    if seconds < MIN_SPEECH_S:
        raise InputError(f"{source}：只听到 {seconds:.1f} 秒说话声，登记声音至少需要 {MIN_SPEECH_S:.0f} 秒",
                         hint="请连续说 10–30 秒，例如念一段接待用语")
    speech = speech[: int(MAX_SPEECH_S * SAMPLE_RATE)]
    return Profile(trainee=trainee.strip(), embedding=embed(speech), speech_s=min(seconds, MAX_SPEECH_S),
                   created=round(time.time(), 3))


def save_profile(profile: Profile) -> Path:
    from coach.store.files import write_atomic

    return write_atomic(profile_path(profile.trainee), json.dumps(profile.to_json(), ensure_ascii=False))


def _read(path: Path) -> Profile | None:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        emb = np.asarray(d["embedding"], np.float32)
        if emb.shape != (256,) or d.get("encoder") != ENCODER:
            return None
        return Profile(trainee=str(d.get("trainee", "")), embedding=emb, speech_s=float(d.get("speech_s", 0)),
                       created=float(d.get("created", 0)), encoder=d["encoder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_profile(trainee: str | None) -> Profile | None:
    """The trainee's profile; None when missing or unreadable (attribution then clusters)."""
    if trainee is None:
        return None
    path = profile_path(trainee)
    return _read(path) if path.is_file() else None


def list_profiles() -> list[Profile]:
    d = voices_dir()
    found = [_read(p) for p in sorted(d.glob("*.json"))] if d.is_dir() else []
    return sorted((p for p in found if p is not None), key=lambda p: p.trainee)
