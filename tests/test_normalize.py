from coach.phrasebook.normalize import coarse, fold_char, normalize, sound_text, syllable


def test_normalize_strips_punctuation_spaces_and_converts_traditional():
    n = normalize("您好， 這不歸 我管！ＡＢＣ１２")
    assert n.chars == "您好这不归我管abc12"
    # every kept char remembers where it stood
    assert n.original[n.index[2]] == "這"
    assert n.heard(2, 7) == "這不歸 我管"


def test_fold_char_drops_punctuation_and_keeps_digits():
    assert fold_char("，") == ""
    assert fold_char(" ") == ""
    assert fold_char("３") == "3"
    assert fold_char("後") == "后"


def test_syllables_are_toneless_everyday_readings():
    assert syllable("管") == syllable("关") == "guan"
    assert syllable("喂") == syllable("为") == "wei"
    assert syllable("着") == "zhe"          # the everyday reading only
    assert syllable("机") == "ji"           # not its rare reading "wei"
    assert syllable("3") == "san"


def test_coarse_merges_accent_pairs():
    assert coarse("是") == coarse("四")       # shi / si
    assert coarse("年") == coarse("连")       # nian / lian
    assert coarse("您") != coarse("你")       # nin / ni stay apart


def test_sound_text_makes_homophones_equal():
    assert sound_text("不归我管") == sound_text("不归我关")
    assert sound_text("看不清楚") == sound_text("看不清除")
    assert sound_text("您好") != sound_text("你好")


def test_quick_normalisation_agrees_with_the_character_by_character_one():
    from coach.phrasebook.normalize import _normalize_slow
    for text in ["您好，请问您要办什么业务？", "請稍等……好的", "ﬁ㎏，。 a , b…—\n ﬀ test", "，，您好", "",
                 "。", "a。b", "①②号", "Ⅻ号窗口", "㈠请", "喂？喂！", "  请 稍 等  ", "3号、4号；5号"]:
        assert normalize(text) == _normalize_slow(text), text
