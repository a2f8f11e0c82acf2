"""回看: a timeline of utterances with findings; jump, filter, play.

Opens a result JSON (``coach check --json`` / ``Result.to_json``), a stored session (its
number) or a recording (analysed in a worker thread).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from coach.tui.styled import Styled
from textual import on, work
from textual.worker import get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.reactive import reactive
from textual.widgets import Footer, Header, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from coach.errors import CoachError, InputError, OutputError
from coach.report.console import SPEAKER_LABEL, fmt_time, verdict
from coach.schema import NOT_CLERK, Finding, Result, Utterance
from coach.store.files import write_atomic
from coach.tui.listen import explain
from coach.tui.messages import AnalysisDone, AnalysisProgress, AnalysisUtterance, ListenError, PlaybackState
from coach.tui.screens.common import ErrorBox
from coach.tui.widgets import finding_text, highlighted

FILTERS = (("all", "全部"), ("courtesy", "文明用语"), ("brush_off", "忌语"), ("problem", "其他问题"))


def category(f: Finding) -> str:
    if f.type == "brush_off":
        return "brush_off"
    if f.type == "courtesy" and f.rule != "near_miss":
        return "courtesy"
    return "problem"


def load_result_json(path: str | os.PathLike) -> Result:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        result = Result.from_json(data)
    except OSError as exc:
        raise InputError(f"无法读取 {path}：{exc.strerror}", hint="检查文件路径") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} 不是 coach 的结果文件（JSON）：{exc}",
                         hint="用 coach check --json 或 coach analyze --json 生成的文件") from None
    attach_findings(result)
    return result


def attach_findings(result: Result) -> None:
    """Give findings read from JSON (which has no utterance index) their utterance back."""
    utts = result.utterances
    for f in result.findings:
        if f.utterance is not None:
            continue
        candidates = [i for i, u in enumerate(utts) if u.speaker not in NOT_CLERK] or list(range(len(utts)))
        if f.heard:
            inside = [i for i in candidates if f.heard in utts[i].text]
            timed = [i for i in inside if f.start is None or utts[i].start is None
                     or (utts[i].start - 0.5 <= f.start <= (utts[i].end or utts[i].start) + 0.5)]
            pick = (timed or inside)[:1]
            if pick:
                f.utterance = pick[0]
                continue
        if f.start is None or f.rule == "unannounced_hold":
            continue          # a hold is a gap between utterances: it stays an entry of its own
        spans = [i for i in candidates if utts[i].start is not None
                 and utts[i].start - 0.05 <= f.start <= (utts[i].end if utts[i].end is not None else utts[i].start) + 0.05]
        if spans:
            f.utterance = spans[0]


def session_row(r) -> Styled:
    """A stored session in the list: number, date, kind, scenario, trainee, duration, score
    (or 未完成 for a session that never finished: it has no score)."""
    t = Styled(f"#{r.id:<4}", "bold")
    t.append(r.started.strftime("%Y-%m-%d %H:%M"), "dim")
    t.append(f"  {dict(practice='练习', live='自检', review='回看').get(r.kind, r.kind)}")
    if r.scenario:
        t.append(f"  {r.scenario}", "$text-primary")
    t.append(f"  {r.trainee or '（未填学员）'}", "" if r.trainee else "dim")
    if r.duration_s:
        m, sec = divmod(int(round(r.duration_s)), 60)
        t.append(f"  {m}:{sec:02d}", "dim")
    if not r.finished:
        t.append("  未完成", "bold $text-warning")
    elif r.no_speech:
        t.append(f"  {verdict(r.score, r.outcome)}", "bold $text-warning")
    elif r.score is not None:
        t.append(f"  {r.score:g} 分", "bold")
    return t


class ReviewOpen(Screen):
    """Choose what to review: a path, or one of the stored sessions."""

    HELP = "输入录音或结果文件的路径回车打开，或在下面选一条已保存的记录（显示情景、学员、时长，未完成的会标出）。"
    BINDINGS = [Binding("escape", "app.pop_screen", "返回")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="review-open"):
            yield Static(Styled("打开录音或结果文件", style="bold"), classes="section-title")
            yield Input(placeholder="文件路径（.wav .mp3 .ogg … 或 .json），回车打开", id="path")
            yield Static(Styled("或选择已保存的记录：", style="dim"), classes="section-title")
            yield OptionList(id="sessions")
            yield ErrorBox(id="error")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "回看"
        rows = self._stored()
        ol = self.query_one("#sessions", OptionList)
        if rows:
            for r in rows:
                ol.add_option(Option(session_row(r), id=str(r.id)))
        else:
            ol.add_option(Option(Styled("（还没有保存的记录）", style="dim"), disabled=True))
        self.query_one("#path", Input).focus()

    def _stored(self) -> list:
        try:
            from coach.store import Store, default_db_path
            if not default_db_path().exists():
                return []
            with Store() as store:
                return store.sessions(limit=30)
        except Exception:
            return []

    @on(Input.Submitted, "#path")
    def _open_path(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        if not Path(path).expanduser().exists() and not path.isdigit():
            self.query_one(ErrorBox).show_error(f"找不到文件：{path}", "检查路径是否正确")
            return
        self.app.push_screen(ReviewScreen(str(Path(path).expanduser()) if not path.isdigit() else path))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.push_screen(ReviewScreen(event.option.id))


class ReviewScreen(Screen):
    HELP = "逐句查看：n/p 跳到下一处/上一处问题，f 按类型筛选，空格 播放本句。"
    BINDINGS = [
        Binding("n", "jump(1)", "下一处"),
        Binding("p", "jump(-1)", "上一处"),
        Binding("f", "cycle_filter", "筛选"),
        Binding("space", "play", "播放本句"),
        Binding("s", "stop_playback", "停止播放"),
        Binding("x", "export", "导出"),
        Binding("escape", "app.pop_screen", "返回"),
    ]

    playing: reactive[tuple[float, float] | None] = reactive(None, init=False)

    def __init__(self, target: str | Result, *, audio: str | None = None, player=None):
        super().__init__()
        self.player = player          # None: the app's (coach.tui.voice) player
        self.target = target
        self.audio = audio
        self.result: Result | None = None
        self.filter = "all"
        self.entries: list[tuple[int | None, list[Finding]]] = []
        self._samples = None
        self._play_lock = threading.Lock()
        self.preview: list[tuple[Utterance, list[Finding]]] = []   # while a recording is analysed
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="review-head")
        yield ProgressBar(total=100, show_eta=False, id="progress")
        yield OptionList(id="timeline")
        yield Static("", id="playing")
        yield Static("", id="detail")
        yield ErrorBox(id="error")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "回看"
        self.query_one("#detail").border_title = "详情"
        self.query_one("#timeline").border_title = "时间线"
        self.query_one("#progress").display = False
        self.query_one("#playing").display = False
        target = self.target
        try:
            if isinstance(target, Result):
                self._show(target)
            elif str(target).isdigit():
                self._show(self._from_store(int(target)))
            elif str(target).lower().endswith(".json"):
                self._show(load_result_json(target))
            else:
                self.audio = self.audio or str(target)
                self.sub_title = Path(str(target)).name
                self.query_one("#review-head", Static).update(Styled(f"正在分析 {target} …", style="bold"))
                self.query_one("#progress").display = True
                self._analyze(str(target))
        except CoachError as exc:
            self.query_one(ErrorBox).show_error(exc.message, exc.hint)

    def _from_store(self, session_id: int) -> Result:
        from coach.store import Store
        with Store() as store:
            row = store.session(session_id)
            result = store.result(session_id)
        if row is not None and row.audio_path and not self.audio:
            self.audio = row.audio_path
        return result

    # ------------------------------------------------------------------ analysis
    @work(thread=True, exclusive=True, group="analyze")
    def _analyze(self, path: str) -> None:
        try:
            from coach.tui.engines import analyze_file
            worker = get_current_worker()
            result = analyze_file(path, self.app.engine_factory, self.app.evaluator(),
                                  progress=lambda text, frac=None: self.post_message(AnalysisProgress(text, frac)),
                                  cancelled=lambda: worker.is_cancelled, settings=self.app.settings,
                                  on_utterance=lambda u, fs: self.post_message(AnalysisUtterance(u, fs)))
            if result is not None:
                self.post_message(AnalysisDone(result, path))
        except CoachError as exc:
            self.post_message(ListenError(exc.message, exc.hint))
        except Exception as exc:
            self.post_message(ListenError(*explain(exc)))

    def on_analysis_progress(self, msg: AnalysisProgress) -> None:
        if self.result is not None:
            return
        self.query_one("#review-head", Static).update(Styled(msg.text, style="bold"))
        if msg.fraction is not None:
            self.query_one("#progress", ProgressBar).update(progress=round(msg.fraction * 100, 1))

    def on_analysis_utterance(self, msg: AnalysisUtterance) -> None:
        """The timeline fills while the analysis runs (phrase findings only, until it ends)."""
        if self.result is not None:
            return
        self.preview.append((msg.utterance, msg.findings))
        ol = self.query_one("#timeline", OptionList)
        u = msg.utterance
        t = Styled(f"{fmt_time(u.start)} " if u.start is not None else "", "dim")
        t.append_text(highlighted(u.text, msg.findings))
        ol.add_option(Option(t))

    def on_analysis_done(self, msg: AnalysisDone) -> None:
        self.query_one("#progress").display = False
        self._show(msg.result)

    def on_listen_error(self, msg: ListenError) -> None:
        self.query_one("#progress").display = False
        self.query_one("#review-head", Static).update(Styled("无法分析", style="bold $text-error"))
        self.query_one(ErrorBox).show_error(msg.message, msg.hint)

    # ------------------------------------------------------------------ display
    def _show(self, result: Result) -> None:
        self.result = result
        if not self.audio and result.file and Path(result.file).is_file() \
                and not result.file.lower().endswith(".json"):
            self.audio = result.file
        if result.file:
            self.sub_title = Path(result.file).name
        self._rebuild()
        self.query_one("#timeline", OptionList).focus()

    def _head(self) -> Styled:
        r = self.result
        counts = {"courtesy": 0, "brush_off": 0, "problem": 0}
        for f in r.findings:
            counts[category(f)] += 1
        t = Styled()
        t.append(f"得分 {verdict(r.score, r.outcome)}" + ("" if r.score is None else "/100"), style="bold")
        t.append(f"   ✓ 文明用语 {counts['courtesy']}", style="$text-success")
        t.append(f" · ✗ 忌语 {counts['brush_off']}", style="$text-error")
        t.append(f" · ! 其他问题 {counts['problem']}", style="$text-warning")
        t.append("   筛选：", style="dim")
        for key, label in FILTERS:
            t.append(f" {label} ", style="reverse bold" if key == self.filter else "dim")
        return t

    def _build_entries(self) -> list[tuple[int | None, list[Finding]]]:
        r = self.result
        by_utt: dict[int | None, list[Finding]] = {}
        for f in r.findings:
            if self.filter != "all" and category(f) != self.filter:
                continue
            by_utt.setdefault(f.utterance if f.utterance is not None and f.utterance < len(r.utterances)
                              else None, []).append(f)
        entries: list[tuple[float, int, int | None, list[Finding]]] = []
        for i, u in enumerate(r.utterances):
            fs = by_utt.get(i, [])
            if self.filter != "all" and not fs:
                continue
            entries.append((u.start if u.start is not None else float(i), 0, i, fs))
        for k, f in enumerate(by_utt.get(None, [])):
            entries.append((f.start if f.start is not None else float("inf"), 1, None, [f]))
        if all(u.start is not None for u in r.utterances):
            entries.sort(key=lambda e: (e[0], e[1]))
        return [(i, fs) for _, _, i, fs in entries]

    def _prompt(self, index: int | None, findings: list[Finding]) -> Styled:
        r = self.result
        if index is None:
            t = Styled()
            f = findings[0]
            if f.start is not None:
                t.append(f"{fmt_time(f.start)} ", style="dim")
            t.append_text(finding_text(f, indent=""))
            return t
        u: Utterance = r.utterances[index]
        t = Styled()
        t.append(f"{fmt_time(u.start) or '     '} " if u.start is not None else "", style="dim")
        clerk = u.speaker not in NOT_CLERK
        t.append(f"{SPEAKER_LABEL.get(u.speaker, u.speaker)}：", style="bold" if clerk else "dim")
        t.append_text(highlighted(u.text, findings) if clerk else Styled(u.text, style="dim"))
        marks = Styled()
        for f in findings:
            if category(f) == "courtesy":
                marks.append(" ✓", style="$text-success")
            elif category(f) == "brush_off":
                marks.append(" ✗", style="bold $text-error")
            else:
                marks.append(" !", style="bold $text-warning")
        t.append_text(marks)
        return t

    def _rebuild(self, keep: int | None = None) -> None:
        self.entries = self._build_entries()
        ol = self.query_one("#timeline", OptionList)
        ol.clear_options()
        if not self.entries:
            ol.add_option(Option(Styled("（没有符合筛选条件的内容）", style="dim"), disabled=True))
        else:
            ol.add_options([Option(self._prompt(i, fs)) for i, fs in self.entries])
            target = 0
            if keep is not None:
                target = next((k for k, (i, _) in enumerate(self.entries) if i == keep), 0)
            ol.highlighted = target
        self.query_one("#review-head", Static).update(self._head())
        self._show_detail()

    def _current(self) -> tuple[int | None, list[Finding]] | None:
        ol = self.query_one("#timeline", OptionList)
        if not self.entries or ol.highlighted is None or ol.highlighted >= len(self.entries):
            return None
        return self.entries[ol.highlighted]

    def _show_detail(self) -> None:
        cur = self._current()
        detail = self.query_one("#detail", Static)
        if cur is None:
            detail.update("")
            return
        index, findings = cur
        t = Styled()
        if index is not None:
            u = self.result.utterances[index]
            if u.start is not None:
                t.append(f"{fmt_time(u.start)}–{fmt_time(u.end)}  ", style="dim")
            t.append(f"{SPEAKER_LABEL.get(u.speaker, u.speaker)}：{u.text}")
        if not findings:
            t.append("\n（这一句没有发现）", style="dim")
        for f in findings:
            t.append("\n")
            t.append_text(finding_text(f, indent=""))
        detail.update(t)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_detail()

    # ------------------------------------------------------------------ actions
    def _stop_at(self, findings: list[Finding]) -> bool:
        """Where n/p stop: any finding of the chosen type; unfiltered, only problems."""
        if self.filter == "all":
            return any(category(f) != "courtesy" for f in findings)
        return bool(findings)

    def action_jump(self, step: int) -> None:
        if not self.entries:
            return
        ol = self.query_one("#timeline", OptionList)
        k = (ol.highlighted if ol.highlighted is not None else -1) + step
        while 0 <= k < len(self.entries):
            if self._stop_at(self.entries[k][1]):
                ol.highlighted = k
                ol.scroll_to_highlight()
                return
            k += step
        self.notify("已经是最后一处" if step > 0 else "已经是第一处", timeout=2)

    def action_cycle_filter(self) -> None:
        if self.result is None:
            return
        keys = [k for k, _ in FILTERS]
        self.filter = keys[(keys.index(self.filter) + 1) % len(keys)]
        cur = self._current()
        self._rebuild(keep=cur[0] if cur else None)

    def action_play(self) -> None:
        cur = self._current()
        if cur is None or self.result is None:
            return
        index, findings = cur
        if index is not None:
            u = self.result.utterances[index]
            start, end = u.start, u.end
        else:
            start, end = findings[0].start, findings[0].end
        if not self.audio:
            self.notify("这份结果没有关联的录音，无法播放。", severity="warning", timeout=4)
            return
        if start is None or end is None:
            self.notify("这一句没有时间信息，无法播放。", severity="warning", timeout=4)
            return
        self._play(self.audio, max(0.0, start - 0.1), end + 0.2)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "stop_playback":
            return self.playing is not None
        if action == "export":
            return self.result is not None
        return True

    def watch_playing(self, span: tuple[float, float] | None) -> None:
        bar = self.query_one("#playing", Static)
        bar.display = span is not None
        if span is not None:
            bar.update(Styled(f"▶ 正在播放 {fmt_time(span[0])}–{fmt_time(span[1])}", "bold $text-success")
                       .append("   s 停止", "dim"))
        self.refresh_bindings()

    def on_playback_state(self, msg: PlaybackState) -> None:
        self.playing = msg.span
        if msg.error:
            self.notify(msg.error, severity="error", timeout=6)

    def action_stop_playback(self) -> None:
        self._player().stop()

    def _player(self):
        if self.player is None:
            from coach.tui.voice import default_player
            self.player = default_player()
        return self.player

    @work(thread=True, exclusive=True, group="play")
    def _play(self, path: str, start: float, end: float) -> None:
        try:
            if self._samples is None:
                from coach.audio.decode import read
                self._samples = read(path)
            a, b = int(start * 16000), int(end * 16000)
            clip = self._samples[a:b]
            if clip.size == 0:
                raise OSError("这一句超出了录音的长度")
            self.post_message(PlaybackState((start, end)))
            self._player().play(clip, 16000)
            self.post_message(PlaybackState(None))
        except CoachError as exc:
            self.post_message(PlaybackState(None, exc.message))
        except Exception as exc:
            msg = str(exc)
            if "portaudio" in msg.lower():
                msg = "找不到 PortAudio 音频库，无法播放（Debian/Ubuntu：sudo apt-get install libportaudio2）"
            self.post_message(PlaybackState(None, f"无法播放：{msg}"))

    def action_export(self) -> None:
        if self.result is not None:
            self._export(self.result)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, result: Result) -> None:
        """Write the result as JSON (coach check --json format) beside the source, else in the
        current directory; never overwrites an existing file."""
        base = Path(result.file or self.audio or f"session-{self.target}").name
        stem = Path(base).stem or "session"
        folders = [Path(result.file).parent] if result.file and Path(result.file).parent.is_dir() else []
        folders.append(Path.cwd())
        for folder in folders:
            for n in range(1, 100):
                path = folder / (f"{stem}.coach.json" if n == 1 else f"{stem}.coach-{n}.json")
                if path.exists():
                    continue
                try:
                    write_atomic(path, json.dumps(result.to_json(), ensure_ascii=False, indent=2))
                except OutputError:
                    break
                self.app.call_from_thread(self.notify, f"已导出：{path}", timeout=6)
                self.exported = path
                return
        self.app.call_from_thread(self.notify, "无法导出：没有可写的目录", severity="error", timeout=6)
