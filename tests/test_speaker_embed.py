"""The NumPy GE2E encoder against reference outputs of the real Resemblyzer + torch.

``tests/data/ge2e_reference.npz`` was computed once, in a throwaway venv with torch 2.13 and
librosa 0.10.2, by ``VoiceEncoder().embed_utterance(normalize_volume(wav, -30, increase_only=True),
return_partials=True)`` on two real recordings from ``shared/audio/real`` (an AISHELL-1 utterance,
and the first 6 s of a podcast host).
"""

from __future__ import annotations

import numpy as np

from shared import REPO, real_dir
from coach.audio.decode import read
from coach.speaker.embed import _partials, embed, embed_many, encode_partials, mel_spectrogram

REF = np.load(REPO / "tests" / "data" / "ge2e_reference.npz")


def clips():
    real = real_dir()
    return read(real / "BAC009S0764W0121.wav"), read(real / "pod_m_enhanced.wav")[: 6 * 16000]


def test_numpy_forward_matches_resemblyzer_partials_and_embeddings():
    aishell, pod = clips()
    got = encode_partials(_partials(aishell, 1.3))
    assert got.shape == REF["aishell_partials"].shape
    np.testing.assert_allclose(got, REF["aishell_partials"], atol=1e-4)
    both = embed_many([aishell, pod], rate=1.3)
    np.testing.assert_allclose(both[0], REF["aishell"], atol=1e-4)
    np.testing.assert_allclose(both[1], REF["pod_m"], atol=1e-4)
    # batching several utterances gives the same as one at a time
    np.testing.assert_allclose(embed(pod, rate=1.3), both[1], atol=1e-5)


def test_embeddings_are_unit_length_and_tell_speakers_apart():
    aishell, pod = clips()
    e = embed_many([aishell, pod, pod[:3 * 16000], pod[3 * 16000:]])
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    same = float(e[2] @ e[3])
    other = float(e[0] @ e[2])
    assert same > other + 0.1


def test_mel_front_end_shape_and_short_input():
    assert mel_spectrogram(np.zeros(16000, np.float32)).shape == (101, 40)
    # a clip shorter than one partial is padded, not refused
    assert embed(np.random.default_rng(0).normal(0, 0.05, 4000).astype(np.float32)).shape == (256,)
