"""Each session rule, positive and negative, on hand-made timelines."""

import pytest

from coach.schema import Utterance as U
from coach.session.evaluate import Evaluator


@pytest.fixture(scope="module")
def ev():
    return Evaluator.default()


def rules(result):
    return [f.rule for f in result.findings if f.type == "structure"]


def brush(result):
    return {f.phrase for f in result.findings if f.type == "brush_off"}


GOOD = [
    U(0.5, 2.5, "clerk", "您好，请问您要办什么业务？"),
    U(3.0, 5.0, "citizen", "我想办营业执照。"),
    U(5.5, 7.0, "clerk", "好的，请稍等。"),
    U(15.0, 17.0, "clerk", "让您久等了，已经办好了。"),
    U(17.5, 18.5, "citizen", "谢谢。"),
    U(19.0, 20.5, "clerk", "不客气，请慢走。"),
]


def test_a_good_session_has_no_structure_findings(ev):
    r = ev.evaluate(GOOD)
    assert rules(r) == []
    assert r.score == 100


def test_missing_greeting_and_farewell(ev):
    s = [U(0.5, 2.0, "clerk", "办什么？"), U(2.5, 4.0, "citizen", "办证"), U(5, 6, "clerk", "好了。")]
    assert sorted(rules(ev.evaluate(s))) == ["missing_farewell", "missing_greeting"]


def test_greeting_late_in_the_session_does_not_count(ev):
    s = [U(0.0, 4.0, "clerk", "身份证给我看一下。"), U(4.5, 8.5, "citizen", "好的，给你。"),
         U(9.0, 10.0, "clerk", "您好"), U(10.5, 11, "clerk", "再见")]
    assert rules(ev.evaluate(s)) == ["missing_greeting"]


def test_near_miss_greeting_is_not_credited(ev):
    s = [U(0.5, 1.5, "clerk", "你好，办什么业务？"), U(2, 3, "clerk", "请慢走")]
    r = ev.evaluate(s)
    assert rules(r) == ["missing_greeting"]
    assert any(f.rule == "near_miss" and f.phrase == "您好" for f in r.findings)


def test_without_times_first_and_last_clerk_utterance_decide(ev):
    s = [U(None, None, "clerk", "您好"), U(None, None, "citizen", "谢谢"), U(None, None, "clerk", "再见")]
    assert rules(ev.evaluate(s)) == []
    s = [U(None, None, "clerk", "您好"), U(None, None, "clerk", "再见"), U(None, None, "clerk", "下一位")]
    assert rules(ev.evaluate(s)) == ["missing_farewell"]


def test_unannounced_hold_and_missing_apology(ev):
    s = [U(0.5, 2.0, "clerk", "您好，我看一下。"), U(12.0, 13.5, "clerk", "好了，给您。"),
         U(14, 15, "clerk", "请慢走")]
    r = ev.evaluate(s)
    assert sorted(rules(r)) == ["no_apology_after_wait", "unannounced_hold"]
    hold = next(f for f in r.findings if f.rule == "unannounced_hold")
    assert (hold.start, hold.end) == (2.0, 12.0)


def test_announced_hold_with_synonym_and_apology_passes(ev):
    s = [U(0.5, 2.0, "clerk", "您好，麻烦您等一下。"), U(12.0, 13.5, "clerk", "不好意思，好了。"),
         U(14, 15, "clerk", "请慢走")]
    assert rules(ev.evaluate(s)) == []


def test_short_pause_is_not_a_hold(ev):
    s = [U(0.5, 2.0, "clerk", "您好。"), U(6.0, 7.0, "clerk", "好了，请慢走")]
    assert rules(ev.evaluate(s)) == []


def test_citizen_complaint_needs_an_apology(ev):
    s = [U(0, 1, "clerk", "您好"), U(1.5, 3, "citizen", "我都等了半天了！"), U(3.5, 5, "clerk", "马上就好。"),
         U(6, 7, "clerk", "请慢走")]
    assert rules(ev.evaluate(s)) == ["no_apology_after_wait"]
    s[2] = U(3.5, 5, "clerk", "对不起，马上就好。")
    assert rules(ev.evaluate(s)) == []


def test_referral_without_place(ev):
    r = ev.evaluate([U(None, None, "clerk", "这个不归我管，你去别的窗口问吧。")], session=False)
    assert "referral_without_place" in rules(r)
    r = ev.evaluate([U(None, None, "clerk", "这项业务请您到5号窗口办理。")], session=False)
    assert rules(r) == []
    r = ev.evaluate([U(None, None, "clerk", "您去别的窗口问问吧。")], session=False)
    assert rules(r) == ["referral_without_place"]
    r = ev.evaluate([U(None, None, "clerk", "这个要到二楼的社保窗口办。")], session=False)
    assert rules(r) == []


def test_too_fast(ev):
    text = "您好请问您要办理什么业务请把材料给我"  # 18 chars
    assert rules(ev.evaluate([U(0, 2.0, "clerk", text)], session=False)) == ["too_fast"]   # 540 / min
    assert rules(ev.evaluate([U(0, 5.0, "clerk", text)], session=False)) == []             # 216 / min


def test_citizen_is_never_charged(ev):
    s = [U(0, 1, "clerk", "您好"), U(1.5, 3, "citizen", "我不知道，不清楚，喂！"), U(4, 5, "clerk", "再见")]
    r = ev.evaluate(s)
    assert brush(r) == set()
    assert all(f.speaker != "citizen" for f in r.findings)


def test_brush_offs_from_the_issue(ev):
    r = ev.evaluate([U(None, None, "clerk", "不知道，你去问别人吧")], session=False)
    bo = [f for f in r.findings if f.type == "brush_off"]
    assert "不知道" in {f.phrase for f in bo}
    assert all(f.suggestion for f in bo)
    assert brush(ev.evaluate([U(None, None, "clerk", "您要是不知道怎么填，我来教您")], session=False)) == set()
    assert "不归我管" in brush(ev.evaluate([U(None, None, "clerk", "这不归我关")], session=False))


@pytest.mark.parametrize("text", [
    "不知道您还需要办理什么业务？",
    "如果有不清楚的地方，随时问我。",
    "喂，您好，这里是政务服务中心。",
    "为了方便您，我们提供复印服务。",
    "为什么要交这个材料我给您解释一下。",
    "我们下午五点下班，您可以明天上午来。",
])
def test_hard_negatives_are_not_brush_offs(ev, text):
    assert brush(ev.evaluate([U(None, None, "clerk", text)], session=False)) == set()


@pytest.mark.parametrize("text,phrase", [
    ("喂，后面那个，过来。", "喂"),
    ("哎，你没看我正忙着吗？", "哎"),
    ("哎，你没看我正忙着吗？", "没看我正忙着吗"),
    ("我也不清楚，你问别人去。", "不清楚"),
    ("急什么，后面的人不也在排吗？", "急什么"),
    ("下班了，明天再来吧。", "下班了"),
    ("下班了，明天再来吧。", "明天再来"),
    ("不是我们这儿的事。", "不是我们这儿的事"),
    ("為，你過來一下。", "喂"),            # homophone slip of 喂, standing alone
])
def test_brush_offs_are_found(ev, text, phrase):
    assert phrase in brush(ev.evaluate([U(None, None, "clerk", text)], session=False))


def test_score_breakdown_counts_penalties(ev):
    r = ev.evaluate([U(0, 1, "clerk", "不知道。")], session=True)
    assert r.breakdown["counts"]["brush_off"] == 1
    assert r.score == 100 - sum(r.breakdown["penalties"].values())
    assert r.score < 100


def test_findings_carry_times(ev):
    r = ev.evaluate([U(10.0, 12.0, "clerk", "您好，请稍等")], session=False)
    f = next(f for f in r.findings if f.phrase == "请稍等")
    assert 10.0 < f.start < f.end <= 12.0


def test_a_cut_off_recording_is_not_charged_for_its_farewell(ev):
    """The file ends before the visit did: the farewell may have been said after the cut."""
    s = [U(0.5, 2.0, "clerk", "您好，请问您办什么业务？"), U(3.0, 6.0, "citizen", "我来办社保卡。"),
         U(7.0, 9.0, "clerk", "好的，请稍等。")]
    assert "missing_farewell" in rules(ev.evaluate(s))
    cut = ev.evaluate(s, truncated=True)
    assert "missing_farewell" not in rules(cut) and cut.truncated
    assert cut.score > ev.evaluate(s).score


def test_background_speech_is_shown_but_judged_by_nobody(ev):
    # a neighbouring window's chatter the segmenter set apart (coach.asr.vad): no brush-off, no
    # courtesy, no turn; a recording with only that has no clerk speech and no score
    noisy = GOOD[:3] + [U(8.0, 9.5, "background", "不知道，不归我管，你去投诉好了。")] + GOOD[3:]
    result = ev.evaluate(noisy)
    plain = ev.evaluate(GOOD)
    assert [(f.type, f.rule, f.phrase) for f in result.findings] == [(f.type, f.rule, f.phrase) for f in plain.findings]
    assert result.score == plain.score
    alone = ev.evaluate([U(1.0, 3.0, "background", "您好，请慢走。不知道。")])
    assert alone.outcome == "no_speech" and alone.score is None and not alone.findings
