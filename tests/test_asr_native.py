"""coach.asr.native: the C allocator settings the recogniser runs with (glibc only).

Each check runs in a fresh interpreter: mallopt settings are process-wide and must be in place
before the engines load, as ``import coach.asr`` does it.
"""

import os
import subprocess
import sys
import textwrap

import pytest

# Allocate and free 40 MiB in blocks below the mmap threshold (so on the main heap), then read
# how much free memory glibc kept at the heap's top (mallinfo2 keepcost).
PROBE = textwrap.dedent("""
    import ctypes, sys
    {setup}
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        print("no-glibc"); sys.exit(0)
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                     "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = Info
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(512 * 1024) for _ in range(80)]
    for b in reversed(blocks):
        libc.free(b)
    print(libc.mallinfo2().keepcost)
""")


def _keepcost(setup: str, env: dict | None = None) -> int | None:
    out = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True,
                         check=True, env=env).stdout.strip()
    return None if out == "no-glibc" else int(out)


def test_heap_top_is_kept_between_decodes():
    """The freed top of the heap stays (M_TOP_PAD): giving it back after every decode and
    faulting it in again cost a quarter of the recogniser's CPU time in the kernel."""
    kept = _keepcost("import coach.asr")
    if kept is None:
        pytest.skip("not glibc: the allocator is left alone")
    assert 16 << 20 <= kept <= 40 << 20
    # and without the settings (COACH_MALLOC=default), glibc trims the top back to ~128 KiB
    plain = _keepcost("import coach.asr", env={**os.environ, "COACH_MALLOC": "default"})
    assert plain < 4 << 20
