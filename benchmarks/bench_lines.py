"""Single clerk lines (../shared/audio/dev/lines), clean and in noise: what issue 9 measures first.

    python benchmarks/bench_lines.py [--conditions clean babble:5 babble:10 chatter:10] [-v] [--write]

Each line (one clerk sentence, mono, TTS voices) runs through the real pipeline (`coach analyze
FILE`, Whisper-base, the phrasebook's judgment; one speaker, so no attribution).  For noise, the
line gets a noise excerpt at the given SNR against its active speech level (bench_dev.mix).
Scored per line against `lines.tsv`: courtesies credited (`required_phrases`), brush-offs flagged
(`banned_phrases`), and, for lines whose trap wording must not be flagged (`hard_negative`,
`trap_substrings`), false brush-offs.  Micro-averaged P/R/F1, reported apart for the voices the
verification margins were tuned on (`tune`: benchmarks/minimal_pairs.TUNE_VOICES) and the others
(`test`: nothing was tuned on them).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_dev import mix  # noqa: E402
from bench_text import prf  # noqa: E402
from dev_labels import DEV_BRUSH_OFFS, condition_name, found, shared_dir  # noqa: E402
from minimal_pairs import TUNE_VOICES  # noqa: E402
from results_doc import update_section  # noqa: E402

from coach.asr import open_engine  # noqa: E402
from coach.session.evaluate import Evaluator  # noqa: E402
from coach.session.pipeline import analyze_file, hotwords  # noqa: E402

KINDS = ("brush_off", "courtesy")  # the table's column order


def lines() -> list[dict]:
    rows = (shared_dir() / "audio" / "dev" / "lines" / "lines.tsv").read_text("utf-8").splitlines()
    head = rows[0].split("\t")
    out = []
    for row in rows[1:]:
        r = dict(zip(head, row.split("\t")))
        r["expect"] = {"courtesy": {x for x in r["required_phrases"].split("|") if x},
                       "brush_off": {x for x in r["banned_phrases"].split("|") if x}}
        r["split"] = "tune" if r["voice"] in TUNE_VOICES else "test"
        out.append(r)
    return out


def run_condition(cond: str, rows: list[dict], ev: Evaluator, engine, tmp: Path, verbose: bool) -> dict:
    rng = random.Random(11)
    dev = shared_dir() / "audio" / "dev"
    canon = {k: set().union(*(r["expect"][k] for r in rows)) for k in KINDS}
    canon["brush_off"] |= DEV_BRUSH_OFFS
    counts = {(split, k): Counter() for split in ("tune", "test") for k in KINDS}
    traps = Counter()
    audio_s = cpu_s = 0.0
    for r in rows:
        path = dev / r["file"]
        if cond != "clean":
            kind, snr = cond.split(":")
            path = mix(path, kind, float(snr), tmp / "line.wav", rng)
        t0 = time.process_time()
        result = analyze_file(path, engine=engine, evaluator=ev, attribute=False)
        cpu_s += time.process_time() - t0
        audio_s += float(r["duration_s"])
        got = found(result) if result is not None else {k: set() for k in KINDS}
        for k in KINDS:
            got[k] &= canon[k]
            exp = r["expect"][k]
            counts[(r["split"], k)].update(tp=len(exp & got[k]), fp=len(got[k] - exp), fn=len(exp - got[k]))
            if verbose and exp != got[k]:
                heard = " / ".join(u.text for u in result.utterances) if result is not None else ""
                print(f"  {cond} {r['split']} {r['file']} {k}: missed {sorted(exp - got[k])} "
                      f"extra {sorted(got[k] - exp)}  heard 「{heard}」  said 「{r['text']}」", flush=True)
        if r["category"] == "hard_negative":
            traps.update(lines=1, flagged=int(bool(got["brush_off"] - r["expect"]["brush_off"])))
    return {"counts": counts, "traps": traps, "cpu_s": cpu_s, "audio_s": audio_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", nargs="+", default=["clean", "babble:10", "babble:5", "chatter:10"])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--section", default="lines", help="docs/benchmarks.md section to write")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    rows = lines()
    ev = Evaluator.default()
    engine = open_engine("whisper", hotwords=hotwords(ev))
    n = Counter(r["split"] for r in rows)
    out = [f"{len(rows)} clerk lines ({n['tune']} in tune voices, {n['test']} in test voices; "
           f"{sum(float(r['duration_s']) for r in rows):.0f} s), mono, one speaker, Whisper-base int8 beam 5, "
           "forced-choice verification (the shipped default). Micro-averaged over the lines' labelled "
           "courtesies and brush-offs; *test* = voices no margin was tuned on.", "",
           "| condition | brush-off P / R / **F1** test | brush-off F1 tune | courtesy P / R / **F1** test "
           "| courtesy F1 tune | trap lines flagged | CPU s / audio s |",
           "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for cond in args.conditions:
            r = run_condition(cond, rows, ev, engine, Path(tmp), args.verbose)
            c = r["counts"]
            cell = []
            for k in KINDS:
                p, rr, f = prf(c[("test", k)])
                cell += [f"{p:.2f} / {rr:.2f} / **{f:.3f}**", f"{prf(c[('tune', k)])[2]:.3f}"]
            out.append(f"| {condition_name(cond)} | " + " | ".join(cell)
                       + f" | {r['traps']['flagged']} of {r['traps']['lines']} | {r['cpu_s'] / r['audio_s']:.2f} |")
            print(out[-1], flush=True)
    report = "\n".join(out)
    print(report)
    if args.write:
        update_section(args.section, "Clerk lines (audio → findings), clean and in noise", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
