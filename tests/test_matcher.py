import pytest

from coach.matcher.matcher import Matcher, align
from coach.phrasebook import load_phrasebook


@pytest.fixture(scope="module")
def matcher():
    return Matcher.from_phrasebook(load_phrasebook())


def said(matcher, text, kind):
    return {h.phrase for h in matcher.find(text) if h.kind == kind}


def test_align_tolerates_an_inserted_character():
    (cost, s, e), = align("请稍等", "好的请您稍等我查一下", 0.6)
    assert (s, e) == (2, 6) and cost == pytest.approx(0.5)


def test_align_rejects_a_different_phrase():
    assert align("请慢走", "请您慢点说", 0.6) == []


def test_align_homophone_is_cheap():
    (cost, s, e), = align("不归我管", "这不归我关", 0.8)
    assert (s, e) == (1, 5) and 0 < cost < 0.5


@pytest.mark.parametrize("text,phrase", [
    ("您好，请问您要办什么业务？", "您好"),
    ("您好，请问您要办什么业务？", "请问您要办什么业务"),
    ("好的，请您稍等一下。", "请稍等"),
    ("请稍候", "请稍等"),
    ("麻烦您等一下", "请稍等"),
    ("請稍等", "请稍等"),                 # traditional
    ("请 稍 等", "请稍等"),               # spaces between words
    ("让您久等了", "让您久等了"),
    ("请您到3号窗口办理", "请您到X号窗口办理"),
    ("请您到十二号窗口办理", "请您到X号窗口办理"),
    ("谢谢您的配合，请慢走", "请慢走"),
    ("谢谢您的配合，请慢走", "谢谢您的配合"),
    ("谢谢您的配合，请慢走", "谢谢"),         # nested phrases are all credited
    ("您好江北区政务服务中心", "您好，XX政务服务中心"),
    ("在见", "再见"),                      # homophone slip
])
def test_courtesies_are_found(matcher, text, phrase):
    assert phrase in said(matcher, text, "courtesy")


@pytest.mark.parametrize("text", ["你好", "慢走啊", "好的"])
def test_near_misses_are_not_credited(matcher, text):
    assert not said(matcher, text, "courtesy") & {"您好", "请慢走"}


def test_near_miss_is_reported_but_not_inside_the_full_phrase(matcher):
    assert said(matcher, "你好，请坐", "near_miss") == {"您好"}
    assert said(matcher, "请慢走", "near_miss") == set()
    assert said(matcher, "您慢走", "near_miss") == set()


def test_hit_carries_heard_text_and_span(matcher):
    text = "好的，請您稍等，我查一下"
    hit = next(h for h in matcher.find(text) if h.phrase == "请稍等")
    assert hit.heard == "請您稍等"
    assert text[hit.start:hit.end] == hit.heard
    assert 0.8 <= hit.score < 1.0 or hit.score == 1.0
