"""Write files whole or not at all: the one way coach writes a file (reports, JSON, CSV,
batch index, settings, model manifests).

A temporary file in the target's folder is written, flushed and fsync'ed, given the mode a
new file would get under the user's umask (or the mode of the file it replaces), then renamed
over the target; the folder is fsync'ed too.  A failure at any point (disk full, file-size
limit, read-only folder) leaves the previous file untouched and no temporary behind, and is
raised as one :class:`~coach.errors.OutputError` line naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from coach.errors import OutputError

_UMASK_LOCK = threading.Lock()
_REASON = {errno.ENOSPC: "磁盘已满", errno.EDQUOT: "磁盘配额已满", errno.EFBIG: "文件过大（超出文件大小限制）",
           errno.EROFS: "只读文件系统", errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
           errno.ENOTDIR: "上级路径不是文件夹", errno.EEXIST: "同名文件已存在", errno.EISDIR: "这是一个文件夹"}


def os_reason(exc: OSError) -> str:
    """An OSError as a few words (Chinese first, then the system's own text)."""
    zh = _REASON.get(exc.errno or 0)
    en = exc.strerror or type(exc).__name__
    return f"{zh} / {en}" if zh else en


def _umask() -> int:
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def new_dir_mode() -> int:
    """The mode ``mkdir`` would give a new folder under the user's umask (``mkdtemp`` gives 0700)."""
    return 0o777 & ~_umask()


def _new_file_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)  # keep the mode of the file we replace
    except OSError:
        return 0o666 & ~_umask()


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = "") -> Iterator[IO]:
    """``with atomic_open(p, "wb") as fh: fh.write(...)`` — ``p`` appears only when the block
    completes; on any error the old ``p`` (if any) is kept."""
    path = Path(path)
    binary = "b" in mode
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: 无法写入（{os_reason(exc)}）/ cannot write") from None
    try:
        fh = os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": encoding, "newline": newline}))
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: 无法写入（{os_reason(exc)}），原文件未改动 / cannot write, "
                          "the previous file is unchanged") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_atomic(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text or bytes) to ``path`` whole or not at all; returns the path."""
    with atomic_open(path, "wb" if isinstance(data, bytes) else "w", encoding=encoding) as fh:
        fh.write(data)
    return Path(path)


def unique_path(path: Path, taken: set[Path]) -> Path:
    """``path``, or ``stem-2.ext``, ``stem-3.ext`` … — the first one not in ``taken`` (which is updated)."""
    cand, n = path, 1
    while cand in taken:
        n += 1
        cand = path.with_name(f"{path.stem}-{n}{path.suffix}")
    taken.add(cand)
    return cand
