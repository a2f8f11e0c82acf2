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


def test_counter_day_lengths_are_prefixes_of_one_stream_with_the_share_asked(tmp_path):
    import numpy as np
    import pytest
    import soundfile as sf

    import bench_memory

    if not bench_memory.shared_dev().is_dir():
        pytest.skip("no shared dev audio")
    short, long = tmp_path / "a.wav", tmp_path / "b.wav"
    bench_memory.make_counter_day(short, 2, 0.18)
    _, session_s = bench_memory.make_counter_day(long, 30, 0.18)
    a, b = sf.read(str(short), dtype="int16")[0], sf.read(str(long), dtype="int16")[0]
    assert len(a) == 2 * 60 * 16000 and np.array_equal(a, b[: len(a)])
    assert abs(session_s / 1800 - 0.18) < 0.05
    gap = b[int(28.2 * 16000): int(28.2 * 16000) + 16000]          # inside the first wait (D01 is 28.1 s)
    assert 20 * np.log10(np.sqrt(np.mean((gap / 32768.0) ** 2))) == pytest.approx(bench_memory.GAP_DBFS, abs=3)
