"""The classes of issue 12 that had no end-to-end test yet, each with its own hostile corpus made
here: a phrasebook pattern built to hang, run through the real ``coach check``; Ctrl-C in the
middle of a batch (exit 130, the database whole, a rerun goes on where it stopped); a disk that
fills up while whisper-base is assembled (no half model left behind).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from coach.phrasebook import default_dir
from coach.store import Store
from test_hardening import assert_clean_error, clip, clips, coach, coach_env


# ---------------------------------------------------------------- no hangs, end to end

HOSTILE = """
[[brush_off]]
id = "zz_hang"
family = "dont_know"
phrase = "啊啊啊"
patterns = ['(啊+)+$', '(a|a)+b', '(x+x+)+y']
exception_patterns = ['(a+)+$', '((a+)+)+c']
"""


def test_patterns_built_to_backtrack_do_not_hang_check(tmp_path):
    """Nested and overlapping repetition on 40-character lines: a backtracking engine needs
    2^40 steps; the real CLI must answer at once (subprocess timeout: 60 s on a busy machine)."""
    pb = tmp_path / "pb"
    shutil.copytree(default_dir(), pb)
    (pb / "brush_offs.toml").write_text((pb / "brush_offs.toml").read_text("utf-8") + HOSTILE, encoding="utf-8")
    assert coach("phrasebook", "validate", str(pb), timeout=60).returncode == 0
    lines = tmp_path / "t.txt"
    lines.write_text("\n".join(["窗口: 不知道" + "a" * 40 + "b", "窗口: " + "啊" * 40 + "吧",
                                "窗口: " + "x" * 40, "窗口: " + "a" * 40 + "d"]) + "\n", encoding="utf-8")
    t0 = time.monotonic()
    proc = coach("--phrasebook", str(pb), "check", "--file", str(lines), "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - t0 < 60


# ---------------------------------------------------------------- Ctrl-C in a batch

def _rows(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    except sqlite3.Error:
        return 0


# Enough recordings that the batch cannot finish between its first stored result and the
# interrupt, even when this test process waits seconds for a core (CI under load: with 5 the
# batch once finished first and the test had nothing to check).
N_CLIPS = 12   # clips() cuts 2.5 s pieces of one 30 s recording: 12 at most


def _default_sigint() -> None:
    """In the child: Ctrl-C as a terminal delivers it.  A test run started in the background
    (``cmd &`` in a script, nohup) has SIGINT ignored, every child inherits that, and the batch
    then rightly ignores the interrupt too — this test asks what it does with one."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_in_a_batch_keeps_what_was_done_and_a_rerun_goes_on(tmp_path):
    folder = tmp_path / "rec"
    clips(folder, N_CLIPS)
    db, out = tmp_path / "c.db", tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "coach", "analyze", str(folder), "--db", str(db), "--out", str(out)],
                            env=coach_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 300
        while _rows(db) < 1:                   # wait for the first stored result (state, not time)
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "no result stored within 300 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    if proc.returncode == 0:
        pytest.skip("the batch finished before the interrupt arrived")   # all stored: nothing to test
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "已中断" in err, err
    done = _rows(db)
    assert 1 <= done < N_CLIPS
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not [p for p in tmp_path.rglob(".*.tmp")]                     # no half-written file
    again = coach("analyze", str(folder), "--db", str(db), "--out", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"跳过 {done} 个" in again.stderr, again.stderr
    with Store(db) as store:
        assert len(store.sessions(kind="review")) == N_CLIPS              # each recording once


# ---------------------------------------------------------------- disk full while a model is assembled

def test_disk_full_while_whisper_base_is_assembled_leaves_no_half_model(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    proc = coach("transcribe", str(clip(tmp_path / "a.wav")), COACH_MODELS_DIR=str(models), fsize=50_000_000)
    err = assert_clean_error(proc, 2, "文件过大")
    assert str(models) in err
    assert list(models.iterdir()) == []                                   # no model, no temporary folder
    ok = coach("transcribe", str(clip(tmp_path / "a.wav")), COACH_MODELS_DIR=str(models))
    assert ok.returncode == 0 and ok.stdout.strip(), ok.stderr[-2000:]     # and the next run assembles it
    assert os.path.getsize(models / "whisper-base" / "model.bin") > 100_000_000


# ---------------------------------------------------------------- bounded memory: speaker attribution

def _repeated_session(path, times: int):
    """D10 (87 s, two voices) ``times`` over, with its labelled utterances shifted each time."""
    import json

    import numpy as np
    import soundfile as sf

    from coach.schema import Utterance
    from shared import dev_dir

    audio, sr = sf.read(str(dev_dir() / "D10.wav"), dtype="float32")
    labs = json.loads((dev_dir() / "D10.json").read_text("utf-8"))["utterances"]
    sf.write(str(path), np.tile(audio, times), sr, subtype="PCM_16")
    step = len(audio) / sr
    return [Utterance(u["start"] + k * step, u["end"] + k * step, "unknown", u["text"])
            for k in range(times) for u in labs]


def test_attributing_a_long_recording_streams_in_bounded_memory(tmp_path):
    """The whole-file attribution used to hold every utterance's audio and run the voice encoder
    on all of it in one batch (~0.8 MB per 1.25 s of speech): a 60-min counter day peaked at
    1.2 GB instead of 0.55.  Now its peak must not grow with the recording (tracemalloc sees
    numpy's buffers), and it decides exactly as the one-batch version on the same audio."""
    import tracemalloc

    import numpy as np

    from coach.session.evaluate import Evaluator
    from coach.speaker.apply import attribute_file, attribute_utterances, cut_segments

    ev = Evaluator.default()
    peaks = {}
    for times in (2, 8):
        wav = tmp_path / f"d10x{times}.wav"
        utts = _repeated_session(wav, times)
        tracemalloc.start()
        got = attribute_file(wav, utts, ev)
        peaks[times] = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        if times == 2:
            ref = attribute_utterances(utts, cut_segments(wav, utts), ev)
            assert [u.speaker for u in got] == [u.speaker for u in ref]
            np.testing.assert_allclose([u.speaker_score for u in got], [u.speaker_score for u in ref], atol=1e-4)
    assert peaks[8] < peaks[2] + 16, peaks            # 4× the speech, (about) the same peak
