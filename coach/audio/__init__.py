"""Audio in: file decoding (any format → 16 kHz float32, streamed) and live sources."""

from coach.audio.decode import SAMPLE_RATE, AudioInfo, AudioWarning, decode, probe, read
from coach.audio.level import level_dbfs
from coach.audio.sources import AudioSource, FileSource, InputDevice, MicSource, list_input_devices

__all__ = [
    "SAMPLE_RATE", "AudioInfo", "AudioWarning", "decode", "probe", "read", "level_dbfs",
    "AudioSource", "FileSource", "MicSource", "InputDevice", "list_input_devices",
]
