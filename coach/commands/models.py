"""``coach models``: list, fetch, install (offline), verify speech models; show the models folder."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("models", help="语音模型：列出、下载、离线安装、校验",
                       description="语音识别模型管理 / speech model management")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.add_parser("list", help="列出已知和已安装的模型").set_defaults(func=run_list)
    f = msub.add_parser("fetch", help="获取模型（whisper-base 从已安装的包拼装；Vosk 模型需联网下载）")
    f.add_argument("name", help="模型名，见 coach models list")
    f.set_defaults(func=run_fetch)
    i = msub.add_parser("install", help="从 zip 或文件夹离线安装模型（无网络的办公室）")
    i.add_argument("path", help="例如 ~/Downloads/vosk-model-small-cn-0.22.zip")
    i.add_argument("--name", help="安装后的模型名（默认按文件名识别）")
    i.set_defaults(func=run_install)
    v = msub.add_parser("verify", help="逐文件校验 sha256（不给名字则校验所有已安装模型）")
    v.add_argument("name", nargs="?")
    v.set_defaults(func=run_verify)
    msub.add_parser("path", help="显示模型文件夹位置").set_defaults(func=run_path)
    p.set_defaults(func=run_list)


def run_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from coach.asr.models import list_models, models_dir

    table = Table(title=f"语音模型 / models — {models_dir()}")
    for col in ("名称 name", "引擎", "语言", "状态", "大小", "说明"):
        table.add_column(col)
    for s in list_models():
        state = "[green]已安装[/]" if s.installed else "[dim]未安装[/]"
        size = f"{s.size_mb:.0f} MB" if s.size_mb else ""
        table.add_row(s.name, s.engine, s.language, state, size, s.title)
    Console().print(table)
    return 0


def run_fetch(args) -> int:
    from coach.asr.models import fetch

    path = fetch(args.name, progress=sys.stderr.isatty())
    print(f"模型 {args.name} 已就绪：{path}")
    return 0


def run_install(args) -> int:
    from coach.asr.models import install

    name, path = install(args.path, name=args.name)
    print(f"已安装模型 {name}：{path}")
    return 0


def run_verify(args) -> int:
    from coach.asr import selfcheck
    from coach.asr.factory import open_engine
    from coach.asr.models import is_installed, list_models, model_path, verify

    names = [args.name] if args.name else [s.name for s in list_models() if s.installed]
    if not names:
        print("没有已安装的模型 / no models installed")
        return 0
    for name in names:
        if args.name or is_installed(name):
            line = verify(name)
            if selfcheck.needed(name):  # no known-good hash: the model must also still hear Mandarin
                selfcheck.forget(model_path(name))
                open_engine(model=name)                     # checks it again on the known clip
                line += f"；普通话自检录音字错率 {selfcheck.passed(model_path(name)):.0%}"
            print(line)
    return 0


def run_path(args) -> int:
    from coach.asr.models import models_dir

    print(models_dir())
    return 0
