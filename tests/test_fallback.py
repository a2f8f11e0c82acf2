"""The statistical fallback (issue 8 step 4): real scikit-learn training on the authoring part of
the coverage corpus, the JSON model's arithmetic against scikit-learn's, held-out behaviour on a
source left out of training, and how ``Evaluator`` reports it (uncharged warnings, lazy load)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coach.matcher import fallback as fb
from coach.matcher.coverage import read_coverage
from coach.phrasebook import load_phrasebook
from coach.schema import Utterance
from coach.session.evaluate import Evaluator

AUTHOR = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "coverage" / "author.tsv"
LEFT_OUT = "batch 5"       # P3/N3 lines written last: held out of the training below


def _note(line) -> str:
    return NOTES.get(line.id, "")


def _notes() -> dict[str, str]:
    with AUTHOR.open(encoding="utf-8") as fh:
        return {r["id"]: r["note"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}


NOTES = _notes()


@pytest.fixture(scope="module")
def lines():
    return read_coverage(AUTHOR)


@pytest.fixture(scope="module")
def split(lines):
    train = [ln for ln in lines if _note(ln) != LEFT_OUT]
    held = [ln for ln in lines if _note(ln) == LEFT_OUT]
    assert held and any(ln.label == "brush_off" for ln in held) and any(ln.label == "benign" for ln in held)
    return train, held


def _rule_hits(lines) -> list[bool]:
    matcher = Evaluator(load_phrasebook(), fallback=False).matcher
    return [ln.label == "brush_off" and any(h.kind == "brush_off" for h in matcher.find(ln.text)) for ln in lines]


@pytest.fixture(scope="module")
def trained(split):
    return fb.train(split[0], load_phrasebook(), target_false=0.01, rule_hits=_rule_hits(split[0]),
                    confirm_loss=0.01)


def test_threshold_is_chosen_by_grouped_cv_within_the_false_rate(trained):
    assert 0 < trained.threshold < 1
    assert trained.meta["cv"] == "leave one source out"
    assert trained.meta["cv_false"] <= 0.01
    assert trained.meta["cv_recall"] > 0.3


def test_generalises_to_lines_it_never_saw(trained, split):
    held = split[1]
    pos = [ln for ln in held if ln.label == "brush_off"]
    neg = [ln for ln in held if ln.label in ("benign", "neutral")]
    recall = sum(trained.flags(ln.text) for ln in pos) / len(pos)
    false = sum(trained.flags(ln.text) for ln in neg) / len(neg)
    assert recall >= 0.5, recall
    assert false <= 0.05, false


def test_json_model_scores_exactly_like_the_sklearn_pipeline(split, tmp_path):
    texts, labels, _ = fb.training_set(split[0])
    keys = [fb.text_key(t) for t in texts]
    pipe = fb._pipeline(16.0).fit(keys, labels)
    model = fb.export(pipe, 0.5)
    path = tmp_path / "m.json"
    model.save(path)
    loaded = fb.load(path)
    probe = [ln.text for ln in split[1]][:60] + ["", "您好", "zz不存在的字"]
    want = pipe.predict_proba([fb.text_key(t) for t in probe])[:, 1]
    for t, w in zip(probe, want):
        assert abs(loaded.probability(t) - w) < 1e-4, t


def test_evaluator_reports_unmatched_likely_brush_offs_as_uncharged_warnings(lines):
    model = fb.default_model()
    assert model is not None, "shipped model coach/data/fallback/model.json missing"
    on = Evaluator(load_phrasebook(), fallback=True)
    off = Evaluator(load_phrasebook(), fallback=False)
    # a brush-off paraphrase the phrasebook has no wording for, which the model flags
    missed = [ln.text for ln in lines if ln.label == "brush_off" and not on.matcher.find(ln.text)
              and model.flags(ln.text)]
    assert missed
    text = missed[0]
    res = on.evaluate([Utterance(0.0, 2.0, "clerk", text)], session=False)
    found = [f for f in res.findings if f.rule == fb.RULE]
    assert len(found) == 1 and found[0].severity == "warning" and found[0].type == "brush_off"
    assert res.score == 100.0                       # shown, never charged
    assert not [f for f in off.evaluate([Utterance(0.0, 2.0, "clerk", text)], session=False).findings
                if f.rule == fb.RULE]
    # the citizen's words are never judged; a line with a matcher hit gets no fallback finding
    assert not on.evaluate([Utterance(0.0, 2.0, "citizen", text)], session=False).findings
    assert not [f for f in on.evaluate([Utterance(0.0, 1.0, "clerk", "您好，请坐")], session=False).findings
                if f.rule == fb.RULE]


def test_benign_lines_of_the_corpus_are_rarely_flagged(lines):
    model = fb.default_model()
    on = Evaluator(load_phrasebook(), fallback=True)
    neg = [ln for ln in lines if ln.label in ("benign", "neutral")]
    flagged = [ln for ln in neg
               if any(f.rule == fb.RULE for f in on.evaluate([Utterance(None, None, "clerk", ln.text)],
                                                              session=False).findings)]
    assert len(flagged) <= 0.02 * len(neg), [ln.text for ln in flagged]
    assert model.meta["cv_false"] <= model.meta["target_false"]


# --------------------------------------------------------------------------- confirmation

def test_confirmation_threshold_is_the_highest_within_the_allowed_loss():
    probs = [0.01, 0.05, 0.2, 0.4, 0.6, 0.9, 0.02]
    base = [True, True, True, True, True, True, False]      # the last line is not a rule hit
    # 1 of 6 rule-caught lines may be taken back: 0.01 < t ≤ 0.05
    assert fb.choose_confirm_threshold(probs, base, 1 / 6, below=0.8) == 0.05
    assert fb.choose_confirm_threshold(probs, base, 0.0, below=0.8) == 0.01
    # never at or above the flagging threshold
    assert fb.choose_confirm_threshold(probs, base, 1.0, below=0.3) == 0.29


def test_training_with_rule_hits_chooses_a_confirmation_threshold_by_grouped_cv(trained, split):
    assert 0 < trained.confirm_threshold < trained.threshold
    assert trained.meta["cv_confirm_taken_back"] <= 0.01
    assert trained.meta["confirm_base"] == sum(_rule_hits(split[0]))
    # on the left-out batch the confirmation takes back few of the brush-offs the rules catch
    held = [ln for ln, hit in zip(split[1], _rule_hits(split[1])) if hit]
    assert held and sum(not trained.confirms(ln.text) for ln in held) <= 0.05 * len(held)


def _rule_hit_benign_line(model):
    """A helpful clerk line with a risky word that no context rule covers, made up here."""
    matcher = Evaluator(load_phrasebook(), fallback=False).matcher
    for text in ("这份报表的数据来源我不清楚，不过附件里写了负责人，您可以对照一下",
                 "我们科室不清楚的事情都会记下来，每周集中请教专家，然后统一回复大家",
                 "您的材料我不清楚放哪个柜子了，稍等一下，我马上找出来"):
        if any(h.kind == "brush_off" for h in matcher.find(text)) and not model.confirms(text):
            return text
    return None


def test_evaluator_takes_back_unconfirmed_rule_hits_and_explain_says_why(capsys):
    model = fb.default_model()
    assert model is not None and model.confirm_threshold > 0
    text = _rule_hit_benign_line(model)
    assert text, "no probe line is a rule hit the shipped model does not confirm"
    on = Evaluator(load_phrasebook(), fallback=True)
    off = Evaluator(load_phrasebook(), fallback=False)
    assert not [h for h in on.find(text) if h.kind == "brush_off"]
    assert [h for h in off.find(text) if h.kind == "brush_off"]
    res = on.evaluate([Utterance(0.0, 2.0, "clerk", text)], session=False)
    assert not [f for f in res.findings if f.type == "brush_off"]
    from types import SimpleNamespace
    from coach.commands.phrasebook_cmd import run_explain
    run_explain(SimpleNamespace(text=text, json=False, phrasebook=None, dir=None))
    assert "统计模型未确认" in capsys.readouterr().out


def test_confirmation_keeps_plain_brush_offs():
    on = Evaluator(load_phrasebook(), fallback=True)
    for text in ("不知道，你问别人去", "这不归我管", "下班了，明天再来", "你烦不烦啊"):
        assert [h for h in on.find(text) if h.kind == "brush_off"], text


def test_a_courtesy_beside_a_brush_off_does_not_excuse_it():
    """The double-check judges the line without its courtesies: 不清楚，请慢走 stays a brush-off,
    while the recommended 不太清楚…我帮您问问 is still taken back by its context rule."""
    from coach.session.evaluate import Evaluator

    ev = Evaluator.default()
    for text in ("不清楚，请慢走。", "您好，请稍等，不知道。", "谢谢，这个不归我管。"):
        assert any(h.kind == "brush_off" for h in ev.find(text)), text
    assert not any(h.kind == "brush_off" for h in ev.find("对不起，这个问题我不太清楚，请您稍等，我帮您问问"))


def test_a_trusted_family_is_not_taken_back_by_the_double_check():
    """喂 called out to a citizen is the offence by itself: calling_out is ``trusted``, so the
    n-gram model (which judges the rest of the line) cannot take it back; its benign uses stay
    benign through the phrasebook's exceptions and context rules."""
    from coach.matcher import fallback
    from coach.session.evaluate import Evaluator

    ev = Evaluator.default()
    assert ev.phrasebook.family("calling_out").trusted
    text = "喂，您的申请材料齐了"
    hits = ev.matcher.find(text)
    model = fallback.default_model()
    assert any(h.family == "calling_out" for h in hits)
    assert not model.confirms(fallback.without_courtesies(hits, text))   # the model alone would veto it
    assert [h.family for h in ev.find(text) if h.kind == "brush_off"] == ["calling_out"]
    for benign in ("喂，您好，请问是李女士吗", "喂，您那边有点吵，您能稍微大点声吗", "哎，您的证件掉了"):
        assert not any(h.kind == "brush_off" for h in ev.find(benign)), benign


def test_trusted_must_be_a_boolean(tmp_path):
    import shutil

    import pytest

    from coach.errors import PhrasebookError
    from coach.phrasebook.load import load_phrasebook

    src = Path(__file__).resolve().parents[1] / "phrasebook"
    dst = tmp_path / "pb"
    shutil.copytree(src, dst)
    p = dst / "brush_offs.toml"
    p.write_text(p.read_text("utf-8").replace("trusted = true", 'trusted = "yes"', 1), "utf-8")
    with pytest.raises(PhrasebookError, match="trusted"):
        load_phrasebook(dst)
