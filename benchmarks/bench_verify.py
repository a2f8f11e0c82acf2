"""Forced-choice verification on minimal pairs: 您好/你好, 请慢走/慢走, 喂/哎 or nothing.

    python benchmarks/bench_verify.py tune   # log-likelihood gains of every competitor, best margins
    python benchmarks/bench_verify.py test [--margins phrase,interjection,alternative,lone] [--write]

Clips: benchmarks/minimal_pairs.py (spliced from the dev lines and sessions; disjoint bodies
for tune and test).  ``tune`` decodes the tune clips once with verification logging only
(margins +inf: nothing changes) and picks, per competitor kind, the margin with the best
balanced accuracy on the tune clips.  ``test`` runs the real pipeline (engine with those
margins → matcher) on the test clips and reports, both ways, how often the decision is right:
您好 credited when said / not credited when 你好 was said; 请慢走 likewise against 慢走 and 您慢走;
喂/哎 found when said / not found on the bare body (interjection recall and false alarms).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from minimal_pairs import clips  # noqa: E402
from results_doc import update_section  # noqa: E402

from coach.asr import open_engine  # noqa: E402
from coach.asr.verify import Margins  # noqa: E402
from coach.session.evaluate import Evaluator  # noqa: E402
from coach.session.pipeline import hotwords  # noqa: E402

INF = float("inf")
GRID = [x / 2 for x in range(-12, 13)]


def engine(margins: Margins, noise: str | None = None):
    ev = Evaluator.default()
    return ev, open_engine("whisper", hotwords=hotwords(ev), margins=margins)


def with_noise(audio: np.ndarray, snr: float | None, rng) -> np.ndarray:
    if snr is None:
        return audio
    import soundfile as sf

    from bench_dev import active_power
    from dev_labels import shared_dir

    noise, _ = sf.read(shared_dir() / "audio" / "noise" / "noisex92_babble.wav", dtype="float32")
    off = rng.integers(0, len(noise) - len(audio))
    seg = noise[off: off + len(audio)]
    gain = np.sqrt(active_power(audio) / (float((seg ** 2).mean()) * 10 ** (snr / 10)))
    return (audio + gain * seg).astype(np.float32)


def decisions(ev: Evaluator, utterances) -> dict[str, bool]:
    text = "".join(u.text for u in utterances)
    found = [h for u in utterances for h in ev.matcher.find(u.text)]
    return {
        "您好": any(h.kind == "courtesy" and h.entry.phrase == "您好" for h in found),
        "请慢走": any(h.kind == "courtesy" and h.entry.phrase == "请慢走" for h in found),
        "interjection": any(h.kind == "brush_off" and h.entry.phrase in ("喂", "哎") for h in found),
        "text": text,
    }


def truth(clip) -> dict[str, bool]:
    return {"您好": clip.prefix == "您好", "请慢走": clip.suffix == "请慢走", "interjection": clip.prefix in ("喂", "哎")}


def tune(snrs: list[float | None]) -> Margins:
    ev, eng = engine(Margins(INF, INF, INF, INF))
    rows = []
    rng = np.random.default_rng(5)
    for snr in snrs:
        for c in clips("tune"):
            eng.verify_log = []
            us = list(eng.transcribe([with_noise(c.audio, snr, rng)]))
            rows.append((c, "".join(u.text for u in us), list(eng.verify_log)))
    eng.verify_log = None
    best = {}
    for kind, target_of in (("phrase", _phrase_truth), ("interjection", _interj_truth), ("lone", _interj_truth)):
        scored = []
        for m in GRID:
            pos = neg = tp = tn = 0
            for c, text, logs in rows:
                for tgt, said in target_of(c):
                    already = tgt in text
                    hit = already or any(k == kind and t == tgt and g > m for k, t, _, _, g in logs)
                    if kind == "lone" and not any(k == "lone" for k, *_ in logs):
                        continue
                    pos += said
                    neg += not said
                    tp += said and hit
                    tn += (not said) and not hit
            bal = (tp / pos if pos else 1) / 2 + (tn / neg if neg else 1) / 2
            scored.append((round(bal, 4), -abs(m), m, tp, pos, tn, neg))
        top = max(scored)
        best[kind] = top[2]
        print(f"{kind}: margin {top[2]} balanced accuracy {top[0]} (said {top[3]}/{top[4]}, not said {top[5]}/{top[6]})")
        for k, t, text, cand, g in sorted({x for _, _, logs in rows for x in logs if x[0] == kind}, key=lambda x: -x[4])[:0]:
            print("   ", g, text, "->", cand)
    return Margins(phrase=best["phrase"], interjection=best["interjection"], alternative=best["phrase"],
                   lone=best["lone"])


def _phrase_truth(c):
    if c.prefix in ("您好", "你好"):
        yield "您好", c.prefix == "您好"
    if c.suffix:
        yield "请慢走", c.suffix == "请慢走"


def _interj_truth(c):
    for w in ("喂", "哎"):
        yield w, c.prefix == w


def test(margins: Margins, snr: float | None, verbose: bool) -> dict:
    ev, eng = engine(margins)
    rng = np.random.default_rng(9)
    out = {k: [0, 0, 0, 0] for k in ("您好", "请慢走", "interjection")}  # said ok, said n, unsaid ok, unsaid n
    cpu = audio_s = 0.0
    for c in clips("test"):
        a = with_noise(c.audio, snr, rng)
        t0 = time.process_time()
        us = list(eng.transcribe([a]))
        cpu += time.process_time() - t0
        audio_s += len(a) / 16000
        d, t = decisions(ev, us), truth(c)
        relevant = {"您好": c.prefix in ("您好", "你好"), "请慢走": bool(c.suffix),
                    "interjection": c.prefix in ("喂", "哎", "")}
        for k in out:
            if not relevant[k]:
                continue
            i = 0 if t[k] else 2
            out[k][i + 1] += 1
            out[k][i] += d[k] == t[k]
            if verbose and d[k] != t[k]:
                print(f"  {c.name}: {k} said={t[k]} heard {d['text']!r}")
    out["rtf"] = cpu / audio_s
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("mode", choices=["tune", "test"])
    ap.add_argument("--margins", help="phrase,interjection,alternative,lone")
    ap.add_argument("--snr", nargs="+", default=["clean"], help="clean and/or babble SNRs in dB")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    snrs = [None if s == "clean" else float(s) for s in args.snr]
    if args.mode == "tune":
        print(tune(snrs))
        return 0
    margins = Margins(*map(float, args.margins.split(","))) if args.margins else Margins()
    if args.margins == "off":
        margins = Margins(INF, INF, INF, INF)
    lines = [f"Minimal pairs (benchmarks/minimal_pairs.py, test split: 96 clips per condition), margins {margins}.", "",
             "| condition | 您好 said → credited | 你好 said → not credited | 请慢走 said → credited "
             "| 慢走/您慢走 → not credited | 喂/哎 said → found | none said → not found | CPU s / audio s |",
             "|---|---|---|---|---|---|---|---|"]
    for snr in snrs:
        r = test(margins, snr, args.verbose)
        f = lambda k, i: f"{r[k][i]}/{r[k][i + 1]} ({r[k][i] / max(1, r[k][i + 1]):.0%})"  # noqa: E731
        cond = "clean" if snr is None else f"babble {snr:g} dB"
        lines.append(f"| {cond} | {f('您好', 0)} | {f('您好', 2)} | {f('请慢走', 0)} | {f('请慢走', 2)} "
                     f"| {f('interjection', 0)} | {f('interjection', 2)} | {r['rtf']:.2f} |")
        print(lines[-1], flush=True)
    if args.write:
        update_section("verify", "Forced-choice verification on minimal pairs", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
