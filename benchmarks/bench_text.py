"""Text benchmark: precision/recall of courtesy and brush-off detection, and matcher speed.

    python benchmarks/bench_text.py [--seeds 5] [--write]
    python benchmarks/bench_text.py --speed-only      # the speed figures alone, on a fresh matcher
    python benchmarks/bench_text.py --speed-only --without-c-loops   # the same without coach/_hot.c

Corpus: benchmarks/data/clerk_utterances.tsv (hand-labelled clerk utterances: positives,
synonyms, hard negatives, near misses, neutral).  Each utterance is also corrupted the way ASR
corrupts text (pinyin homophones, traditional characters, dropped/inserted characters, lost
punctuation) at 5, 10 and 20 % character error, over several seeds.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corrupt import corrupt  # noqa: E402
from results_doc import update_section  # noqa: E402

if "--without-c-loops" in sys.argv:      # before the matcher modules are imported: they ask once
    import coach._native  # noqa: E402

    coach._native.hot = lambda: None     # the Python twins of coach/_hot.c, to compare

from coach.phrasebook import load_phrasebook  # noqa: E402
from coach.session.evaluate import Evaluator, canonical_hits  # noqa: E402

CORPUS = HERE / "data" / "clerk_utterances.tsv"
RATES = (0.0, 0.05, 0.10, 0.20)


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        r["courtesies"] = {x for x in r["courtesies"].split("|") if x}
        r["brush_offs"] = {x for x in r["brush_offs"].split("|") if x}
    return rows


def prf(c: Counter) -> tuple[float, float, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score_run(ev: Evaluator, rows: list[dict], texts: list[str]) -> dict:
    vocab_b = set().union(*(r["brush_offs"] for r in rows))
    # Courtesies outside the corpus's label vocabulary (请坐, 请原谅 …: added after it was
    # labelled) cannot be judged by it, as brush-offs outside it are not on labelled lines.
    vocab_c = set().union(*(r["courtesies"] for r in rows))
    counts = {"courtesy": Counter(), "brush_off": Counter()}
    false_on_hard = 0
    errors: list[str] = []
    for r, text in zip(rows, texts):
        said_c, said_b = canonical_hits(ev, text)
        if r["category"] == "hard_negative" and said_b:
            false_on_hard += 1
        if not r["brush_offs"]:
            fp_b = said_b                       # any brush-off on a clean utterance is wrong
        else:
            fp_b = (said_b & vocab_b) - r["brush_offs"]
        for kind, exp, got, fp in (("courtesy", r["courtesies"], said_c, (said_c & vocab_c) - r["courtesies"]),
                                   ("brush_off", r["brush_offs"], said_b, fp_b)):
            tp = len(exp & got)
            counts[kind].update(tp=tp, fn=len(exp - got), fp=len(fp))
            if exp - got or fp:
                errors.append(f"{r['id']} {kind} missed={sorted(exp - got)} extra={sorted(fp)} :: {text}")
    return {"counts": counts, "false_on_hard": false_on_hard, "errors": errors}


def speed(ev: Evaluator, texts: list[str], seconds: float = 3.0) -> float:
    n, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        for t in texts:
            ev.matcher.find(t)
        n += len(texts)
    return n / (time.process_time() - t0)


def fresh_speed(ev: Evaluator, rows: list[dict], rounds: int = 3) -> float:
    """Utterances/s on text the matcher has not seen (each line corrupted at 10 % with seeds no
    accuracy run uses, each matched once): what a live session pays, RE2's automata still
    growing for new text, where :func:`speed` repeats warm text."""
    texts = []
    for seed in range(1000, 1000 + rounds):
        rng = random.Random(seed)
        texts += [corrupt(r["text"], 0.10, rng) for r in rows]
    texts = list(dict.fromkeys(texts))
    t0 = time.process_time()
    for t in texts:
        ev.matcher.find(t)
    return len(texts) / (time.process_time() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--errors", type=float, default=None, help="print the errors at this rate")
    ap.add_argument("--without-c-loops", action="store_true",
                    help="run the Python twins of coach/_hot.c (to compare; writes nothing)")
    ap.add_argument("--speed-only", action="store_true",
                    help="only the speed figures, on a fresh matcher (no accuracy runs before them)")
    args = ap.parse_args()
    if args.write and args.without_c_loops:
        ap.error("--without-c-loops writes nothing: run without it to update docs/benchmarks.md")

    rows = load_corpus()
    ev = Evaluator(load_phrasebook())
    cats = Counter(r["category"] for r in rows)
    lines = [f"Corpus: {len(rows)} clerk utterances ({', '.join(f'{k} {v}' for k, v in sorted(cats.items()))}); "
             f"{args.seeds} corruption seeds per error rate.", "",
             "| char error | courtesy P | courtesy R | courtesy F1 | brush-off P | brush-off R | brush-off F1 "
             "| false brush-offs on hard negatives |",
             "|---|---|---|---|---|---|---|---|"]
    if args.speed_only:
        if args.write:
            ap.error("--speed-only writes nothing: run without it to update docs/benchmarks.md")
        lines = []
    for rate in () if args.speed_only else RATES:
        total = {"courtesy": Counter(), "brush_off": Counter()}
        hard = 0
        seeds = [0] if rate == 0 else range(args.seeds)
        for seed in seeds:
            rng = random.Random(seed)
            texts = [r["text"] if rate == 0 else corrupt(r["text"], rate, rng) for r in rows]
            res = score_run(ev, rows, texts)
            for k in total:
                total[k].update(res["counts"][k])
            hard += res["false_on_hard"]
            if args.errors is not None and abs(rate - args.errors) < 1e-9 and seed == 0:
                print("\n".join(res["errors"]))
        cp, cr, cf = prf(total["courtesy"])
        bp, br, bf = prf(total["brush_off"])
        lines.append(f"| {rate:.0%} | {cp:.3f} | {cr:.3f} | {cf:.3f} | {bp:.3f} | {br:.3f} | {bf:.3f} "
                     f"| {hard} / {cats['hard_negative'] * len(seeds)} |")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.speed_only:     # warm up as the accuracy runs would: jieba, memos, RE2's automata
        ev.matcher.warm_up()
        for _ in range(10):
            for r in rows:
                ev.matcher.find(r["text"])
    ups = speed(ev, [r["text"] for r in rows])
    fresh = fresh_speed(ev, rows)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines += ["", f"Speed: {ups:,.0f} utterances/s on one core (matcher only, clean corpus, warm caches; CPU time of one process).",
              f"Speed on unseen text: {fresh:,.0f} utterances/s (each corrupted line matched once, as in a live session).",
              f"Load before / after the speed run: `{load}` / `{load_after}` (1/5/15-min load average; "
              "other processes share the 2 cores, so the figure is pessimistic)."]
    report = "\n".join(lines)
    print(report)
    if args.write:
        update_section("text", "Text matcher: courtesy and brush-off detection", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
