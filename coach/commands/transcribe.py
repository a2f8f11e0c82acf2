"""``coach transcribe FILE``: speech → timed utterances (no judging)."""

from __future__ import annotations

import json
import sys
import time
import warnings

from coach.cli import add_clerk_channel_argument
from coach.errors import printable
from coach.schema import SPEAKER_LABEL as _LABEL

SPEAKER_LABEL = {**_LABEL, "unknown": ""}      # no attribution ran: no label at all


def register(sub) -> None:
    p = sub.add_parser("transcribe", help="把录音转成带时间的文字（不评分）",
                       description="录音转文字：coach transcribe 录音.wav [--clerk-channel left]")
    p.add_argument("file", help="音频文件：WAV/FLAC/MP3/M4A/AAC/OGG，任意采样率")
    p.add_argument("--engine", choices=["auto", "whisper", "vosk"], default="auto",
                   help="识别引擎（默认 auto：文件用 Whisper）")
    add_clerk_channel_argument(p)
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument("--words", action="store_true", help="附带逐字时间（Whisper 稍慢）")
    p.set_defaults(func=run)


def format_utterance(u) -> str:
    t = f"[{u.start:.1f}-{u.end:.1f}] " if u.start is not None and u.end is not None else ""
    who = SPEAKER_LABEL.get(u.speaker, u.speaker)
    text = printable(u.text)  # escape sequences in a transcript never reach the terminal raw
    return f"{t}{who}: {text}" if who else f"{t}{text}"


def run(args) -> int:
    from coach.asr import open_engine, transcribe_file
    from coach.audio.decode import AudioWarning, DecodeStats, probe, require_channels

    info = probe(args.file)
    require_channels(args.file, args.clerk_channel, info)
    stats = DecodeStats()
    settings = {"word_timestamps": True} if args.words and args.engine != "vosk" else {}
    engine = open_engine(args.engine, live=False, **settings)
    streaming = not args.json and not args.clerk_channel
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AudioWarning)
        utterances = transcribe_file(
            args.file, engine=engine, clerk_channel=args.clerk_channel, stats=stats,
            on_utterance=(lambda u: print(format_utterance(u), flush=True)) if streaming else None,
        )
    wall = time.perf_counter() - t0
    for w in caught:
        print(f"coach: 警告：{printable(w.message)}", file=sys.stderr)
    duration = round(stats.seconds, 3) if stats.samples else info.duration  # decoded, not the header's claim
    if args.json:
        doc = {
            "file": args.file, "duration_s": duration, "truncated": stats.truncated or info.truncated, "engine": engine.name, "model": engine.model,
            "utterances": [
                {**u.to_json(), **({"words": [[w.start, w.end, w.text] for w in (u.words or [])]} if args.words else {})}
                for u in utterances
            ],
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        if not streaming:
            for u in utterances:
                print(format_utterance(u))
        if not utterances:
            print("（没有识别到语音 / no speech found）")
        dur = duration or 0.0
        rtf = f"，{wall / dur:.2f}× 实时" if dur else ""
        print(f"— {len(utterances)} 句，{dur:.1f} 秒音频，用时 {wall:.1f} 秒{rtf}（{engine.name}: {engine.model}）",
              file=sys.stderr)
    return 0
