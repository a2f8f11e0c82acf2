"""The compiled matcher modules, and when to leave them aside.

``setup.py`` compiles the matcher's hot modules (listed there) with mypyc: the same source as C
extensions next to the ``.py`` files, which Python then imports instead.  It records the SHA-1 of
each compiled source in ``coach/data/native.json``.  This module, imported first by
``coach/__init__.py``, makes Python import the plain source instead when

* ``COACH_PURE_PYTHON=1`` is set (to debug, to compare), or
* a compiled source has changed since it was built (a developer edited it: the stale extension
  would otherwise run the old code).  ``pip install -e .`` builds them again.

The modules are compiled as one group (they call each other natively), so it is all of them or
none.  :func:`compiled` says which way it went.  The group includes ``coach._hot`` (``coach/_hot.c``),
the per-character and prefilter loops written in C; its Python twins in the matcher modules stay
the reference, and :func:`hot` gives it to them only when the group is used.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

RECORD = Path(__file__).resolve().parent / "data" / "native.json"
_ROOT = Path(__file__).resolve().parent.parent


def _record() -> dict[str, str]:
    """{module name: SHA-1 of the source it was compiled from}; empty when nothing was compiled."""
    try:
        data = json.loads(RECORD.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _source(module: str) -> Path:
    """The module's source: its ``.py`` file, or its ``.c`` file for a module written in C."""
    stem = _ROOT.joinpath(*module.split("."))
    py = stem.with_suffix(".py")
    return py if py.exists() or not stem.with_suffix(".c").exists() else stem.with_suffix(".c")


def _built(module: str) -> bool:
    stem = _source(module).with_suffix("")
    return any(Path(f"{stem}{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def _changed(record: dict[str, str]) -> list[str]:
    changed = []
    for module, digest in record.items():
        try:
            if hashlib.sha1(_source(module).read_bytes()).hexdigest() != digest:
                changed.append(module)
        except OSError:
            changed.append(module)
    return changed


class _PlainSource:
    """A meta-path finder that imports the listed modules from their ``.py`` source."""

    def __init__(self, modules: set[str]):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.modules:
            return None
        source = _source(fullname)
        if source.suffix != ".py":
            raise ImportError(f"{fullname} is left aside (compiled modules not used)", name=fullname)
        return importlib.util.spec_from_file_location(fullname, source)


_STATE: dict[str, bool] = {}


def setup() -> None:
    """Decide once, before any of the modules is imported, whether the compiled ones are used."""
    if _STATE:
        return
    record = _record()
    modules = {m for m in record if _built(m)}
    reason = ""
    if modules and os.environ.get("COACH_PURE_PYTHON"):
        reason = "COACH_PURE_PYTHON is set"
    elif modules and modules != set(record):
        reason = f"only part of them was built: {', '.join(sorted(modules))}"
    elif modules:
        changed = _changed(record)
        if changed:
            reason = f"changed since they were compiled: {', '.join(changed)} (pip install -e . builds them again)"
    if reason:
        log.info("compiled matcher modules not used: %s", reason)
        sys.meta_path.insert(0, _PlainSource(set(record)))
    _STATE["compiled"] = bool(modules) and not reason


def compiled() -> bool:
    """Whether the matcher runs compiled (see the module docstring)."""
    setup()
    return _STATE["compiled"]


def hot():
    """``coach._hot`` (the loops in C) when the compiled group is used, else None: the callers'
    Python twins run."""
    if not compiled():
        return None
    try:
        from coach import _hot
    except ImportError:          # recorded but not importable: the Python twins
        return None
    return _hot
