"""实时自检: continuous listening with highlights, running counts and a hold alert."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static

from coach.report.console import verdict
from coach.schema import Finding, Result
from coach.session.live import LiveSession
from coach.tui.messages import AudioLevel, EngineReady, FinalUtterance, ListenDone, PartialText
from coach.tui.screens.common import ErrorBox, ListeningScreen
from coach.tui.widgets import Clock, LevelMeter, Transcript, suggestion_of


class LiveScreen(ListeningScreen):
    BINDINGS = [
        Binding("space", "toggle_pause", "暂停/继续"),
        Binding("s", "stop", "结束并保存"),
        Binding("v", "review", "回看"),
        Binding("escape", "back", "返回"),
        Binding("q", "app.quit", "退出"),
    ]

    def __init__(self, *, input_file: str | None = None, autostart: bool = True):
        super().__init__()
        self.input_file = input_file
        self.autostart = autostart
        self.session: LiveSession | None = None
        self.state = "idle"           # idle | loading | listening | paused | done | error
        self.at = 0.0
        self._paused_since_utt = 0.0  # seconds of pause since the last utterance (not a hold)
        self._last_at = 0.0
        self.result: Result | None = None
        self.counts = {"courtesy": 0, "brush_off": 0, "near_miss": 0, "structure": 0}
        self.recent: list[Finding] = []
        self.alert_s: float | None = None

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
        self.query_one("#alert").display = False
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
            "idle": ("按 空格 开始", "bold"), "loading": ("正在加载语音模型…", "bold"),
            "listening": ("● 正在聆听", "bold green"), "paused": ("‖ 已暂停", "bold yellow"),
            "done": ("已结束", "bold"), "error": ("无法开始", "bold red"),
        }[self.state]
        self.query_one("#status", Static).update(Text(text, style=style))

    def _show_counts(self) -> None:
        c = self.counts
        t = Text()
        t.append("文明用语 ", style="green")
        t.append(f"{c['courtesy']}\n", style="bold green")
        t.append("忌语     ", style="red")
        t.append(f"{c['brush_off']}\n", style="bold red")
        t.append("不完整   ", style="yellow")
        t.append(f"{c['near_miss']}\n", style="bold yellow")
        t.append("其他问题 ", style="yellow")
        t.append(f"{c['structure']}", style="bold yellow")
        if self.recent:
            f = self.recent[-1]
            t.append("\n\n最近忌语：", style="dim")
            t.append(f"{f.phrase}", style="red")
            if f.suggestion:
                t.append(f"\n→{suggestion_of(f)}", style="cyan")
        if self.result is not None:
            r = self.result
            t.append("\n\n本次得分 ", style="bold")
            t.append(verdict(r.score, r.outcome), style="bold yellow" if r.score is None else
                     "bold green" if r.score >= 80 else "bold red")
            t.append("\nv 回看", style="dim")
        self.query_one("#counts", Static).update(t)

    def _show_alert(self, seconds: float | None) -> None:
        alert = self.query_one("#alert", Static)
        if seconds is None:
            if self.alert_s is not None:
                alert.display = False
            self.alert_s = None
            return
        if self.alert_s is None or int(seconds) != int(self.alert_s):
            alert.update(Text(f"⚠ 已让群众等待 {seconds:.0f} 秒：请先说“请稍等”，回来时说“让您久等了”",
                              style="bold"))
        self.alert_s = seconds
        alert.display = True

    # ------------------------------------------------------------------ actions
    def action_start(self) -> None:
        if self.state not in ("idle", "error"):
            return
        self.session = None
        self._begin_listening()

    def _prepare(self):
        """Engine loaded: open the session (and its sink) before the first block of audio."""
        meta = self.app.meta("live")
        self.session = LiveSession(self.app.evaluator(), meta, self.app.make_sink(meta))
        return self.session.audio

    def action_toggle_pause(self) -> None:
        if self.state == "listening":
            self.state = "paused"
            self.listener.pause()
            self._show_alert(None)
        elif self.state == "paused":
            self.state = "listening"
            self.listener.resume()
        elif self.state in ("idle", "error"):
            self.action_start()
            return
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
        if self.state in ("listening", "paused"):
            self._finish()
        self._stop_listening()
        self.app.pop_screen()

    def _finish(self) -> None:
        self._stop_listening()
        if self.state == "done":
            return
        self.state = "done"
        self._set_status()
        self._show_alert(None)
        self.query_one(Transcript).set_partial("")
        if self.session is None:
            return
        self.result = self.session.finish(file=self.input_file, duration_s=round(self.at, 3) or None)
        self.refresh_bindings()
        self._show_counts()
        self.notify(f"本次自检已结束，得分 {verdict(self.result.score, self.result.outcome)}。按 v 回看。", timeout=6)

    # ------------------------------------------------------------------ worker messages
    def on_engine_ready(self, msg: EngineReady) -> None:
        self.app.trace("engine_ready")
        if self.state == "loading":
            self.state = "listening"
            self._set_status()

    def on_audio_level(self, msg: AudioLevel) -> None:
        if self.state == "paused":
            self._paused_since_utt += max(0.0, msg.at - self._last_at)
        self._last_at = msg.at
        self.at = msg.at
        self.query_one(LevelMeter).set_level(None if self.state == "paused" else msg.dbfs)
        self.query_one(Clock).set_seconds(msg.at)
        if self.state == "listening" and self.session is not None:
            self._show_alert(self.session.hold_alert(msg.at - self._paused_since_utt))

    def on_partial_text(self, msg: PartialText) -> None:
        if self.state in ("listening", "paused"):
            self.query_one(Transcript).set_partial(msg.text)
            if msg.text:
                self.app.trace("partial")
                self._show_alert(None)

    def on_final_utterance(self, msg: FinalUtterance) -> None:
        if self.session is None or self.state not in ("listening", "paused"):
            return
        u = msg.utterance
        found = self.session.add(u)
        self._paused_since_utt = 0.0
        for f in found:
            if f.rule == "near_miss":
                self.counts["near_miss"] += 1
            elif f.type in self.counts:
                self.counts[f.type] += 1
            if f.type == "brush_off":
                self.recent.append(f)
        self.query_one(Transcript).add(u, found)
        self._show_counts()
        self._show_alert(None)
        self.app.trace("final")
        for f in found:
            self.app.trace(f.type)

    def on_listen_done(self, msg: ListenDone) -> None:
        self.app.listeners.discard(self.listener)
        if self.state in ("listening", "paused") and not msg.stopped:
            self._finish()           # end of the --input file
