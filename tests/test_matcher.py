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


# ---------------------------------------------------------------- the sieve (speed, issue 8)

def _variants(texts):
    """Each text, and each with one character replaced by a homophone, a near-homophone or an
    unrelated character, one dropped and one doubled: the slips the fuzzy step must survive."""
    swaps = {"管": "关", "您": "你", "稍": "烧", "请": "轻", "窗": "床", "号": "好", "清": "亲",
             "是": "四", "办": "半", "知": "之", "道": "到", "等": "灯", "再": "在", "见": "件"}
    out = []
    for t in texts:
        out.append(t)
        for i, c in enumerate(t):
            if c in swaps:
                out.append(t[:i] + swaps[c] + t[i + 1:])
        if len(t) > 3:
            k = len(t) // 2
            out += [t[:k] + t[k + 1:], t[:k] + t[k] + t[k:], t[:k] + "喔" + t[k + 1:]]
    return out


def _corpus_texts(*parts: str) -> list[str]:
    """The ``text`` column of a corpus under benchmarks/data (e.g. "clerk_utterances.tsv")."""
    import csv
    from pathlib import Path
    corpus = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / Path(*parts)
    with corpus.open(encoding="utf-8") as fh:
        return [r["text"] for r in csv.DictReader(fh, delimiter="\t")]


def _clerk_texts():
    return _corpus_texts("clerk_utterances.tsv")


def test_the_sieve_never_rules_out_a_form_that_aligns(matcher):
    # The sieve must be a necessary condition: every form that aligns anywhere in the text
    # within its budget is among the forms it lets through.
    from coach.phrasebook.normalize import coarse_text, normalize
    texts = _variants(_clerk_texts()[::3])
    checked = aligned = 0
    for text in texts:
        norm = normalize(text)
        if not norm.chars:
            continue
        coarse = coarse_text(norm.chars)
        sieved = set(matcher._sieved(norm.chars))
        for fi, form in enumerate(matcher._forms):
            checked += 1
            if align(form.chars, norm.chars, form.max_cost, norm.breaks, form.breaks):
                aligned += 1
                assert fi in sieved, (text, form.chars)
    assert aligned > 100 and checked > 100_000     # the check saw real matches, many of them fuzzy


def test_the_budget_bound_never_rules_out_a_stretch_that_aligns(matcher):
    # _beyond_budget is a lower bound on the alignment cost: where it rules a form out on a
    # stretch of text, align finds nothing there; and it does rule some out (the point of it).
    import random
    from coach.matcher.matcher import _beyond_budget
    from coach.phrasebook.normalize import coarse_text, normalize
    rng = random.Random(5)
    texts = _variants(_clerk_texts()[::5])
    ruled_out = aligned = 0
    for text in texts:
        norm = normalize(text)
        for form in rng.sample(matcher._forms, 40):
            n, w = len(norm.chars), len(form.chars) + 4
            for lo in range(0, max(1, n - w + 1), 3):
                stretch, breaks = norm.chars[lo:lo + w], norm.breaks[lo:lo + w]
                if not stretch:
                    continue
                found = align(form.chars, stretch, form.max_cost, breaks, form.breaks)
                aligned += bool(found)
                if _beyond_budget(form, stretch, coarse_text(stretch)):
                    ruled_out += 1
                    assert not found, (form.chars, stretch)
    assert aligned > 50 and ruled_out > 1000


def test_the_sieve_reads_one_byte_per_character(matcher):
    data = matcher._alphabet.encode("您好请稍等")
    assert len(data) == 5
    # homophones and accent pairs (是/四, 年/连) share their byte; unrelated characters do not
    assert matcher._alphabet.encode("是") == matcher._alphabet.encode("四")
    assert matcher._alphabet.encode("好") != matcher._alphabet.encode("等")


def test_a_small_alphabet_shares_bytes_and_still_finds_every_match():
    # A phrasebook with more syllables than a byte holds: the rarest share one byte, which only
    # lets more forms through the sieve; the matches stay those of the alignment.
    from coach.phrasebook.model import Entry
    from coach.matcher import matcher as mm
    letters = [chr(c) for c in range(0x4E00, 0x9FA5)] + [chr(c) for c in range(0x3B1, 0x3CA)] \
        + [chr(c) for c in range(0x430, 0x450)]          # Han, then Greek and Cyrillic letters
    seen, words = set(), []
    for c in letters:                  # 3-character wordings of distinct syllables: > 254 of them
        if mm.coarse(c) not in seen:
            seen.add(mm.coarse(c))
            words.append(c)
    phrases = ["".join(words[k:k + 3]) for k in range(0, len(words) - 3, 3)]
    assert len(seen) > 300
    entries = [Entry(id=f"e{k}", kind="courtesy", phrase=p) for k, p in enumerate(phrases)]
    m = Matcher(entries, 0.6)
    assert len(m._alphabet.codes) < len({c for p in phrases for c in mm.coarse_text(p)})
    for p in phrases[:: 7]:
        text = "好的" + p[0] + "嗯" + p[1:] + "谢谢"          # one inserted character
        assert p in {h.phrase for h in m.find(text)}, p


@pytest.mark.parametrize("extra", [1, 3, 6])
def test_a_pattern_added_elsewhere_changes_no_other_result(extra):
    # Ties (equal spans of two patterns, equally good overlapping spans) are settled by the
    # phrasebook's own order, not by pattern numbers: a trainer adding a courtesy pattern (it
    # shifts the number of every pattern after it) must not change what the brush-offs find.
    from dataclasses import replace

    from coach.phrasebook.patterns import compile_pattern

    pb = load_phrasebook()
    base = Matcher.from_phrasebook(pb)
    first = pb.courtesies[0]
    added = replace(first, id="added.elsewhere", variants=(), near_misses=(),
                    phrase="甲乙丙丁", patterns=tuple(compile_pattern(f"甲乙丙丁{'戊' * k}", {})
                                                     for k in range(extra)))
    shifted = Matcher([added, *base.entries], base.threshold, pb.families, pb.contexts)

    def record(m, text):
        hits, dropped = m.explain(text)
        return ([(h.kind, h.entry.id, h.start, h.end, h.score, h.via) for h in hits],
                [(d.hit.entry.id, d.hit.start, d.hit.end, d.hit.via, d.reason) for d in dropped])

    texts = _clerk_texts() + _corpus_texts("coverage", "author.tsv")
    differ = [t for t in texts if record(base, t) != record(shifted, t)]
    assert not differ, f"{len(differ)} of {len(texts)} texts differ, e.g. {differ[:3]}"
