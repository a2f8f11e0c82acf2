"""The phrasebook's data model: entries, scenarios, thresholds (what the loader builds).

Everything here is plain, frozen data; :mod:`coach.phrasebook.load` reads and validates the
TOML files a trainer edits and builds these objects, and the matcher and the session rules
both stand on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from coach.errors import PhrasebookError
from coach.phrasebook.patterns import Pattern

STAGES = (
    "greeting", "asking", "waiting", "apology", "referral", "completion",
    "thanks", "farewell", "feedback", "praise_reply", "phone",
)
BRUSH_OFF_SEVERITIES = ("warning", "violation")
STAGE_TITLES = {
    "greeting": "问候", "asking": "询问", "waiting": "等候", "apology": "致歉", "referral": "指引/转办",
    "completion": "办结", "thanks": "致谢", "farewell": "送别", "feedback": "意见建议", "praise_reply": "回应表扬",
    "phone": "电话",
}

def default_dir() -> Path:
    """The phrasebook used when none is given: $COACH_PHRASEBOOK, the checkout's, or the bundled copy."""
    env = os.environ.get("COACH_PHRASEBOOK")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2] / "phrasebook"
    if (checkout / "courtesies.toml").is_file():
        return checkout
    return Path(__file__).resolve().parents[1] / "data" / "phrasebook"


@dataclass(frozen=True)
class Entry:
    """A courtesy or a brush-off, as the matcher needs it."""

    id: str
    kind: str  # "courtesy" | "brush_off"
    phrase: str
    variants: tuple[str, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    stage: str | None = None
    near_misses: tuple[str, ...] = ()
    severity: str = "info"
    suggestions: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    exception_patterns: tuple[Pattern, ...] = ()
    standalone: bool = False
    refers: bool = False
    trusted: bool = False   # brush-off: the statistical double-check never takes its hits back
    note: str = ""
    source: str = ""
    family: str = ""        # brush-off family id (findings report it as ``rule``); courtesy: its stage

    @property
    def rule(self) -> str:
        """What a finding reports as ``rule``: the family for a brush-off, the id for a courtesy."""
        return (self.family or self.id) if self.kind == "brush_off" else self.id

    @property
    def suggestion(self) -> str | None:
        return self.suggestions[0] if self.suggestions else None


@dataclass(frozen=True)
class Family:
    """An intent the norms forbid (brush-off family) or a courtesy stage: what its entries share."""

    id: str
    kind: str                      # "brush_off" | "courtesy"
    title: str                     # Chinese, shown to trainers
    norm: str = ""                 # the norm it breaks (brush-offs) or serves (courtesies)
    severity: str = "info"
    suggestions: tuple[str, ...] = ()
    exception_patterns: tuple[Pattern, ...] = ()   # benign contexts for every entry of the family
    refers: bool = False
    trusted: bool = False          # its entries' hits are never taken back by the double-check
    source: str = ""


@dataclass(frozen=True)
class ContextRule:
    """A benign context (data, not code): a brush-off hit overlapping a match is not one."""

    id: str
    patterns: tuple[Pattern, ...]
    families: tuple[str, ...] = ()     # brush-off families it applies to; empty = all
    note: str = ""
    source: str = ""

    def applies_to(self, family: str) -> bool:
        return not self.families or family in self.families


@dataclass(frozen=True)
class Turn:
    citizen: str
    expect: tuple[str, ...]
    hint: str = ""


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    description: str
    turns: tuple[Turn, ...]
    brush_offs: tuple[Entry, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Thresholds:
    match_score: float = 0.8
    greeting_window_s: float = 8.0
    farewell_window_s: float = 8.0
    hold_s: float = 5.0
    announce_lookback_s: float = 30.0
    max_chars_per_minute: float = 330.0
    min_chars_for_rate: int = 10


@dataclass(frozen=True)
class Phrasebook:
    root: Path
    name: str
    courtesies: tuple[Entry, ...]
    brush_offs: tuple[Entry, ...]
    scenarios: tuple[Scenario, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    penalties: dict[str, float] = field(default_factory=dict)
    referral_places: tuple[Pattern, ...] = ()
    referral_intents: tuple[str, ...] = ()
    wait_complaints: tuple[str, ...] = ()
    families: tuple[Family, ...] = ()
    contexts: tuple[ContextRule, ...] = ()
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def family(self, family_id: str) -> Family | None:
        return next((f for f in self.families if f.id == family_id), None)

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        known = ", ".join(s.id for s in self.scenarios)
        raise PhrasebookError(f"{self.root}: no scenario '{scenario_id}' (known: {known})")

    def courtesy(self, entry_id: str) -> Entry | None:
        return next((c for c in self.courtesies if c.id == entry_id), None)

    def stage_of(self, key: str) -> set[str]:
        """Courtesy ids satisfying an ``expect`` key (a stage name or a courtesy id)."""
        if key in STAGES:
            return {c.id for c in self.courtesies if c.stage == key}
        return {key}


