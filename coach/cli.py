"""``coach`` command line: a thin dispatcher over ``coach/commands/*``.

Each command module exposes ``register(subparsers)`` which adds its sub-command and
sets ``func`` (taking the parsed args, returning an exit code).  Errors the user can
fix are raised as :class:`coach.errors.CoachError` and printed as one line.

Exit codes (README): 0 ok · 1 ``--strict`` found violations · 2 input, option, phrasebook,
model or storage error (nothing usable was produced for it) · 3 some of several inputs failed
(the others were processed) · 4 internal error (a bug: one line, the traceback goes to a log
file; ``COACH_DEBUG=1`` shows it) · 130 / 143 interrupted by Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sqlite3
import sys
import warnings

from coach import __version__
from coach.argparse_zh import ZhArgumentParser
from coach.errors import CoachError, Terminated, printable

EXIT_OK, EXIT_STRICT, EXIT_INPUT, EXIT_PARTIAL, EXIT_INTERNAL = 0, 1, 2, 3, 4

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


def say(message: object) -> None:
    """One ``coach: …`` message on stderr, control characters escaped."""
    print(f"coach: {printable(message)}", file=sys.stderr, flush=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # Warnings (a truncated audio file, a library's complaint) as one formatted line, no source path.
    say(f"警告：{message}")


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def crash_log_path():
    from pathlib import Path

    try:
        from platformdirs import user_log_dir

        return Path(user_log_dir("coach", appauthor=False)) / "coach-error.log"
    except Exception:  # noqa: BLE001
        import tempfile

        return Path(tempfile.gettempdir()) / "coach-error.log"


def _log_crash(exc: BaseException) -> str | None:
    """Append the traceback to the crash log; returns its path (None if it cannot be written)."""
    import time
    import traceback

    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} coach {__version__} argv={sys.argv!r}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return str(path)
    except OSError:
        return None


def _thread_exception(hook_args) -> None:
    if os.environ.get("COACH_DEBUG"):
        sys.__excepthook__(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback)
        return
    if hook_args.exc_value is None or isinstance(hook_args.exc_value, (SystemExit, KeyboardInterrupt)):
        return
    log = _log_crash(hook_args.exc_value)
    say(f"内部错误（后台线程）：{hook_args.exc_type.__name__}: {hook_args.exc_value}" + (f"（详情见 {log}）" if log else ""))


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
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning
    import threading

    threading.excepthook = _thread_exception  # a failing helper thread: one line too, never a traceback
    old_term = None
    try:
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (tests calling main() from a worker)
        pass
    try:
        return int(args.func(args) or 0)
    except CoachError as exc:
        say(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        say("已中断 / interrupted")
        return 130
    except Terminated:
        say("已终止 / terminated")
        return 143
    except BrokenPipeError:
        try:  # the reader went away (coach … | head): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except (sqlite3.Error, OSError) as exc:
        if os.environ.get("COACH_DEBUG"):
            raise
        where = getattr(exc, "filename", None)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        say(f"{where + ': ' if where else ''}{reason}")
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - never a traceback to the user
        if os.environ.get("COACH_DEBUG"):
            raise
        log = _log_crash(exc)
        say(f"内部错误：{type(exc).__name__}: {exc}"
            + (f"（详情见 {log}；设置 COACH_DEBUG=1 可显示完整信息）" if log else "（设置 COACH_DEBUG=1 可显示完整信息）"))
        return EXIT_INTERNAL
    finally:
        warnings.showwarning = old_show
        if old_term is not None:
            try:
                signal.signal(signal.SIGTERM, old_term)
            except ValueError:
                pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
