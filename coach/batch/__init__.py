"""Batch review of recordings: :func:`run_batch` (local processes or a Dask cluster)."""

from coach.batch.runner import (AUDIO_SUFFIXES, BatchSummary, FileOutcome, analyze_one, discover, run_batch)

__all__ = ["AUDIO_SUFFIXES", "BatchSummary", "FileOutcome", "analyze_one", "discover", "run_batch"]
