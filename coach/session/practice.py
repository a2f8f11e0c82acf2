"""A practice scenario run, turn by turn (情景练习), free of any UI.

    run = PracticeRun(evaluator, scenario)
    run.start_turn(now=0.0)                 # the citizen's line of turn 1 is shown
    run.add(Utterance(0.5, 2.0, "clerk", "您好，请问您要办什么业务"))
    run.current.complete                     # every expected courtesy of the turn said?
    run.current.ready                        # complete, or nothing expected and the clerk answered
    run.advance(now=3.0)                     # on to turn 2 (None once past the last turn)
    card = run.finish()                      # said / missed / brush-offs with what to say instead

Each turn has a checklist built from the scenario's ``expect`` keys (a stage such as
``greeting`` — any courtesy of that stage ticks it — or a courtesy id).  A courtesy finding
of the clerk ticks the first open item it satisfies.  At the end every item still open in a
turn that was reached (its citizen line shown) becomes a ``missed_expected`` finding (type
``structure``), charged like any other rule; turns never reached are not charged.  A run in
which the trainee said nothing gets no score (``ScoreCard.spoken`` is False).

The whole-visit rules (greeting, farewell, holds) are not applied: in practice the trainee
reads each citizen line from the screen, so the silences between turns are not holds and
the checklist already asks for the greeting and farewell where the scenario wants them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from coach.phrasebook import STAGES, Phrasebook, Scenario, Turn
from coach.schema import Finding, Result, Utterance
from coach.session.evaluate import Evaluator, score
from coach.session.live import LiveSession, SessionMeta, SessionSink

STAGE_LABEL = {
    "greeting": "问候",
    "asking": "询问需求",
    "waiting": "请稍等",
    "apology": "致歉",
    "referral": "指明具体窗口",
    "completion": "办结告知",
    "thanks": "致谢",
    "farewell": "送别",
    "feedback": "欢迎监督",
    "praise_reply": "回应表扬",
    "phone": "电话用语",
}
assert set(STAGE_LABEL) == set(STAGES)


@dataclass
class CheckItem:
    """One courtesy expected at a turn."""

    key: str                    # the ``expect`` key: a stage or a courtesy id
    label: str                  # what the trainee sees, e.g. "问候（您好）"
    example: str                # a phrase that satisfies it
    ids: frozenset[str]         # courtesy ids that tick it
    said: Finding | None = None
    title: str = ""             # the stage's name ("问候"), or the phrase for a courtesy id

    @property
    def done(self) -> bool:
        return self.said is not None


@dataclass
class TurnState:
    number: int                 # 1-based
    turn: Turn
    items: list[CheckItem]
    started_at: float | None = None
    citizen_index: int | None = None           # the citizen line's index among the session's utterances
    utterances: list[int] = field(default_factory=list)    # the clerk's utterances in this turn
    findings: list[Finding] = field(default_factory=list)  # the clerk's findings in this turn

    @property
    def complete(self) -> bool:
        return all(i.done for i in self.items)

    @property
    def ready(self) -> bool:
        """Time to move on: every expected courtesy said, or (nothing expected) the clerk has answered."""
        return self.complete if self.items else bool(self.utterances)

    @property
    def brush_offs(self) -> list[Finding]:
        return [f for f in self.findings if f.type == "brush_off"]


def check_item(pb: Phrasebook, key: str) -> CheckItem:
    ids = frozenset(pb.stage_of(key))
    phrases = [c.phrase for c in pb.courtesies if c.id in ids]
    example = phrases[0] if phrases else key
    if key in STAGES:
        title = STAGE_LABEL[key]
        label = f"{title}（{example}）" if title != example else example
    else:
        title = label = example
    return CheckItem(key=key, label=label, example=example, ids=ids, title=title)


@dataclass
class ScoreCard:
    """What the trainee sees at the end of a run."""

    scenario: Scenario
    result: Result
    said: list[tuple[int, str]]         # (turn number, canonical phrase) of every courtesy said
    missed: list[Finding]                # rule ``missed_expected``
    brush_offs: list[Finding]            # each with its ``suggestion`` (say instead)
    other: list[Finding]                 # near misses and the other rules (referral, speed)
    turns_done: int                      # turns finished (advanced past)
    turn_of: dict[int, int] = field(default_factory=dict)   # utterance index -> turn number
    missed_turns: list[int] = field(default_factory=list)    # turn number of each ``missed`` item
    turns_reached: int = 0               # turns whose citizen line was shown
    spoken: bool = True                  # False: nothing was said, the run has no score

    def turn(self, f: Finding) -> int | None:
        return self.turn_of.get(f.utterance) if f.utterance is not None else None

    @property
    def score(self) -> float:
        return self.result.score


class PracticeRun:
    def __init__(self, evaluator: Evaluator, scenario: Scenario, *, meta: SessionMeta | None = None,
                 sink: SessionSink | None = None):
        self.evaluator = evaluator
        self.scenario = scenario
        pb = evaluator.phrasebook
        self.meta = meta or SessionMeta(kind="practice", scenario=scenario.id)
        self.session = LiveSession(evaluator, self.meta, sink)
        self.turns = [TurnState(n, t, [check_item(pb, k) for k in t.expect])
                      for n, t in enumerate(scenario.turns, 1)]
        self.index = 0
        self._finished: ScoreCard | None = None

    # ------------------------------------------------------------------ state
    @property
    def current(self) -> TurnState | None:
        return self.turns[self.index] if self.index < len(self.turns) else None

    @property
    def finished(self) -> bool:
        return self.index >= len(self.turns)

    @property
    def utterances(self) -> list[Utterance]:
        return self.session.utterances

    # ------------------------------------------------------------------ events
    def start_turn(self, now: float | None = None) -> TurnState | None:
        """Show the current turn: records the citizen's line (once) at ``now`` on the session clock."""
        t = self.current
        if t is None or t.citizen_index is not None:
            return t
        t.started_at = now
        t.citizen_index = len(self.session.utterances)
        self.session.add(Utterance(now, now, "citizen", t.turn.citizen))
        return t

    @property
    def spoken(self) -> bool:
        """Whether the trainee has said anything yet."""
        return any(t.utterances for t in self.turns)

    def add(self, u: Utterance, found: list[Finding] | None = None) -> list[Finding]:
        """One final utterance of the trainee (``found``: already attributed and judged in a
        worker, see :func:`coach.session.live.judge`); ticks the current turn's checklist."""
        if found is None:
            u = self.session.attribute(u)
        if u.speaker == "unknown":
            u = replace(u, speaker="clerk")
        found = self.session.add(u, found)
        t = self.current
        if t is None or u.speaker == "citizen":
            return found
        if t.citizen_index is None:
            self.start_turn(u.start)
        t.utterances.append(len(self.session.utterances) - 1)
        t.findings.extend(found)
        for f in found:
            if f.type != "courtesy" or f.rule == "near_miss" or f.speaker != "clerk":
                continue
            item = next((i for i in t.items if not i.done and f.rule in i.ids), None)
            if item is not None:
                item.said = f
        return found

    def advance(self, now: float | None = None) -> TurnState | None:
        """Go on to the next turn (and show it); None when the last turn is over."""
        if self.finished:
            return None
        self.index += 1
        return self.start_turn(now) if not self.finished else None

    # ------------------------------------------------------------------ end
    def missed(self) -> list[Finding]:
        """A ``missed_expected`` finding for every checklist item not (yet) said in a turn reached."""
        return [f for _, f in self._missed()]

    def _missed(self) -> list[tuple[int, Finding]]:
        out = []
        for t in self.turns:
            if t.citizen_index is None:      # never reached: not charged
                continue
            for item in t.items:
                if item.done:
                    continue
                hint = t.turn.hint or f"本轮应说“{item.example}”"
                out.append((t.number, Finding(
                    type="structure", rule="missed_expected", phrase=item.example, heard=None,
                    start=t.started_at, end=t.started_at, speaker="clerk", severity="warning",
                    suggestion=hint, utterance=t.citizen_index)))
        return out

    def finish(self, *, duration_s: float | None = None, file: str | None = None) -> ScoreCard:
        """Score the run (what was not said in the turns reached counts as missed) and hand the
        result to the sink; a run with nothing said has no score and is not finished in the
        sink (the store keeps it as unfinished)."""
        if self._finished is not None:
            return self._finished
        pb = self.evaluator.phrasebook
        result = self.evaluator.evaluate(self.session.utterances, session=False, file=file,
                                         engine=self.meta.engine, duration_s=duration_s)
        missed_by_turn = self._missed()
        missed = [f for _, f in missed_by_turn]
        result.findings = sorted(
            result.findings + missed,
            key=lambda f: (f.utterance if f.utterance is not None else 1 << 30,
                           f.start if f.start is not None else float("inf")))
        result.score, result.breakdown = score(result.findings, pb)
        result.breakdown["scenario"] = self.scenario.id
        result.breakdown["turns"] = len(self.turns)
        result.extra["scenario"] = self.scenario.id
        turn_of: dict[int, int] = {}
        for t in self.turns:
            for i in t.utterances + ([t.citizen_index] if t.citizen_index is not None else []):
                turn_of[i] = t.number
        said = [(turn_of.get(f.utterance, 0), f.phrase or "") for f in result.findings
                if f.type == "courtesy" and f.rule != "near_miss"]
        card = ScoreCard(
            scenario=self.scenario, result=result, said=said, missed=missed,
            brush_offs=[f for f in result.findings if f.type == "brush_off"],
            other=[f for f in result.findings
                   if (f.type == "structure" and f.rule != "missed_expected") or f.rule == "near_miss"],
            turns_done=min(self.index, len(self.turns)), turn_of=turn_of,
            missed_turns=[n for n, _ in missed_by_turn],
            turns_reached=sum(1 for t in self.turns if t.citizen_index is not None),
            spoken=self.spoken,
        )
        self.index = len(self.turns)
        self._finished = card
        sink = self.session.sink
        if sink and card.spoken:
            sink.finish(result)
        elif sink and getattr(sink, "close", None):
            sink.close()
        return card


__all__ = ["CheckItem", "PracticeRun", "ScoreCard", "STAGE_LABEL", "TurnState", "check_item"]
