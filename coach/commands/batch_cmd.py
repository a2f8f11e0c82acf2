"""``coach batch DIR``: review a folder of recordings into the store, with an index report.

``coach analyze DIR`` does the same (the analyze command calls :func:`run_batch` for folders);
:func:`add_batch_arguments` gives both commands the same options.
"""

from __future__ import annotations

from coach.store import add_db_argument, db_from_args


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
    p = sub.add_parser("batch", help="批量复核一个目录的录音（可续跑、可并行），结果写入会话数据库",
                       description="批量复核录音：按文件内容指纹跳过已分析的文件，结果写入会话数据库，"
                                   "并生成索引报告（HTML + Markdown + CSV）。")
    p.add_argument("paths", nargs="+", metavar="DIR_OR_FILE", help="录音目录或文件")
    p.add_argument("--engine", default="auto", help="识别引擎（默认 auto）")
    p.add_argument("--clerk-channel", metavar="CH", default=None,
                   help="立体声录音中窗口人员所在声道（left/right 或 0/1）")
    add_batch_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from coach.batch import run_batch

    summary = run_batch(args.paths, recursive=args.recursive, jobs=args.jobs, scheduler=args.scheduler,
                        db=db_from_args(args), out=args.out, engine=args.engine,
                        clerk_channel=args.clerk_channel, trainee=args.trainee,
                        phrasebook=getattr(args, "phrasebook", None), rerun=args.rerun)
    return 1 if summary.failed else 0
