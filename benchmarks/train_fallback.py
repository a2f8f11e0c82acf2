"""Train the statistical fallback (issue 8 step 4) and write ``coach/data/fallback/model.json``.

    python benchmarks/train_fallback.py [--target-false 0.01] [--c 16]

Training data: ``benchmarks/data/coverage/author.tsv`` (the authoring part only — never the
held-out ``test.tsv``) plus the default phrasebook's canonical wordings.  The decision threshold
is chosen by leave-one-source-out cross-validation on the author part: the lowest probability
whose out-of-fold false rate on benign + neutral lines is ≤ ``--target-false``.
Needs scikit-learn (a project dependency); scoring the written model does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

from coach.matcher.coverage import read_coverage  # noqa: E402
from coach.matcher.fallback import MODEL_PATH, train  # noqa: E402
from coach.phrasebook import load_phrasebook  # noqa: E402

AUTHOR = HERE / "data" / "coverage" / "author.tsv"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-false", type=float, default=0.01, help="CV false rate allowed (default 0.01)")
    ap.add_argument("--c", type=float, default=16.0, help="inverse regularisation strength (default 16)")
    ap.add_argument("--out", default=str(MODEL_PATH), help="model file (default: the shipped one)")
    args = ap.parse_args()
    model = train(read_coverage(AUTHOR), load_phrasebook(), c=args.c, target_false=args.target_false)
    model.save(args.out)
    print(f"wrote {args.out}: threshold {model.threshold:.2f}, {len(model.idf)} n-grams, "
          f"CV (leave one source out) recall {model.meta['cv_recall']:.3f}, false {model.meta['cv_false']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
