"""``coach check``: judge a text or a transcript file, print findings."""

from __future__ import annotations

import json
import sys

from coach.report.console import print_result
from coach.phrasebook import load_phrasebook
from coach.schema import Utterance
from coach.session.evaluate import Evaluator, charged_speaker
from coach.session.transcript import parse_line, read_transcript


def register(sub) -> None:
    p = sub.add_parser("check", help="检查一句话或一份文字记录中的文明用语与忌语",
                       description="检查文字：coach check \"文本\" 或 coach check --file transcript.txt")
    p.add_argument("text", nargs="?", help="要检查的一句话（窗口工作人员所说）")
    p.add_argument("--file", "-f", help="文字记录：每行一句，可带 [开始-结束] 时间和 窗口:/客户: 前缀")
    p.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
    p.add_argument("--strict", action="store_true", help="发现违规（violation）时以退出码 1 结束")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--session", dest="session", action="store_true", default=None,
                      help="按完整接待过程检查（问候、送别、等待等）；--file 默认开启")
    mode.add_argument("--phrases-only", dest="session", action="store_false",
                      help="只检查用语，不检查接待过程")
    p.set_defaults(func=run)


def run(args) -> int:
    if bool(args.text) == bool(args.file):
        print("coach check: 请给出一句话或 --file 文件（二选一）/ give TEXT or --file", file=sys.stderr)
        return 2
    evaluator = Evaluator(load_phrasebook(args.phrasebook))
    if args.file:
        utterances = read_transcript(args.file)
        session = True if args.session is None else args.session
        name = args.file
    else:
        u = parse_line(args.text) or Utterance(None, None, "clerk", args.text)
        utterances = [Utterance(u.start, u.end, charged_speaker(u), u.text)]
        session = bool(args.session)
        name = None
    result = evaluator.evaluate(utterances, session=session, file=name)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print_result(result)
    if args.strict and any(f.severity == "violation" for f in result.findings):
        return 1
    return 0
