"""ASR-like corruption of Chinese text, for robustness benchmarks of the matcher.

``corrupt(text, rate, rng)`` edits about ``rate`` x (number of Han characters) characters, one edit
per chosen Han character, so the character error rate over the Han characters is ``rate`` on
average (exact in expectation; stochastic rounding for short texts). Edit types, roughly:

* 50 % homophone swap  - a *different* common character with the same toneless pinyin
  (contextual reading of the original, e.g. 行 in 银行 is "hang"); candidates weighted by
  sqrt(frequency), so common characters are preferred as an ASR language model would.
  If a syllable has no other common character, a fuzzy-pinyin neighbour is used
  (z/zh, c/ch, s/sh, n/l, -n/-ng), then a traditional form, then a drop.
* 15 % traditional     - the zh-hant form of a character (zhconv); these edits are placed on
  characters that have a distinct traditional form (most common ones do not); if the utterance has
  too few of them, the remainder become homophone swaps.
* 15 % drop            - the character is deleted.
* 20 % insert          - a character is inserted after it: a filler/particle (啊 呃 嗯 就 的 了 …),
  a stutter repeat of the character, or a random common character.

Independently of the Han-character edits (and not counted in the CER), punctuation is dropped or
turned into a space and spaces are inserted between words, as whisper does. At ``rate == 0`` the
text is returned unchanged.

The homophone table is built once from jieba's dictionary frequencies (summed per character over
all words containing it; simplified characters only) and pypinyin; the top ``TOP_CHARS`` characters
(restricted to GB2312 level 1) are "common". Everything is deterministic for a given ``random.Random`` state.

Run ``python benchmarks/corrupt.py`` for examples at 5/10/20 % and a measured CER / edit mix.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import random
import re
from collections import defaultdict

import jieba
import zhconv
from pypinyin import Style, lazy_pinyin

TOP_CHARS = 4000
OP_WEIGHTS = {"homophone": 0.50, "traditional": 0.15, "drop": 0.15, "insert": 0.20}
FILLERS = "啊呃嗯就的了呢吧这那一是"
HAN = re.compile(r"[\u4e00-\u9fff]")
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
PUNCT = set("，。？！、：；“”‘’（）《》…—,.?!:;\"'()")

jieba.setLogLevel(logging.WARNING)


def _gb2312_level1(ch: str) -> bool:
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, list[str]], dict[str, list[float]], list[str], list[float]]:
    """(pinyin -> chars, pinyin -> weights, common chars, their weights), deterministic order."""
    freq: dict[str, int] = defaultdict(int)
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            word, n = parts[0], int(parts[1])
            for ch in word:
                if HAN.fullmatch(ch):
                    freq[ch] += n
    # simplified, GB2312 level-1 characters only (jieba's dictionary also holds traditional and
    # obscure characters, e.g. 拰 would otherwise be a "common" homophone of 您)
    chars = [c for c in freq if zhconv.convert(c, "zh-hans") == c and _gb2312_level1(c)]
    chars.sort(key=lambda c: (-freq[c], c))
    common = chars[:TOP_CHARS]
    by_py: dict[str, list[str]] = defaultdict(list)
    for c in common:  # most frequent first
        by_py[lazy_pinyin(c, style=Style.NORMAL)[0]].append(c)
    weights = {py: [math.sqrt(freq[c]) for c in cs] for py, cs in by_py.items()}
    return dict(by_py), weights, common, [math.sqrt(freq[c]) for c in common]


def _fuzzy_syllables(py: str) -> list[str]:
    """Fuzzy-pinyin neighbours (common southern-accent / ASR confusions)."""
    out = []
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if py.startswith(a):
            out.append(b + py[len(a):])
            break
        if py.startswith(b) and not py.startswith(a):
            out.append(a + py[len(b):])
            break
    if py.startswith("n"):
        out.append("l" + py[1:])
    elif py.startswith("l"):
        out.append("n" + py[1:])
    if py.endswith("ng"):
        out.append(py[:-1])
    elif py.endswith("n"):
        out.append(py + "g")
    return out


def _homophone(ch: str, py: str, rng: random.Random) -> str | None:
    by_py, weights, _, _ = _tables()
    for syl in [py] + _fuzzy_syllables(py):
        cands = by_py.get(syl, [])
        pairs = [(c, w) for c, w in zip(cands, weights.get(syl, [])) if c != ch]
        if pairs:
            return rng.choices([c for c, _ in pairs], weights=[w for _, w in pairs])[0]
    return None


def _traditional(ch: str) -> str | None:
    t = zhconv.convert(ch, "zh-hant")
    return t if t != ch and len(t) == 1 else None


def _insertion(ch: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return rng.choice(FILLERS)
    if r < 0.75:
        return ch  # stutter / duplicated character
    _, _, common, w = _tables()
    return rng.choices(common[:1000], weights=w[:1000])[0]


def _readings(text: str) -> dict[int, str]:
    """Toneless pinyin of every Han character, read in context (heteronyms resolved by pypinyin)."""
    out: dict[int, str] = {}
    for m in HAN_RUN.finditer(text):
        for i, py in enumerate(lazy_pinyin(m.group(0), style=Style.NORMAL)):
            out[m.start() + i] = py
    return out


def corrupt_with_log(text: str, rate: float, rng: random.Random,
                     punct_rate: float | None = None, space_rate: float | None = None
                     ) -> tuple[str, list[tuple[str, str, str]]]:
    """Like :func:`corrupt`, also returning the edits as (op, original char, replacement)."""
    if rate <= 0:
        return text, []
    han_pos = [i for i, c in enumerate(text) if HAN.fullmatch(c)]
    n = len(han_pos)
    exact = min(rate, 1.0) * n
    k = int(exact) + (1 if rng.random() < exact - int(exact) else 0)
    # decide the edit types first, then place them: traditional edits go to characters that have a
    # distinct traditional form (most common characters have none), the rest anywhere else
    ops = rng.choices(list(OP_WEIGHTS), weights=list(OP_WEIGHTS.values()), k=k)
    n_trad = ops.count("traditional")
    trad_ok = [i for i in han_pos if _traditional(text[i]) is not None]
    trad_at = rng.sample(trad_ok, min(n_trad, len(trad_ok)))
    rest = [o for o in ops if o != "traditional"] + ["homophone"] * (n_trad - len(trad_at))
    free = [i for i in han_pos if i not in set(trad_at)]
    rest_at = rng.sample(free, len(rest))
    plan = {i: "traditional" for i in trad_at}
    plan.update(zip(rest_at, rest))
    readings = _readings(text)
    log: list[tuple[str, str, str]] = []
    out: list[str] = []
    for i, ch in enumerate(text):
        op = plan.get(i)
        if op is None:
            out.append(ch)
            continue
        if op == "traditional":
            t = _traditional(ch)
            out.append(t)
            log.append(("traditional", ch, t))
            continue
        if op == "homophone":
            h = _homophone(ch, readings.get(i, ""), rng)
            if h is not None:
                out.append(h)
                log.append(("homophone", ch, h))
                continue
            h = _traditional(ch)
            if h is not None:
                out.append(h)
                log.append(("traditional", ch, h))
                continue
            op = "drop"
        if op == "drop":
            log.append(("drop", ch, ""))
            continue
        ins = _insertion(ch, rng)
        out.append(ch + ins)
        log.append(("insert", ch, ins))
    s = "".join(out)

    # punctuation and spacing (whisper style); not counted as character errors
    p_punct = min(0.8, 0.1 + 3 * rate) if punct_rate is None else punct_rate
    p_space = min(0.3, 1.5 * rate) if space_rate is None else space_rate
    if p_punct > 0 or p_space > 0:
        pieces: list[str] = []
        for w in jieba.lcut(s, HMM=False):
            if w in PUNCT or (len(w) == 1 and w in PUNCT):
                r = rng.random()
                if r < p_punct / 2:
                    continue  # dropped
                if r < p_punct:
                    pieces.append(" ")  # replaced by a space
                    continue
                pieces.append(w)
                continue
            if pieces and not pieces[-1].isspace() and pieces[-1] not in PUNCT and rng.random() < p_space:
                pieces.append(" ")
            pieces.append(w)
        s = re.sub(r" {2,}", " ", "".join(pieces)).strip()
    return s, log


def corrupt(text: str, rate: float, rng: random.Random) -> str:
    """Simulate ASR errors at character error rate ``rate`` over the Han characters of ``text``."""
    return corrupt_with_log(text, rate, rng)[0]


def _han(s: str) -> str:
    return "".join(HAN.findall(s))


if __name__ == "__main__":
    import csv
    from collections import Counter
    from pathlib import Path

    from rapidfuzz.distance import Levenshtein

    tsv = Path(__file__).resolve().parent / "data" / "clerk_utterances.tsv"
    rows = list(csv.DictReader(tsv.open(encoding="utf-8"), delimiter="\t"))
    demo_ids = ["C004", "C070", "S015", "B001", "B073", "H009", "H037", "M001"]
    demo = [r for r in rows if r["id"] in demo_ids]
    for rate in (0.05, 0.10, 0.20):
        print(f"=== rate {rate:.0%} ===")
        rng = random.Random(1234)
        for r in demo:
            print(f"  {r['id']}  {r['text']}\n        -> {corrupt(r['text'], rate, rng)}")
    print("=== measured over the whole corpus (seed 7) ===")
    for rate in (0.05, 0.10, 0.20):
        rng = random.Random(7)
        ops: Counter[str] = Counter()
        dist = ref = 0
        for r in rows:
            out, log = corrupt_with_log(r["text"], rate, rng)
            ops.update(o for o, _, _ in log)
            ref += len(_han(r["text"]))
            dist += Levenshtein.distance(_han(r["text"]), _han(out))
        tot = sum(ops.values()) or 1
        mix = ", ".join(f"{o} {ops[o] / tot:.0%}" for o in OP_WEIGHTS)
        print(f"  rate {rate:.0%}: Han CER {dist / ref:.3f} over {ref} chars; edits: {mix}")
    # determinism
    a = [corrupt(r["text"], 0.1, random.Random(5)) for r in rows[:50]]
    b = [corrupt(r["text"], 0.1, random.Random(5)) for r in rows[:50]]
    print("deterministic:", a == b)
