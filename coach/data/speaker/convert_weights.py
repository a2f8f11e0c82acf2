"""One-time conversion of Resemblyzer's ``pretrained.pt`` to ``ge2e.npz`` (not used at run time).

Run in a throwaway venv that has torch and librosa (the runtime needs neither):

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/rz && unzip /tmp/rz/*.whl -d /tmp/rz
    python coach/data/speaker/convert_weights.py /tmp/rz/resemblyzer/pretrained.pt coach/data/speaker/ge2e.npz

The LSTM biases are summed (b_ih + b_hh); the 40-band mel filterbank librosa builds for
resemblyzer's front end (16 kHz, n_fft 400, Slaney mel scale and norm) is stored beside them.
"""

import sys

import librosa
import numpy as np
import torch

src, dst = sys.argv[1], sys.argv[2]
state = torch.load(src, map_location="cpu", weights_only=False)["model_state"]
out = {}
for layer in range(3):
    out[f"w_ih{layer}"] = state[f"lstm.weight_ih_l{layer}"].numpy().T.copy()
    out[f"w_hh{layer}"] = state[f"lstm.weight_hh_l{layer}"].numpy().T.copy()
    out[f"b{layer}"] = (state[f"lstm.bias_ih_l{layer}"] + state[f"lstm.bias_hh_l{layer}"]).numpy()
out["w_out"] = state["linear.weight"].numpy().T.copy()
out["b_out"] = state["linear.bias"].numpy()
out["mel_basis"] = librosa.filters.mel(sr=16000, n_fft=400, n_mels=40).astype(np.float32)
np.savez_compressed(dst, **{k: v.astype(np.float32) for k, v in out.items()})
print("wrote", dst, {k: v.shape for k, v in out.items()})
