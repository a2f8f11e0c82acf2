"""Load and validate the phrasebook (rules and scenarios as TOML data).

Everything a trainer may edit lives in a phrasebook directory (see ``phrasebook/README.md``).
Loading is strict: a syntax error, an unknown key, a value of the wrong type, a number that is
not finite, an empty phrase, a duplicate id or a pattern that does not compile (in its text or
its sound form) raises :class:`~coach.errors.PhrasebookError` whose message names the file and
the entry, so that ``coach`` can print one line and exit with code 2.  ``coach phrasebook
validate`` is this same function: what validates is exactly what runs.
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from coach.errors import PhrasebookError
from coach.phrasebook.model import (
    BRUSH_OFF_SEVERITIES,
    STAGE_TITLES,
    STAGES,
    ContextRule,
    Entry,
    Family,
    Phrasebook,
    Scenario,
    Thresholds,
    Turn,
    default_dir,
)
from coach.phrasebook.normalize import normalize_phrase
from coach.phrasebook.patterns import Pattern, PatternError, compile_pattern, normalize_sets

_ID_RE = re.compile(r"^[a-z0-9_.\-]+$")
_SET_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------- reading

class _Ctx:
    """Where we are, for error messages."""

    def __init__(self, path: Path, root: Path):
        self.path = path
        try:
            self.name = str(path.relative_to(root.parent))
        except ValueError:
            self.name = str(path)

    def fail(self, what: str, entry: str | None = None) -> PhrasebookError:
        where = f"{self.name}: {entry}: " if entry else f"{self.name}: "
        return PhrasebookError(where + what)


def _read_toml(path: Path, ctx: _Ctx) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ctx.fail(f"cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ctx.fail("not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ctx.fail(f"TOML syntax error: {exc}") from None


def _check_keys(d: dict, allowed: set[str], required: set[str], ctx: _Ctx, entry: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ctx.fail(f"unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})", entry)
    missing = sorted(required - set(d))
    if missing:
        raise ctx.fail(f"missing key '{missing[0]}'", entry)


def _str(d: dict, key: str, ctx: _Ctx, entry: str, *, default: str | None = None, phrase: bool = False) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise ctx.fail(f"'{key}' must be a string", entry)
    if phrase and not normalize_phrase(v):
        raise ctx.fail(f"'{key}' is empty", entry)
    return v


def _strs(d: dict, key: str, ctx: _Ctx, entry: str, *, phrases: bool = True) -> tuple[str, ...]:
    v = d.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ctx.fail(f"'{key}' must be a list of strings", entry)
    if phrases:
        for x in v:
            if not normalize_phrase(x):
                raise ctx.fail(f"'{key}' has an empty phrase {x!r}", entry)
    return tuple(v)


def _patterns(d: dict, key: str, ctx: _Ctx, entry: str, sets: dict) -> tuple[Pattern, ...]:
    out = []
    for src in _strs(d, key, ctx, entry, phrases=False):
        try:
            out.append(compile_pattern(src, sets))
        except PatternError as exc:
            raise ctx.fail(f"bad pattern in '{key}': {exc}", entry) from None
    return tuple(out)


def _table(d: dict, key: str, ctx: _Ctx) -> dict:
    v = d.get(key, {})
    if not isinstance(v, dict):
        raise ctx.fail(f"'{key}' must be a table ([{key}])", f"[{key}]")
    return v


def _bool(d: dict, key: str, ctx: _Ctx, entry: str) -> bool:
    v = d.get(key, False)
    if not isinstance(v, bool):
        raise ctx.fail(f"'{key}' must be true or false", entry)
    return v


def _entry_id(d: dict, ctx: _Ctx, label: str, seen: dict[str, str]) -> str:
    eid = d.get("id")
    if not isinstance(eid, str) or not _ID_RE.match(eid):
        raise ctx.fail(f"{label} needs an 'id' of lower-case letters, digits, '.', '_' or '-' (got {eid!r})",
                       f"{label} #{d.get('_n', '?')}")
    if eid in seen:
        raise ctx.fail(f"duplicate id '{eid}' (first in {seen[eid]})", f'{label} "{eid}"')
    seen[eid] = ctx.name
    return eid


_COURTESY_KEYS = {"id", "stage", "phrase", "variants", "patterns", "near_misses", "exceptions",
                  "exception_patterns"}
_BRUSH_KEYS = {"id", "family", "phrase", "variants", "patterns", "severity", "suggestions", "exceptions",
               "exception_patterns", "standalone", "refers", "trusted", "note"}
_FAMILY_KEYS = {"id", "title", "norm", "severity", "suggestions", "exception_patterns", "refers", "trusted"}
_CONTEXT_KEYS = {"id", "patterns", "families", "note"}


class _Book:
    """What entries need from the rest of the phrasebook while it loads."""

    def __init__(self, root: Path):
        self.root = root
        self.seen: dict[str, str] = {}          # entry id -> file
        self.sets: dict[str, tuple[str, ...]] = {}
        self.families: dict[str, Family] = {}


def _severity(d: dict, ctx: _Ctx, label: str, default: str | None) -> str:
    severity = _str(d, "severity", ctx, label, default=default)
    if severity not in BRUSH_OFF_SEVERITIES:
        raise ctx.fail(f"severity must be one of {', '.join(BRUSH_OFF_SEVERITIES)} (got '{severity}')", label)
    return severity


def _courtesy(d: dict, ctx: _Ctx, book: _Book) -> Entry:
    eid = _entry_id(d, ctx, "courtesy", book.seen)
    label = f'courtesy "{eid}"'
    _check_keys(d, _COURTESY_KEYS | {"_n"}, {"stage", "phrase"}, ctx, label)
    stage = _str(d, "stage", ctx, label)
    if stage not in STAGES:
        raise ctx.fail(f"unknown stage '{stage}' (one of: {', '.join(STAGES)})", label)
    return Entry(
        id=eid, kind="courtesy", stage=stage, family=stage,
        phrase=_str(d, "phrase", ctx, label, phrase=True),
        variants=_strs(d, "variants", ctx, label),
        patterns=_patterns(d, "patterns", ctx, label, book.sets),
        near_misses=_strs(d, "near_misses", ctx, label),
        exceptions=_strs(d, "exceptions", ctx, label),
        exception_patterns=_patterns(d, "exception_patterns", ctx, label, book.sets),
        source=ctx.name,
    )


def _family(d: dict, ctx: _Ctx, book: _Book) -> Family:
    fid = d.get("id")
    if not isinstance(fid, str) or not _ID_RE.match(fid):
        raise ctx.fail(f"family needs an 'id' of lower-case letters, digits, '.', '_' or '-' (got {fid!r})",
                       f"family #{d.get('_n', '?')}")
    label = f'family "{fid}"'
    if fid in book.families:
        raise ctx.fail(f"duplicate family id '{fid}'", label)
    _check_keys(d, _FAMILY_KEYS | {"_n"}, {"title", "severity", "suggestions"}, ctx, label)
    suggestions = _strs(d, "suggestions", ctx, label)
    if not suggestions:
        raise ctx.fail("'suggestions' needs at least one courteous alternative", label)
    fam = Family(id=fid, kind="brush_off", title=_str(d, "title", ctx, label, phrase=True),
                 norm=_str(d, "norm", ctx, label, default=""), severity=_severity(d, ctx, label, None),
                 suggestions=suggestions,
                 exception_patterns=_patterns(d, "exception_patterns", ctx, label, book.sets),
                 refers=_bool(d, "refers", ctx, label), trusted=_bool(d, "trusted", ctx, label),
                 source=ctx.name)
    book.families[fid] = fam
    return fam


def _brush_off(d: dict, ctx: _Ctx, book: _Book) -> Entry:
    eid = _entry_id(d, ctx, "brush_off", book.seen)
    label = f'brush_off "{eid}"'
    fam_id = d.get("family")
    fam = None
    if fam_id is not None:
        if not isinstance(fam_id, str) or fam_id not in book.families:
            known = ", ".join(sorted(book.families)) or "none defined"
            raise ctx.fail(f"unknown family {fam_id!r} (known: {known})", label)
        fam = book.families[fam_id]
    required = {"phrase"} if fam else {"phrase", "severity", "suggestions"}
    _check_keys(d, _BRUSH_KEYS | {"_n"}, required, ctx, label)
    suggestions = _strs(d, "suggestions", ctx, label) or (fam.suggestions if fam else ())
    if not suggestions:
        raise ctx.fail("'suggestions' needs at least one courteous alternative", label)
    return Entry(
        id=eid, kind="brush_off", family=fam.id if fam else eid,
        phrase=_str(d, "phrase", ctx, label, phrase=True),
        variants=_strs(d, "variants", ctx, label),
        patterns=_patterns(d, "patterns", ctx, label, book.sets),
        severity=_severity(d, ctx, label, fam.severity if fam else None),
        suggestions=suggestions,
        exceptions=_strs(d, "exceptions", ctx, label),
        exception_patterns=_patterns(d, "exception_patterns", ctx, label, book.sets),
        standalone=_bool(d, "standalone", ctx, label),
        refers=_bool(d, "refers", ctx, label) or bool(fam and fam.refers),
        trusted=_bool(d, "trusted", ctx, label) or bool(fam and fam.trusted),
        note=_str(d, "note", ctx, label, default=fam.norm if fam else ""),
        source=ctx.name,
    )


def _context(d: dict, ctx: _Ctx, book: _Book, seen: set[str]) -> ContextRule:
    cid = d.get("id")
    if not isinstance(cid, str) or not _ID_RE.match(cid):
        raise ctx.fail(f"context needs an 'id' of lower-case letters, digits, '.', '_' or '-' (got {cid!r})",
                       f"context #{d.get('_n', '?')}")
    label = f'context "{cid}"'
    if cid in seen:
        raise ctx.fail(f"duplicate context id '{cid}'", label)
    seen.add(cid)
    _check_keys(d, _CONTEXT_KEYS | {"_n"}, {"patterns"}, ctx, label)
    families = _strs(d, "families", ctx, label, phrases=False)
    for f in families:
        if f not in book.families:
            raise ctx.fail(f"'families' names unknown family '{f}'", label)
    patterns = _patterns(d, "patterns", ctx, label, book.sets)
    if not patterns:
        raise ctx.fail("'patterns' needs at least one pattern", label)
    return ContextRule(id=cid, patterns=patterns, families=families,
                       note=_str(d, "note", ctx, label, default=""), source=ctx.name)


def _table_list(data: dict, key: str, ctx: _Ctx) -> list[dict]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise ctx.fail(f"'{key}' must be an array of tables ([[{key}]])")
    for n, item in enumerate(items, 1):
        item["_n"] = n
    return items


def _only_keys(data: dict, allowed: set[str], ctx: _Ctx) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ctx.fail(f"unknown top-level key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")


def _scenario(path: Path, book: _Book, courtesy_ids: set[str], seen_scenarios: dict[str, str]) -> Scenario:
    ctx = _Ctx(path, book.root)
    data = _read_toml(path, ctx)
    _only_keys(data, {"id", "title", "description", "turns", "brush_off"}, ctx)
    sid = data.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        raise ctx.fail(f"scenario needs an 'id' of lower-case letters, digits, '.', '_' or '-' (got {sid!r})")
    if sid in seen_scenarios:
        raise ctx.fail(f"duplicate scenario id '{sid}' (first in {seen_scenarios[sid]})")
    seen_scenarios[sid] = ctx.name
    label = f'scenario "{sid}"'
    title = _str(data, "title", ctx, label, default="", phrase=True)
    turns = []
    for t in _table_list(data, "turns", ctx):
        tl = f"{label} turn {t['_n']}"
        _check_keys(t, {"citizen", "expect", "hint", "_n"}, {"citizen"}, ctx, tl)
        expect = _strs(t, "expect", ctx, tl, phrases=False)
        for key in expect:
            if key not in STAGES and key not in courtesy_ids:
                raise ctx.fail(f"'expect' names '{key}', which is neither a stage nor a courtesy id", tl)
        turns.append(Turn(citizen=_str(t, "citizen", ctx, tl, phrase=True), expect=expect,
                          hint=_str(t, "hint", ctx, tl, default="")))
    if not turns:
        raise ctx.fail("a scenario needs at least one [[turns]]", label)
    extra = tuple(_brush_off(d, ctx, book) for d in _table_list(data, "brush_off", ctx))
    return Scenario(id=sid, title=title, description=_str(data, "description", ctx, label, default=""),
                    turns=tuple(turns), brush_offs=extra, source=ctx.name)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _thresholds(d: dict, ctx: _Ctx) -> Thresholds:
    defaults = Thresholds()
    allowed = set(defaults.__dataclass_fields__)
    _check_keys(d, allowed, set(), ctx, "[thresholds]")
    values = {}
    for k, v in d.items():
        if not _number(v) or v < 0:
            raise ctx.fail(f"'{k}' must be a finite non-negative number (got {v!r})", "[thresholds]")
        values[k] = type(getattr(defaults, k))(v)
    if not 0.5 <= values.get("match_score", defaults.match_score) <= 1.0:
        raise ctx.fail("'match_score' must be between 0.5 and 1.0", "[thresholds]")
    return Thresholds(**values)


def _sets(path: Path, ctx: _Ctx) -> dict[str, tuple[str, ...]]:
    data = _read_toml(path, ctx)
    raw = {}
    for name, words in data.items():
        if not _SET_RE.match(name):
            raise ctx.fail("a set name is lower-case ascii letters, digits and '_', starting with a letter",
                           f"set '{name}'")
        raw[name] = _strs(data, name, ctx, f"set '{name}'")
        if not raw[name]:
            raise ctx.fail("a set needs at least one wording", f"set '{name}'")
    try:
        return normalize_sets(raw)
    except PatternError as exc:
        raise ctx.fail(str(exc)) from None


def load_phrasebook(path: str | os.PathLike | None = None) -> Phrasebook:
    """Load a phrasebook directory (default: :func:`default_dir`) and validate it whole."""
    root = Path(path) if path is not None else default_dir()
    if not root.is_dir():
        raise PhrasebookError(f"{root}: phrasebook directory not found")
    book = _Book(root)

    main_path = root / "phrasebook.toml"
    name, thresholds, penalties = root.name, Thresholds(), {}
    if main_path.exists():
        ctx = _Ctx(main_path, root)
        data = _read_toml(main_path, ctx)
        _only_keys(data, {"name", "thresholds", "penalties"}, ctx)
        name = _str(data, "name", ctx, "name", default=name)
        thresholds = _thresholds(_table(data, "thresholds", ctx), ctx)
        pen = _table(data, "penalties", ctx)
        if not all(_number(v) and v >= 0 for v in pen.values()):
            raise ctx.fail("'penalties' must map rule names to finite non-negative numbers", "[penalties]")
        penalties = {str(k): float(v) for k, v in pen.items()}

    set_path = root / "sets.toml"
    if set_path.exists():
        book.sets = _sets(set_path, _Ctx(set_path, root))

    cpath = root / "courtesies.toml"
    if not cpath.exists():
        raise PhrasebookError(f"{cpath}: missing (every phrasebook needs its courtesies)")
    ctx = _Ctx(cpath, root)
    data = _read_toml(cpath, ctx)
    _only_keys(data, {"courtesy"}, ctx)
    courtesies = [_courtesy(d, ctx, book) for d in _table_list(data, "courtesy", ctx)]

    brush_offs: list[Entry] = []
    bpath = root / "brush_offs.toml"
    if bpath.exists():
        ctx = _Ctx(bpath, root)
        data = _read_toml(bpath, ctx)
        _only_keys(data, {"family", "brush_off"}, ctx)
        for d in _table_list(data, "family", ctx):
            _family(d, ctx, book)
        brush_offs = [_brush_off(d, ctx, book) for d in _table_list(data, "brush_off", ctx)]

    contexts: list[ContextRule] = []
    xpath = root / "context.toml"
    if xpath.exists():
        ctx = _Ctx(xpath, root)
        data = _read_toml(xpath, ctx)
        _only_keys(data, {"context"}, ctx)
        seen_ctx: set[str] = set()
        contexts = [_context(d, ctx, book, seen_ctx) for d in _table_list(data, "context", ctx)]

    places: tuple[Pattern, ...] = ()
    complaints: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    spath = root / "session.toml"
    if spath.exists():
        ctx = _Ctx(spath, root)
        data = _read_toml(spath, ctx)
        _only_keys(data, {"referral", "wait"}, ctx)
        ref = _table(data, "referral", ctx)
        _check_keys(ref, {"place_patterns", "intents"}, set(), ctx, "[referral]")
        places = _patterns(ref, "place_patterns", ctx, "[referral]", book.sets)
        intents = _strs(ref, "intents", ctx, "[referral]")
        wait = _table(data, "wait", ctx)
        _check_keys(wait, {"complaints"}, set(), ctx, "[wait]")
        complaints = _strs(wait, "complaints", ctx, "[wait]")

    courtesy_ids = {c.id for c in courtesies}
    scenarios: list[Scenario] = []
    seen_scenarios: dict[str, str] = {}
    sdir = root / "scenarios"
    if sdir.is_dir():
        for p in sorted(sdir.glob("*.toml")):
            scenarios.append(_scenario(p, book, courtesy_ids, seen_scenarios))

    families = tuple(book.families.values()) + tuple(
        Family(id=st, kind="courtesy", title=STAGE_TITLES[st]) for st in STAGES)
    return Phrasebook(root=root, name=name, courtesies=tuple(courtesies), brush_offs=tuple(brush_offs),
                      scenarios=tuple(scenarios), thresholds=thresholds, penalties=penalties,
                      referral_places=places, referral_intents=intents, wait_complaints=complaints,
                      families=families, contexts=tuple(contexts), sets=book.sets)
