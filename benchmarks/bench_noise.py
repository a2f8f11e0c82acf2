"""No speech, no verdict: what `coach analyze` makes of recordings with nobody speaking.

    python benchmarks/bench_noise.py [--write]

White noise (10 min, as in issue 9), silence, a 0.1 s file, random samples, and the shared
babble / street noise looped to 2 min, each through the real pipeline (analyze_file, Whisper-base
with the phrasebook's courtesies as hotwords).  Counted: utterances, courtesies credited,
brush-offs charged (the score's own count; the statistical model's suspects,
``coach.matcher.fallback``, are shown for review and never charged: counted apart), the outcome
and the score.  Target: 0 everywhere, outcome no_speech.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_labels import shared_dir  # noqa: E402
from results_doc import update_section  # noqa: E402

from coach.asr import open_engine  # noqa: E402
from coach.matcher import fallback  # noqa: E402
from coach.session.evaluate import Evaluator  # noqa: E402
from coach.session.pipeline import analyze_file, hotwords  # noqa: E402

SR = 16000


def recordings(rng) -> dict[str, np.ndarray]:
    out = {
        "white noise 10 min (σ 0.1)": rng.standard_normal(SR * 600) * 0.1,
        "white noise 1 min (σ 0.01)": rng.standard_normal(SR * 60) * 0.01,
        "silence 1 min": np.zeros(SR * 60),
        "0.1 s of noise": rng.standard_normal(SR // 10) * 0.1,
        "random samples 1 min (uniform ±1)": rng.uniform(-1, 1, SR * 60),
    }
    for name in ("noisex92_babble.wav", "emgse_Street_Noise.wav", "emgse_street.wav"):
        x, sr = sf.read(shared_dir() / "audio" / "noise" / name, dtype="float32")
        x = x.mean(1) if x.ndim > 1 else x
        x = np.tile(x, int(np.ceil(SR * 120 / len(x))))[: SR * 120]
        out[f"{name} looped 2 min (peak −10 dBFS)"] = x / np.abs(x).max() * 0.316
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    ev = Evaluator.default()
    eng = open_engine("whisper", hotwords=hotwords(ev))
    lines = ["| recording | utterances | courtesies credited | brush-offs charged | to review (statistical) "
             "| outcome | score | CPU s |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, audio in recordings(np.random.default_rng(0)).items():
            path = Path(tmp) / "x.wav"
            sf.write(path, audio.astype(np.float32), SR, subtype="PCM_16")
            t0 = time.process_time()
            r = analyze_file(path, engine=eng, evaluator=ev)
            cpu = time.process_time() - t0
            c = sum(1 for f in r.findings if f.type == "courtesy" and f.rule != "near_miss")
            b = r.breakdown["counts"]["brush_off"]  # what the score charged
            w = sum(1 for f in r.findings if f.rule == fallback.RULE)
            score = "–" if r.score is None else f"{r.score:.0f}"
            lines.append(f"| {name} | {len(r.utterances)} | {c} | {b} | {w} | {r.outcome} | {score} | {cpu:.1f} |")
            print(lines[-1], [u.text for u in r.utterances][:5], flush=True)
    if args.write:
        update_section("noise", "No speech: noise, silence and random samples through analyze", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
