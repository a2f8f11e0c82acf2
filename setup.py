"""Build: the matcher's hot modules compiled to C with mypyc — the same source, run 1.3–1.8×
faster (docs/benchmarks.md, "matcher speed").  Everything else is in pyproject.toml.

Where they cannot be compiled (no C compiler) the build goes on and they run as plain Python.
``COACH_PURE_PYTHON=1`` at build time skips compiling; at run time it ignores what was compiled
(coach/_native.py, which also ignores extensions whose source changed since they were built).
"""

import hashlib
import json
import os
from pathlib import Path

from setuptools import Extension, setup

# Compiled as one group (calls between them stay native).
COMPILED = ["coach/phrasebook/normalize.py", "coach/phrasebook/patterns.py", "coach/matcher/matcher.py"]
# Written in C, used by them (coach/_native.py: hot): the per-character and prefilter loops.
HOT = "coach/_hot.c"
RECORD = Path("coach/data/native.json")     # what coach/_native.py checks: module -> source SHA-1


def ext_modules():
    RECORD.unlink(missing_ok=True)
    if os.environ.get("COACH_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
        exts = mypycify(["--ignore-missing-imports", "--follow-imports=silent", "--check-untyped-defs", *COMPILED],
                        separate=[(COMPILED, "coach._native")])
    except (SystemExit, Exception) as exc:     # no mypyc, or it refused: plain Python
        print(f"coach: matcher modules not compiled ({exc!r}); they run as plain Python")
        return []
    exts.append(Extension("coach._hot", [HOT], extra_compile_args=["-O2"]))
    for ext in exts:
        ext.optional = True      # no compiler: the build goes on, the modules stay Python
    RECORD.write_text(json.dumps({p.rsplit(".", 1)[0].replace("/", "."): hashlib.sha1(Path(p).read_bytes()).hexdigest()
                                  for p in [*COMPILED, HOT]}, indent=1) + "\n", "utf-8")
    return exts


setup(ext_modules=ext_modules())
