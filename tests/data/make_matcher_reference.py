"""Write the matcher's reference findings (tests/data/matcher_reference/findings.jsonl.gz).

    PYTHONPATH=<checkout of the code to take as reference> python tests/data/make_matcher_reference.py
    python tests/data/make_matcher_reference.py --same-texts   # re-record the stored texts

Run once from the code whose behaviour is the reference (commit 176e986, before the speed
work of issue 8); ``tests/test_matcher_reference.py`` then checks that the current matcher
finds exactly the same on the same texts.  Everything the check needs is stored beside it, so
edits elsewhere do not move it: a copy of that commit's phrasebook (``phrasebook/``) and the
texts themselves — every line of benchmarks/data/clerk_utterances.tsv and
benchmarks/data/coverage/author.tsv, clean and corrupted the way ASR corrupts text
(benchmarks/corrupt.py; clerk lines at 5, 10 and 20 % with two seeds, author lines at 10 and
20 % with one).  Each record: the text, its hits and the hits a benign context dropped
(:meth:`Matcher.explain`).

Re-recorded once with ``--same-texts`` (the stored texts, the stored phrasebook) when the
matcher's ties became canonical (2026-12-04): of equally good spans (score, length) the one
of the wording, then of the pattern listed first, is kept — before, set iteration order over
global pattern numbers decided, so adding an unrelated pattern could change a result.
131 of 7,893 texts changed: which pattern is named (71), what a benign context dropped (35),
which of two tied spans is kept (13) and, through that, one hit more or fewer (12).
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "matcher_reference"
SAME_TEXTS = "--same-texts" in sys.argv[1:]
_args = [a for a in sys.argv[1:] if a != "--same-texts"]
SOURCE = Path(_args[0]) if _args else HERE.parents[1]   # where the corpora are
sys.path.insert(0, str(SOURCE / "benchmarks"))

from corrupt import corrupt  # noqa: E402

from coach.matcher.matcher import Matcher  # noqa: E402
from coach.phrasebook import load_phrasebook  # noqa: E402


def texts() -> list[str]:
    def column(path: Path) -> list[str]:
        with path.open(encoding="utf-8") as fh:
            return [r["text"] for r in csv.DictReader(fh, delimiter="\t")]

    clerk = column(SOURCE / "benchmarks" / "data" / "clerk_utterances.tsv")
    author = column(SOURCE / "benchmarks" / "data" / "coverage" / "author.tsv")
    out = clerk + author
    for lines, rates, seeds in ((clerk, (0.05, 0.10, 0.20), (0, 1)), (author, (0.10, 0.20), (0,))):
        for rate in rates:
            for seed in seeds:
                rng = random.Random(seed)
                out += [corrupt(t, rate, rng) for t in lines]
    return list(dict.fromkeys(out))


def stored_texts() -> list[str]:
    """The texts of the findings already written (``--same-texts``)."""
    with gzip.open(OUT / "findings.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def hit_record(h) -> list:
    return [h.kind, h.entry.id, h.heard, h.start, h.end, h.score, h.via]


def record(matcher: Matcher, text: str) -> dict:
    hits, dropped = matcher.explain(text)
    assert [hit_record(h) for h in hits] == [hit_record(h) for h in matcher.find(text)]
    return {"text": text, "hits": [hit_record(h) for h in hits],
            "dropped": [hit_record(d.hit) + [d.reason] for d in dropped]}


def main() -> int:
    matcher = Matcher.from_phrasebook(load_phrasebook(OUT / "phrasebook"))
    rows = [record(matcher, t) for t in (stored_texts() if SAME_TEXTS else texts())]
    with gzip.open(OUT / "findings.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} texts, {sum(len(r['hits']) for r in rows)} hits, "
          f"{sum(len(r['dropped']) for r in rows)} dropped -> {OUT / 'findings.jsonl.gz'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
