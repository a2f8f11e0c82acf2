"""Signal level for meters: RMS in dBFS."""

from __future__ import annotations

import numpy as np

FLOOR_DBFS = -120.0


def level_dbfs(block: np.ndarray) -> float:
    """RMS level of ``block`` in dBFS (0 = full-scale square wave; silence → -120)."""
    if block.size == 0:
        return FLOOR_DBFS
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))
    return max(FLOOR_DBFS, 20.0 * float(np.log10(rms + 1e-12)))


def meter(db: float, width: int = 20, floor: float = -60.0) -> str:
    """A text bar for ``db`` (``floor`` … 0 dBFS) — e.g. for the TUI or a CLI meter."""
    frac = min(1.0, max(0.0, (db - floor) / -floor))
    n = int(round(frac * width))
    return "█" * n + "░" * (width - n)
