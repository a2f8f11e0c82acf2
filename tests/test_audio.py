"""coach.audio: decoding any format/rate/channels to 16 kHz float32, damaged inputs, live sources."""

from __future__ import annotations

import threading
import time
import tracemalloc
import warnings

import av
import numpy as np
import pytest
import soundfile as sf

from coach.audio.decode import AudioWarning, decode, probe, read
from coach.audio.level import level_dbfs
from coach.audio.sources import FileSource, MicSource, _sounddevice, list_input_devices
from coach.errors import AudioDeviceError, InputError


def tone(rate: int, seconds: float, freq: float, amp: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def stereo(rate: int, seconds: float) -> np.ndarray:
    """Left: 440 Hz at 0.5; right: 660 Hz at 0.1 — the channels are easy to tell apart."""
    return np.stack([tone(rate, seconds, 440, 0.5), tone(rate, seconds, 660, 0.1)], axis=1)


def write_av(path, data: np.ndarray, rate: int, codec: str) -> None:
    """Encode (n, 2) float data with PyAV (for AAC / M4A, which soundfile cannot write)."""
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=rate)
        s.layout = "stereo"
        for i in range(0, len(data), 1024):
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[i:i + 1024].T), format="fltp", layout="stereo")
            f.rate = rate
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


# ------------------------------------------------------------------ formats and rates

@pytest.mark.parametrize("ext,subtype", [("wav", "PCM_16"), ("flac", "PCM_16"), ("ogg", "VORBIS"), ("mp3", "MPEG_LAYER_III")])
def test_formats_48k_stereo(tmp_path, ext, subtype):
    path = tmp_path / f"s48.{ext}"
    sf.write(path, stereo(48000, 2.0), 48000, subtype=subtype)
    info = probe(path)
    assert info.sample_rate == 48000 and info.channels == 2
    assert info.duration == pytest.approx(2.0, abs=0.1)
    mix = read(path)
    assert mix.dtype == np.float32 and mix.ndim == 1
    assert len(mix) == pytest.approx(32000, abs=1200)  # mp3/ogg add encoder padding
    left, right = read(path, channels="both")
    assert len(left) == len(right) == len(mix)
    assert rms(left) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)
    assert rms(right) == pytest.approx(0.1 / np.sqrt(2), rel=0.15)
    np.testing.assert_allclose(read(path, channels="left"), left)
    np.testing.assert_allclose(read(path, channels="right"), right)
    np.testing.assert_allclose(mix, (left + right) / 2, atol=1e-5)


@pytest.mark.parametrize("ext,codec", [("m4a", "aac"), ("aac", "aac")])
def test_aac_formats(tmp_path, ext, codec):
    path = tmp_path / f"s44.{ext}"
    write_av(path, stereo(44100, 2.0), 44100, codec)
    info = probe(path)
    assert info.channels == 2 and info.codec == "aac"
    left, right = read(path, channels="both")
    assert len(left) == pytest.approx(32000, abs=1600)
    assert rms(left) > 3 * rms(right)


def test_8k_mono_is_upsampled(tmp_path):
    path = tmp_path / "s8.wav"
    sf.write(path, tone(8000, 1.5, 300, 0.5), 8000, subtype="PCM_16")
    info = probe(path)
    assert (info.sample_rate, info.channels) == (8000, 1)
    x = read(path)
    assert len(x) == 24000
    spec = np.abs(np.fft.rfft(x))
    assert np.argmax(spec) * 16000 / len(x) == pytest.approx(300, abs=2)  # same pitch after resampling
    # left/right of a mono file: the only channel (with a warning); both: an error
    with pytest.warns(AudioWarning):
        np.testing.assert_allclose(read(path, channels="left"), x)
    with pytest.raises(InputError, match="单声道"):
        read(path, channels="both")


def test_chunks_are_bounded_and_streamed(tmp_path):
    """A 10-minute file comes out in 1 s chunks without ever holding the whole file."""
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", 8000, 1, subtype="PCM_16") as f:
        for _ in range(60):
            f.write(tone(8000, 10.0, 200, 0.3))
    tracemalloc.start()
    n = longest = 0
    for chunk in decode(path, chunk_seconds=1.0):
        n += len(chunk)
        longest = max(longest, len(chunk))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 600 * 16000
    assert longest == 16000
    assert peak < 8 * 2**20  # the decoded file would be 38 MB


# ------------------------------------------------------------------ damaged inputs

def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="找不到音频文件") as e:
        list(decode(tmp_path / "nope.wav"))
    assert "nope.wav" in e.value.message
    with pytest.raises(InputError):
        probe(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="空的") as e:
        read(p)
    assert "empty.wav" in e.value.message


def test_text_file_named_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("这不是音频 this is not audio\n" * 20, encoding="utf-8")
    with pytest.raises(InputError, match="无法识别") as e:
        read(p)
    assert "notes.wav" in e.value.message and e.value.hint and "ffmpeg" in e.value.hint


def test_no_audio_stream(tmp_path):
    p = tmp_path / "picture.mkv"
    with av.open(str(p), "w") as c:
        s = c.add_stream("ffv1", rate=1)
        s.width = s.height = 16
        s.pix_fmt = "yuv420p"
        for pkt in s.encode(av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")):
            c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    with pytest.raises(InputError, match="没有音轨"):
        probe(p)


def test_truncated_wav_decodes_what_is_there_and_warns(tmp_path):
    """Decision: a cut-off file is decoded up to where it ends, with an AudioWarning."""
    full = tmp_path / "full.wav"
    sf.write(full, stereo(48000, 2.0), 48000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[:44 + 48000 * 4 // 2])  # header says 2 s, data holds 0.5 s
    info = probe(cut)
    assert info.truncated and info.duration == pytest.approx(2.0, abs=0.01)  # what the header claims
    assert not probe(full).truncated
    with pytest.warns(AudioWarning, match="不完整"):
        x = read(cut)
    assert len(x) == pytest.approx(8000, abs=50)
    assert rms(x) > 0.1


def test_header_only_wav_is_an_error(tmp_path):
    full = tmp_path / "full.wav"
    sf.write(full, tone(16000, 1.0, 440, 0.5), 16000, subtype="PCM_16")
    cut = tmp_path / "header.wav"
    cut.write_bytes(full.read_bytes()[:44])
    with pytest.raises(InputError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read(cut)


# ------------------------------------------------------------------ level

def test_level_dbfs():
    assert level_dbfs(tone(16000, 1.0, 440, 0.5)) == pytest.approx(-9.03, abs=0.05)
    assert level_dbfs(np.zeros(1600, np.float32)) == -120.0
    assert level_dbfs(np.zeros(0, np.float32)) == -120.0


# ------------------------------------------------------------------ sources

@pytest.fixture
def clip(tmp_path):
    p = tmp_path / "clip.wav"
    sf.write(p, tone(16000, 1.5, 440, 0.3), 16000, subtype="PCM_16")
    return p


def test_filesource_realtime_pacing(clip):
    t0 = time.monotonic()
    blocks = list(FileSource(clip, realtime=True))
    elapsed = time.monotonic() - t0
    assert sum(len(b) for b in blocks) == 24000
    assert all(len(b) == 1600 for b in blocks)  # 0.1 s blocks
    assert elapsed == pytest.approx(1.5, abs=0.25)  # the last block is due at 1.4 s


def test_filesource_fast_and_stoppable(clip, tmp_path):
    t0 = time.monotonic()
    assert sum(len(b) for b in FileSource(clip, realtime=False)) == 24000
    assert time.monotonic() - t0 < 1.0

    long = tmp_path / "long.wav"
    sf.write(long, tone(16000, 30.0, 440, 0.3), 16000, subtype="PCM_16")
    src = FileSource(long, realtime=True)
    threading.Timer(0.5, src.stop).start()
    t0 = time.monotonic()
    got = sum(len(b) for b in src)
    assert time.monotonic() - t0 < 1.2
    assert 0 < got < 16000 * 2
    assert src.stopped and src.position == pytest.approx(got / 16000)


def test_mic_queue_drops_oldest():
    mic = MicSource(block_seconds=0.1, max_queue_seconds=0.2)  # room for 2 blocks
    for i in range(5):
        mic._put(np.full(1600, i, np.float32))
    assert mic.dropped_blocks == 3
    assert [int(mic._queue.get_nowait()[0]) for _ in range(2)] == [3, 4]


def test_no_portaudio_gives_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *a, **k):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(AudioDeviceError) as e:
        _sounddevice()
    assert "apt-get install libportaudio2" in e.value.hint


def test_no_input_device_is_a_clear_error():
    if list_input_devices():
        pytest.skip("this machine has an input device")
    with pytest.raises(AudioDeviceError, match="录音设备"):
        next(iter(MicSource()))


def test_devices_command(capsys):
    from coach.cli import main

    code = main(["devices"])
    cap = capsys.readouterr()
    if list_input_devices():
        assert code == 0 and "默认" in cap.out
    else:  # documented exit 2 (README), the message on stderr
        assert code == 2 and "没有找到录音设备" in cap.err
