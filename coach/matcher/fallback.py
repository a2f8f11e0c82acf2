"""Statistical fallback (issue 8 step 4): a character n-gram classifier for brush-offs the
phrasebook has no wording or pattern for.

The phrasebook judges by wordings and shapes; a spoken paraphrase nobody wrote down slips
through.  This module scores an utterance the matcher found *nothing* in (no brush-off, no
courtesy) with a logistic regression over character 1–3-grams (TF-IDF, sublinear tf) and
reports it as a ``warning`` — never a violation, never charged in the score — when the
probability reaches a threshold.

* **Training** (:func:`train`, needs scikit-learn) uses a labelled coverage corpus
  (``brush_off`` = 1; ``courtesy``/``benign``/``neutral`` = 0) plus the phrasebook's canonical
  brush-off and courtesy wordings.  The threshold is chosen by cross-validation **grouped by
  source** (one source's lines are never in both the training and the scored fold): the lowest
  probability whose out-of-fold false rate on benign + neutral lines is ≤ ``target_false``.
* **The shipped model** is plain JSON (``coach/data/fallback/model.json``: n-grams, IDF,
  weights, threshold) written by ``python benchmarks/train_fallback.py`` from
  ``benchmarks/data/coverage/author.tsv``.  Scoring it needs no scikit-learn (numpy-free
  arithmetic on a dict) and the file is read lazily, once, on the first utterance that needs it,
  so ``coach check`` start-up does not change.
* **Confirmation of rule hits** (:func:`confirmed`): the same model also checks the phrasebook's
  brush-off hits.  A hit on a line the model finds very unlike a brush-off (probability below
  ``confirm_threshold``, far below the flagging threshold) is not reported: a risky word such as
  不清楚 / 没办法 / 明天再来 inside a helpful sentence the context rules did not foresee.  The
  confirmation threshold is chosen by the same grouped CV: the highest probability (0.01 grid)
  that takes back at most ``confirm_loss`` of the author part's brush-off lines the rules catch
  (out of fold).  ``coach phrasebook explain`` shows a hit taken back this way.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from coach.phrasebook.normalize import normalize

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "fallback" / "model.json"
NGRAMS = (1, 3)
# Default on/off for Evaluator (see docs/benchmarks.md "coverage": shipped only if it raises
# held-out brush-off recall without pushing the false rate above 2 %).
ENABLED_BY_DEFAULT = True
RULE = "fallback"
PHRASE = "疑似忌语（统计判断）"
SUGGESTION = "这句话听起来像服务忌语（统计模型判断，规则库里没有这种说法），请复核；确属忌语可补进规则库。"


def text_key(text: str) -> str:
    """What the classifier sees: the matcher's normalised characters (no punctuation/spaces)."""
    return normalize(text).chars


def ngrams(s: str) -> Counter:
    lo, hi = NGRAMS
    return Counter(s[i:i + n] for n in range(lo, hi + 1) for i in range(len(s) - n + 1))


@dataclass(frozen=True)
class Fallback:
    """A trained model: ``weights``/``idf`` per n-gram, ``intercept``, decision ``threshold``."""
    idf: dict[str, float]
    weights: dict[str, float]
    intercept: float
    threshold: float
    meta: dict
    confirm_threshold: float = 0.0     # rule hits below it are not confirmed (0 = confirm all)

    def probability(self, text: str) -> float:
        """P(brush-off) for one utterance (same arithmetic as the scikit-learn pipeline)."""
        counts = ngrams(text_key(text))
        vec = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in counts.items() if g in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        z = self.intercept
        if norm:
            z += sum(v * self.weights.get(g, 0.0) for g, v in vec.items()) / norm
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def flags(self, text: str) -> bool:
        return self.probability(text) >= self.threshold

    def confirms(self, text: str) -> bool:
        """Whether a phrasebook brush-off hit on ``text`` stands (see :func:`confirmed`)."""
        return self.confirm_threshold <= 0 or self.probability(text) >= self.confirm_threshold

    def to_json(self) -> dict:
        return {"format": 1, "ngrams": list(NGRAMS), "threshold": self.threshold,
                "confirm_threshold": self.confirm_threshold,
                "intercept": self.intercept, "meta": self.meta,
                "features": {g: [round(self.idf[g], 6), round(self.weights.get(g, 0.0), 6)]
                             for g in sorted(self.idf)}}

    @classmethod
    def from_json(cls, d: dict) -> "Fallback":
        feats = d["features"]
        return cls(idf={g: v[0] for g, v in feats.items()},
                   weights={g: v[1] for g, v in feats.items() if v[1]},
                   intercept=float(d["intercept"]), threshold=float(d["threshold"]), meta=d.get("meta", {}),
                   confirm_threshold=float(d.get("confirm_threshold", 0.0)))

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)


def load(path: str | Path = MODEL_PATH) -> Fallback:
    return Fallback.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_model() -> Fallback | None:
    """The shipped model, read once; ``None`` when the file is missing (fallback off)."""
    return load(MODEL_PATH) if MODEL_PATH.is_file() else None


def training_set(lines, phrasebook=None) -> tuple[list[str], list[int], list[str]]:
    """(texts, labels, groups) from coverage lines (+ the phrasebook's canonical wordings).
    Groups are the line's source (public sources S… pooled as one group per source id)."""
    texts, labels, groups = [], [], []
    for ln in lines:
        texts.append(ln.text)
        labels.append(1 if ln.label == "brush_off" else 0)
        groups.append(ln.source or "?")
    if phrasebook is not None:
        for kind, entries in (("brush_off", phrasebook.brush_offs), ("courtesy", phrasebook.courtesies)):
            for e in entries:
                for w in (e.phrase, *e.variants):
                    if w and "X" not in w:
                        texts.append(w)
                        labels.append(1 if kind == "brush_off" else 0)
                        groups.append("phrasebook")
    return texts, labels, groups


def _pipeline(c: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, lowercase=False),
        LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


def choose_threshold(probs, labels, negatives, target_false: float) -> float:
    """Lowest threshold (on a 0.01 grid) whose false rate on ``negatives`` is ≤ ``target_false``."""
    neg = [p for p, n in zip(probs, negatives) if n]
    for k in range(1, 100):
        t = k / 100
        if sum(p >= t for p in neg) <= target_false * len(neg):
            return t
    return 0.99


def choose_confirm_threshold(probs, base, confirm_loss: float, below: float) -> float:
    """Highest threshold (0.01 grid, under ``below``) that takes back at most ``confirm_loss`` of
    the ``base`` lines (brush-off lines the rules catch) by their out-of-fold probabilities."""
    kept = [p for p, b in zip(probs, base) if b]
    best = 0.0
    for k in range(1, 100):
        t = k / 100
        if t >= below or sum(p < t for p in kept) > confirm_loss * len(kept):
            break
        best = t
    return best


def without_courtesies(hits, text: str) -> str:
    """``text`` with the courtesies the matcher found cut out (a clause break in their place): a
    courtesy said beside a brush-off does not excuse it (不清楚，请慢走 is still a brush-off)."""
    spans = sorted((h.start, h.end) for h in hits if h.kind == "courtesy")
    if not spans:
        return text
    out, at = [], 0
    for s, e in spans:
        if s >= at:
            out.append(text[at:s])
            out.append("，")
            at = e
        else:
            at = max(at, e)
    out.append(text[at:])
    return "".join(out)


def confirmed(hits, text: str, model: "Fallback | None"):
    """(kept, taken back): brush-off hits stand only where ``model`` confirms the line without its
    courtesies (:meth:`Fallback.confirms`, :func:`without_courtesies`); courtesies, near misses and
    the hits of ``trusted`` entries (a word that is the offence by itself, such as 喂 called out to
    a citizen; its benign uses are the phrasebook's exceptions and context rules) are never touched."""
    doubtful = [h for h in hits if h.kind == "brush_off" and not h.entry.trusted]
    if model is None or not doubtful or model.confirms(without_courtesies(hits, text)):
        return list(hits), []
    return [h for h in hits if h.kind != "brush_off" or h.entry.trusted], doubtful


def train(lines, phrasebook=None, *, c: float = 16.0, target_false: float = 0.01,
          rule_hits: list[bool] | None = None, confirm_loss: float = 0.01) -> Fallback:
    """Train on coverage ``lines`` (and the phrasebook's wordings); threshold by grouped CV.
    ``rule_hits`` (one per line: a brush-off line the phrasebook's rules catch) turns on the
    confirmation of rule hits, its threshold chosen by the same CV (``confirm_loss``)."""
    from sklearn.model_selection import LeaveOneGroupOut

    texts, labels, groups = training_set(lines, phrasebook)
    keys = [text_key(t) for t in texts]
    negatives = [False] * len(keys)
    for i, ln in enumerate(lines):          # benign + neutral lines (the false-rate base)
        negatives[i] = ln.label in ("benign", "neutral")
    oof = [0.0] * len(keys)
    for tr, te in LeaveOneGroupOut().split(keys, labels, groups):
        ytr = [labels[i] for i in tr]
        if len(set(ytr)) < 2:
            continue
        model = _pipeline(c).fit([keys[i] for i in tr], ytr)
        for i, p in zip(te, model.predict_proba([keys[i] for i in te])[:, 1]):
            oof[i] = float(p)
    threshold = choose_threshold(oof, labels, negatives, target_false)
    confirm = 0.0
    if rule_hits is not None:
        base = list(rule_hits) + [False] * (len(keys) - len(lines))
        confirm = choose_confirm_threshold(oof, base, confirm_loss, threshold)
    pos = [p for p, y in zip(oof, labels) if y == 1]
    n_neg = sum(negatives)
    meta = {"c": c, "target_false": target_false, "lines": len(lines), "examples": len(keys),
            "cv": "leave one source out",
            "cv_recall": round(sum(p >= threshold for p in pos) / max(len(pos), 1), 4),
            "cv_false": round(sum(p >= threshold for p, n in zip(oof, negatives) if n) / max(n_neg, 1), 4)}
    if rule_hits is not None:
        n_base = sum(rule_hits)
        meta.update(confirm_loss=confirm_loss, confirm_base=n_base,
                    cv_confirm_taken_back=round(sum(p < confirm for p, b in zip(oof, base) if b) / max(n_base, 1), 4))
    return export(_pipeline(c).fit(keys, labels), threshold, meta, confirm)


def export(pipeline, threshold: float, meta: dict | None = None, confirm_threshold: float = 0.0) -> Fallback:
    """A fitted TF-IDF + logistic-regression pipeline as a :class:`Fallback` (plain numbers)."""
    vec, clf = pipeline.steps[0][1], pipeline.steps[1][1]
    vocab = vec.vocabulary_
    return Fallback(idf={g: float(vec.idf_[j]) for g, j in vocab.items()},
                    weights={g: float(clf.coef_[0][j]) for g, j in vocab.items()},
                    intercept=float(clf.intercept_[0]), threshold=threshold, meta=meta or {},
                    confirm_threshold=confirm_threshold)


__all__ = ["Fallback", "MODEL_PATH", "export", "confirmed", "without_courtesies", "choose_confirm_threshold", "ENABLED_BY_DEFAULT", "RULE", "PHRASE", "SUGGESTION", "default_model",
           "load", "train", "training_set", "choose_threshold", "text_key"]
