"""CI reliability of the TUI tests: run them again and again with a CPU burner beside them.

    python benchmarks/tui_soak.py                       # 20 rounds, burner on
    python benchmarks/tui_soak.py --rounds 5 --write    # also update docs/benchmarks.md ("tui-soak")
    python benchmarks/tui_soak.py --max-minutes 40 --no-burner

Each round is one ``pytest`` process over ``tests/test_tui*.py`` (the scripted screens, the
snapshots and the real engine on a real recording).  The burner is ``python -c 'while 1: pass'``
under ``nice 10`` (issue 11: "the TUI tests pass 20 runs in a row with a CPU burner running
beside them"); it is started before the first round and killed after the last.  Every round runs
to its end (no ``-x``), so a flaky test shows up as a failed round with its test id; the 1-minute
load average is noted per round.  Exit code 0 when every round passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[1]
BURNER = "while 1: pass"


def tui_tests() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_tui*.py"))


def run_round(tests: list[str], junit: Path) -> dict:
    """One pytest process; counts and failing test ids from its JUnit XML."""
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider",
                           f"--junitxml={junit}"], cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - t
    out = {"rc": proc.returncode, "wall_s": wall, "load": os.getloadavg()[0], "passed": 0,
           "failed": [], "skipped": 0, "tail": proc.stdout.strip().splitlines()[-1:] if proc.stdout else []}
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        out["failed"].append(f"(no JUnit report; pytest exit {proc.returncode})")
        return out
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            out["failed"].append(name)
        elif case.find("skipped") is not None:
            out["skipped"] += 1
        else:
            out["passed"] += 1
    if proc.returncode != 0 and not out["failed"]:
        out["failed"].append(f"(pytest exit {proc.returncode})")
    return out


def report(rounds: list[dict], burner: bool, tests: list[str]) -> str:
    ok = sum(not r["failed"] for r in rounds)
    streak = best = 0
    for r in rounds:
        streak = 0 if r["failed"] else streak + 1
        best = max(best, streak)
    cases = max((r["passed"] + len(r["failed"]) + r["skipped"] for r in rounds), default=0)
    loads = [r["load"] for r in rounds]
    lines = [f"Tests: {', '.join(f'`{t}`' for t in tests)} ({cases} tests per round)  ",
             f"Beside them: {'a CPU burner (`python -c ' + repr(BURNER) + '` under nice 10)' if burner else 'nothing'}, "
             f"on a machine shared with other work  ",
             f"Load (1 min) per round: {min(loads):.1f}–{max(loads):.1f}" if loads else "Load: –", "",
             f"**{ok}/{len(rounds)} rounds passed** (longest run of passing rounds: {best}).", "",
             "| round | passed | failed | skipped | wall (s) | load (1 min) |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(rounds, 1):
        lines.append(f"| {i} | {r['passed']} | {len(r['failed'])} | {r['skipped']} | {r['wall_s']:.0f} | {r['load']:.1f} |")
    failed = [(i, f) for i, r in enumerate(rounds, 1) for f in r["failed"]]
    if failed:
        lines += ["", "Failures: " + "; ".join(f"round {i}: `{f}`" for i, f in failed)]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="start no new round after this long (the rounds run so far are reported)")
    ap.add_argument("--no-burner", action="store_true", help="without the CPU burner")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md (section tui-soak)")
    args = ap.parse_args()
    tests = tui_tests()
    burner = None
    rounds: list[dict] = []
    t0 = time.monotonic()
    try:
        if not args.no_burner:
            burner = subprocess.Popen([sys.executable, "-c", BURNER], preexec_fn=lambda: os.nice(10))
        with tempfile.TemporaryDirectory(prefix="tui_soak_") as d:
            for i in range(args.rounds):
                if args.max_minutes is not None and rounds and time.monotonic() - t0 > args.max_minutes * 60:
                    break
                r = run_round(tests, Path(d) / f"round{i}.xml")
                rounds.append(r)
                print(f"round {i + 1}: {r['passed']} passed, {len(r['failed'])} failed "
                      f"({r['wall_s']:.0f} s, load {r['load']:.1f}) {' '.join(r['failed'])}",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("interrupted: reporting the rounds run so far", file=sys.stderr)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    body = report(rounds, burner is not None, tests)
    print(body)
    if args.write and rounds:
        from results_doc import update_section

        update_section("tui-soak", "TUI tests under load (CI reliability)", body)
        print("updated docs/benchmarks.md (section tui-soak)", file=sys.stderr)
    return 0 if rounds and all(not r["failed"] for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
