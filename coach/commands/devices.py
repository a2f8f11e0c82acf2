"""``coach devices``: list microphones (input devices)."""

from __future__ import annotations

import sys

from coach.errors import printable


def register(sub) -> None:
    p = sub.add_parser("devices", help="列出可用的录音设备（麦克风）")
    p.set_defaults(func=run)


def run(args) -> int:
    from coach.audio.sources import list_input_devices

    devices = list_input_devices()
    if not devices:
        # Documented exit 2 (README): nothing to record from is an input problem, like a missing file.
        print("coach: 没有找到录音设备（麦克风）。插上麦克风后再运行 coach devices；"
              "没有麦克风也可以分析录音文件：coach analyze 录音.wav / no input device found", file=sys.stderr)
        return 2
    for d in devices:
        star = "*" if d.is_default else " "
        print(f"{star} {d.index:>3}  {printable(d.name)}  （{d.channels} 声道，{d.default_rate:.0f} Hz，{d.hostapi}）")
    print("* = 默认设备；用编号或名字的一部分选择设备")
    return 0
