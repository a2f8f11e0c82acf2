"""Train the statistical fallback (issue 8 step 4) and write ``coach/data/fallback/model.json``.

    python benchmarks/train_fallback.py [--target-false 0.01] [--c 16]

Training data: ``benchmarks/data/coverage/author.tsv`` (the authoring part only — never the
held-out ``test.tsv``) plus the default phrasebook's canonical wordings.  The decision threshold
is chosen by leave-one-source-out cross-validation on the author part: the lowest probability
whose out-of-fold false rate on benign + neutral lines is ≤ ``--target-false``.  The
confirmation threshold (rule hits on lines the model finds very unlike a brush-off are taken
back) is chosen by the same CV: the highest that takes back ≤ ``--confirm-loss`` of the author
brush-off lines the phrasebook's rules catch.
Needs scikit-learn (a project dependency); scoring the written model does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

from coach.matcher.coverage import read_coverage  # noqa: E402
from coach.matcher.fallback import MODEL_PATH, train  # noqa: E402
from coach.matcher.matcher import Matcher  # noqa: E402
from coach.phrasebook import load_phrasebook  # noqa: E402

AUTHOR = HERE / "data" / "coverage" / "author.tsv"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-false", type=float, default=0.01, help="CV false rate allowed (default 0.01)")
    ap.add_argument("--c", type=float, default=16.0, help="inverse regularisation strength (default 16)")
    ap.add_argument("--confirm-loss", type=float, default=0.01,
                    help="CV share of rule-caught author brush-offs the confirmation may take back (default 0.01; 0 = off)")
    ap.add_argument("--out", default=str(MODEL_PATH), help="model file (default: the shipped one)")
    args = ap.parse_args()
    lines, pb = read_coverage(AUTHOR), load_phrasebook()
    matcher = Matcher.from_phrasebook(pb)
    rule_hits = [ln.label == "brush_off" and any(h.kind == "brush_off" for h in matcher.find(ln.text))
                 for ln in lines] if args.confirm_loss > 0 else None
    model = train(lines, pb, c=args.c, target_false=args.target_false, rule_hits=rule_hits,
                  confirm_loss=args.confirm_loss)
    model.save(args.out)
    print(f"wrote {args.out}: threshold {model.threshold:.2f}, {len(model.idf)} n-grams, "
          f"CV (leave one source out) recall {model.meta['cv_recall']:.3f}, false {model.meta['cv_false']:.3f}; "
          f"confirmation threshold {model.confirm_threshold:.2f} (CV takes back "
          f"{model.meta.get('cv_confirm_taken_back', 0):.3f} of {model.meta.get('confirm_base', 0)} rule-caught brush-offs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
