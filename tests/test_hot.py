"""coach/_hot.c (the per-character and prefilter loops in C) answers as its Python twins do.

The twins stay the reference (coach/phrasebook/normalize.py, the byte alphabets' ``encode``,
``Prefilter.met`` + ``members``); here both run on the corpus lines, on random text of every
kind of character the matcher meets (traditional, full-width, ligatures, punctuation, emoji,
lone surrogates), and the prefilter on random byte strings over random and real bit sets.
CI builds the extension (tests/test_native.py), so these never skip there.
"""

import os
import random
import sys
from pathlib import Path

import pytest

import coach._native as native
from coach.phrasebook import load_phrasebook
from coach.phrasebook import normalize as nz
from coach.phrasebook.patterns import Prefilter, Subject, members

ROOT = Path(__file__).resolve().parents[1]
hot = native.hot()
pytestmark = pytest.mark.skipif(hot is None and not os.environ.get("CI"),
                                reason="the C loops are not built in this development tree")

# Characters the recogniser, a trainer's phrasebook and hostile input bring.
_ALPHABET = ("您好请稍等谢谢再见不知道清楚归我管喂哎嘿慢走窗口號碼處辦業務請問這個臺灣"
             "ＡＢＣａｂｃ１２３abcXYZ0129"
             "，。！？；：、,.!?;:…—\n \t　「」（）《》"
             "㎏ﬁ①Ⅻ㈱ｶﾞ\u00ad\u200b\u0301é"
             "😀🙏\U00020000\ud800\udfff")


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = ["", " ", "，", "您", "，您好", "您好，", "。。您好。。请稍等。。", "㎏", "您好㎏，请稍等"]
    for _ in range(n):
        out.append("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 40))))
    return out


def _corpus() -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_text import load_corpus

    return [r["text"] for r in load_corpus()]


def test_normalize_in_c_is_the_python_loop():
    assert nz._FOLD_MAP is not None
    for text in _corpus() + _texts(3000, 1):
        assert nz.normalize(text) == nz._normalize_py(text), repr(text)


def test_sound_and_coarse_forms_in_c_are_the_python_maps():
    for text in _corpus() + _texts(2000, 2):
        chars = nz.normalize(text).chars
        assert nz.sound_text(chars) == "".join(map(nz._SOUND_CHARS.__getitem__, chars)), repr(text)
        assert nz.coarse_text(chars) == "".join(map(nz._COARSE_CHARS.__getitem__, chars)), repr(text)
        # on raw text too (any character, several to a character where NFKC says so)
        assert nz.sound_text(text) == "".join(map(nz._SOUND_CHARS.__getitem__, text)), repr(text)


def test_the_byte_alphabets_encode_as_in_python():
    from coach.matcher.matcher import Matcher

    m = Matcher.from_phrasebook(load_phrasebook())
    sieve = m._alphabet
    sounds = m._pattern_set._alphabet
    assert isinstance(sieve._encode.__self__, hot.CharMap) and isinstance(sounds._encode.__self__, hot.CharMap)
    for text in _corpus() + _texts(1500, 3):
        chars = nz.normalize(text).chars
        assert sieve.encode(chars) == bytes(map(sieve.__getitem__, chars)), repr(text)
        subj = Subject(chars, nz.sound_text(chars), nz.normalize(text).breaks)
        assert sounds.encode(subj) == bytes(map(sounds.__getitem__, subj.sounds_marked)), repr(text)


def _random_prefilter(rng: random.Random) -> Prefilter:
    n = rng.choice([1, 5, 63, 64, 65, 130, 300])
    codes = [rng.randint(1, 40) for _ in range(12)] + [255]
    clauses = []
    for _ in range(n):
        member = []
        for _ in range(rng.randint(0, 4)):
            items = set()
            for _ in range(rng.randint(1, 3)):
                a, b = rng.choice(codes), rng.choice(codes)
                items.add(a if rng.random() < 0.3 else a << 8 | b)
            member.append(frozenset(items))
        clauses.append(member)
    return Prefilter(clauses, shared=255, lanes=rng.randint(1, 4))


def test_prefilter_members_in_c_are_the_python_bit_sets():
    rng = random.Random(4)
    for _ in range(60):
        pf = _random_prefilter(rng)
        assert pf._hot is not None
        for _ in range(40):
            data = bytes(rng.choice([1, 2, 3, 5, 8, 13, 21, 34, 40, 255]) for _ in range(rng.randint(0, 30)))
            lo = rng.randint(0, pf.size)
            hi = rng.randint(lo, pf.size)
            want = members(pf.met(data), lo, hi)
            assert pf.members_in(data, lo, hi) == want
            assert pf.members_in(data, 0, pf.size) == members(pf.met(data))   # the same data, kept
            other = bytes(data)                      # equal bytes, another object: looked up again
            assert pf.members_in(other + b"\x01", 0, pf.size) == members(pf.met(other + b"\x01"))


def test_the_matchers_prefilter_in_c_names_the_python_candidates():
    from coach.matcher.matcher import Matcher

    m = Matcher.from_phrasebook(load_phrasebook())
    ps, es = m._pattern_set, m._exception_set
    pf = ps._prefilter.prefilter
    assert pf is es._prefilter.prefilter and pf._hot is not None
    for text in _corpus() + _texts(500, 5):
        norm = nz.normalize(text)
        data = ps._alphabet.encode(Subject(norm.chars, nz.sound_text(norm.chars), norm.breaks))
        met = pf.met(data)
        for part in (ps._prefilter, es._prefilter):
            assert part.candidates_in(data) == members(met, part.lo, part.hi), repr(text)


def test_the_c_loops_report_their_callers_errors():
    def broken(ch):
        raise RuntimeError(f"no sound for {ch}")

    with pytest.raises(RuntimeError, match="no sound for 您"):
        hot.CharMap(broken).map("您好")
    with pytest.raises(ValueError, match="gave 300"):
        hot.CharMap(lambda ch: 300, bytes=True).encode("您")
    with pytest.raises(TypeError):
        hot.CharMap(lambda ch: 1).map("您")
    with pytest.raises(ValueError, match="neither a byte nor a pair"):
        hot.Masks({70000: 1}, 0, 1, 1)
    with pytest.raises(ValueError):
        hot.Masks({1: 1}, 0, 1, 1).members(b"\x01", 0, 2)
    # a character map that gives several characters, or none, leaves the string to Python
    assert hot.CharMap(lambda ch: ch * 2).map("您") is None
    assert hot.CharMap(lambda ch: "").fold("您，好", "，") == ("", (), ())
    # objects made without their __init__ refuse politely rather than crash
    with pytest.raises(RuntimeError, match="not initialised"):
        hot.CharMap.__new__(hot.CharMap).map("您")
    with pytest.raises(RuntimeError, match="not initialised"):
        hot.Masks.__new__(hot.Masks).members(b"", 0, 0)
