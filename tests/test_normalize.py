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
