"""Where the shared test audio lives (``../shared`` beside the repo; $COACH_SHARED overrides).

Tests that need it call these helpers: on a developer machine without it they skip, in CI
(CI=true) they fail, because there the audio is the point of the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    d = Path(os.environ.get("COACH_SHARED", REPO.parent / "shared"))
    if not (d / "audio").is_dir():
        msg = f"shared test audio not found at {d} (set COACH_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return d


def dev_dir() -> Path:
    return shared_dir() / "audio" / "dev"


def real_dir() -> Path:
    return shared_dir() / "audio" / "real"
