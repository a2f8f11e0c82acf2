"""argparse in Chinese: "用法：", "选项", "位置参数", the -h line and the common error messages.

``ZhArgumentParser`` is the class of the ``coach`` parser; its sub-command parsers inherit it
(argparse builds them with the parent's class).
"""

from __future__ import annotations

import argparse
import re
import sys

_ERRORS = (
    (r"^the following arguments are required: (.*)$", r"缺少必需的参数：\1"),
    (r"^unrecognized arguments: (.*)$", r"无法识别的参数：\1"),
    (r"^argument (\S+): invalid choice: (.*?) \(choose from (.*)\)$", r"参数 \1：无效的选项 \2（可选：\3）"),
    (r"^argument (\S+): expected one argument$", r"参数 \1 需要一个值"),
    (r"^argument (\S+): expected at least one argument$", r"参数 \1 至少需要一个值"),
    (r"^argument (\S+): invalid (\w+) value: (.*)$", r"参数 \1：无效的 \2 值 \3"),
    (r"^argument (\S+): not allowed with argument (\S+)$", r"参数 \1 不能与 \2 同时使用"),
    (r"^argument (\S+): ignored explicit argument (.*)$", r"参数 \1：多余的值 \2"),
    (r"^ambiguous option: (\S+) could match (.*)$", r"选项 \1 有歧义，可能是：\2"),
)


def translate(message: str) -> str:
    for pattern, repl in _ERRORS:
        if re.match(pattern, message):
            return re.sub(pattern, repl, message)
    return message


class ZhHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def format_help(self) -> str:
        # section headings end in a full-width colon ("选项：")
        return re.sub(r"(?m)^(\S[^\n]*?):$", r"\1：", super().format_help())


class ZhArgumentParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", ZhHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 错误：{translate(message)}\n")


__all__ = ["ZhArgumentParser", "ZhHelpFormatter", "translate"]
