from coach.matcher.normalize import coarse_readings, fold_char, normalize, readings


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


def test_readings_are_toneless_everyday_readings():
    assert readings("管") == readings("关") == frozenset({"guan"})
    assert "wei" in readings("喂") and "wei" in readings("为")
    assert readings("着") == frozenset({"zhe"})   # the everyday reading only
    assert "wei" not in readings("机")
    assert readings("3") == frozenset({"san"})


def test_coarse_readings_merge_accent_pairs():
    assert coarse_readings("是") & coarse_readings("四")     # shi / si
    assert coarse_readings("年") & coarse_readings("连")     # nian / lian
    assert not coarse_readings("您") & coarse_readings("你")  # nin / ni stay apart
