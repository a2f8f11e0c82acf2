"""Speaker embeddings without torch: Resemblyzer's GE2E encoder run in NumPy.

The front end matches Resemblyzer's: 16 kHz audio, volume raised (never lowered) to −30 dBFS,
a 40-band mel power spectrogram (25 ms Hann window, 10 ms hop, centred frames), cut into
partial utterances of 160 frames (1.6 s).  Each partial goes through a 3-layer LSTM (256 units);
the last hidden state -> linear -> ReLU -> L2 norm is the partial's embedding, and an
utterance's embedding is the L2-normalised mean of its partials.  Weights: ``coach/data/speaker``
(Apache-2.0, see NOTICE there).

    emb = embed(samples)                 # (256,) float32, unit length
    embs = embed_many([a, b, c])         # one batched pass: (3, 256)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
PARTIAL_FRAMES = 160
# Partial utterances per second.  Resemblyzer uses 1.3; 0.8 measured as accurate (bench_speaker.py)
# at 60 % of the cost.
RATE = 0.8
ENCODE_BATCH = 64          # mel partials per encoder pass (embed_many)
TARGET_DBFS = -30.0
WEIGHTS = Path(__file__).resolve().parents[1] / "data" / "speaker" / "ge2e.npz"
INT16_MAX = 2 ** 15 - 1


@lru_cache(maxsize=1)
def weights() -> dict[str, np.ndarray]:
    with np.load(WEIGHTS) as z:
        return {k: z[k] for k in z.files}


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise quiet audio to ``target_dbfs`` RMS; louder audio is left alone (as Resemblyzer)."""
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * INT16_MAX) ** 2))) if len(wav) else 0.0
    if rms <= 0:
        return wav.astype(np.float32)
    change = target_dbfs - 20 * np.log10(rms / INT16_MAX)
    return wav.astype(np.float32) if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic Hann


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, frames centred on multiples of 10 ms (zero padded)."""
    wav = np.asarray(wav, np.float32)
    padded = np.pad(wav, N_FFT // 2)
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, 40), np.float32)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.abs(np.fft.rfft(padded[idx] * _window(), axis=1)) ** 2
    return (spec.astype(np.float32) @ weights()["mel_basis"].T).astype(np.float32)


def partial_slices(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[slice]:
    """Mel-frame slices of the partial utterances (Resemblyzer's ``compute_partial_slices``)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / rate) / HOP))
    if not 0 < step <= PARTIAL_FRAMES:
        raise ValueError(f"partial rate {rate} out of range")
    out = [slice(i, i + PARTIAL_FRAMES) for i in range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)]
    last = out[-1]
    coverage = (n_samples - last.start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(out) > 1:
        out = out[:-1]
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def encode_partials(mels: np.ndarray) -> np.ndarray:
    """(batch, 160, 40) mel partials -> (batch, 256) unit-length embeddings.

    BLAS runs on one thread here: the recurrent steps are small matrix products, for which
    extra threads only spin (measured 2–5× more CPU time on 2 cores) and slow the recogniser."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _encode(mels)


def _encode(mels: np.ndarray) -> np.ndarray:
    w = weights()
    x = np.asarray(mels, np.float32)
    batch, steps, _ = x.shape
    hidden = 256
    for layer in range(3):
        # Projected in place (no second full-size temporary for the bias): the largest array here.
        proj = np.matmul(x.reshape(batch * steps, -1), w[f"w_ih{layer}"])
        proj += w[f"b{layer}"]
        proj = proj.reshape(batch, steps, 4 * hidden)
        w_hh = w[f"w_hh{layer}"]
        h = np.zeros((batch, hidden), np.float32)
        c = np.zeros((batch, hidden), np.float32)
        outs = np.empty((batch, steps, hidden), np.float32) if layer < 2 else None
        for t in range(steps):
            g = proj[:, t] + h @ w_hh
            i = _sigmoid(g[:, :hidden])
            f = _sigmoid(g[:, hidden:2 * hidden])
            cand = np.tanh(g[:, 2 * hidden:3 * hidden])
            o = _sigmoid(g[:, 3 * hidden:])
            c = f * c + i * cand
            h = o * np.tanh(c)
            if outs is not None:
                outs[:, t] = h
        if outs is not None:
            x = outs
    raw = np.maximum(h @ w["w_out"] + w["b_out"], 0.0)
    norm = np.linalg.norm(raw, axis=1, keepdims=True)
    return (raw / np.maximum(norm, 1e-12)).astype(np.float32)


def _partials(wav: np.ndarray, rate: float) -> np.ndarray:
    wav = normalize_volume(np.asarray(wav, np.float32))
    slices = partial_slices(len(wav), rate)
    need = slices[-1].stop * HOP
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav)))
    mel = mel_spectrogram(wav)
    return np.stack([mel[s] for s in slices])


def embed_many(wavs: list[np.ndarray], rate: float = RATE) -> np.ndarray:
    """Embeddings of several utterances (16 kHz float32 each) in one batched pass: (n, 256)."""
    if not wavs:
        return np.zeros((0, 256), np.float32)
    parts = [_partials(w, rate) for w in wavs]
    mels = np.concatenate(parts)
    # The encoder's working memory is ~0.8 MB per partial (gates of 160 steps × 3 layers):
    # batches of ENCODE_BATCH keep it bounded for any number or length of utterances.
    partial = np.concatenate([encode_partials(mels[i:i + ENCODE_BATCH]) for i in range(0, len(mels), ENCODE_BATCH)])
    out, at = [], 0
    for p in parts:
        mean = partial[at:at + len(p)].mean(axis=0)
        at += len(p)
        out.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return np.stack(out).astype(np.float32)


def embed(wav: np.ndarray, rate: float = RATE) -> np.ndarray:
    """One utterance's embedding: (256,) float32, unit length."""
    return embed_many([wav], rate)[0]
