"""``coach analyze FILE...`` (one result per recording) and ``coach analyze DIR`` (batch review)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from coach.errors import InputError
from coach.report.console import print_result
from coach.store.files import write_atomic
from coach.phrasebook import load_phrasebook
from coach.session.evaluate import Evaluator
from coach.store import add_db_argument


def add_batch_arguments(p, *, db: bool = True) -> None:
    p.add_argument("--recursive", "-r", action="store_true", help="包括子目录中的录音")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="本机并行进程数（每个进程加载一份识别模型；默认 1）")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="交给已有的 Dask 集群处理（各节点需安装 coach 和识别模型）")
    p.add_argument("--out", "-o", metavar="DIR", default="coach-review",
                   help="索引报告和逐个文件报告的输出目录（默认 ./coach-review）")
    p.add_argument("--trainee", metavar="NAME", default="", help="这些录音属于哪位学员（写入会话记录）")
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
    p.add_argument("--clerk-channel", choices=["left", "right"],
                   help="立体声录音中工作人员所在的声道（另一声道为群众，群众的话不计忌语）")
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
        return 1 if summary.failed else 0
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: file not found / 文件不存在")

    from coach.session.pipeline import analyze_file

    evaluator = Evaluator(load_phrasebook(args.phrasebook))
    violation = False
    results = []
    for p in paths:
        result = analyze_file(p, engine=args.engine, clerk_channel=args.clerk_channel, evaluator=evaluator)
        violation |= any(f.severity == "violation" for f in result.findings)
        if args.out:
            ext = ".md" if args.md else ".json"
            target = write_atomic(Path(args.out) / (p.stem + ext), _render(result, args))
            print(f"{p} → {target}  得分 {result.score:g}", file=sys.stderr)
        elif args.json or args.md:
            results.append(result)
        else:
            print_result(result)
    if results and args.json:
        data = [r.to_json() for r in results]
        print(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
    elif results:
        print("\n\n".join(_render(r, args) for r in results))
    return 1 if args.strict and violation else 0
