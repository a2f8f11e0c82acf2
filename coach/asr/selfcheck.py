"""First use of a speech model: does it still recognise Mandarin?

A model whose weights are damaged while its files keep their size and mtime loads fine and
returns garbage ("I the the …", or nothing) that would then be scored.  whisper-base is
protected by the full hash of its pinned ``model.bin`` (:func:`coach.asr.models.check_weights`);
any other Mandarin model — a Vosk model unpacked by hand (no manifest), or one installed by
``coach models install`` from a copy that was already damaged (its manifest records the damage)
— has no known-good hash.  For those, the first time a model is used it transcribes the bundled
clip ``coach/data/selfcheck/check.ogg`` (7 s, espeak-ng; text in ``check.txt``), and the
transcript must be within :data:`MAX_CER` of the known text (character error rate after
normalisation).  A pass is remembered in the user data folder (``model-checks.json``) for the
model folder with the size and mtime of its files, so the check runs once per installed model;
a failure is one :class:`~coach.errors.ModelError` line telling the user to repair the model.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from coach.errors import ModelError, OutputError

DATA = Path(__file__).resolve().parents[1] / "data" / "selfcheck"
CLIP = DATA / "check.ogg"
TEXT = (DATA / "check.txt").read_text(encoding="utf-8").strip()
# Whisper-base reads the clip with CER 0.00; a damaged copy gives nothing or non-Mandarin (1.00).
# 0.7 leaves a wide margin for a weaker intact model on a synthetic voice (a small Vosk model
# has not been measured here): only a transcript with less than a third of the text is refused.
MAX_CER = 0.7
CACHE_NAME = "model-checks.json"


def cache_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("coach", appauthor=False) / CACHE_NAME


def needed(name: str) -> bool:
    """Mandarin models without a pinned known-good hash of their weights."""
    from coach.asr.models import REGISTRY, spec_for

    spec = spec_for(name)
    pinned = REGISTRY.get(name)
    return spec.language == "zh" and not (pinned and pinned.engine == "whisper" and pinned.sha256)


def fingerprint(path: Path) -> str:
    """The model folder and the size and mtime of each of its files (not the manifest)."""
    from coach.asr.models import MANIFEST

    h = hashlib.sha256(str(path.resolve()).encode())
    for p in sorted(path.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            st = p.stat()
            h.update(f"\0{p.relative_to(path).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _cache() -> dict:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(cache: dict) -> None:
    try:
        from coach.store.files import write_atomic

        write_atomic(cache_path(), json.dumps(cache, ensure_ascii=False, indent=1))
    except OutputError:
        pass  # an unwritable user data folder: the check simply runs again next time


def passed(path: Path) -> float | None:
    """The CER with which the model in ``path``, as it is now, passed (None: not checked)."""
    entry = _cache().get(fingerprint(Path(path)))
    return entry.get("cer") if isinstance(entry, dict) else None


def forget(path: Path) -> None:
    """Forget the pass of the model in ``path`` (``coach models verify`` checks it again)."""
    cache = _cache()
    if cache.pop(fingerprint(Path(path)), None) is not None:
        _save(cache)


def char_error_rate(reference: str, heard: str) -> float:
    from rapidfuzz.distance import Levenshtein

    from coach.phrasebook.normalize import normalize_phrase

    ref, hyp = normalize_phrase(reference), normalize_phrase(heard)
    return Levenshtein.distance(ref, hyp) / max(1, len(ref))


def check(engine, name: str, path: Path) -> float | None:
    """Transcribe the known clip with ``engine`` (model ``name`` in ``path``) unless this model,
    as it is now, passed before; returns the CER (None: not needed or already passed).
    Raises :class:`ModelError` when the transcript is not close to the known text."""
    if not needed(name):
        return None
    path = Path(path)
    key = fingerprint(path)
    cache = _cache()
    if key in cache:
        return None
    from coach.audio.decode import read

    grammar = getattr(engine, "grammar", None)
    if grammar:
        engine.grammar = None  # a Vosk grammar limits the words it can hear: check the model, not it
    try:
        heard = "".join(u.text for u in engine.transcribe([read(CLIP)]))
    finally:
        if grammar:
            engine.grammar = grammar
    cer = char_error_rate(TEXT, heard)
    if cer > MAX_CER:
        from coach.asr.models import _fix_hint
        from coach.errors import printable

        shown = printable(heard[:24]) or "（空）"
        raise ModelError(f"{path}: 模型 {name} 识别不出普通话自检录音（听成“{shown}”，字错率 {cer:.0%}），"
                         "模型文件可能已损坏 / the model fails its Mandarin self-check, its files may be damaged",
                         hint=f"修复：{_fix_hint(name)}")
    cache[key] = {"model": name, "path": str(path), "cer": round(cer, 3), "checked": time.time()}
    _save(cache)
    return cer


__all__ = ["CLIP", "MAX_CER", "TEXT", "cache_path", "char_error_rate", "check", "fingerprint", "forget", "needed",
           "passed"]
