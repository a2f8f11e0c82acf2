"""Shared helpers for benchmarks and tests that read ../shared/audio/dev labels."""

from __future__ import annotations

import json
import os
from pathlib import Path

from coach.schema import Utterance

# dev label id -> our structural rule id
STRUCTURE_IDS = {
    "greeting": "missing_greeting",
    "farewell": "missing_farewell",
    "hold_announcement": "unannounced_hold",
    "apology_after_wait": "no_apology_after_wait",
    "referral_location": "referral_without_place",
}


# the dev labels' brush-off wordings, also those no session expects (a finding outside the
# canonical lists is not scored: it names another family's wording)
DEV_BRUSH_OFFS = frozenset({"不知道", "不清楚", "不归我管", "不是我们这儿的事", "喂", "哎", "没空", "没看我正忙着吗",
                            "急什么", "自己看墙上", "明天再来", "下班了"})


def condition_name(cond: str) -> str:
    """A benchmark condition as a table shows it: ``clean``, ``babble 5 dB`` (from ``babble:5``)."""
    return "clean" if cond == "clean" else cond.replace(":", " ") + " dB"


def shared_dir() -> Path:
    env = os.environ.get("COACH_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def dev_sessions() -> list[dict]:
    d = shared_dir() / "audio" / "dev"
    return [json.loads(p.read_text("utf-8")) for p in sorted(d.glob("D*.json"))]


def label_utterances(session: dict) -> list[Utterance]:
    return [Utterance(u["start"], u["end"], u["speaker"], u["text"]) for u in session["utterances"]]


def speaker_at(session: dict, start: float, end: float) -> str:
    """The labelled speaker whose turn overlaps [start, end] most (``none``: no turn does)."""
    best, who = 0.0, "none"
    for u in session["utterances"]:
        ov = min(end, u["end"]) - max(start, u["start"])
        if ov > best:
            best, who = ov, u["speaker"]
    return who


def expected(session: dict) -> dict[str, set[str]]:
    e = session["expect"]
    return {
        "courtesy": set(e["required_said"]),
        "brush_off": set(e["clerk_banned"]),
        "structure": {STRUCTURE_IDS[x] for x in e["required_missing"]},
    }


def found(result) -> dict[str, set[str]]:
    out = {"courtesy": set(), "brush_off": set(), "structure": set()}
    for f in result.findings:
        if f.speaker == "citizen":
            continue
        if f.type == "courtesy" and f.rule != "near_miss":
            out["courtesy"].add(f.phrase)
        elif f.type == "brush_off":
            out["brush_off"].add(f.phrase)
        elif f.type == "structure" and f.rule in STRUCTURE_IDS.values():
            out["structure"].add(f.rule)
    return out
