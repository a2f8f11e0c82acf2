"""Pre-render the citizen lines of the bundled scenarios to small OGG files (development time).

    python scripts/render_voices.py            # writes coach/data/voices/*.ogg + index.json

Voice: espeak-ng (GPL-3.0 program; its output — the sound — carries no licence restriction),
Mandarin voice ``cmn-latn-pinyin`` with variant ``+f3`` at 130 words per minute (of the variants
tried, the one the coach's own ASR transcribes best: CER 0.42 on a third of the lines, vs 0.51 for
``+f4`` at 150).
Each line is trimmed of leading/trailing silence, normalised and encoded as 16 kHz mono Opus
(24 kbit/s) with ffmpeg.  Lines already rendered (same text, voice and speed) are kept.
Needs espeak-ng, sox and ffmpeg (scripts/test.sh installs them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coach.phrasebook import load_phrasebook  # noqa: E402
from coach.tui.voice import VOICES_DIR, espeak_wav, line_key  # noqa: E402


def render(text: str, out: Path, tmp: Path) -> None:
    raw = espeak_wav(text, tmp / "raw.wav")
    trimmed = tmp / "trim.wav"
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(trimmed),
                    "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
                    "norm", "-3", "pad", "0.1", "0.2"], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(trimmed), "-c:a", "libopus",
                    "-b:a", "24k", "-ac", "1", str(out)], check=True)


def main() -> int:
    pb = load_phrasebook(None)
    lines = sorted({t.citizen.strip() for s in pb.scenarios for t in s.turns if t.citizen.strip()})
    VOICES_DIR.mkdir(parents=True, exist_ok=True)
    index: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as d:
        for text in lines:
            name = f"{line_key(text)}.ogg"
            out = VOICES_DIR / name
            if not out.is_file():
                render(text, out, Path(d))
            index[text] = name
    for stale in VOICES_DIR.glob("*.ogg"):
        if stale.name not in index.values():
            stale.unlink()
    (VOICES_DIR / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
    total = sum((VOICES_DIR / n).stat().st_size for n in index.values())
    print(f"{len(index)} lines, {total} bytes in {VOICES_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
