"""The compiled matcher modules (setup.py, mypyc) and the plain source answer alike.

CI installs with ``pip install -e .``, which compiles them: there the suite runs the compiled
matcher, and the reference test (tests/test_matcher_reference.py) runs once more on the plain
source here.  coach/_native.py must leave stale extensions aside.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import coach._native as native
import coach.matcher.matcher as matcher_module

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


@pytest.mark.skipif(not os.environ.get("CI"), reason="a development tree need not be compiled")
def test_ci_runs_the_compiled_matcher():
    assert native.compiled()
    assert not matcher_module.__file__.endswith(".py"), matcher_module.__file__
    record = json.loads(native.RECORD.read_text("utf-8"))
    assert set(record) == {"coach.phrasebook.normalize", "coach.phrasebook.patterns", "coach.matcher.matcher",
                           "coach._hot"}
    assert native.hot() is not None


def test_the_plain_source_finds_what_the_reference_found():
    # the same reference test, in a process that imports the .py files (COACH_PURE_PYTHON)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_matcher_reference.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "COACH_PURE_PYTHON": "1"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    probe = _run("import coach._native as n, coach.matcher.matcher as m; print(n.compiled(), m.__file__)",
                 COACH_PURE_PYTHON="1")
    assert probe.stdout.split() == ["False", str(ROOT / "coach" / "matcher" / "matcher.py")], probe.stderr


def test_a_source_changed_since_it_was_compiled_runs_as_plain_python(tmp_path):
    # a record whose digest no longer fits the source (a developer edited it after building):
    # the modules come from their .py files, all of them (they were compiled as one group)
    record = tmp_path / "native.json"
    record.write_text(json.dumps({"coach.phrasebook.normalize": "0" * 40, "coach.phrasebook.patterns": "0" * 40,
                                  "coach.matcher.matcher": "0" * 40}), "utf-8")
    assert native._changed(json.loads(record.read_text("utf-8"))) == [
        "coach.phrasebook.normalize", "coach.phrasebook.patterns", "coach.matcher.matcher"]
    code = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("fresh_native", {str(ROOT / 'coach' / '_native.py')!r})
fresh = importlib.util.module_from_spec(spec); spec.loader.exec_module(fresh)
fresh.RECORD = __import__("pathlib").Path({str(record)!r})
fresh._built = lambda module: True          # as if the extensions were there
fresh.setup()
import coach.matcher.matcher as m, coach.phrasebook.patterns as p
print(fresh.compiled(), m.__file__.endswith(".py"), p.__file__.endswith(".py"))
"""
    done = _run(code)
    assert done.stdout.split() == ["False", "True", "True"], done.stderr
