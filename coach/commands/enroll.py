"""``coach enroll``: record or read 10–30 s of the clerk and keep a voice profile per trainee.

With a profile, one-microphone recordings (analyze, batch, review, live, practice) tell the
clerk's utterances from the citizen's by voice; without one they fall back to clustering.
"""

from __future__ import annotations

import sys

import numpy as np

from coach.errors import InputError

PROMPT = "您好，请问您要办理什么业务？请您稍等，我帮您查一下。不好意思，让您久等了。这项业务请您到三号窗口办理。请慢走。"


def register(sub) -> None:
    p = sub.add_parser("enroll", help="登记学员的声音（单麦克风录音区分窗口和群众）",
                       description="录 10–30 秒学员（窗口工作人员）说话，或读取一段录音，保存为该学员的声音档案。"
                                   "之后单声道录音按声音区分窗口和群众，群众说的话不算学员的忌语。")
    p.add_argument("--trainee", "-t", metavar="NAME", default=None, help="学员姓名（默认：设置中的学员）")
    p.add_argument("--input", "-i", metavar="FILE", help="只有学员一人说话的录音文件（默认：用麦克风录音）")
    p.add_argument("--device", "-d", metavar="N", help="麦克风编号或名称（默认：系统默认）")
    p.add_argument("--seconds", type=float, default=20.0, metavar="S", help="麦克风录音秒数（10–30，默认 20）")
    p.add_argument("--list", action="store_true", help="列出已登记声音的学员")
    p.set_defaults(func=run)


def default_trainee() -> str:
    """The trainee named in the app's settings ("" when none): whose voice profile is used by default."""
    try:
        from coach.tui.settings import Settings
        return Settings.load().trainee
    except Exception:  # settings are a convenience here; a broken file just means no default
        return ""


def _record(device, seconds: float) -> np.ndarray:
    from coach.audio.sources import MicSource

    print(f"请用平常接待的语气连续说 {seconds:.0f} 秒，例如：\n  {PROMPT}", file=sys.stderr)
    print("正在录音……", file=sys.stderr, flush=True)
    blocks, got = [], 0
    with MicSource(device=device) as mic:
        for block in mic:
            blocks.append(block)
            got += len(block)
            if got >= seconds * mic.sample_rate:
                break
    print("录音结束。", file=sys.stderr)
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def run(args) -> int:
    from coach.speaker.profile import enrol, list_profiles, save_profile

    if args.list:
        profiles = list_profiles()
        if not profiles:
            print("还没有学员登记声音（coach enroll --trainee 姓名）")
        for p in profiles:
            print(f"{p.trainee or '（未命名）'}  {p.speech_s:.0f} 秒说话声")
        return 0
    trainee = args.trainee if args.trainee is not None else default_trainee()
    if args.input:
        from coach.audio.decode import read

        samples, source = read(args.input), args.input
    else:
        if not 10 <= args.seconds <= 30:
            raise InputError(f"--seconds 应在 10 到 30 之间（得到 {args.seconds:g}）")
        device = int(args.device) if args.device and args.device.isdigit() else args.device
        samples, source = _record(device, args.seconds), "麦克风录音"
    profile = enrol(samples, trainee, source=source)
    path = save_profile(profile)
    who = trainee or "（未命名学员）"
    print(f"已保存 {who} 的声音档案（{profile.speech_s:.0f} 秒说话声）：{path}")
    return 0
