"""情景练习: pick a scenario, answer the citizen turn by turn, get a score card.

Turn flow: once the trainee has answered and paused (no voice in the input level for
``ADVANCE_PAUSE_S`` after the last utterance), a complete turn advances (for a turn that
expects nothing, any answer completes it); an incomplete one says on screen what was not
heard ("没听到「询问需求」— 再说一遍 / n 下一轮"), ``w`` lists the accepted wordings and ``n``
moves on (items still open count as missed).  ``e`` ends the run after the utterance being
spoken is recognised; so does the end of an ``--input`` file.  The phrasebook and jieba load
in a worker while the screen shows that it is loading.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from coach.errors import CoachError
from coach.phrasebook import Scenario
from coach.session.practice import CheckItem, PracticeRun, ScoreCard, TurnState
from coach.tui.messages import AudioLevel, EngineReady, FinalUtterance, ListenDone, ListenError, PartialText
from coach.tui.screens.common import ErrorBox, ListeningScreen
from coach.tui.styled import Styled
from coach.tui.widgets import Clock, LevelMeter, Transcript, finding_text, suggestion_of

ADVANCE_PAUSE_S = 1.0   # the turn is complete and the trainee paused this long: next turn
NUDGE_PAUSE_S = 2.5     # not complete after this pause: say what was not heard
CARD_DELAY_S = 1.2      # the last utterance stays in view this long before the score card


class ScenarioPicker(Screen):
    HELP = "选择一个情景，回车开始。每个情景有若干轮：客户说一句，你按本轮要求作答。"
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
            yield Static(Styled("选择情景", style="bold") + Styled(f"  共 {len(pb.scenarios)} 个 · Enter 开始", style="dim"),
                         classes="section-title")
            if pb.scenarios:
                options = []
                for s in pb.scenarios:
                    t = Styled()
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
    HELP = ("读（听）客户说的话，然后作答。本轮应说的文明用语说全并停顿一下，自动进入下一轮；"
            "没听到时屏幕会提示：再说一遍，或按 n 进入下一轮；按 w 查看可用的说法。"
            "按 e 结束并查看成绩单（正在说的那句会先识别完）。没说话则不打分。")
    BINDINGS = [
        Binding("space", "start", "开始"),
        Binding("n", "next_turn", "下一轮"),
        Binding("w", "wordings", "可用说法"),
        Binding("e", "finish", "结束"),
        Binding("escape", "back", "返回"),
    ]

    def __init__(self, scenario: Scenario, *, input_file: str | None = None, autostart: bool = False):
        super().__init__()
        self.title = "情景练习"
        self.sub_title = scenario.title
        self.scenario = scenario
        self.input_file = input_file
        self.autostart = autostart
        self.run: PracticeRun | None = None
        self.at = 0.0
        self.voice_at: float | None = None
        self.answered_at: float | None = None   # end of the trainee's last utterance in this turn
        self.nudged = False                      # "没听到…" is on screen for this turn
        self.show_wordings = False
        self.card: ScoreCard | None = None
        self._listen_done = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield Static("", id="turn-no")
            yield Static("", id="status")
            yield Clock(id="clock")
            yield LevelMeter(id="meter")
        yield Static("", id="citizen")
        yield Static("", id="alert")
        with Horizontal(id="body"):
            yield Static("", id="checklist")
            yield Transcript(id="transcript", placeholder="（你的回答会显示在这里）")
        yield ErrorBox(id="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#citizen").border_title = "客户说"
        self.query_one("#checklist").border_title = "本轮应说"
        self.query_one("#transcript").border_title = "你的回答"
        self.query_one("#citizen", Static).update(Styled(self.scenario.turns[0].citizen, "bold")
                                                  if self.scenario.turns else "")
        self.state = "preparing"
        self._load()

    @work(thread=True, exclusive=True, group="prepare")
    def _load(self) -> None:
        """Compile the phrasebook and load jieba's dictionary off the UI thread."""
        try:
            evaluator = self.evaluator()
            evaluator.matcher.warm_up()
        except CoachError as exc:
            self.post_message(ListenError(exc.message, exc.hint))
            return
        self.app.call_from_thread(self._loaded)

    def _loaded(self) -> None:
        self._new_run()
        self._show_turn()
        self.state = "idle"
        if self.autostart:
            self.action_start()

    def evaluator(self):
        return self.app.evaluator(self.scenario)

    def _new_run(self) -> None:
        self.run = PracticeRun(self.app.evaluator(self.scenario), self.scenario,
                               meta=self.app.meta("practice", self.scenario.id))

    def _set_status(self, text: str | None = None) -> None:
        self.refresh_bindings()
        if text is None:
            text = {"preparing": "正在加载规则库和分词词典…", "idle": "按 空格 开始作答",
                    "loading": self.loading_text, "listening": "请作答",
                    "finishing": "正在识别最后一句，随后显示成绩单…", "done": "已结束",
                    "error": "无法开始"}[self.state]
        style = {"listening": "bold $text-success", "error": "bold $text-error"}.get(self.state, "bold")
        t = Styled(text, style)
        if self.state == "listening" and self.behind_text():
            t.append(self.behind_text(), "bold $text-warning")
        self.query_one("#status", Static).update(t)

    def _show_turn(self) -> None:
        run = self.run
        t = run.current
        total = len(run.turns)
        self.nudged = False
        self.answered_at = None
        self.show_wordings = False
        self._set_alert("")
        if t is None:
            self.query_one("#turn-no", Static).update(Styled(f"共 {total} 轮", style="bold"))
            return
        self.query_one("#turn-no", Static).update(Styled(f"第 {t.number}/{total} 轮", style="bold"))
        self.query_one("#citizen", Static).update(Styled(t.turn.citizen, style="bold"))
        self._show_checklist(t)
        self.app.speak(t.turn.citizen)

    def _show_checklist(self, t: TurnState) -> None:
        out = Styled()
        pb = self.run.evaluator.phrasebook
        for i, item in enumerate(t.items):
            if i:
                out.append("\n")
            said = item.said.phrase if item.said is not None else None
            if item.done:
                out.append("✓ ", style="bold $text-success")
                out.append(item.title, style="bold $text-success")
            else:
                out.append("○ ", style="dim")
                out.append(item.title, style="bold")
            if (said or item.example) != item.title:
                out.append(" " + (said or item.example), style="$text-success" if said else "dim")
            if self.show_wordings and not item.done:
                out.append("\n  可以说：" + "、".join(accepted_wordings(pb, item)), style="$text-primary")
        if not t.items:
            out.append("（本轮没有必说用语）", style="dim")
        for f in t.brush_offs:
            out.append("\n✗ ", style="bold $text-error")
            out.append(f"{f.phrase}", style="$text-error")
            if f.suggestion:
                out.append(f"\n →{suggestion_of(f)}", style="$text-primary")
        if t.turn.hint:
            out.append(f"\n\n提示：{t.turn.hint}", style="dim italic")
        if t.items and not self.show_wordings:
            out.append("\nw 查看可用说法", style="dim")
        self.query_one("#checklist", Static).update(out)

    def _set_alert(self, text: str, style: str = "") -> None:
        row = self.query_one("#alert", Static)
        if str(row.render()) != text:
            row.update(Styled(text, style))

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Show in the footer only the keys that do something now."""
        if action == "start":
            return self.state in ("idle", "error", "preparing")
        if action in ("next_turn", "finish"):
            return self.state == "listening"
        if action == "wordings":
            return self.run is not None and self.run.current is not None and bool(self.run.current.items)
        return True

    @property
    def busy(self) -> bool:
        return self.state in ("listening", "loading", "finishing")

    def action_start(self) -> None:
        if self.state == "preparing":
            self.autostart = True        # starts as soon as the phrasebook is loaded
            return
        if self.state not in ("idle", "error") or self.run is None:
            return
        self._listen_done = False
        self._begin_listening()

    def _prepare(self):
        """Engine loaded: attach the store (if any) before the first block of audio."""
        session = self.run.session
        if session.sink is None:
            session.sink = self.app.make_sink(self.run.meta)
            if session.sink is not None:
                session.sink.start(self.run.meta)
        return session

    def action_wordings(self) -> None:
        t = self.run.current if self.run else None
        if t is None:
            return
        self.show_wordings = not self.show_wordings
        self._show_checklist(t)

    def action_next_turn(self) -> None:
        if self.state != "listening" or self.run.finished:
            return
        self._advance()

    def _advance(self) -> None:
        if self.state != "listening":
            return
        if self.run.advance(self.at) is None:
            self.action_finish()
            return
        t = self.run.current
        self.query_one(Transcript).add_note(Styled(f"— 第 {t.number} 轮 · 客户：{t.turn.citizen}", style="dim"),
                                            at=self.at)
        self._show_turn()

    def _pause_check(self) -> None:
        """After an answer and a pause: advance when the turn is complete, else say what was
        not heard (once per answer)."""
        t = self.run.current if self.run else None
        if self.state != "listening" or t is None or self.answered_at is None:
            return
        quiet_since = max(self.answered_at, self.voice_at or 0.0)
        quiet = self.at - quiet_since
        if t.ready and quiet >= ADVANCE_PAUSE_S:
            self._advance()
        elif not t.ready and not self.nudged and quiet >= NUDGE_PAUSE_S:
            self.nudged = True
            missing = "、".join(f"「{i.title}」" for i in t.items if not i.done)
            self._set_alert(f"没听到{missing} — 再说一遍 / n 下一轮 / w 看可用说法", "bold $text-warning")

    def _advance_if_paused_before(self, u) -> None:
        """The turn flow follows the audio, not the recogniser's lag: when the current turn was
        complete and the trainee paused ``ADVANCE_PAUSE_S`` before this utterance began, the turn
        ended in that pause — also when its last final arrived only after this utterance had
        started (a busy machine), so this answer belongs to the next turn."""
        t = self.run.current if self.run else None
        if (self.state == "listening" and t is not None and t.ready and self.answered_at is not None
                and u.start is not None and u.start - self.answered_at >= ADVANCE_PAUSE_S):
            self._advance()

    def action_finish(self) -> None:
        """End the run: the utterance being spoken is recognised first, then the card."""
        if self.run is None or self.state not in ("listening",):
            return
        self.state = "finishing"
        if self._listen_done or self.listener is None:
            self._show_card_soon()
        else:
            self.listener.end()          # its last Final, then ListenDone

    def _show_card_soon(self) -> None:
        """The last utterance stays on screen a moment before the card replaces it."""
        self.call_after_refresh(self.set_timer, CARD_DELAY_S, self._show_card)

    def _show_card(self) -> None:
        if self.state == "done" or self.run is None:
            return
        self.state = "done"
        self._stop_listening()
        self.card = self.run.finish(duration_s=round(self.at, 3) or None, file=self.input_file)
        self.app.switch_screen(ScoreCardScreen(self.card, input_file=self.input_file))

    def end_for_quit(self) -> None:
        self._abandon()

    def action_back(self) -> None:
        """Leave without a score card: the run is abandoned (a store keeps it as unfinished)."""
        self._abandon()
        self.app.pop_screen()

    def _abandon(self) -> None:
        self._stop_listening()
        sink = self.run.session.sink if self.run else None
        if sink is not None and self.state != "done":
            close = getattr(sink, "close", None)
            if close:
                close()

    # ------------------------------------------------------------------ worker messages
    def on_engine_ready(self, msg: EngineReady) -> None:
        if self.state != "loading":
            return
        self.state = "listening"
        self.run.start_turn(0.0)

    def on_audio_level(self, msg: AudioLevel) -> None:
        self.at = msg.at
        self.voice_at = msg.voice_at
        self.behind = msg.behind
        self.query_one(LevelMeter).set_level(msg.dbfs)
        self.query_one(Clock).set_seconds(msg.at)
        self._pause_check()

    def on_partial_text(self, msg: PartialText) -> None:
        if self.state in ("listening", "finishing"):
            self.query_one(Transcript).set_partial(msg.text, msg.findings, msg.start)
            offs = [f for f in msg.findings if f.type == "brush_off"]
            if offs:
                f = offs[-1]
                self._set_alert(f"✗ 忌语「{f.phrase}」（识别中）" + (f" → 改说：{suggestion_of(f)}" if f.suggestion
                                                                 else ""), "$text-error dim")

    def on_final_utterance(self, msg: FinalUtterance) -> None:
        if self.state not in ("listening", "finishing") or self.run.finished:
            return
        u = msg.utterance
        self._advance_if_paused_before(u)
        if self.run.finished or self.state not in ("listening", "finishing"):
            return
        found = self.run.add(u, msg.findings)
        if u.end is not None:
            self.at = max(self.at, u.end)
        self.answered_at = u.end if u.end is not None else self.at
        self.query_one(Transcript).add(u, found)
        t = self.run.current
        self._show_checklist(t)
        offs = [f for f in found if f.type == "brush_off"]
        if offs:
            f = offs[-1]
            self._set_alert(f"✗ 忌语「{f.phrase}」" + (f" → 改说：{suggestion_of(f)}" if f.suggestion else ""),
                            "bold $text-error")
        else:
            self._set_alert("")
        self.nudged = False

    def on_listen_done(self, msg: ListenDone) -> None:
        self.app.listeners.discard(self.listener)
        self._listen_done = True
        self.at = max(self.at, msg.at)
        self.query_one(Clock).set_seconds(self.at)
        self.query_one(LevelMeter).set_level(None)
        if self.state in ("listening", "finishing") and not msg.stopped:
            self.state = "finishing"
            self._show_card_soon()    # the end of an --input file (or of `e`) ends the run


def accepted_wordings(pb, item: CheckItem, limit: int = 6) -> list[str]:
    """Wordings the phrasebook accepts for a checklist item (canonical phrases and variants)."""
    out: list[str] = []
    for c in pb.courtesies:
        if c.id in item.ids:
            for w in (c.phrase, *c.variants):
                if w not in out and "X" not in w:
                    out.append(w)
    return out[:limit]


class ScoreCardScreen(Screen):
    HELP = ("本次练习的成绩单：已说的文明用语、各轮漏说的用语、说了的忌语和应改说的话。"
            "没有听到讲话时不打分。r 再练一次，v 逐句回看。")
    BINDINGS = [
        Binding("r", "again", "再练一次"),
        Binding("v", "review", "回看"),
        Binding("escape", "app.pop_screen", "返回"),
    ]

    def __init__(self, card: ScoreCard, *, input_file: str | None = None):
        super().__init__()
        self.title = "成绩单"
        self.sub_title = card.scenario.title
        self.card = card
        self.input_file = input_file

    def compose(self) -> ComposeResult:
        card = self.card
        yield Header()
        if not card.spoken:
            with VerticalScroll(id="scorecard"):
                yield Static(Styled(f"{card.scenario.title or card.scenario.id}", "bold")
                             .append("   未检测到讲话", "bold $text-warning"), id="score-head")
                yield Static(Styled("这一次没有听到你的回答，所以不打分。\n"
                                    "检查麦克风（音量条应随说话跳动），按 r 再练一次。", "dim"),
                             id="no-speech", classes="card-section")
            yield from self._buttons()
            return
        with VerticalScroll(id="scorecard"):
            head = Styled()
            head.append(f"{card.scenario.title or card.scenario.id}", style="bold")
            head.append("   得分 ", style="dim")
            head.append(f"{card.score:g}", style="bold $text-success" if card.score >= 80 else "bold $text-warning"
                        if card.score >= 60 else "bold $text-error")
            head.append(" / 100", style="dim")
            head.append(f"   练到第 {card.turns_reached}/{len(card.scenario.turns)} 轮", style="dim")
            yield Static(head, id="score-head")
            yield Static(self._said(), id="said", classes="card-section")
            yield Static(self._missed(), id="missed", classes="card-section")
            yield Static(self._brush_offs(), id="say-instead", classes="card-section")
            if card.other:
                yield Static(self._other(), id="other", classes="card-section")
        yield from self._buttons()

    def _buttons(self) -> ComposeResult:
        with Horizontal(id="card-buttons"):
            yield Button("再练一次 (r)", id="again", variant="primary")
            yield Button("回看 (v)", id="review", disabled=not self.card.spoken)
            yield Button("返回 (Esc)", id="back")
        yield Footer()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "review":
            return self.card.spoken
        return True

    def on_mount(self) -> None:
        self.query_one("#again", Button).focus()
        if not self.card.spoken:
            return
        self.query_one("#said").border_title = f"已说 {len(self.card.said)}"
        self.query_one("#missed").border_title = f"漏说 {len(self.card.missed)}"
        self.query_one("#say-instead").border_title = f"忌语 {len(self.card.brush_offs)} · 应改说"
        if self.card.other:
            self.query_one("#other").border_title = "其他"

    def _said(self) -> Styled:
        t = Styled()
        if not self.card.said:
            return Styled("（没有说出本情景的文明用语）", style="dim")
        for i, (turn, phrase) in enumerate(self.card.said):
            if i:
                t.append("\n")
            t.append("✓ ", style="bold $text-success")
            if turn:
                t.append(f"第{turn}轮 ", style="dim")
            t.append(phrase, style="$text-success")
        return t

    def _missed(self) -> Styled:
        if not self.card.missed:
            return Styled("（没有漏说）", style="$text-success")
        t = Styled()
        for i, (f, turn) in enumerate(zip(self.card.missed, self.card.missed_turns)):
            if i:
                t.append("\n")
            t.append("○ ", style="bold $text-warning")
            t.append(f"第{turn}轮 ", style="dim")
            t.append(f"{f.phrase}", style="$text-warning")
            if f.suggestion:
                t.append(f"  {suggestion_of(f)}", style="dim")
        return t

    def _brush_offs(self) -> Styled:
        if not self.card.brush_offs:
            return Styled("（没有忌语）", style="$text-success")
        t = Styled()
        for i, f in enumerate(self.card.brush_offs):
            if i:
                t.append("\n")
            turn = self.card.turn(f)
            t.append("✗ ", style="bold $text-error")
            if turn:
                t.append(f"第{turn}轮 ", style="dim")
            t.append(f"「{f.phrase}」", style="$text-error")
            if f.suggestion:
                t.append("→改说：", style="dim")
                t.append(suggestion_of(f), style="$text-primary")
        return t

    def _other(self) -> Styled:
        return Styled("\n").join(finding_text(f, indent="") for f in self.card.other)

    @on(Button.Pressed, "#again")
    def action_again(self) -> None:
        self.app.switch_screen(PracticeScreen(self.card.scenario, input_file=self.input_file,
                                              autostart=self.input_file is not None))

    @on(Button.Pressed, "#review")
    def action_review(self) -> None:
        if not self.card.spoken:
            return
        from coach.tui.screens.review import ReviewScreen
        self.app.push_screen(ReviewScreen(self.card.result, audio=self.input_file))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()
