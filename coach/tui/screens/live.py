"""实时自检: continuous listening with highlights, running counts and a hold alert.

What the screen says is what the audio and the recogniser say:

- a phrase is highlighted (dim) as soon as it is complete in a partial hypothesis (matched in
  the worker thread), and confirmed or withdrawn by the utterance's final;
- the alert row (always reserved: the layout never shifts) shows the hold alert only while
  nobody speaks — the silence is measured from the input level, not from the partial text —
  and otherwise the latest brush-off with what to say instead;
- the counts are the running phrase counts; once the session ends they are the final
  result's (the whole-visit rules included), so they agree with the score;
- Esc asks before ending; ``f`` stops/starts following the newest line.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer, Header, Static

from coach.report.console import verdict
from coach.schema import Finding, Result
from coach.session.live import LiveSession
from coach.tui.messages import AudioLevel, EngineReady, FinalUtterance, ListenDone, PartialText
from coach.tui.screens.common import ConfirmScreen, ErrorBox, ListeningScreen
from coach.tui.styled import Styled
from coach.tui.widgets import Clock, LevelMeter, Transcript, suggestion_of

COUNT_KEYS = ("courtesy", "brush_off", "near_miss", "structure")


def count_findings(findings: list[Finding]) -> dict[str, int]:
    """Counts as ``coach.session.evaluate.score`` makes them (its breakdown's ``counts``)."""
    c = dict.fromkeys(COUNT_KEYS, 0)
    for f in findings:
        if f.rule == "near_miss":
            c["near_miss"] += 1
        elif f.type in c:
            c[f.type] += 1
    return c


class LiveScreen(ListeningScreen):
    HELP = ("边接待边听：文明用语标绿、忌语标红并给出改说建议；说出的短语在识别中就先以暗色标出，"
            "整句识别完后确认或撤回。长时间没人说话且没说“请稍等”时，提示行会提醒。"
            "统计在结束后换成最终结果（含整体检查），与得分一致。")
    BINDINGS = [
        Binding("space", "toggle_pause", "暂停/继续"),
        Binding("s", "stop", "结束并保存"),
        Binding("f", "toggle_follow", "跟随/停止跟随"),
        Binding("v", "review", "回看"),
        Binding("escape", "back", "返回"),
    ]

    alert: reactive[tuple[str, str]] = reactive(("", ""), init=False)   # (kind, text)

    def __init__(self, *, input_file: str | None = None, autostart: bool = True):
        super().__init__()
        self.input_file = input_file
        self.autostart = autostart
        self.session: LiveSession | None = None
        self.at = 0.0
        self.voice_at: float | None = None
        self._paused_since_utt = 0.0  # seconds of pause since the last utterance (not a hold)
        self._last_at = 0.0
        self.result: Result | None = None
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.recent: list[Finding] = []
        self.alert_s: float | None = None
        self.alert_changes = 0        # how often the alert row was redrawn (flicker check)
        self._provisional: list[Finding] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield Static("", id="status")
            yield Clock(id="clock")
            yield LevelMeter(id="meter")
        yield Static("", id="alert")
        with Horizontal(id="body"):
            yield Transcript(id="transcript", placeholder="（正在等待说话…）")
            with Vertical(id="side"):
                yield Static("", id="counts")
        yield ErrorBox(id="error")
        yield Footer()

    def on_mount(self) -> None:
        self.input_file = self.input_file or self.app.input_file
        self.title = "实时自检"
        self.sub_title = "文件：" + self.input_file if self.input_file else "麦克风"
        self.query_one("#transcript").border_title = "实时记录"
        self.query_one("#side").border_title = "统计"
        self._show_counts()
        self._set_status()
        if self.autostart:
            self.action_start()

    # ------------------------------------------------------------------ display
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "toggle_pause":
            return self.state in ("listening", "paused", "idle", "error")
        if action == "stop":
            return self.state in ("listening", "paused", "loading")
        if action == "review":
            return self.result is not None
        return True

    def _set_status(self) -> None:
        self.refresh_bindings()
        text, style = {
            "idle": ("按 空格 开始", "bold"), "loading": (self.loading_text, "bold"),
            "listening": ("● 正在聆听", "bold $text-success"), "paused": ("‖ 已暂停", "bold $text-warning"),
            "done": ("已结束", "bold"), "error": ("无法开始", "bold $text-error"),
        }[self.state]
        t = Styled(text, style)
        if self.state == "listening" and self.behind_text():
            t.append(self.behind_text(), "bold $text-warning")
        if not self.query_one(Transcript).follow:
            t.append("  （已停止跟随，f 恢复）", "dim")
        self.query_one("#status", Static).update(t)

    def _show_counts(self) -> None:
        c = self.counts
        t = Styled()
        t.append("文明用语 ", style="$text-success")
        t.append(f"{c['courtesy']}\n", style="bold $text-success")
        t.append("忌语     ", style="$text-error")
        t.append(f"{c['brush_off']}\n", style="bold $text-error")
        t.append("不完整   ", style="$text-warning")
        t.append(f"{c['near_miss']}\n", style="bold $text-warning")
        t.append("其他问题 ", style="$text-warning")
        t.append(f"{c['structure']}", style="bold $text-warning")
        if self.recent:
            f = self.recent[-1]
            t.append("\n\n最近忌语：", style="dim")
            t.append(f"{f.phrase}", style="$text-error")
            if f.suggestion:
                t.append(f"\n→{suggestion_of(f)}", style="$text-primary")
        if self.result is not None:
            r = self.result
            t.append("\n\n本次得分 ", style="bold")
            t.append(verdict(r.score, r.outcome), style="bold $text-warning" if r.score is None else
                     "bold $text-success" if r.score >= 80 else "bold $text-error")
            t.append("\n（统计为最终结果，含整体检查）\nv 回看", style="dim")
        self.query_one("#counts", Static).update(t)

    def watch_alert(self, old: tuple[str, str], new: tuple[str, str]) -> None:
        if old == new or not self.is_mounted:
            return
        self.alert_changes += 1
        kind, text = new
        row = self.query_one("#alert", Static)
        row.set_class(kind == "hold", "-hold")
        row.set_class(kind in ("brush_off", "provisional"), "-brush-off")
        row.set_class(kind == "provisional", "-provisional")
        row.update(text)

    def _brush_off_alert(self, found: list[Finding], *, provisional: bool) -> tuple[str, str] | None:
        offs = [f for f in found if f.type == "brush_off"]
        if not offs:
            return None
        f = offs[-1]
        text = f"✗ 忌语「{f.phrase}」"
        if provisional:
            text += "（识别中）"
        if f.suggestion:
            text += f" → 改说：{suggestion_of(f)}"
        return ("provisional" if provisional else "brush_off", text)

    def _show_hold(self, seconds: float | None) -> None:
        """The hold alert takes the row while it lasts; when it ends the row is cleared."""
        kind = self.alert[0]
        if seconds is None:
            if kind == "hold":
                self.alert = ("", "")
            self.alert_s = None
            return
        self.alert_s = seconds
        self.alert = ("hold", f"⚠ 已让群众等待 {int(seconds)} 秒：请先说“请稍等”，回来时说“让您久等了”")

    # ------------------------------------------------------------------ actions
    def action_start(self) -> None:
        if self.state not in ("idle", "error"):
            return
        self.session = None
        self._begin_listening()

    def _prepare(self):
        """Engine loaded: open the session (and its sink) before the first block of audio."""
        meta = self.app.meta("live")
        self.session = LiveSession(self.listener.evaluator or self.app.evaluator(), meta,
                                   self.app.make_sink(meta))
        return self.session

    def action_toggle_pause(self) -> None:
        if self.state == "listening":
            self.state = "paused"
            self.listener.pause()
            self._show_hold(None)
        elif self.state == "paused":
            self.state = "listening"
            self.listener.resume()
        elif self.state in ("idle", "error"):
            self.action_start()

    def action_toggle_follow(self) -> None:
        transcript = self.query_one(Transcript)
        transcript.follow = not transcript.follow
        self._set_status()

    def action_stop(self) -> None:
        if self.state in ("listening", "paused", "loading"):
            self._finish()

    def action_review(self) -> None:
        if self.result is None:
            return
        from coach.tui.screens.review import ReviewScreen
        self.app.push_screen(ReviewScreen(self.result, audio=self.input_file))

    def action_back(self) -> None:
        if self.state not in ("listening", "paused"):
            self._stop_listening()
            self.app.pop_screen()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._finish()
                self.app.pop_screen()
        self.app.push_screen(ConfirmScreen("结束本次自检并保存？", "记录和得分会保存，可在「回看」中查看。"),
                             answered)

    @property
    def busy(self) -> bool:
        """A session is being recorded (quitting asks first)."""
        return self.state in ("listening", "paused", "loading")

    def end_for_quit(self) -> None:
        self._finish()

    def _finish(self) -> None:
        self._stop_listening()
        if self.state == "done":
            return
        self.state = "done"
        self._show_hold(None)
        self.query_one(Transcript).set_partial("")
        if self.session is None:
            return
        self.result = self.session.finish(file=self.input_file, duration_s=round(self.at, 3) or None)
        self.counts = dict(self.result.breakdown.get("counts") or count_findings(self.result.findings))
        self.refresh_bindings()
        self._show_counts()
        self.notify(f"本次自检已结束，得分 {verdict(self.result.score, self.result.outcome)}。按 v 回看。", timeout=6)

    # ------------------------------------------------------------------ worker messages
    def on_engine_ready(self, msg: EngineReady) -> None:
        self.app.trace("engine_ready")
        if self.state == "loading":
            self.state = "listening"

    def on_audio_level(self, msg: AudioLevel) -> None:
        if self.state == "paused":
            self._paused_since_utt += max(0.0, msg.at - self._last_at)
        self._last_at = msg.at
        self.at = msg.at
        self.voice_at = msg.voice_at
        self.behind = msg.behind
        self.query_one(LevelMeter).set_level(None if self.state == "paused" else msg.dbfs)
        self.query_one(Clock).set_seconds(msg.at)
        if self.state == "listening" and self.session is not None:
            self._show_hold(self.session.hold_alert(msg.at - self._paused_since_utt, msg.voice_at))

    def on_partial_text(self, msg: PartialText) -> None:
        if self.state not in ("listening", "paused"):
            return
        self.query_one(Transcript).set_partial(msg.text, msg.findings, msg.start)
        if msg.text:
            self.app.trace("partial")
        self._provisional = msg.findings
        for f in msg.findings:
            self.app.trace(f"provisional_{f.type}")
        alert = self._brush_off_alert(msg.findings, provisional=True)
        if alert is not None and self.alert[0] != "hold":
            self.alert = alert

    def on_final_utterance(self, msg: FinalUtterance) -> None:
        if self.session is None or self.state not in ("listening", "paused"):
            return
        u = msg.utterance
        found = self.session.add(u, msg.findings)
        self._paused_since_utt = 0.0
        for key, n in count_findings(found).items():
            self.counts[key] += n
        self.recent.extend(f for f in found if f.type == "brush_off")
        self.query_one(Transcript).add(u, found)
        self._show_counts()
        alert = self._brush_off_alert(found, provisional=False)
        if alert is not None:
            self.alert = alert                      # confirmed by the final
        elif self.alert[0] in ("provisional", "brush_off"):
            self.alert = ("", "")                   # withdrawn (or an older one: gone)
        self._provisional = []
        self.app.trace("final")
        for f in found:
            self.app.trace(f.type)

    def on_listen_done(self, msg: ListenDone) -> None:
        self.app.listeners.discard(self.listener)
        self.at = max(self.at, msg.at)
        self.query_one(Clock).set_seconds(self.at)
        self.query_one(LevelMeter).set_level(None)
        if self.state in ("listening", "paused") and not msg.stopped:
            self._finish()           # end of the --input file
