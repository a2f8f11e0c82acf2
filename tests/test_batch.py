"""Batch review with the real speech model on short real clips: progress, store, index report,
resume (a second run skips everything), and the Dask path against a local cluster."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import soundfile as sf
from distributed import LocalCluster
from rich.console import Console

from coach.batch import discover, run_batch
from coach.cli import main
from coach.store import Store, file_sha256

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("COACH_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def dev_dir() -> Path:
    d = shared_dir() / "audio" / "dev"
    if not (d / "D01.wav").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test audio missing: {d} (set COACH_SHARED)")
        pytest.skip(f"test audio missing: {d}")
    return d


def make_clips(dst: Path, n: int = 20) -> list[Path]:
    """``n`` clips of 3–5 s cut from the dev sessions around labelled clerk turns."""
    src = dev_dir()
    out: list[Path] = []
    sessions = sorted(src.glob("D[0-9][0-9].json"))
    per = -(-n // len(sessions))
    for meta_path in sessions:
        meta = json.loads(meta_path.read_text("utf-8"))
        audio, sr = sf.read(str(src / meta["files"]["mono"]), dtype="float32")
        clerk = [u for u in meta["utterances"] if u["speaker"] == "clerk"]
        picks = [u for u in clerk if u.get("labels")] or clerk
        for k, u in enumerate([picks[0], picks[-1]][:per]):
            start = max(0.0, u["start"] - 0.3)
            end = min(start + 5.0, max(u["end"] + 0.3, start + 3.0), len(audio) / sr)
            start = max(0.0, min(start, end - 3.0))
            sub = dst / ("a" if k == 0 else "b")
            sub.mkdir(parents=True, exist_ok=True)
            path = sub / f"{meta['id']}_{k}.wav"
            sf.write(str(path), audio[int(start * sr):int(end * sr)], sr, subtype="PCM_16")
            out.append(path)
            if len(out) == n:
                return out
    return out


def findings_by_hash(db: Path) -> dict[str, list[tuple]]:
    with Store(db) as store:
        out = {}
        for row in store.sessions(kind="review"):
            r = store.result(row.id)
            out[row.audio_sha256] = [(f.type, f.rule, f.phrase, f.heard, f.start, f.end, f.speaker, f.severity)
                                     for f in r.findings]
        return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("recordings")
    files = make_clips(d, 20)
    assert len(files) == 20 and all(3.0 <= sf.info(str(f)).duration <= 5.01 for f in files)
    (d / "notes.txt").write_text("not audio", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def first_run(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    console = Console(file=io.StringIO(), force_terminal=True, width=140)
    summary = run_batch([clips], recursive=True, jobs=2, scheduler=None, db=out / "coach.db", out=out / "report",
                        engine="auto", clerk_channel=None, console=console)
    return out, summary, console.file.getvalue()


def test_discovery_is_recursive_only_when_asked(clips):
    assert discover([clips]) == []  # the clips are in sub-folders
    files = discover([clips], recursive=True)
    assert len(files) == 20 and all(f.suffix == ".wav" for f in files)


def test_batch_of_20_files_with_progress_store_and_index(first_run, clips):
    out, summary, shown = first_run
    assert summary.analysed == 20 and summary.skipped == 0 and summary.failed == 0
    assert "分析录音（2 个进程）" in shown and "20/20" in shown and "━" in shown  # the progress bar
    assert len({w for w in summary.workers}) == 2          # really two worker processes
    with Store(out / "coach.db") as store:
        rows = store.sessions()
        assert len(rows) == 20 and all(r.finished and r.kind == "review" for r in rows)
        hashes = {file_sha256(f) for f in discover([clips], recursive=True)}
        assert {r.audio_sha256 for r in rows} == hashes
        assert sum(r.n_utterances for r in rows) >= 20
        assert any(r.n_brush_off for r in rows)            # the rude sessions' clips are caught
        assert any(r.n_courtesy for r in rows)
    index = (out / "report" / "index.html").read_text("utf-8")
    assert index.count("<tr>") == 21 and "http:" not in index and "https:" not in index
    md = (out / "report" / "index.md").read_text("utf-8")
    assert md.count(".wav") >= 20
    links = [e.link for e in summary.entries]
    assert all(link and (out / "report" / link).exists() for link in links)


def test_second_run_skips_everything(first_run, clips):
    out, first, _ = first_run
    console = Console(file=io.StringIO(), force_terminal=True, width=140)
    # add a broken file: it fails, alone, and is listed with its error
    bad = clips / "a" / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    try:
        summary = run_batch([clips], recursive=True, jobs=2, scheduler=None, db=out / "coach.db",
                            out=out / "report2", engine="auto", clerk_channel=None, console=console)
    finally:
        bad.unlink()
    assert summary.analysed == 0 and summary.skipped == 20 and summary.failed == 1
    failed = [e for e in summary.entries if e.status == "failed"]
    assert failed[0].file.endswith("broken.wav") and failed[0].error
    with Store(out / "coach.db") as store:
        assert len(store.sessions()) == 20
    assert {e.session_id for e in summary.entries if e.status == "skipped"} == \
        {e.session_id for e in first.entries}
    assert "broken.wav" in (out / "report2" / "index.html").read_text("utf-8")
    # the command line does the same: nothing left to do, exit 0
    assert main(["analyze", str(clips), "--recursive", "--jobs", "2", "--db", str(out / "coach.db"),
                 "--out", str(out / "report3")]) == 0
    assert (out / "report3" / "index.md").read_text("utf-8").count("已跳过") == 20
    # and `coach analyze DIR` hands a folder to the same batch review
    assert main(["analyze", str(clips), "--recursive", "--db", str(out / "coach.db"), "--out", str(out / "r4")]) == 0
    assert (out / "r4" / "index.html").exists()


def test_dask_cluster_gives_the_same_findings(first_run, clips, tmp_path):
    out, _, _ = first_run
    subset = sorted(discover([clips], recursive=True))[::4]   # 5 files keep the test short
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        summary = run_batch(subset, recursive=False, jobs=1, scheduler=cluster.scheduler_address,
                            db=tmp_path / "dask.db", out=tmp_path / "report", engine="auto", clerk_channel=None,
                            console=Console(file=io.StringIO()))
    assert summary.analysed == len(subset) and summary.failed == 0
    assert all(not w.endswith(f":{os.getpid()}") for w in summary.workers)   # done by the cluster's workers
    local = findings_by_hash(out / "coach.db")
    remote = findings_by_hash(tmp_path / "dask.db")
    assert set(remote) <= set(local)
    for digest, found in remote.items():
        assert found == local[digest]


def test_missing_folder_and_empty_folder_are_clear_errors(tmp_path):
    from coach.errors import InputError

    with pytest.raises(InputError, match="不存在"):
        run_batch([tmp_path / "nope"], db=tmp_path / "x.db", out=tmp_path / "o", console=Console(file=io.StringIO()))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="没有找到音频文件"):
        run_batch([tmp_path / "empty"], db=tmp_path / "x.db", out=tmp_path / "o", console=Console(file=io.StringIO()))
