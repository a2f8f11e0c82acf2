"""PracticeRun: checklist per turn, advancing, score card (no UI)."""

from __future__ import annotations

import pytest

from coach.phrasebook import Scenario, Turn, load_phrasebook
from coach.schema import Utterance
from coach.session.evaluate import Evaluator
from coach.session.live import SessionMeta
from coach.session.practice import STAGE_LABEL, PracticeRun, check_item


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(load_phrasebook())


SCENARIO = Scenario(
    id="t", title="测试情景", description="",
    turns=(
        Turn("你好，我想办营业执照。", ("greeting", "waiting"), "先问好"),
        Turn("要等多久？", (), ""),
        Turn("那我走了。", ("farewell", "apology.sorry"), "走有送声"),
    ),
)


def clerk(start: float, text: str) -> Utterance:
    return Utterance(start, start + 2.0, "unknown", text)


class RecordingSink:
    def __init__(self):
        self.events = []

    def start(self, meta):
        self.events.append(("start", meta.kind))

    def audio(self, block):
        self.events.append(("audio", len(block)))

    def utterance(self, u, findings):
        self.events.append(("utterance", u.speaker, u.text, len(findings)))

    def finish(self, result):
        self.events.append(("finish", result.score))


def test_check_item_labels(evaluator):
    pb = evaluator.phrasebook
    item = check_item(pb, "greeting")
    assert item.label.startswith(STAGE_LABEL["greeting"]) and "您好" in item.label
    assert "greeting.hello" in item.ids
    item = check_item(pb, "apology.sorry")
    assert item.label == "不好意思" and item.ids == {"apology.sorry"}


def test_checklist_ticks_and_advance(evaluator):
    run = PracticeRun(evaluator, SCENARIO)
    t = run.start_turn(0.0)
    assert t.number == 1 and not t.complete and not t.ready
    assert run.utterances[0].speaker == "citizen" and run.utterances[0].text == SCENARIO.turns[0].citizen
    run.add(clerk(0.5, "您好"))
    assert [i.done for i in t.items] == [True, False]
    assert not t.ready
    run.add(clerk(3.0, "请您稍等一下"))
    assert t.complete and t.ready
    assert t.items[1].said.phrase == "请稍等"

    t2 = run.advance(6.0)
    assert t2.number == 2 and t2.items == [] and not t2.ready
    run.add(clerk(6.5, "不知道，你去问别人吧"))
    assert t2.ready                      # nothing expected: the answer is enough to move on
    assert [f.phrase for f in t2.brush_offs] == ["不知道", "找别人去"]
    assert t2.brush_offs[0].suggestion

    t3 = run.advance(10.0)
    run.add(clerk(10.5, "再见，请慢走"))
    assert [i.done for i in t3.items] == [True, False]
    assert run.advance(14.0) is None and run.finished


def test_score_card(evaluator):
    sink = RecordingSink()
    run = PracticeRun(evaluator, SCENARIO, meta=SessionMeta(kind="practice", trainee="张三"), sink=sink)
    run.start_turn(0.0)
    run.add(clerk(0.5, "您好，请稍等"))
    run.advance(4.0)
    run.add(clerk(4.5, "不知道，你去问别人吧"))
    run.advance(8.0)
    run.add(clerk(8.5, "再见，请慢走"))
    card = run.finish(duration_s=11.0)

    assert [p for _, p in card.said] == ["您好", "请稍等", "再见", "请慢走"]
    assert card.said[0][0] == 1 and card.said[-1][0] == 3
    assert [(f.rule, f.type, f.phrase) for f in card.missed] == [("missed_expected", "structure", "不好意思")]
    assert card.missed_turns == [3]
    assert card.missed[0].suggestion == "走有送声"
    assert {f.phrase for f in card.brush_offs} == {"不知道", "找别人去"}
    assert all(f.suggestion for f in card.brush_offs)
    assert card.turn(card.brush_offs[0]) == 2
    assert [f.rule for f in card.other] == ["referral_without_place"]
    # 100 - 15 (不知道) - 15 (找别人去, a violation) - 10 (referral) - 8 (missed)
    pen = evaluator.phrasebook.penalties
    expected = 100 - sum(pen[f"brush_off_{f.severity}"] for f in card.brush_offs) \
        - pen["referral_without_place"] - pen["missed_expected"]
    assert card.score == pytest.approx(expected)
    assert card.result.breakdown["scenario"] == "t"
    # No whole-visit rules in practice: the pauses between turns are not holds.
    assert not any(f.rule in ("unannounced_hold", "missing_greeting") for f in card.result.findings)
    # The sink saw the session as it happened, citizen lines included.
    kinds = [e[0] for e in sink.events]
    assert kinds[0] == "start" and kinds[-1] == "finish" and kinds.count("utterance") == 6
    assert run.finish() is card                        # finishing twice changes nothing
    assert kinds.count("finish") == 1


def test_turns_not_reached_are_not_charged(evaluator):
    run = PracticeRun(evaluator, SCENARIO)
    run.start_turn(0.0)
    run.add(clerk(0.5, "您好，请稍等"))
    card = run.finish()
    assert card.turns_done == 0 and card.turns_reached == 1
    assert card.missed == [] and card.missed_turns == []
    assert not any(f.rule == "missed_expected" for f in card.result.findings)
    assert card.spoken and card.score == 100


def test_reached_turn_left_open_is_charged(evaluator):
    run = PracticeRun(evaluator, SCENARIO)
    run.start_turn(0.0)
    run.add(clerk(0.5, "您好"))
    run.advance(3.0)
    run.add(clerk(3.5, "大概十分钟"))
    run.advance(6.0)
    run.add(clerk(6.5, "请慢走"))
    card = run.finish()
    assert card.turns_reached == 3
    assert [(t, f.phrase) for t, f in zip(card.missed_turns, card.missed)] == [(1, "请稍等"), (3, "不好意思")]


def test_nothing_said_has_no_score(evaluator):
    sink = RecordingSink()
    run = PracticeRun(evaluator, SCENARIO, sink=sink)
    run.start_turn(0.0)
    card = run.finish(duration_s=5.0)
    assert not card.spoken
    assert ("finish" not in [e[0] for e in sink.events])     # the store keeps it unfinished


def test_brush_offs_filed_under_the_turn_said(evaluator):
    run = PracticeRun(evaluator, SCENARIO)
    run.start_turn(0.0)
    run.add(clerk(0.5, "您好，请稍等"))
    run.advance(3.0)
    run.add(clerk(3.5, "不知道"))
    card = run.finish()
    assert [card.turn(f) for f in card.brush_offs] == [2]


def test_result_json_round_trip(evaluator):
    from coach.schema import Result

    run = PracticeRun(evaluator, SCENARIO)
    run.start_turn(0.0)
    run.add(clerk(0.5, "不知道"))
    card = run.finish()
    again = Result.from_json(card.result.to_json())
    assert [f.rule for f in again.findings] == [f.rule for f in card.result.findings]
    assert again.utterances[0].speaker == "citizen"
