"""Write one benchmark's section of docs/benchmarks.md, leaving the other sections alone.

Each section sits between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``; a new section is
appended at the end.  Every section records the command and the machine it ran on.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEvery number below comes with the command that produced it; rerun it to check.\n"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}, {platform.system()}"


def command() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0], DOC.parents[1]), *sys.argv[1:]])


def update_section(name: str, title: str, body: str) -> None:
    text = DOC.read_text("utf-8") if DOC.exists() else HEADER
    block = (f"<!-- begin {name} -->\n## {title}\n\n"
             f"Command: `{command()}`  \nMachine: {machine()}  \nDate: {date.today().isoformat()}\n\n"
             f"{body.rstrip()}\n<!-- end {name} -->")
    pattern = re.compile(rf"<!-- begin {re.escape(name)} -->.*?<!-- end {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, "utf-8")
