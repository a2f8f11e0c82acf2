"""Keep the speech engines' native memory flat over long recordings.

Measured with ``benchmarks/bench_memory.py`` (peak RSS of ``coach analyze`` on 5 … 60 minutes):

* oneDNN (inside CTranslate2) caches one compiled primitive per input shape, 1024 by default;
  the trimmed Whisper encoder sees a new length with nearly every segment, so the cache grew
  with the recording (+7.7 MB per audio minute).  A cache of 16 keeps it bounded.
* What remained (+1.7 MB per audio minute) is the C allocator: buffers of ever-different sizes
  (encoder outputs, decoder caches) fragment glibc's heap, whose mmap threshold also drifts
  upwards.  A fixed mmap threshold, a trim threshold and two arenas, and no MKL buffer pool,
  keep RSS flat.  ``COACH_MALLOC=default`` leaves the allocator alone (for comparison).
* With the trim threshold alone, the heap's top was given back after nearly every short (live
  partial) decode and faulted in again by the next one: a quarter of the recogniser's CPU time
  was the kernel's (page faults; costly in a virtual machine that reports free pages to its
  host).  32 MiB of top pad (``M_TOP_PAD``) is kept instead: RSS stays bounded (a constant ≈ 60 MB
  more, two arenas), live decoding takes 16 % less CPU (docs/benchmarks.md, "the allocator's
  top pad").

Environment settings must be in place before ctranslate2 is loaded: :mod:`coach.asr` calls
:func:`bound_native_memory` on import.
"""

from __future__ import annotations

import os

_DONE = False


def bound_native_memory() -> None:
    global _DONE
    if _DONE:
        return
    _DONE = True
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
    if os.environ.get("COACH_MALLOC", "") == "default":
        return
    os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -2, -3, -8
    for option, value in ((M_MMAP_THRESHOLD, 1 << 20), (M_TRIM_THRESHOLD, 4 << 20), (M_TOP_PAD, 32 << 20),
                          (M_ARENA_MAX, 2)):
        try:
            mallopt(option, value)
        except (OSError, ValueError, ctypes.ArgumentError):
            pass


def trim_native_heap() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
