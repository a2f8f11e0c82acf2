"""``coach analyze FILE...`` (one result per recording) and ``coach analyze DIR`` (batch review).

Several files behave like a folder: a bad one is reported in one line and the others go on;
the exit code at the end is 3 when some failed (``coach.cli`` lists the codes).  A result is
never thrown away: when ``--out`` cannot be written, the result goes to stdout instead and
the message says so (exit 2).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from coach.cli import add_clerk_channel_argument
from coach.errors import InputError, OutputError, printable
from coach.phrasebook import load_phrasebook
from coach.report.console import print_result, verdict
from coach.session.evaluate import Evaluator
from coach.store import add_db_argument
from coach.store.files import unique_path, write_atomic

EXIT_STRICT, EXIT_INPUT, EXIT_PARTIAL = 1, 2, 3


def add_batch_arguments(p, *, db: bool = True) -> None:
    p.add_argument("--recursive", "-r", action="store_true", help="包括子目录中的录音")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="本机并行进程数（每个进程加载一份识别模型；默认 1）")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="交给已有的 Dask 集群处理（各节点需安装 coach 和识别模型）")
    p.add_argument("--out", "-o", metavar="DIR", default="coach-review",
                   help="索引报告和逐个文件报告的输出目录（默认 ./coach-review）")
    p.add_argument("--trainee", metavar="NAME", default="",
                   help="这些录音属于哪位学员（写入会话记录；单声道录音用该学员登记的声音区分窗口和群众）")
    p.add_argument("--rerun", action="store_true", help="已分析过的文件也重新分析")
    if db:
        add_db_argument(p)


def register(sub) -> None:
    p = sub.add_parser("analyze", help="分析录音：转写并检查文明用语、忌语和接待过程",
                       description="分析录音（WAV/FLAC/MP3/M4A/OGG）。给出目录时批量处理。")
    p.add_argument("files", nargs="+", metavar="FILE", help="录音文件或目录")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="输出 JSON（与 coach check --json 同一格式）")
    fmt.add_argument("--md", action="store_true", help="输出 Markdown 报告")
    add_clerk_channel_argument(p)
    p.add_argument("--engine", default="auto", choices=["auto", "whisper", "vosk"], help="识别引擎（默认 auto）")
    p.add_argument("--strict", action="store_true", help="发现违规时以退出码 1 结束")
    # Directory (batch) options; --out also names where per-file results go.
    add_batch_arguments(p)
    p.set_defaults(out=None)
    p.set_defaults(func=run)


def _render(result, args) -> str:
    if args.md:
        from coach.report.markdown import session_md

        return session_md(result)
    return json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"


def _say(text: str) -> None:
    print(f"coach: {printable(text)}", file=sys.stderr, flush=True)


class ProgressLine:
    """``分析 X：02:10 / 60:00 音频 · 3.1× 实时 · 剩余约 18:40`` on stderr, redrawn at most twice a second."""

    def __init__(self, name: str, stream=None):
        self.name = printable(name)
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.shown = False

    @staticmethod
    def _mmss(s: float) -> str:
        m, sec = divmod(int(s), 60)
        h, m = divmod(m, 60)
        return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"

    def __call__(self, stats, total: float | None) -> None:
        now = time.perf_counter()
        if now - self.last < 0.5:
            return
        self.last = now
        wall = now - self.t0
        done = stats.seconds
        parts = [f"分析 {self.name}：{self._mmss(done)}" + (f" / {self._mmss(total)}" if total else "") + " 音频"]
        if stats.passes > 1:
            parts[0] += f"（第 {stats.passes} 声道）"
        if wall > 1 and done:
            speed = done / wall
            parts.append(f"{speed:.1f}× 实时")
            if total and total > done:
                left = (total - done) / speed
                parts.append(f"剩余约 {self._mmss(left)}")
        self.stream.write("\r\x1b[K" + " · ".join(parts))
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _show_progress(args) -> bool:
    if os.environ.get("COACH_PROGRESS", "") == "0" or not sys.stderr.isatty():
        return False
    return sys.stdout.isatty() or not (args.json or args.md)


def run(args) -> int:
    paths = [Path(f) for f in args.files]
    dirs = [p for p in paths if p.is_dir()]
    if dirs:
        if len(paths) > 1:
            raise InputError("批量处理时请只给一个目录 / give a single directory for batch review")
        from coach.batch import run_batch

        summary = run_batch([dirs[0]], recursive=args.recursive, jobs=args.jobs, scheduler=args.scheduler,
                            db=args.db, out=args.out or "coach-review", engine=args.engine,
                            clerk_channel=args.clerk_channel, trainee=args.trainee,
                            phrasebook=args.phrasebook, rerun=args.rerun)
        return summary.exit_code(strict=args.strict)
    if len(paths) == 1 and not paths[0].exists():
        raise InputError(f"{paths[0]}: file not found / 文件不存在")

    from coach.commands.enroll import default_trainee
    from coach.session.pipeline import analyze_file
    from coach.speaker.profile import load_profile

    evaluator = Evaluator(load_phrasebook(args.phrasebook))
    profile = load_profile(args.trainee or default_trainee())
    violation = False
    results = []
    failed: list[Path] = []
    unsaved = 0
    taken: set[Path] = set()
    progress = _show_progress(args)
    for p in paths:
        bar = ProgressLine(p.name) if progress else None
        try:
            if not p.exists():
                raise InputError(f"{p}: file not found / 文件不存在")
            result = analyze_file(p, engine=args.engine, clerk_channel=args.clerk_channel, evaluator=evaluator,
                                  profile=profile, on_progress=bar)
        except InputError as exc:
            if len(paths) == 1:
                raise
            _say(str(exc))
            failed.append(p)
            continue
        finally:
            if bar is not None:
                bar.clear()
        violation |= any(f.severity == "violation" for f in result.findings)
        if args.out:
            ext = ".md" if args.md else ".json"
            # Two inputs with the same name (a/x.wav, b/x.wav) get x.json and x-2.json.
            target = unique_path(Path(args.out) / (p.stem + ext), taken)
            text = _render(result, args)
            try:
                write_atomic(target, text)
            except OutputError as exc:
                unsaved += 1
                sys.stdout.write(text)
                sys.stdout.flush()
                _say(f"{exc.message}；{p} 的结果已输出到标准输出 / the result was printed to stdout instead")
                continue
            print(f"{printable(p)} → {printable(target)}  得分 {verdict(result.score, result.outcome)}"
                  + ("（录音不完整）" if result.truncated else ""), file=sys.stderr)
        elif args.json or args.md:
            results.append(result)
        else:
            print_result(result)
    if results and args.json:
        data = [r.to_json() for r in results]
        print(json.dumps(data[0] if len(paths) == 1 else data, ensure_ascii=False, indent=2))
    elif results:
        print("\n\n".join(_render(r, args) for r in results))
    if failed:
        _say(f"{len(failed)} / {len(paths)} 个文件分析失败：{'、'.join(map(str, failed))} / some inputs failed")
        return EXIT_PARTIAL
    if unsaved:
        return EXIT_INPUT
    return EXIT_STRICT if args.strict and violation else 0
