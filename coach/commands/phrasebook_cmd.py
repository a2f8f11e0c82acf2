"""``coach phrasebook validate|show|test|explain``: check a phrasebook after editing it.

``explain "文本"`` shows what the matcher decided for one utterance: each hit with its family
(or stage), the wording or pattern that matched, and the hits an exception or context rule
took back, with the rule.

``test`` runs the phrasebook over labelled clerk utterances and prints precision and recall.
A *coverage* TSV (columns ``id text label family source note``, see
:mod:`coach.matcher.coverage`) is scored per family and stage; other label files per rule
(canonical phrase):

* TSV, UTF-8, a header row naming at least ``text``, ``courtesies`` and ``brush_offs`` (other
  columns such as ``id``, ``category``, ``note`` are ignored; ``required_phrases`` /
  ``banned_phrases`` are accepted as the same).  Each row is one clerk utterance; the two
  phrase columns list the canonical phrases said in it, ``|``-separated, empty for none::

      id<TAB>text<TAB>courtesies<TAB>brush_offs
      C004<TAB>您好，请问您要办什么业务？<TAB>您好|请问您要办什么业务<TAB>
      B001<TAB>不知道，你去问别人。<TAB><TAB>不知道

* session label JSON (``{"utterances": [{"speaker", "text", "labels": {"required":
  [{"canonical": …}], "banned": […]}}]}``, the dev-set format): every clerk utterance is one row.

A directory is searched recursively for both; there, TSV files without the columns are skipped.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from coach.errors import InputError
from coach.matcher import fallback as _fallback
from coach.matcher.coverage import Counts, Coverage, is_coverage_header, ratio, read_coverage, score_coverage
from coach.matcher.matcher import Dropped
from coach.phrasebook import Phrasebook, default_dir, load_phrasebook
from coach.phrasebook.model import STAGE_TITLES as STAGE_LABEL
from coach.session.evaluate import Evaluator, canonical_hits
KINDS = {"courtesy": "文明用语", "brush_off": "服务忌语"}
_TEXT_COLS = ("text",)
_COURTESY_COLS = ("courtesies", "required_phrases", "required")
_BRUSH_COLS = ("brush_offs", "banned_phrases", "banned")


def register(sub) -> None:
    p = sub.add_parser("phrasebook", help="检查、查看、测试规则库（改动规则后使用）",
                       description="规则库自检：validate 检查格式，show 列出内容，test 用标注文本测准确率和召回率。")
    ps = p.add_subparsers(dest="phrasebook_command", metavar="ACTION", required=True)

    v = ps.add_parser("validate", help="检查规则库格式（出错时给出文件和条目，退出码 2）")
    v.add_argument("dir", nargs="?", metavar="DIR", help="规则库目录（默认：--phrasebook 或内置规则库）")
    v.set_defaults(func=run_validate)

    s = ps.add_parser("show", help="列出规则库内容摘要")
    s.add_argument("dir", nargs="?", metavar="DIR", help="规则库目录")
    s.add_argument("--full", action="store_true", help="列出每条规则的全部说法和建议")
    s.set_defaults(func=run_show)

    t = ps.add_parser("test", help="用标注好的文本测试规则库：每条规则的准确率与召回率",
                      description="coach phrasebook test DIR --labels 标注文件或目录 [--baseline 旧规则库]")
    t.add_argument("dir", nargs="?", metavar="DIR", help="要测试的规则库目录")
    t.add_argument("--labels", required=True, metavar="FILE_OR_DIR",
                   help="标注：TSV（text / courtesies / brush_offs 列，短语用 | 分隔）或会话标注 JSON，或含它们的目录")
    t.add_argument("--baseline", metavar="DIR2", help="对比的旧规则库：显示改动后的变化")
    t.add_argument("--errors", type=int, default=10, metavar="N", help="列出最多 N 条误报/漏报（默认 10；0 不列）")
    t.add_argument("--labelled-only", action="store_true",
                   help="只统计标注中出现过的短语（标注集只覆盖部分规则时使用）")
    t.add_argument("--json", action="store_true", help="输出 JSON")
    t.set_defaults(func=run_test)

    e = ps.add_parser("explain", help="解释一句话的判定：命中哪个类别、哪条说法或模式、哪条例外/语境规则",
                      description='coach phrasebook explain "文本" [--dir 规则库]')
    e.add_argument("text", metavar="TEXT", help="要解释的一句话（窗口工作人员所说）")
    e.add_argument("--dir", dest="dir", metavar="DIR", help="规则库目录（默认：--phrasebook 或内置规则库）")
    e.add_argument("--json", action="store_true", help="输出 JSON")
    e.set_defaults(func=run_explain)


def _dir(args) -> Path:
    d = args.dir or getattr(args, "phrasebook", None)
    return Path(d) if d else default_dir()


# --------------------------------------------------------------------------- validate / show

def run_validate(args) -> int:
    pb = load_phrasebook(_dir(args))
    n_extra = sum(len(s.brush_offs) for s in pb.scenarios)
    print(f"✓ 规则库有效：{pb.root}（{pb.name}）— 文明用语 {len(pb.courtesies)} 条，服务忌语 {len(pb.brush_offs)} 条"
          + (f"（另有情景专用 {n_extra} 条）" if n_extra else "") + f"，练习情景 {len(pb.scenarios)} 个")
    return 0


def run_show(args) -> int:
    pb = load_phrasebook(_dir(args))
    console = Console(highlight=False)
    console.print(Text(f"{pb.name}", style="bold"), Text(f"  {pb.root}", style="dim"))

    t = Table(title=f"文明用语（{len(pb.courtesies)} 条）", title_justify="left")
    for col in ("阶段", "编号", "标准说法", "其他说法", "不完整说法"):
        t.add_column(col, overflow="fold")
    for c in pb.courtesies:
        variants = "、".join(c.variants) if args.full else _count(c.variants, c.patterns)
        t.add_row(STAGE_LABEL.get(c.stage or "", c.stage or ""), c.id, c.phrase, variants, "、".join(c.near_misses))
    console.print(t)

    b = Table(title=f"服务忌语（{len(pb.brush_offs)} 条）", title_justify="left")
    for col in ("程度", "类别", "编号", "忌语", "其他说法", "例外", "建议说法"):
        b.add_column(col, overflow="fold")
    for e in pb.brush_offs:
        sev = Text("违规", style="red") if e.severity == "violation" else Text("注意", style="yellow")
        variants = "、".join(e.variants) if args.full else _count(e.variants, e.patterns)
        exceptions = "、".join(e.exceptions) if args.full else _count(e.exceptions, e.exception_patterns)
        sugg = "；".join(e.suggestions) if args.full else (e.suggestion or "")
        flags = "（单独成句）" if e.standalone else ""
        fam = pb.family(e.family)
        b.add_row(sev, f"{e.family}（{fam.title}）" if fam else e.family, e.id, e.phrase + flags, variants,
                  exceptions, sugg)
    console.print(b)

    if pb.contexts:
        c = Table(title=f"语境规则（{len(pb.contexts)} 条）", title_justify="left")
        for col in ("编号", "适用类别", "说明", "模式"):
            c.add_column(col, overflow="fold")
        for ctx in pb.contexts:
            c.add_row(ctx.id, "、".join(ctx.families) or "全部", ctx.note,
                      "；".join(p.source for p in ctx.patterns) if args.full else f"{len(ctx.patterns)} 个模式")
        console.print(c)

    if pb.scenarios:
        s = Table(title=f"练习情景（{len(pb.scenarios)} 个）", title_justify="left")
        for col in ("编号", "标题", "轮数", "专用忌语"):
            s.add_column(col)
        for sc in pb.scenarios:
            s.add_row(sc.id, sc.title, str(len(sc.turns)), "、".join(e.phrase for e in sc.brush_offs))
        console.print(s)

    th = pb.thresholds
    console.print(Text("阈值：", style="bold"), Text(
        f"匹配 {th.match_score:g} · 问候窗口 {th.greeting_window_s:g}s · 送别窗口 {th.farewell_window_s:g}s · "
        f"等待 >{th.hold_s:g}s · 语速上限 {th.max_chars_per_minute:g} 字/分"))
    if pb.penalties:
        console.print(Text("扣分：", style="bold"), Text("、".join(f"{k} −{v:g}" for k, v in pb.penalties.items())))
    return 0


def _count(items, patterns) -> str:
    parts = []
    if items:
        parts.append(f"{len(items)} 种")
    if patterns:
        parts.append(f"{len(patterns)} 个模式")
    return "，".join(parts)


# --------------------------------------------------------------------------- explain

def _family_title(pb: Phrasebook, hit) -> str:
    fam = pb.family(hit.family) if hit.kind == "brush_off" else None
    if fam is not None:
        return fam.title
    if hit.entry.stage:
        return STAGE_LABEL.get(hit.entry.stage, hit.entry.stage)
    return ""


def _via(via: str) -> str:
    return f"模式 〈{via[len('pattern '):]}〉" if via.startswith("pattern ") else f"说法「{via}」"


def _reason(reason: str) -> str:
    if reason.startswith("fallback "):
        return reason[len("fallback "):]
    if reason.startswith("context "):
        return "语境规则 " + reason[len("context "):]
    if reason.startswith("family "):
        return "类别例外 " + reason[len("family "):].replace(" exception_patterns", "")
    if reason.startswith("exceptions "):
        return "例外说法 " + reason[len("exceptions "):]
    return "例外模式 " + reason.replace("exception_patterns ", "")


def run_explain(args) -> int:
    pb = load_phrasebook(_dir(args))
    ev = Evaluator(pb)
    hits, dropped = ev.matcher.explain(args.text)
    model = _fallback.default_model() if ev.fallback else None
    judged = _fallback.without_courtesies(hits, args.text)     # what the model was asked about
    hits, vetoed = _fallback.confirmed(hits, args.text, model)
    if vetoed:
        why = (f"fallback 统计模型未确认（忌语概率 {model.probability(judged):.2f} < "
               f"{model.confirm_threshold:.2f}）")
        dropped = list(dropped) + [Dropped(h, why) for h in vetoed]
    if args.json:
        def hit_json(h) -> dict:
            return {"kind": h.kind, "rule": h.rule, "family": h.family, "title": _family_title(pb, h),
                    "entry": h.entry.id, "phrase": h.phrase, "heard": h.heard, "start": h.start, "end": h.end,
                    "score": h.score, "via": h.via}
        print(json.dumps({"text": args.text, "hits": [hit_json(h) for h in hits],
                          "dropped": [{**hit_json(d.hit), "reason": d.reason} for d in dropped]},
                         ensure_ascii=False, indent=2))
        return 0
    console = Console(highlight=False)
    console.print(Text("句子：", style="bold").append(args.text, style=""))
    kinds = {"courtesy": ("文明用语", "green"), "brush_off": ("服务忌语", "red"), "near_miss": ("用语不完整", "yellow")}
    if not hits:
        console.print(Text("判定：没有命中任何文明用语或服务忌语。", style="dim"))
    for h in hits:
        label, style = kinds[h.kind]
        where = f"类别 {h.family}（{_family_title(pb, h)}）" if h.kind == "brush_off" else \
            f"阶段 {h.entry.stage or '—'}（{_family_title(pb, h)}）"
        line = Text(f"✓ {label}" if h.kind == "courtesy" else f"✗ {label}", style=f"bold {style}")
        line.append(f"  「{h.heard}」 → {h.phrase}  {where}  条目 {h.entry.id}  依据 {_via(h.via)}"
                    f"  匹配度 {h.score:g}", style="")
        console.print(line)
    for d in dropped:
        h = d.hit
        label, _ = kinds[h.kind]
        console.print(Text(f"○ 不算{label}", style="bold dim").append(
            f"  「{h.heard}」 本会命中 {h.phrase}（{h.rule}，依据 {_via(h.via)}），被 {_reason(d.reason)} 排除",
            style=""))
    return 0


# --------------------------------------------------------------------------- test

@dataclass
class Labelled:
    text: str
    courtesies: frozenset[str]
    brush_offs: frozenset[str]
    where: str

    def expected(self, kind: str) -> frozenset[str]:
        return self.courtesies if kind == "courtesy" else self.brush_offs


def _phrases(cell: str | None) -> frozenset[str]:
    return frozenset(p.strip() for p in (cell or "").split("|") if p.strip())


def _col(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in header]
    for n in names:
        if n in low:
            return low.index(n)
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: 无法读取（{exc.strerror}）/ cannot read") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: 不是 UTF-8 文本 / not UTF-8 text") from None


def _load_tsv(path: Path, *, strict: bool) -> list[Labelled] | None:
    rows = list(csv.reader(_read_text(path).splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    body = [(n, r) for n, r in enumerate(rows, 1) if r and any(c.strip() for c in r) and not r[0].startswith("#")]
    if not body:
        if strict:
            raise InputError(f"{path}: 标注文件为空 / empty label file")
        return None
    header = body[0][1]
    ti, ci, bi = _col(header, _TEXT_COLS), _col(header, _COURTESY_COLS), _col(header, _BRUSH_COLS)
    if ti is None or ci is None or bi is None:
        if strict:
            raise InputError(f"{path}:1: 表头需要 text、courtesies、brush_offs 三列（制表符分隔）"
                             f" / header needs text, courtesies, brush_offs columns")
        return None
    out = []
    for n, r in body[1:]:
        cells = r + [""] * (max(ti, ci, bi) + 1 - len(r))
        if not cells[ti].strip():
            raise InputError(f"{path}:{n}: text 列为空 / empty text")
        out.append(Labelled(cells[ti].strip(), _phrases(cells[ci]), _phrases(cells[bi]), f"{path.name}:{n}"))
    return out


def _load_json(path: Path, *, strict: bool) -> list[Labelled] | None:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: JSON 格式错误（{exc.msg}）/ bad JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("utterances"), list):
        if strict:
            raise InputError(f"{path}: 不是会话标注（缺少 utterances 列表）/ not a session label file")
        return None
    out = []
    for i, u in enumerate(data["utterances"]):
        if not isinstance(u, dict) or "text" not in u:
            raise InputError(f"{path}: utterances[{i}] 缺少 text / missing text")
        if u.get("speaker", "clerk") != "clerk":
            continue
        labels = u.get("labels") or {}
        court = frozenset(r["canonical"] if isinstance(r, dict) else str(r) for r in labels.get("required", []))
        out.append(Labelled(u["text"], court, frozenset(labels.get("banned", [])), f"{path.name}#{i}"))
    return out


def load_labels(path: str | Path) -> list[Labelled]:
    """Labelled clerk utterances from a TSV / session JSON file or a directory of them."""
    p = Path(path)
    if p.is_file():
        loader = _load_json if p.suffix.lower() == ".json" else _load_tsv
        return loader(p, strict=True) or []
    if not p.is_dir():
        raise InputError(f"{p}: 标注文件或目录不存在 / labels not found")
    out: list[Labelled] = []
    for f in sorted(p.rglob("*")):
        if f.suffix.lower() in (".tsv", ".txt"):
            out += _load_tsv(f, strict=False) or []
        elif f.suffix.lower() == ".json":
            out += _load_json(f, strict=False) or []
    if not out:
        raise InputError(f"{p}: 目录中没有可用的标注（TSV 或会话 JSON）/ no label files found")
    return out


@dataclass
class TestRun:
    phrasebook: Phrasebook
    rules: dict[tuple[str, str], Counts] = field(default_factory=dict)     # (kind, phrase) -> stats
    predicted: list[dict[str, frozenset[str]]] = field(default_factory=list)  # per labelled line

    def total(self, kind: str, vocab: set[str] | None = None) -> Counts:
        t = Counts()
        for (k, ph), s in self.rules.items():
            if k == kind and (vocab is None or ph in vocab):
                t.tp, t.fp, t.fn = t.tp + s.tp, t.fp + s.fp, t.fn + s.fn
        return t


def run_phrasebook(pb: Phrasebook, labels: list[Labelled]) -> TestRun:
    """Match every labelled line; count hits, false alarms and misses per canonical phrase."""
    ev = Evaluator(pb)
    run = TestRun(pb)
    for c in pb.courtesies:
        run.rules.setdefault(("courtesy", c.phrase), Counts())
    for b in pb.brush_offs:
        run.rules.setdefault(("brush_off", b.phrase), Counts())
    for item in labels:
        court, brush = canonical_hits(ev, item.text)
        got = {"courtesy": frozenset(court), "brush_off": frozenset(brush)}
        run.predicted.append(got)
        for kind in KINDS:
            exp = item.expected(kind)
            for ph in got[kind] | exp:
                s = run.rules.setdefault((kind, ph), Counts())
                if ph in got[kind] and ph in exp:
                    s.tp += 1
                elif ph in got[kind]:
                    s.fp += 1
                else:
                    s.fn += 1
    return run


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _delta(new: float | None, old: float | None) -> Text:
    if new is None or old is None:
        return Text("")
    d = (new - old) * 100
    if abs(d) < 0.05:
        return Text("±0", style="dim")
    return Text(f"{d:+.1f}", style="green" if d > 0 else "red")


def _known(pb: Phrasebook, kind: str) -> set[str]:
    entries = pb.courtesies if kind == "courtesy" else pb.brush_offs + tuple(e for s in pb.scenarios for e in s.brush_offs)
    return {e.phrase for e in entries}


def _is_coverage_file(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in (".tsv", ".txt"):
        return False
    first = next((ln for ln in _read_text(path).splitlines() if ln.strip()), "")
    return is_coverage_header(first.split("\t"))


def _coverage_files(path: Path) -> list[Path]:
    """The coverage TSVs to score: the file itself, or every one in a directory."""
    if path.is_file():
        return [path] if _is_coverage_file(path) else []
    if path.is_dir():
        return [f for f in sorted(path.rglob("*")) if _is_coverage_file(f)]
    return []


def run_test(args) -> int:
    if _coverage_files(Path(args.labels)):
        return _run_coverage(args)
    labels = load_labels(args.labels)
    pb = load_phrasebook(_dir(args))
    new = run_phrasebook(pb, labels)
    old = run_phrasebook(load_phrasebook(args.baseline), labels) if args.baseline else None
    vocab = None
    if args.labelled_only:
        vocab = {ph for item in labels for ph in item.courtesies | item.brush_offs}
        for run in (new, old):
            if run is not None:
                run.rules = {k: v for k, v in run.rules.items() if k[1] in vocab}

    if args.json:
        def dump(run: TestRun) -> dict:
            return {"phrasebook": str(run.phrasebook.root), "rules": [
                {"kind": k, "phrase": ph, "tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": s.precision,
                 "recall": s.recall} for (k, ph), s in sorted(run.rules.items()) if s.tp + s.fp + s.fn],
                "totals": {k: {"tp": run.total(k).tp, "fp": run.total(k).fp, "fn": run.total(k).fn,
                               "precision": run.total(k).precision, "recall": run.total(k).recall} for k in KINDS}}
        out = {"labels": len(labels), **dump(new)}
        if old is not None:
            out["baseline"] = dump(old)
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0

    console = Console(highlight=False)
    console.print(Text(f"规则库 {pb.root} · 标注 {len(labels)} 句（{args.labels}）", style="bold")
                  + (Text(f" · 对比 {args.baseline}", style="dim") if old else Text("")))
    table = Table(title="每条规则的准确率（precision）与召回率（recall）", title_justify="left")
    for col, kw in (("类别", {}), ("规则（标准说法）", {"overflow": "fold"}), ("标注", {"justify": "right"}), ("命中", {"justify": "right"}),
                    ("误报", {"justify": "right"}), ("漏报", {"justify": "right"}), ("准确率", {"justify": "right"}),
                    ("召回率", {"justify": "right"})):
        table.add_column(col, **kw)
    if old:
        table.add_column("Δ准确率", justify="right")
        table.add_column("Δ召回率", justify="right")
    keys = sorted({k for k, s in new.rules.items() if s.tp + s.fp + s.fn}
                  | ({k for k, s in old.rules.items() if s.tp + s.fp + s.fn} if old else set()),
                  key=lambda k: (list(KINDS).index(k[0]), k[1]))
    unknown = []
    for kind, ph in keys:
        s = new.rules.get((kind, ph), Counts())
        name = Text(ph)
        if ph not in _known(pb, kind):
            name.append(" （规则库中没有）", style="yellow")
            unknown.append(ph)
        cells = [KINDS[kind], name, str(s.support), str(s.tp), Text(str(s.fp), style="red" if s.fp else ""),
                 Text(str(s.fn), style="red" if s.fn else ""), _pct(s.precision), _pct(s.recall)]
        if old:
            o = old.rules.get((kind, ph), Counts())
            cells += [_delta(s.precision, o.precision), _delta(s.recall, o.recall)]
        table.add_row(*cells)
    table.add_section()
    for kind, label in KINDS.items():
        s = new.total(kind)
        cells = [Text(f"{label}合计", style="bold"), "", str(s.support), str(s.tp), str(s.fp), str(s.fn),
                 Text(_pct(s.precision), style="bold"), Text(_pct(s.recall), style="bold")]
        if old:
            o = old.total(kind)
            cells += [_delta(s.precision, o.precision), _delta(s.recall, o.recall)]
        table.add_row(*cells)
    console.print(table)

    if old:
        _print_changes(console, labels, new, old, vocab)
    elif args.errors:
        _print_errors(console, labels, new, args.errors, vocab)
    return 0


def _print_errors(console: Console, labels: list[Labelled], run: TestRun, limit: int,
                  vocab: set[str] | None = None) -> None:
    shown = 0
    for item, got in zip(labels, run.predicted):
        for kind in KINDS:
            fp = got[kind] - item.expected(kind)
            if vocab is not None:
                fp &= vocab
            fn = item.expected(kind) - got[kind]
            if not (fp or fn):
                continue
            if shown == 0:
                console.print(Text("误报与漏报（前几条）：", style="bold"))
            if shown >= limit:
                console.print(Text("  ……（用 --errors N 显示更多）", style="dim"))
                return
            line = Text(f"  {item.where} ", style="dim").append(item.text, style="")
            if fp:
                line.append(f"  误报 {KINDS[kind]}：{'、'.join(sorted(fp))}", style="red")
            if fn:
                line.append(f"  漏报 {KINDS[kind]}：{'、'.join(sorted(fn))}", style="yellow")
            console.print(line)
            shown += 1


def _print_changes(console: Console, labels: list[Labelled], new: TestRun, old: TestRun,
                   vocab: set[str] | None = None) -> None:
    """Lines whose outcome the edit changed: fixed (green) or broken (red)."""
    fixed = broken = 0
    lines = []
    for item, got, was in zip(labels, new.predicted, old.predicted):
        for kind in KINDS:
            exp = item.expected(kind)
            for ph in sorted(got[kind] ^ was[kind]):
                if vocab is not None and ph not in vocab:
                    continue
                now_found = ph in got[kind]
                good = now_found == (ph in exp)
                what = ("新命中" if now_found else "不再误报") if good else ("新误报" if now_found else "新漏报")
                fixed += good
                broken += not good
                lines.append(Text(f"  {'✓' if good else '✗'} {what} {KINDS[kind]}「{ph}」 ",
                                  style="green" if good else "red")
                             .append(f"{item.where} ", style="dim").append(item.text))
    if not lines:
        console.print(Text("与对比规则库相比，没有任何句子的结果发生变化。", style="dim"))
        return
    console.print(Text(f"改动的影响：改善 {fixed} 处，变差 {broken} 处", style="bold"))
    for ln in lines:
        console.print(ln)



# --------------------------------------------------------------------------- test: coverage file

def _coverage_json(cov: Coverage) -> dict:
    def pair(p):
        return {"hit": p[0], "of": p[1], "rate": ratio(p)}
    return {
        "brush_off_recall": pair(cov.brush_recall), "brush_off_family_recall": pair(cov.brush_family_recall),
        "courtesy_recall": pair(cov.courtesy_recall), "courtesy_stage_recall": pair(cov.courtesy_stage_recall),
        "false_brush_off_rate": pair(cov.false_brush),
        "families": [{"kind": k, "family": f, "tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": c.precision,
                      "recall": c.recall} for (k, f), c in sorted(cov.families.items())],
    }


def _run_coverage(args) -> int:
    lines = [ln for f in _coverage_files(Path(args.labels)) for ln in read_coverage(f)]
    pb = load_phrasebook(_dir(args))
    cov = score_coverage(Evaluator(pb).matcher, lines)
    old = score_coverage(Evaluator(load_phrasebook(args.baseline)).matcher, lines) if args.baseline else None
    if args.json:
        out = {"labels": len(lines), "phrasebook": str(pb.root), **_coverage_json(cov)}
        if old is not None:
            out["baseline"] = _coverage_json(old)
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    console = Console(highlight=False)
    console.print(Text(f"规则库 {pb.root} · 覆盖语料 {len(lines)} 句（{args.labels}）", style="bold"))
    table = Table(title="每个类别/阶段的准确率（precision）与召回率（recall）", title_justify="left")
    for col, kw in (("类别", {}), ("编号", {}), ("名称", {"overflow": "fold"}), ("标注", {"justify": "right"}),
                    ("命中", {"justify": "right"}), ("误报", {"justify": "right"}), ("漏报", {"justify": "right"}),
                    ("准确率", {"justify": "right"}), ("召回率", {"justify": "right"})):
        table.add_column(col, **kw)
    if old:
        table.add_column("Δ召回率", justify="right")
    for (kind, fam), c in sorted(cov.families.items(), key=lambda kv: (kv[0][0] != "brush_off", kv[0][1])):
        f = pb.family(fam)
        title = f.title if f else "（规则库中没有）"
        cells = [KINDS[kind], fam, title, str(c.support), str(c.tp), Text(str(c.fp), style="red" if c.fp else ""),
                 Text(str(c.fn), style="red" if c.fn else ""), _pct(c.precision), _pct(c.recall)]
        if old:
            o = old.families.get((kind, fam))
            cells.append(_delta(c.recall, o.recall if o else None))
        table.add_row(*cells)
    console.print(table)
    for name, p in (("服务忌语召回率（任一类别）", cov.brush_recall), ("服务忌语召回率（类别正确）", cov.brush_family_recall),
                    ("文明用语召回率（任一阶段）", cov.courtesy_recall), ("文明用语召回率（阶段正确）", cov.courtesy_stage_recall),
                    ("误报率（无问题句被判为忌语）", cov.false_brush)):
        console.print(Text(f"{name}：", style="bold").append(f"{_pct(ratio(p))}（{p[0]}/{p[1]}）"))
    if args.errors:
        shown = 0
        for o in cov.outcomes:
            if o.ok:
                continue
            if shown == 0:
                console.print(Text("误报与漏报（前几条）：", style="bold"))
            if shown >= args.errors:
                console.print(Text("  ……（用 --errors N 显示更多）", style="dim"))
                break
            got = "、".join(sorted(o.brush)) or "无"
            console.print(Text(f"  {o.line.where} ", style="dim").append(o.line.text).append(
                f"  标注 {o.line.label}/{o.line.family or '—'}，判为忌语：{got}，文明用语阶段：{'、'.join(sorted(o.stages)) or '无'}",
                style="yellow"))
            shown += 1
    return 0
