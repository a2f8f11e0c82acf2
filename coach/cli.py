"""``coach`` command line: a thin dispatcher over ``coach/commands/*``.

Each command module exposes ``register(subparsers)`` which adds its sub-command and
sets ``func`` (taking the parsed args, returning an exit code).  Errors the user can
fix are raised as :class:`coach.errors.CoachError` and printed as one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from coach import __version__
from coach.argparse_zh import ZhArgumentParser
from coach.errors import CoachError

# One line per command module, in the order ``coach --help`` lists them.
COMMAND_MODULES = [
    "coach.commands.check",
    "coach.commands.app",
    "coach.commands.analyze",
    "coach.commands.enroll",
    "coach.commands.history",
    "coach.commands.report",
    "coach.commands.phrasebook_cmd",
    "coach.commands.transcribe",
    "coach.commands.models",
    "coach.commands.devices",
]


CLERK_CHANNELS = ("left", "right")


def add_clerk_channel_argument(p: argparse.ArgumentParser) -> None:
    """``--clerk-channel left|right``: the one definition, for analyze, live, practice and review."""
    p.add_argument("--clerk-channel", choices=CLERK_CHANNELS, default=None,
                   help="立体声录音或双声道声卡中工作人员所在的声道（另一声道为群众，群众的话不计忌语）")


def build_parser() -> argparse.ArgumentParser:
    parser = ZhArgumentParser(
        prog="coach",
        description="窗口文明用语教练 — 政务服务窗口文明用语离线训练与自检",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}", help="显示版本号并退出")
    parser.add_argument("--phrasebook", metavar="DIR", help="规则库目录（默认：内置 phrasebook/）")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        # No sub-command: open the app's home screen where the TUI exists, else help.
        if "coach.commands.app" in COMMAND_MODULES:
            args = parser.parse_args(["home", *(argv or [])])
        else:
            parser.print_help()
            return 0
    try:
        return int(args.func(args) or 0)
    except CoachError as exc:
        print(f"coach: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
