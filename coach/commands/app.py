"""The terminal app's commands: ``home`` (default), ``practice``, ``live``, ``review``, ``demo``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from coach.audio.decode import require_channels
from coach.cli import add_clerk_channel_argument
from coach.errors import InputError

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"


def demo_recording() -> Path:
    for name in ("demo.ogg", "demo.wav", "demo.mp3"):
        p = DEMO_DIR / name
        if p.is_file():
            return p
    raise InputError(f"找不到内置示例录音（{DEMO_DIR}/demo.ogg）", hint="重新安装 coach，或用 coach live --input 文件")


def _device(text: str | None):
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def _input(path: str | None) -> str | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"找不到音频文件：{path}", hint="检查路径是否正确")
    return str(p)


def _add_listening_args(p) -> None:
    """Where the audio comes from and whether the session is kept (practice and live)."""
    p.add_argument("--input", "-i", metavar="文件", help="用录音文件代替麦克风（按实际速度播放）")
    p.add_argument("--device", "-d", metavar="设备", help="麦克风编号或名称（默认：设置中的，或系统默认）")
    p.add_argument("--no-save", action="store_true", help="不保存本次记录")
    add_clerk_channel_argument(p)


def register(sub) -> None:
    # `coach` alone opens the home screen (cli.main re-parses as `coach home ARGS`); not listed.
    home = sub.add_parser("home", description="打开终端界面主页")
    home.add_argument("--phrasebook", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    home.set_defaults(func=run_home)

    p = sub.add_parser("practice", help="情景练习（终端界面）",
                       description="按情景逐轮作答：显示客户的话和本轮应说的文明用语，结束后给出成绩单。")
    p.add_argument("--scenario", "-s", metavar="情景", help="直接开始这个情景的 id（默认：先选择）")
    _add_listening_args(p)
    p.set_defaults(func=run_practice)

    p = sub.add_parser("live", help="实时自检（终端界面）",
                       description="持续聆听，实时标出文明用语和忌语，等待过久未说“请稍等”时提醒。")
    _add_listening_args(p)
    p.set_defaults(func=run_live)

    p = sub.add_parser("review", help="回看录音、结果 JSON 或已保存的记录（终端界面）",
                       description="打开录音（先分析）、结果 JSON（coach check --json）或已保存记录的编号。")
    p.add_argument("target", nargs="?", metavar="文件或编号", help="文件路径或记录编号（默认：先选择）")
    add_clerk_channel_argument(p)
    p.set_defaults(func=run_review)

    p = sub.add_parser("demo", help="用内置示例录音演示实时自检",
                       description="播放一段内置的窗口对话录音，演示实时自检：文明用语标绿，忌语标红并给出改说建议。")
    p.set_defaults(func=run_demo)


def store_sink(phrasebook: str | None = None):
    """Keep practice and live sessions in the store (``coach history``), when it can be opened."""
    def make(meta):
        from coach.store import SessionWriter
        return SessionWriter(phrasebook=phrasebook)
    return make


def _run(args, *, save: bool = True, **kw) -> int:
    review = kw.get("review")
    audio = kw.get("input_file") or (review if review and not review.lower().endswith(".json")
                                     and Path(review).is_file() else None)
    if audio and getattr(args, "clerk_channel", None):
        require_channels(audio, args.clerk_channel)   # a mono file has no clerk channel: exit 2, as everywhere
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("COACH_FORCE_TUI"):
        if kw.get("start", "home") == "home":          # plain `coach` in a pipe or a script: help
            from coach.cli import build_parser
            build_parser().print_help()
            return 0
        print("coach: 终端界面需要在交互式终端中运行（命令行用法见 coach --help）/ the app needs an "
              "interactive terminal", file=sys.stderr)
        return 2
    from coach.tui.app import CoachApp
    phrasebook = getattr(args, "phrasebook", None)
    if save and not getattr(args, "no_save", False):
        kw["sink_factory"] = store_sink(phrasebook)
    if getattr(args, "clerk_channel", None):   # --clerk-channel overrides the setting for this run
        from coach.tui.settings import Settings
        kw["settings"] = Settings.load()
        kw["settings"].clerk_channel = args.clerk_channel
    app = CoachApp(phrasebook=phrasebook, **kw)
    app.run()
    return int(app.return_code or 0)


def run_home(args) -> int:
    return _run(args, preload=True)


def run_practice(args) -> int:
    return _run(args, start="practice", scenario=args.scenario, input_file=_input(args.input),
                device=_device(args.device), preload=True)


def run_live(args) -> int:
    return _run(args, start="live", input_file=_input(args.input), device=_device(args.device), preload=True)


def stored_session(target: str) -> str:
    """A session number that is in the store (else InputError: exit 2, one line)."""
    from coach.store import Store, default_db_path
    if default_db_path().exists():
        with Store() as store:
            if store.session(int(target)) is not None:
                return target
    raise InputError(f"没有编号为 {target} 的记录（coach history 列出已保存记录的编号）")


def run_review(args) -> int:
    target = args.target
    if target and target.isdigit():
        target = stored_session(target)
    elif target:
        target = _input(target)
    return _run(args, start="review", review=target)


def run_demo(args) -> int:
    return _run(args, start="live", input_file=str(demo_recording()), save=False, preload=True)
