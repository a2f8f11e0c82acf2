"""Sanity checks for the benchmark corpus and corrupt() (run: pytest benchmarks/test_benchmarks.py)."""

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_corpus  # noqa: E402
from corrupt import _han, corrupt, corrupt_with_log  # noqa: E402

TEXT = "您好，请稍等，我帮您查一下您的社保缴费记录，谢谢您的配合。"


def test_corpus_consistent():
    assert check_corpus.main() == 0


def test_rate_zero_is_identity():
    assert corrupt(TEXT, 0.0, random.Random(1)) == TEXT


def test_deterministic():
    assert corrupt(TEXT, 0.2, random.Random(42)) == corrupt(TEXT, 0.2, random.Random(42))


def test_edit_count_matches_rate():
    rng = random.Random(3)
    n = len(_han(TEXT))
    total = sum(len(corrupt_with_log(TEXT, 0.1, rng)[1]) for _ in range(400))
    assert abs(total / (400 * n) - 0.1) < 0.01


def test_homophones_keep_pinyin_and_change_char():
    from pypinyin import Style, lazy_pinyin

    rng = random.Random(9)
    for _ in range(200):
        _, log = corrupt_with_log(TEXT, 0.3, rng)
        for op, a, b in log:
            if op == "homophone":
                assert a != b
                pa, pb = lazy_pinyin(a, style=Style.NORMAL)[0], lazy_pinyin(b, style=Style.NORMAL)[0]
                assert pa == pb or pb in __import__("corrupt")._fuzzy_syllables(pa)
