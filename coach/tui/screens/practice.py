"""情景练习: pick a scenario, answer the citizen turn by turn, get a score card.

Turn advance: automatically 1 s after the utterance that completes the turn's checklist (so
the green tick is seen) — for a turn that expects nothing, after the clerk's first answer —
or at once with ``n`` (items still open count as missed).
``e`` ends the run; so does the end of an ``--input`` file.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from coach.phrasebook import Scenario
from coach.session.practice import PracticeRun, ScoreCard, TurnState
from coach.tui.messages import AudioLevel, EngineReady, FinalUtterance, ListenDone, PartialText
from coach.tui.screens.common import ErrorBox, ListeningScreen
from coach.tui.widgets import Clock, LevelMeter, Transcript, finding_text, suggestion_of

ADVANCE_DELAY_S = 1.0


class ScenarioPicker(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "返回")]

    def __init__(self, *, input_file: str | None = None):
        super().__init__()
        self._input_file = input_file

    @property
    def input_file(self) -> str | None:
        return self._input_file or self.app.input_file

    def compose(self) -> ComposeResult:
        yield Header()
        pb = self.app.phrasebook()
        with Vertical(id="picker"):
            yield Static(Text("选择情景", style="bold") + Text(f"  共 {len(pb.scenarios)} 个 · Enter 开始", style="dim"),
                         classes="section-title")
            if pb.scenarios:
                options = []
                for s in pb.scenarios:
                    t = Text()
                    t.append(s.title or s.id, style="bold")
                    t.append(f"  {len(s.turns)} 轮", style="dim")
                    if s.description:
                        t.append(f"\n{s.description}", style="dim")
                    options.append(Option(t, id=s.id))
                yield OptionList(*options, id="scenario-list")
            else:
                yield Static(f"规则库 {pb.root} 里没有情景（scenarios/*.toml）。", classes="warning")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        scenario = self.app.phrasebook().scenario(event.option.id)
        self.app.push_screen(PracticeScreen(scenario, input_file=self.input_file,
                                            autostart=self.input_file is not None))


class PracticeScreen(ListeningScreen):
    BINDINGS = [
        Binding("space", "start", "开始"),
        Binding("n", "next_turn", "下一轮"),
        Binding("e", "finish", "结束"),
        Binding("escape", "back", "返回"),
    ]

    def __init__(self, scenario: Scenario, *, input_file: str | None = None, autostart: bool = False):
        super().__init__()
        self.scenario = scenario
        self.input_file = input_file
        self.autostart = autostart
        self.run: PracticeRun | None = None
        self.state = "idle"          # idle | loading | listening | done | error
        self.at = 0.0
        self._advance_timer = None
        self.card: ScoreCard | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield Static("", id="turn-no")
            yield Static("", id="status")
            yield Clock(id="clock")
            yield LevelMeter(id="meter")
        yield Static("", id="citizen")
        with Horizontal(id="body"):
            yield Static("", id="checklist")
            yield Transcript(id="transcript", placeholder="（你的回答会显示在这里）")
        yield ErrorBox(id="error")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "情景练习"
        self.sub_title = self.scenario.title
        self.query_one("#citizen").border_title = "客户说"
        self.query_one("#checklist").border_title = "本轮应说"
        self.query_one("#transcript").border_title = "你的回答"
        self._new_run()
        self._show_turn()
        self._set_status()
        if self.autostart:
            self.action_start()

    def _new_run(self) -> None:
        self.run = PracticeRun(self.app.evaluator(self.scenario), self.scenario,
                               meta=self.app.meta("practice", self.scenario.id))

    def _set_status(self, text: str | None = None) -> None:
        self.refresh_bindings()
        if text is None:
            text = {"idle": "按 空格 开始作答", "loading": "正在加载语音模型…", "listening": "请作答",
                    "done": "已结束", "error": "无法开始"}[self.state]
        style = {"listening": "bold green", "error": "bold red"}.get(self.state, "bold")
        self.query_one("#status", Static).update(Text(text, style=style))

    def _show_turn(self) -> None:
        run = self.run
        t = run.current
        total = len(run.turns)
        if t is None:
            self.query_one("#turn-no", Static).update(Text(f"共 {total} 轮", style="bold"))
            return
        self.query_one("#turn-no", Static).update(Text(f"第 {t.number}/{total} 轮", style="bold"))
        self.query_one("#citizen", Static).update(Text(t.turn.citizen, style="bold"))
        self._show_checklist(t)

    def _show_checklist(self, t: TurnState) -> None:
        out = Text()
        for i, item in enumerate(t.items):
            if i:
                out.append("\n")
            said = item.said.phrase if item.said is not None else None
            if item.done:
                out.append("✓ ", style="bold green")
                out.append(item.title, style="bold green")
            else:
                out.append("○ ", style="dim")
                out.append(item.title, style="bold")
            if (said or item.example) != item.title:
                out.append(" " + (said or item.example), style="green" if said else "dim")
        if not t.items:
            out.append("（本轮没有必说用语）", style="dim")
        for f in t.brush_offs:
            out.append("\n✗ ", style="bold red")
            out.append(f"{f.phrase}", style="red")
            if f.suggestion:
                out.append(f"\n →{suggestion_of(f)}", style="cyan")
        if t.turn.hint:
            out.append(f"\n\n提示：{t.turn.hint}", style="dim italic")
        self.query_one("#checklist", Static).update(out)

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Show in the footer only the keys that do something now."""
        if action == "start":
            return self.state in ("idle", "error")
        if action in ("next_turn", "finish"):
            return self.state == "listening"
        return True

    def action_start(self) -> None:
        if self.state not in ("idle", "error"):
            return
        self._begin_listening()

    def _prepare(self):
        """Engine loaded: attach the store (if any) before the first block of audio."""
        session = self.run.session
        if session.sink is None:
            session.sink = self.app.make_sink(self.run.meta)
            if session.sink is not None:
                session.sink.start(self.run.meta)
        return session.audio

    def action_next_turn(self) -> None:
        if self.state != "listening" or self.run.finished:
            return
        self._cancel_advance()
        self._advance()

    def _advance(self) -> None:
        self._advance_timer = None
        if self.state != "listening":
            return
        if self.run.advance(self.at) is None:
            self.action_finish()
            return
        t = self.run.current
        self.query_one(Transcript).add_note(Text(f"— 第 {t.number} 轮 · 客户：{t.turn.citizen}", style="dim"))
        self._show_turn()

    def _cancel_advance(self) -> None:
        if self._advance_timer is not None:
            self._advance_timer.stop()
            self._advance_timer = None

    def action_finish(self) -> None:
        if self.state in ("done",) or self.run is None:
            return
        if self.state in ("idle", "error"):
            return
        self._cancel_advance()
        self.state = "done"
        self._set_status()
        self._stop_listening()
        self.card = self.run.finish(duration_s=round(self.at, 3) or None, file=self.input_file)
        self.app.switch_screen(ScoreCardScreen(self.card, input_file=self.input_file))

    def action_back(self) -> None:
        """Leave without a score card: the run is abandoned (a store keeps it as unfinished)."""
        self._stop_listening()
        self._cancel_advance()
        sink = self.run.session.sink if self.run else None
        if sink is not None and self.state != "done":
            close = getattr(sink, "close", None)
            if close:
                close()
        self.app.pop_screen()

    # ------------------------------------------------------------------ worker messages
    def on_engine_ready(self, msg: EngineReady) -> None:
        if self.state != "loading":
            return
        self.state = "listening"
        self._set_status()
        self.run.start_turn(0.0)

    def on_audio_level(self, msg: AudioLevel) -> None:
        self.at = msg.at
        self.query_one(LevelMeter).set_level(msg.dbfs)
        self.query_one(Clock).set_seconds(msg.at)

    def on_partial_text(self, msg: PartialText) -> None:
        if self.state == "listening":
            self.query_one(Transcript).set_partial(msg.text)

    def on_final_utterance(self, msg: FinalUtterance) -> None:
        if self.state != "listening" or self.run.finished:
            return
        u = msg.utterance
        found = self.run.add(u)
        if u.end is not None:
            self.at = max(self.at, u.end)
        self.query_one(Transcript).add(u, found)
        t = self.run.current
        self._show_checklist(t)
        if t.ready and self._advance_timer is None:
            self._advance_timer = self.set_timer(ADVANCE_DELAY_S, self._advance)

    def on_listen_done(self, msg: ListenDone) -> None:
        self.app.listeners.discard(self.listener)
        if self.state == "listening" and not msg.stopped:
            self.action_finish()     # the end of an --input file ends the run


class ScoreCardScreen(Screen):
    BINDINGS = [
        Binding("r", "again", "再练一次"),
        Binding("v", "review", "回看"),
        Binding("escape", "app.pop_screen", "返回"),
    ]

    def __init__(self, card: ScoreCard, *, input_file: str | None = None):
        super().__init__()
        self.card = card
        self.input_file = input_file

    def compose(self) -> ComposeResult:
        card = self.card
        yield Header()
        with VerticalScroll(id="scorecard"):
            head = Text()
            head.append(f"{card.scenario.title or card.scenario.id}", style="bold")
            head.append("   得分 ", style="dim")
            head.append(f"{card.score:g}", style="bold green" if card.score >= 80 else "bold yellow"
                        if card.score >= 60 else "bold red")
            head.append(" / 100", style="dim")
            head.append(f"   练到第 {card.turns_reached}/{len(card.scenario.turns)} 轮", style="dim")
            yield Static(head, id="score-head")
            yield Static(self._said(), id="said", classes="card-section")
            yield Static(self._missed(), id="missed", classes="card-section")
            yield Static(self._brush_offs(), id="say-instead", classes="card-section")
            if card.other:
                yield Static(self._other(), id="other", classes="card-section")
        with Horizontal(id="card-buttons"):
            yield Button("再练一次 (r)", id="again", variant="primary")
            yield Button("回看 (v)", id="review")
            yield Button("返回 (Esc)", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "成绩单"
        self.sub_title = self.card.scenario.title
        self.query_one("#said").border_title = f"已说 {len(self.card.said)}"
        self.query_one("#missed").border_title = f"漏说 {len(self.card.missed)}"
        self.query_one("#say-instead").border_title = f"忌语 {len(self.card.brush_offs)} · 应改说"
        if self.card.other:
            self.query_one("#other").border_title = "其他"
        self.query_one("#again", Button).focus()

    def _said(self) -> Text:
        t = Text()
        if not self.card.said:
            return Text("（没有说出本情景的文明用语）", style="dim")
        for i, (turn, phrase) in enumerate(self.card.said):
            if i:
                t.append("\n")
            t.append("✓ ", style="bold green")
            if turn:
                t.append(f"第{turn}轮 ", style="dim")
            t.append(phrase, style="green")
        return t

    def _missed(self) -> Text:
        if not self.card.missed:
            return Text("（没有漏说）", style="green")
        t = Text()
        for i, (f, turn) in enumerate(zip(self.card.missed, self.card.missed_turns)):
            if i:
                t.append("\n")
            t.append("○ ", style="bold yellow")
            t.append(f"第{turn}轮 ", style="dim")
            t.append(f"{f.phrase}", style="yellow")
            if f.suggestion:
                t.append(f"  {suggestion_of(f)}", style="dim")
        return t

    def _brush_offs(self) -> Text:
        if not self.card.brush_offs:
            return Text("（没有忌语）", style="green")
        t = Text()
        for i, f in enumerate(self.card.brush_offs):
            if i:
                t.append("\n")
            turn = self.card.turn(f)
            t.append("✗ ", style="bold red")
            if turn:
                t.append(f"第{turn}轮 ", style="dim")
            t.append(f"「{f.phrase}」", style="red")
            if f.suggestion:
                t.append("→改说：", style="dim")
                t.append(suggestion_of(f), style="cyan")
        return t

    def _other(self) -> Text:
        return Text("\n").join(finding_text(f, indent="") for f in self.card.other)

    @on(Button.Pressed, "#again")
    def action_again(self) -> None:
        self.app.switch_screen(PracticeScreen(self.card.scenario, input_file=self.input_file,
                                              autostart=self.input_file is not None))

    @on(Button.Pressed, "#review")
    def action_review(self) -> None:
        from coach.tui.screens.review import ReviewScreen
        self.app.push_screen(ReviewScreen(self.card.result, audio=self.input_file))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()
