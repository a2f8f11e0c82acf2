"""The phrasebook's pattern language: parsing, both compiled forms (RE2), and load-time errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach.cli import main
from coach.errors import PhrasebookError
from coach.matcher.matcher import Matcher
from coach.phrasebook import default_dir, load_phrasebook
from coach.phrasebook.normalize import normalize, sound_text
from coach.phrasebook.patterns import Pattern, PatternError, PatternSet, _Parser, compile_pattern, search_span

SETS = {"you": ("您", "你"), "filler": ("啊", "呢")}


def spans(src: str, text: str, sets=SETS) -> list[tuple[int, int]]:
    chars = normalize(text).chars
    return list(compile_pattern(src, sets).spans(chars, sound_text(chars)))


@pytest.mark.parametrize("src,text,found", [
    ("不知道", "我不知道", True),
    ("(去|到)别处", "你到别处问", True),
    ("{you}稍等", "你稍等", True),
    ("请{you}?稍等", "请稍等", True),
    ("请{you}?稍等", "请他稍等", False),
    ("{you}去投诉(吧|好了)", "你去投诉嘛好了", True),      # one spoken filler between parts
    ("不清楚…我帮您", "不清楚这个我帮您", True),           # gap of at most 4
    ("不清楚…我帮您", "不清楚这个事情真的是我帮您", False),
    ("不清楚…8我帮您", "不清楚这个事情真的是我帮您", True),
    ("^喂$", "喂", True),
    ("^喂$", "喂您好", False),
    ("{digit}+号", "12号", True) if False else ("(一|二|三)+号", "三三号", True),
    ("不歸我管", "不归我管", True),                        # the pattern is folded like the text
])
def test_pattern_matches_text(src, text, found):
    assert bool(spans(src, text)) is found


def clause_spans(src: str, text: str, sets=SETS) -> list[tuple[int, int]]:
    """Spans as the matcher finds them: with the text's clause punctuation marked."""
    from coach.phrasebook.patterns import Subject
    norm = normalize(text)
    return list(compile_pattern(src, sets).spans(Subject(norm.chars, sound_text(norm.chars), norm.breaks)))


@pytest.mark.parametrize("src,text,expected", [
    ("急什么", "您别急，什么材料缺了", []),                     # no gap: stays in one clause
    ("我…4问", "这不归我管，你去问别人吧", []),                 # … stays in one clause
    ("我…4问", "我去帮您问一下", [(0, 5)]),
    ("不清楚……8我帮您", "不清楚，我帮您问问", [(0, 6)]),     # …… links two clauses
    ("不清楚……8我帮您", "不清楚，稍等，我帮您", [(0, 8)]),   # spans are offsets of the text without punctuation
    ("不清楚…8我帮您", "不清楚，我帮您问问", []),
    ("喂……8(听|信号)", "喂，您好，听得到吗", [(0, 4)]),
    ("问别人", "这不归我管，你去问别人吧", [(7, 10)]),       # spans after a break map back right
])
def test_only_a_double_ellipsis_runs_across_clause_punctuation(src, text, expected):
    assert clause_spans(src, text) == expected


def test_a_brush_off_stays_one_when_help_is_offered_to_someone_else():
    """不归我管，你去问别人 offers no help: the help context (…… then 我…问) must not take it back."""
    m = Matcher.from_phrasebook(load_phrasebook(default_dir()))
    rules = {h.rule for h in m.find("不知道，这个不归我管，你去问别人吧，那边窗口人多，你自己去排队。") if h.kind == "brush_off"}
    assert {"dont_know", "not_my_job"} <= rules
    assert not [h for h in m.find("不清楚，我帮您问问。") if h.kind == "brush_off"]


def test_sound_form_matches_a_homophone_slip():
    assert spans("不归我(管|问)", "这不归我关") == [(1, 5)]


def test_sound_form_needs_most_characters_as_written():
    # 笨 and 本 sound alike, but a one-character sound match is not trusted
    assert spans("(笨|蠢)", "本人来办") == []


@pytest.mark.parametrize("src,message", [
    ("", "empty pattern"),
    ("到(窗口", "missing '\\)'"),
    ("(|a)", "empty alternative"),
    ("{nope}", "unknown set"),
    ("[会-后]", "'\\[' is not part of the pattern language"),
    ("(?P<a>x)(?P<a>y)", "must follow"),
    ("(?<!我)不知道", "must follow"),
    ("a.*b", "not part of the pattern language"),
    ("…", "matches empty text"),
    ("{you}?", "matches empty text"),
    ("…30", "between 1 and 20"),
    ("?不知道", "must follow"),
])
def test_bad_patterns_are_rejected(src, message):
    with pytest.raises(PatternError, match=message):
        compile_pattern(src, SETS)


def test_nested_repetition_runs_in_linear_time():
    # A backtracking engine takes exponential time on this; RE2 cannot (bounded repetition).
    p = compile_pattern("(a+)+$", {})
    text = "a" * 40 + "b"
    assert list(p.spans(text, sound_text(text))) == []
    assert list(p.spans("a" * 40, "a" * 40)) == [(0, 40)]


def _random_pattern(rng, depth=0) -> str:
    """A random pattern of the language: groups, alternation, sets, ?, +, gaps."""
    out = []
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.3 and depth < 5:
            inner = "|".join(_random_pattern(rng, depth + 1) for _ in range(rng.randint(1, 2)))
            out.append(f"({inner})" + rng.choice(["", "?", "+", "+"]))
        elif r < 0.45:
            out.append("…" + rng.choice(["", str(rng.randint(1, 20)), f"{rng.randint(0, 3)}-{rng.randint(4, 20)}"]))
        elif r < 0.55:
            out.append("{you}" + rng.choice(["", "?", "+"]))
        else:
            out.append(rng.choice("好请问等喂") + rng.choice(["", "", "?", "+"]))
    return "".join(out)


def test_what_load_accepts_is_exactly_what_re2_compiles():
    # The forms are compiled on first use; the load-time checks must stand in for RE2 exactly:
    # nothing accepted fails to compile later, nothing RE2 takes is refused.
    import random

    rng = random.Random(7)
    accepted = refused = 0
    for _ in range(3000):
        src = _random_pattern(rng)
        try:
            p = compile_pattern(src, SETS)
        except PatternError as exc:
            if "repeats too much" not in str(exc):
                continue        # a syntax error (or empty match): RE2 never sees it
            refused += 1
            unchecked = Pattern(src, _Parser(src, SETS).parse(), SETS)   # past the load checks
            with pytest.raises(PatternError, match="does not compile"):
                unchecked.compile()
            continue
        p.compile()     # raises if RE2 refuses what load accepted
        accepted += 1
    assert accepted > 1000 and refused > 20


def test_every_shipped_pattern_compiles():
    pb = load_phrasebook()
    entries = [*pb.courtesies, *pb.brush_offs, *(e for s in pb.scenarios for e in s.brush_offs)]
    pats = [*pb.referral_places, *(p for r in pb.contexts for p in r.patterns),
            *(p for f in pb.families for p in f.exception_patterns),
            *(p for e in entries for p in (*e.patterns, *e.exception_patterns))]
    assert len(pats) > 1000
    for p in pats:
        p.compile()


def test_pattern_set_picks_candidates_in_both_forms():
    pats = [compile_pattern(s, SETS) for s in ("不归我管", "请{you}稍等", "再见")]
    ps = PatternSet(pats)
    chars = normalize("不归我关，请您稍等").chars
    assert ps.candidates(chars, sound_text(chars)) == {0, 1}


# --------------------------------------------------------------------------- on load

@pytest.fixture
def pbdir(tmp_path) -> Path:
    d = tmp_path / "pb"
    shutil.copytree(default_dir(), d)
    return d


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + "\n" + text, encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_hostile_exception_pattern_loads_and_cannot_hang(pbdir):
    _replace(pbdir / "brush_offs.toml", 'id = "dont_know"\nfamily = "dont_know"',
             'id = "dont_know"\nfamily = "dont_know"\nexception_patterns = [\'(a+)+$\']')
    # the old file had exception_patterns later in the entry: drop that duplicate key first
    text = (pbdir / "brush_offs.toml").read_text("utf-8")
    a = text.index("exception_patterns = ['(很多")
    b = text.index("\n]\n", a) + 3
    (pbdir / "brush_offs.toml").write_text(text[:a] + text[b:], encoding="utf-8")
    m = Matcher.from_phrasebook(load_phrasebook(pbdir))
    assert {h.phrase for h in m.find("不知道" + "a" * 40 + "b")} >= {"不知道"}


@pytest.mark.parametrize("fname,text,message", [
    ("brush_offs.toml", "[[brush_off]]\nid='zz'\nfamily='busy'\nphrase='滚'\npatterns=['[会-后]']",
     r"brush_offs.toml: brush_off \"zz\": bad pattern in 'patterns'"),
    ("brush_offs.toml", "[[brush_off]]\nid='zz'\nfamily='nope'\nphrase='滚'",
     r"brush_off \"zz\": unknown family 'nope'"),
    ("brush_offs.toml", "[[family]]\nid='busy'\ntitle='忙'\nseverity='warning'\nsuggestions=['请']",
     r"family \"busy\": duplicate family id"),
    ("context.toml", "[[context]]\nid='x'\npatterns=['{nope}不知道']", r"context.toml: context \"x\": bad pattern"),
    ("context.toml", "[[context]]\nid='y'\nfamilies=['nope']\npatterns=['不知道']", r"unknown family 'nope'"),
    ("context.toml", "[[context]]\nid='z'", r"context \"z\": missing key 'patterns'"),
    ("sets.toml", "Bad = ['x']", r"sets.toml: set 'Bad'"),
    ("sets.toml", "empty = []", r"set 'empty': a set needs at least one wording"),
])
def test_bad_phrasebook_data_names_file_and_entry(pbdir, fname, text, message):
    _append(pbdir / fname, text)
    with pytest.raises(PhrasebookError, match=message):
        load_phrasebook(pbdir)


@pytest.mark.parametrize("old,new,message", [
    ("hold_s = 5.0", "hold_s = nan", r"'hold_s' must be a finite non-negative number"),
    ("hold_s = 5.0", "hold_s = inf", r"'hold_s' must be a finite"),
    ("hold_s = 5.0", "hold_s = '5'", r"'hold_s' must be a finite"),
    ("near_miss = 2", "near_miss = nan", r"'penalties' must map rule names to finite"),
])
def test_wrong_types_and_non_finite_numbers(pbdir, old, new, message):
    _replace(pbdir / "phrasebook.toml", old, new)
    with pytest.raises(PhrasebookError, match=message):
        load_phrasebook(pbdir)


def test_thresholds_of_the_wrong_type(pbdir):
    (pbdir / "phrasebook.toml").write_text('name = "x"\nthresholds = 5\n', encoding="utf-8")
    with pytest.raises(PhrasebookError, match=r"phrasebook.toml: \[thresholds\]: 'thresholds' must be a table"):
        load_phrasebook(pbdir)


def test_validate_rejects_what_check_would_crash_on(pbdir, capsys):
    """validate and load share one path: a pattern that cannot run never validates."""
    _append(pbdir / "courtesies.toml",
            "[[courtesy]]\nid='x.y'\nstage='greeting'\nphrase='您好啊'\npatterns=['(?P<a>您)(?P<a>好)']")
    assert main(["phrasebook", "validate", str(pbdir)]) == 2
    err = capsys.readouterr().err.strip()
    assert "courtesies.toml" in err and "x.y" in err and "\n" not in err
    assert main(["--phrasebook", str(pbdir), "check", "您好"]) == 2


def test_pattern_set_over_one_byte_sounds_keeps_every_match():
    # The set reads one byte per sound character; it must still name every pattern whose text
    # or sound form matches (its own regexes then decide), and clause breaks stay breaks.
    from coach.phrasebook.patterns import Subject
    ps = Matcher.from_phrasebook(load_phrasebook())._pattern_set
    texts = ["不归我关，请您稍等", "这个我也不太清楚，我帮您问问", "别急，什么事", "你去投诉好了", "规定就是这样，有意见找领导去",
             "看不清除", "您走好，有事随时打电话给我", "喂，听得见吗", "我就这态度"]
    for text in texts:
        norm = normalize(text)
        subj = Subject(norm.chars, sound_text(norm.chars), norm.breaks)
        real = {k for k, p in enumerate(ps.patterns)
                if search_span(p.text_rx, subj.chars_b) or search_span(p.sound_rx, subj.sounds_b)}
        assert real <= ps.candidates(subj), text
        assert {k for k, _ in ps.spans(subj)} <= real


# --------------------------------------------------------------------------- prefilter (speed, issue 8)

def _corpus_subjects(step: int = 2):
    """Clerk corpus lines, clean and ASR-corrupted, as subjects."""
    import csv
    import random
    import sys
    from coach.phrasebook.patterns import Subject
    root = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(root))
    from corrupt import corrupt
    with (root / "data" / "clerk_utterances.tsv").open(encoding="utf-8") as fh:
        texts = [r["text"] for r in csv.DictReader(fh, delimiter="\t")][::step]
    rng = random.Random(3)
    texts += [corrupt(t, rate, rng) for rate in (0.1, 0.2) for t in texts]
    out = []
    for text in texts:
        norm = normalize(text)
        if norm.chars:
            out.append(Subject(norm.chars, sound_text(norm.chars), norm.breaks))
    return out


def test_the_prefilter_and_small_sets_answer_as_one_set_over_all_patterns():
    # What replaced one RE2 set over all the patterns must give its answer: the prefilter
    # never drops a pattern the set names, and the patterns found are the set's, ascending,
    # whether each candidate's regex ran or a small set over them.
    from coach.phrasebook.patterns import regex_set
    m = Matcher.from_phrasebook(load_phrasebook())
    for ps in (m._pattern_set, m._exception_set):
        whole = regex_set(ps._regexes.regexes, one_byte=True)
        ps._regexes.compile_after = 2                # so that the second time, groups run as sets
        named = grouped = 0
        for subj in _corpus_subjects() * 2:
            data = ps._alphabet.encode(subj)
            real = list(whole.Match(data) or ())
            cands = ps._prefilter.candidates(data)
            assert set(real) <= set(cands) and cands == sorted(cands)
            assert ps._matched(subj) == sorted(real)
            named += len(real)
            grouped += len(real) > 1 and tuple(cands) in ps._regexes._groups
        assert named > 100 and grouped > 20


def test_the_prefilter_looks_at_few_patterns():
    # The point of it: a handful of candidates per text, not the whole set.
    ps = Matcher.from_phrasebook(load_phrasebook())._pattern_set
    subjects = _corpus_subjects(4)
    total = sum(len(ps._prefilter.candidates(ps._alphabet.encode(s))) for s in subjects)
    assert total / len(subjects) < 0.02 * len(ps.patterns)


def test_prefilter_clauses_follow_the_pattern_language():
    from coach.phrasebook.patterns import Prefilter, _clauses, compile_one_byte
    sets = {"you": ("你", "您")}
    alphabet_patterns = [compile_pattern(s, sets) for s in ("请{you}稍等", "(不|没)…知道", "说过^", "别急(啊)?$")]
    from coach.phrasebook.patterns import SoundAlphabet, Subject
    alphabet = SoundAlphabet(alphabet_patterns)
    pf = Prefilter([_clauses(p.tree, p.sets, alphabet.code) for p in alphabet_patterns], alphabet.SHARED)
    for text in ("请您稍等", "请你稍等一下", "我不太知道", "别急", "没人知道啊", "请稍等", "知道不"):
        norm = normalize(text)
        data = alphabet.encode(Subject(norm.chars, sound_text(norm.chars), norm.breaks))
        real = [k for k, p in enumerate(alphabet_patterns)
                if search_span(compile_one_byte(alphabet.regex(p)), data) is not None]
        assert set(real) <= set(pf.candidates(data)), text
    norm = normalize("稍等")
    assert pf.candidates(alphabet.encode(Subject(norm.chars, sound_text(norm.chars)))) == []
