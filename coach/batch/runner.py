"""Batch review: analyse a folder of recordings, resumably, in parallel, into the store.

    run_batch(["recordings/"], recursive=True, jobs=2, scheduler=None, db=None,
              out="coach-review", engine="auto", clerk_channel=None)

* Every file is identified by the SHA-256 of its content; a file whose hash the store already
  holds (finished) is skipped, so an interrupted or repeated run only does what is left.
* ``jobs`` > 1 runs ``jobs`` worker processes on this machine (spawned, one speech model each);
  ``scheduler="tcp://host:8786"`` sends the same per-file function to an existing Dask cluster
  (the workers need coach and the speech model installed; the audio is shipped to them, so
  they need not see this machine's files).
* Results are written to the store by this process only, as each file finishes (one row per
  recording per analysis settings: an upsert, so two batches over one folder do not store a
  file twice); then an index report (HTML, Markdown, CSV) and one HTML report per file go to
  ``out``.  The store and the report files are independent: when one cannot be written the
  other still is, and the summary says what was saved where (exit 2).
* Workers die with this process, kill -9 included (Linux: ``PR_SET_PDEATHSIG``), and ignore
  Ctrl-C; on SIGINT/SIGTERM this process finishes the store write under way, stops the
  workers and exits (130 / 143).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from coach.errors import CoachError, InputError, OutputError, Terminated, printable

AUDIO_SUFFIXES = frozenset({
    ".wav", ".wave", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".amr", ".webm",
    ".mp4", ".m4v", ".mov", ".mkv", ".3gp", ".aiff", ".aif",
})


@dataclass
class FileJob:
    path: Path
    sha256: str
    size: int


@dataclass
class FileOutcome:
    """What one worker sends back for one file."""

    path: str
    sha256: str
    result: Any = None            # coach.schema.Result
    error: str | None = None
    seconds: float = 0.0          # wall time spent on the file
    worker: str = ""              # host:pid that did it
    warnings: list = field(default_factory=list)   # one-line decode warnings (truncated file …)


@dataclass
class BatchSummary:
    entries: list = field(default_factory=list)        # coach.report.common.IndexEntry, one per file
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    audio_s: float = 0.0          # audio analysed in this run
    wall_s: float = 0.0
    index_html: Path | None = None
    index_md: Path | None = None
    index_csv: Path | None = None
    workers: set[str] = field(default_factory=set)
    store_error: str | None = None    # results that could not be stored (they are still in the reports)
    unsaved: int = 0
    report_error: str | None = None   # reports that could not be written (the results are in the store)

    def exit_code(self, *, strict: bool = False) -> int:
        """2: a result or report could not be saved · 3: some files failed · 1: --strict and a
        violation · 0: all well (README, coach.cli)."""
        if self.store_error or self.report_error:
            return 2
        if self.failed:
            return 3
        if strict and any(e.violations for e in self.entries):
            return 1
        return 0

    @property
    def speed(self) -> float | None:
        """Audio seconds analysed per wall second (× real time)."""
        return self.audio_s / self.wall_s if self.wall_s > 0 and self.audio_s > 0 else None


# --------------------------------------------------------------------------- discovery

def discover(paths: Iterable[str | os.PathLike], *, recursive: bool = False,
             exclude: Iterable[Path] = ()) -> list[Path]:
    """Audio files named directly, or found in the given folders (by suffix), sorted and unique."""
    skip = [p.resolve() for p in exclude]
    found: dict[Path, None] = {}
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_file():
            found[p] = None
        elif p.is_dir():
            it = p.rglob("*") if recursive else p.glob("*")
            for f in sorted(it):
                if not f.is_file() or f.suffix.lower() not in AUDIO_SUFFIXES:
                    continue
                if any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                r = f.resolve()
                if any(r.is_relative_to(s) for s in skip):
                    continue
                found[f] = None
        else:
            raise InputError(f"{p}: 文件或目录不存在 / no such file or directory")
    return list(found)


def hash_file(path: Path) -> str:
    from coach.store import file_sha256

    return file_sha256(path)


# --------------------------------------------------------------------------- the per-file work

_EVALUATORS: dict[str | None, Any] = {}


def _evaluator(phrasebook: str | None):
    if phrasebook not in _EVALUATORS:
        from coach.phrasebook import load_phrasebook
        from coach.session.evaluate import Evaluator

        _EVALUATORS[phrasebook] = Evaluator(load_phrasebook(phrasebook)) if phrasebook else Evaluator.default()
    return _EVALUATORS[phrasebook]


def analyze_one(path: str, sha256: str, *, engine: str = "auto", clerk_channel: str | int | None = None,
                phrasebook: str | None = None, data: bytes | None = None, profile=None) -> FileOutcome:
    """Analyse one recording (in a worker process or on a Dask worker).  ``data``: the file's
    bytes, when the worker cannot read ``path`` itself.  Never raises: errors come back as text."""
    from coach.session.pipeline import analyze_file

    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    tmp = None
    try:
        source = path
        if data is not None:
            fd, tmp = tempfile.mkstemp(prefix="coach-", suffix=Path(path).suffix or ".audio")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            source = tmp
        from coach.audio.decode import AudioWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AudioWarning)
            result = analyze_file(source, engine=engine, clerk_channel=clerk_channel,
                                  evaluator=_evaluator(phrasebook), profile=profile)
        result.file = path
        notes = [str(w.message).replace(str(source), path) for w in caught if issubclass(w.category, AudioWarning)]
        return FileOutcome(path, sha256, result=result, seconds=time.perf_counter() - t0, worker=worker,
                           warnings=notes)
    except CoachError as exc:
        return FileOutcome(path, sha256, error=exc.message, seconds=time.perf_counter() - t0, worker=worker)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return FileOutcome(path, sha256, error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0,
                           worker=worker)
    finally:
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux ``PR_SET_PDEATHSIG``);
    elsewhere a thread watches the parent.  Exits at once if the parent is already gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="coach-parent-watch").start()
    if os.getppid() != parent_pid:  # the parent died before the watch was set up
        os._exit(1)


def _init_worker(threads: int, parent_pid: int | None = None) -> None:
    """Worker process start-up: die with the parent, leave Ctrl-C to the parent (it stops us),
    share the CPU fairly between the workers."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "COACH_ASR_THREADS"):
        os.environ[var] = str(threads)


# --------------------------------------------------------------------------- executors

Submit = Callable[[FileJob], Any]


def _run_local(jobs: list[FileJob], n: int, kwargs: dict) -> Iterator[FileOutcome]:
    if n <= 1:
        for job in jobs:
            yield analyze_one(str(job.path), job.sha256, **kwargs)
        return
    import multiprocessing

    threads = max(1, (os.cpu_count() or 1) // n)
    # spawn, not fork: the parent runs threads (progress display), forking them is unsafe.
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=(threads, os.getpid())) as pool:
        pending: set[Future] = {pool.submit(analyze_one, str(j.path), j.sha256, **kwargs) for j in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        raise CoachError("分析进程意外退出（内存不足？）；已完成的文件已保存，重新运行即可继续"
                                         " / a worker process died; finished files are saved, run again to resume"
                                         ) from None
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) or a store error: stop the workers now, not after their
            # file.  (Futures are not cancelled: the pool marks them broken itself; cancelling first
            # makes its manager thread fail on them.)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                try:
                    proc.kill()
                except (OSError, AttributeError):
                    pass
            raise


def _run_dask(jobs: list[FileJob], scheduler: str, kwargs: dict) -> Iterator[FileOutcome]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise CoachError("使用 --scheduler 需要安装 dask[distributed]（pip install 'dask[distributed]'）"
                         " / --scheduler needs dask[distributed]") from None
    try:
        client = Client(scheduler, timeout="20s")
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError ("notaurl") …
        raise CoachError(f"--scheduler {scheduler}: 无法连接 Dask 调度器（{exc}）；地址应形如 tcp://主机:8786"
                         " / cannot reach the Dask scheduler") from None
    try:
        # A bounded window of files in flight: the audio is read and shipped only shortly before
        # a worker is free for it, so memory stays small whatever the number of files.
        window = max(2, 2 * sum(client.nthreads().values()))
        queue = iter(jobs)
        unreadable: list[FileOutcome] = []

        def submit_next() -> Any:
            for j in queue:
                try:
                    data = j.path.read_bytes()
                except OSError as exc:
                    unreadable.append(FileOutcome(str(j.path), j.sha256, error=f"无法读取（{exc.strerror}）"))
                    continue
                return client.submit(analyze_one, str(j.path), j.sha256, data=data, pure=False,
                                     key=f"coach-analyze-{j.sha256[:16]}-{time.time_ns()}", **kwargs)
            return None

        running = as_completed([f for f in (submit_next() for _ in range(window)) if f is not None])
        for fut in running:
            yield fut.result()
            nxt = submit_next()
            if nxt is not None:
                running.add(nxt)
        yield from unreadable
    finally:
        client.close()


# --------------------------------------------------------------------------- the batch

@contextmanager
def deferred_signals() -> Iterator[None]:
    """Let a store write finish: SIGINT/SIGTERM that arrive inside are delivered right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    sigs = (signal.SIGINT, signal.SIGTERM)
    old = {s: signal.getsignal(s) for s in sigs}
    for s in sigs:
        signal.signal(s, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        for s in sigs:
            signal.signal(s, old[s])
        if got:
            handler = old[got[0]]
            if callable(handler):
                handler(got[0], None)
            elif got[0] == signal.SIGINT:
                raise KeyboardInterrupt
            else:
                sys.exit(143)


def _progress(console):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("剩余", style="dim"), TimeRemainingColumn(),
                    TextColumn("{task.fields[note]}", style="dim"), console=console, transient=False)


def run_batch(paths: Sequence[str | os.PathLike] | str | os.PathLike, *, recursive: bool = False, jobs: int = 1,
              scheduler: str | None = None, db: str | os.PathLike | None = None,
              out: str | os.PathLike | None = None, engine: str = "auto", clerk_channel: str | int | None = None,
              trainee: str = "", phrasebook: str | os.PathLike | None = None, rerun: bool = False,
              reports: bool = True, console=None) -> BatchSummary:
    """Analyse every audio file under ``paths``; see the module docstring.  Returns a summary;
    ``summary.failed`` files are listed in the index with their error."""
    from rich.console import Console

    from coach.report.common import index_entry
    from coach.store import Store, analysis_key

    console = console or Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if jobs < 1:
        raise CoachError("--jobs 至少为 1 / --jobs must be at least 1")
    if clerk_channel is not None:
        ch = {"0": "left", "1": "right", "l": "left", "r": "right", "左": "left", "右": "right"}.get(
            str(clerk_channel).strip().lower(), str(clerk_channel).strip().lower())
        if ch not in ("left", "right"):
            raise CoachError(f"--clerk-channel 应为 left 或 right（得到 {clerk_channel!r}）"
                             " / --clerk-channel must be left or right")
        clerk_channel = ch
    out_dir = Path(out) if out is not None else Path("coach-review")
    pb = str(phrasebook) if phrasebook else None
    started = time.perf_counter()
    summary = BatchSummary()

    with Store(db) as store:
        files = discover(paths, recursive=recursive, exclude=[out_dir, store.audio_dir])
        if not files:
            raise InputError(f"{', '.join(map(str, paths))}: 没有找到音频文件（支持 "
                             f"{' '.join(sorted(s[1:] for s in AUDIO_SUFFIXES))}）"
                             + ("" if recursive else "；子目录请加 --recursive") + " / no audio files found")
        key = analysis_key(engine, clerk_channel, str(Path(pb).resolve()) if pb else None)
        entries: dict[Path, Any] = {}
        results: dict[Path, Any] = {}     # analysed in this run (kept even if the store write fails)
        todo: list[FileJob] = []
        first_of: dict[str, Path] = {}
        dupes: list[tuple[Path, str]] = []
        with _progress(console) as progress:
            task = progress.add_task("计算文件指纹", total=len(files), note="")
            for f in files:
                try:
                    digest = hash_file(f)
                    size = f.stat().st_size
                except OSError as exc:
                    entries[f] = index_entry(str(f), "failed", error=f"无法读取（{exc.strerror}）")
                    progress.advance(task)
                    continue
                progress.advance(task)
                if digest in first_of:
                    dupes.append((f, digest))
                    continue
                first_of[digest] = f
                row = None if rerun else store.find_hash(digest, key)
                if row is not None:
                    entries[f] = index_entry(str(f), "skipped", store.result(row.id), session_id=row.id)
                else:
                    todo.append(FileJob(f, digest, size))
            progress.update(task, note=f"待分析 {len(todo)} · 已分析过 {len(entries)}")

            from coach.speaker.profile import load_profile  # the trainee's voice: mono files by speaker
            kwargs = {"engine": engine, "clerk_channel": clerk_channel, "phrasebook": pb,
                      "profile": load_profile(trainee)}
            where = f"Dask {scheduler}" if scheduler else f"{jobs} 个进程"
            if todo:
                task = progress.add_task(f"分析录音（{where}）", total=len(todo), note="")
                runner = (_run_dask(todo, scheduler, kwargs) if scheduler
                          else _run_local(todo, jobs, kwargs))
                try:
                    for outcome in runner:
                        _take(outcome, store, summary, entries, results, progress, trainee=trainee, pb=pb, key=key)
                        elapsed = time.perf_counter() - started
                        rt = f" · {summary.audio_s / elapsed:.1f}× 实时" if summary.audio_s else ""
                        progress.update(task, advance=1, note=f"{printable(Path(outcome.path).name)}{rt}")
                except (KeyboardInterrupt, SystemExit, Terminated):
                    progress.stop()
                    _interrupted(console, summary, store)
                    raise
        for f, digest in dupes:
            first = entries.get(first_of[digest])
            row = store.find_hash(digest, key) if not summary.store_error else None
            if row is not None:
                entries[f] = index_entry(str(f), "skipped", store.result(row.id), session_id=row.id)
            elif first is not None and first.status != "failed" and first_of[digest] in results:
                entries[f] = index_entry(str(f), "skipped", results[first_of[digest]])
            else:
                entries[f] = index_entry(str(f), "failed", error=(first.error if first else None) or "与另一文件相同")
        summary.skipped = sum(e.status == "skipped" for e in entries.values())
        summary.failed = sum(e.status == "failed" for e in entries.values())
        summary.entries = [entries[f] for f in files]
        summary.wall_s = time.perf_counter() - started

        if reports:
            try:
                _write_reports(summary, out_dir, store, results, files, paths)
            except OutputError as exc:
                summary.report_error = exc.message

    speed = f"，{summary.speed:.1f}× 实时" if summary.speed else ""
    console.print(f"完成：分析 {summary.analysed} 个，跳过 {summary.skipped} 个（此前已分析），失败 {summary.failed} 个；"
                  f"用时 {summary.wall_s:.1f} 秒{speed}", highlight=False)
    saved = summary.analysed - summary.unsaved
    if summary.store_error:
        console.print(f"[red]✗[/red] {summary.unsaved} 个结果未能写入会话数据库：{printable(summary.store_error)}"
                      + ("；这些结果已写入下面的报告" if summary.index_html else ""), highlight=False)
    elif summary.analysed:
        console.print(f"结果已保存到会话数据库：{printable(store.path)}（{saved} 条）", highlight=False)
    if summary.report_error:
        console.print(f"[red]✗[/red] 报告未能写入：{printable(summary.report_error)}"
                      + (f"；分析结果已在会话数据库 {printable(store.path)} 中，可用 coach report 重新生成"
                         if not summary.store_error else ""), highlight=False)
    elif summary.index_html:
        console.print(f"报告：{printable(summary.index_html)}", highlight=False)
    return summary


def _take(outcome: FileOutcome, store, summary: BatchSummary, entries: dict, results: dict, progress, *,
          trainee: str, pb: str | None, key: str) -> None:
    """One finished file: store it (the store write is not interrupted by Ctrl-C) and list it."""
    from coach.report.common import index_entry
    from coach.store import StoreError

    f = Path(outcome.path)
    summary.workers.add(outcome.worker)
    for w in outcome.warnings:
        progress.console.print(f"[yellow]![/yellow] 警告：{printable(w)}", highlight=False)
    if outcome.error is not None:
        entries[f] = index_entry(str(f), "failed", error=outcome.error)
        summary.failed += 1
        progress.console.print(f"[red]✗[/red] {printable(f)}: {printable(outcome.error)}", highlight=False)
        return
    r = outcome.result
    results[f] = r
    summary.analysed += 1
    summary.audio_s += r.duration_s or 0.0
    sid = None
    if summary.store_error is None:
        try:
            with deferred_signals():
                sid = store.save_result(r, kind="review", trainee=trainee, audio_sha256=outcome.sha256,
                                        source_file=str(f.resolve()), phrasebook=pb, analysis_key=key,
                                        model=r.extra.get("model") if r.extra else None)
        except StoreError as exc:
            summary.store_error = exc.message
            progress.console.print(f"[red]✗[/red] {printable(exc.message)}；继续分析，结果写入报告", highlight=False)
    entry = index_entry(str(f), "analysed", r, session_id=sid)
    if sid is None:
        summary.unsaved += 1
        entry.note = "未写入数据库"
    entries[f] = entry


def _interrupted(console, summary: BatchSummary, store) -> None:
    console.print(f"已中断：本次已分析 {summary.analysed} 个文件，其中 {summary.analysed - summary.unsaved} 个已保存到"
                  f" {printable(store.path)}；重新运行同一命令即可继续 / interrupted, finished files are saved",
                  highlight=False)


def _write_reports(summary: BatchSummary, out_dir: Path, store, results: dict, files: list[Path], paths) -> None:
    """Per-file HTML reports and the index (HTML, Markdown, CSV), each written atomically;
    from the results in memory, so they land even when the store could not take them."""
    from coach.report import csv_export, html, markdown
    from coach.store.files import unique_path

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from coach.store.files import os_reason

        raise OutputError(f"{out_dir}: 无法创建报告文件夹（{os_reason(exc)}）/ cannot create the output folder") from None
    taken: set[Path] = set()
    for f, e in zip(files, summary.entries):
        result = results.get(f)
        row = None
        if e.session_id is not None and not summary.store_error:
            row = store.session(e.session_id)
            result = result or store.result(e.session_id)
        if result is None:
            continue
        stem = f"{e.session_id:06d}-{_slug(Path(e.file).stem)}" if e.session_id is not None \
            else f"unsaved-{_slug(Path(e.file).stem)}"
        name = unique_path(Path("sessions") / f"{stem}.html", taken).as_posix()
        html.write(out_dir / name, html.session_html(result, row))
        e.link = name
    source = ", ".join(str(p) for p in paths)
    summary.index_html = html.write(out_dir / "index.html", html.index_html(
        summary.entries, source=source, db=str(store.path)))
    summary.index_md = html.write(out_dir / "index.md", markdown.index_md(
        summary.entries, source=source, db=str(store.path)))
    summary.index_csv = csv_export.write_csv(out_dir / "index.csv", csv_export.index_csv(summary.entries))


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return keep[:60] or "file"
