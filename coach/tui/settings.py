"""The app's settings (设置), kept in a small TOML file under the user's config dir.

    settings = Settings.load()        # defaults where the file is missing or broken
    settings.trainee = "张三"
    settings.save()

Location: ``$COACH_CONFIG_DIR/settings.toml`` if set, else platformdirs' user config dir
(``~/.config/coach/settings.toml`` on Linux).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENGINES = ("auto", "whisper", "vosk")


def config_dir() -> Path:
    env = os.environ.get("COACH_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir
    return Path(user_config_dir("coach", appauthor=False))


def settings_path() -> Path:
    return config_dir() / "settings.toml"


@dataclass
class Settings:
    engine: str = "auto"          # auto | whisper | vosk
    model: str = ""               # a model directory or name; "" = the engine's default
    device: str = ""              # microphone: sounddevice index or name; "" = system default
    phrasebook: str = ""          # phrasebook directory; "" = built-in
    trainee: str = ""             # name stored with each session
    voice: str = "on"             # on | off: practice speaks the citizen's lines
    clerk_channel: str = ""       # stereo input: "left" | "right" = the clerk's channel; "" = one microphone

    @property
    def voice_on(self) -> bool:
        return self.voice != "off"

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        path = path or settings_path()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: str(v) for k, v in data.items() if k in known and isinstance(v, (str, int))}
        s = cls(**values)
        if s.engine not in ENGINES:
            s.engine = "auto"
        if s.voice not in ("on", "off"):
            s.voice = "on"
        if s.clerk_channel not in ("", "left", "right"):
            s.clerk_channel = ""
        return s

    def save(self, path: Path | None = None) -> Path:
        path = path or settings_path()
        from coach.store.files import write_atomic

        lines = ["# coach 设置 (written by the app; safe to edit)"]
        lines += [f"{k} = {_toml_str(v)}" for k, v in asdict(self).items()]
        return write_atomic(path, "\n".join(lines) + "\n")

    @property
    def device_arg(self) -> int | str | None:
        """The microphone as sounddevice wants it."""
        d = self.device.strip()
        if not d:
            return None
        return int(d) if d.isdigit() else d


def _toml_str(v: str) -> str:
    out = ['"']
    for ch in str(v):
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


__all__ = ["ENGINES", "Settings", "config_dir", "settings_path"]
