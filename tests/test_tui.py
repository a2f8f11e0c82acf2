"""The terminal app, driven by keyboard with Textual's pilot (scripted engine; no model, no sound card).

The real engine on a real recording is exercised in ``test_tui_real.py``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from textual.widgets import OptionList

from coach.errors import AudioDeviceError, ModelError
from coach.phrasebook import default_dir, load_phrasebook
from coach.schema import Utterance
from coach.session.evaluate import Evaluator
from coach.tui.app import CoachApp
from coach.tui.messages import AudioLevel, PartialText
from coach.tui.screens.common import ConfirmScreen, ErrorBox
from coach.tui.screens.home import HomeScreen
from coach.tui.screens.live import LiveScreen
from coach.tui.screens.practice import PracticeScreen, ScenarioPicker, ScoreCardScreen
from coach.tui.screens.review import ReviewOpen, ReviewScreen
from coach.tui.screens.settings import SettingsScreen
from coach.tui.settings import Settings
from coach.tui.testing import ScriptedEngine, SilenceSource

SIZE = (100, 30)
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("app_dirs")]   # conftest


TEST_SCENARIO = '''
id = "tui_test"
title = "测试：办营业执照"
description = "界面测试用的情景。"

[[turns]]
citizen = "你好，我想办营业执照。"
expect = ["greeting", "waiting"]
hint = "先问好，再请对方稍等。"

[[turns]]
citizen = "要等多久？"
expect = []
hint = "说明办理时限。"

[[turns]]
citizen = "好的，那我先走了。"
expect = ["farewell", "apology"]
hint = "走有送声。"
'''



def make_phrasebook(tmp_path: Path, *, hold_s: float | None = None) -> Path:
    """The default phrasebook with only the test scenario (and a short hold for the live test)."""
    pb = tmp_path / "pb"
    shutil.copytree(default_dir(), pb)
    for f in (pb / "scenarios").glob("*.toml"):
        f.unlink()
    (pb / "scenarios" / "tui_test.toml").write_text(TEST_SCENARIO, encoding="utf-8")
    if hold_s is not None:
        main = pb / "phrasebook.toml"
        text = main.read_text(encoding="utf-8")
        import re
        text = re.sub(r"(?m)^hold_s\s*=.*$", f"hold_s = {hold_s}", text)
        main.write_text(text, encoding="utf-8")
        assert load_phrasebook(pb).thresholds.hold_s == hold_s
    return pb


def make_app(tmp_path, script=(), *, seconds=6.0, realtime=True, hold_open=False, hold_s=None, **kw) -> CoachApp:
    pb = make_phrasebook(tmp_path, hold_s=hold_s)
    kw.setdefault("engine_factory", lambda live: ScriptedEngine(script))
    kw.setdefault("source_factory", lambda f, d: SilenceSource(seconds, realtime=realtime, hold_open=hold_open))
    return CoachApp(settings=Settings(), phrasebook=str(pb), **kw)


# Waits are on state; the timeout only ends a test that would otherwise hang.  It is generous:
# on a loaded machine (other test runs, a CPU burner beside them) loading the phrasebook and
# jieba in the worker and a real-time source reaching its lines take many times longer than idle,
# and a short timeout made tests fail that were only slow (issue 11).
WAIT_S = 180.0


async def wait_for(pilot, condition, timeout: float = WAIT_S, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            await pilot.pause()      # let the app run the callbacks queued by what it just did
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def card_ready(app) -> bool:
    """The score card is up *and* composed: its buttons mounted and its header showing its
    title (Textual's Header sets it in a callback that fails if the app exits first)."""
    screen = app.screen
    if not isinstance(screen, ScoreCardScreen) or not screen.query("#card-buttons Button"):
        return False
    titles = screen.query("HeaderTitle")
    return bool(titles) and "成绩单" in str(titles.first().render())


def text_of(widget) -> str:
    return str(widget.render())


def styled_spans(widget) -> list[tuple[str, str]]:
    """(text, style) of every styled span of a Static's Rich Text."""
    t = widget.render()
    return [(t.plain[s.start:s.end], str(s.style)) for s in t.spans]


def coloured(widget, text: str, colour: str) -> bool:
    return any(t == text and colour.replace("green", "success").replace("red", "error").replace("yellow", "warning") in style for t, style in styled_spans(widget))


# ---------------------------------------------------------------- home & navigation

async def test_home_menu_by_keyboard(tmp_path):
    app = make_app(tmp_path, hold_open=True)   # the session runs until ended (a slow machine does not end it)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        assert "情景练习" in str(app.screen.query_one("#home-menu", OptionList).get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        live = app.screen
        assert isinstance(live, LiveScreen)
        await wait_for(pilot, lambda: live.state == "listening", what="listening")
        await pilot.press("escape")                   # a running session: Esc asks first
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is live and live.state == "listening"
        await pilot.press("escape", "y")
        assert isinstance(app.screen, HomeScreen) and live.state == "done"
        await pilot.press("3")
        assert isinstance(app.screen, ReviewOpen)
        await pilot.press("escape", "4")
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("escape", "1")
        assert isinstance(app.screen, ScenarioPicker)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_settings_saved_as_toml(tmp_path):
    app = make_app(tmp_path)
    app.save_settings_enabled = True
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: "麦克风" in text_of(app.screen.query_one("#mic-note")), what="mic scan")
        await pilot.press(*"Wang Wu")          # the trainee field has the focus
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, HomeScreen)
        assert "Wang Wu" in text_of(app.screen.query_one("#home-status"))
    path = tmp_path / "config" / "settings.toml"
    assert path.is_file()
    assert Settings.load(path).trainee == "Wang Wu"
    assert Settings.load(path).engine == "auto"


async def test_settings_clerk_channel_and_voice_note(tmp_path):
    """The stereo channel is a setting; the screen says whether the trainee's voice is enrolled."""
    app = make_app(tmp_path)
    app.save_settings_enabled = True
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: "麦克风" in text_of(app.screen.query_one("#mic-note")), what="mic scan")
        await pilot.press(*"Li")
        await wait_for(pilot, lambda: "尚未登记 Li" in text_of(app.screen.query_one("#voice-note")), what="note")
        app.screen.query_one("#clerk-channel").value = "right"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, HomeScreen)
        assert "coach enroll" not in text_of(app.screen.query_one("#home-status"))   # stereo: no hint
    saved = Settings.load(tmp_path / "config" / "settings.toml")
    assert saved.clerk_channel == "right" and saved.trainee == "Li"


async def test_settings_rejects_bad_phrasebook(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        app.screen.query_one("#phrasebook").value = str(tmp_path / "nope")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
        box = app.screen.query_one(ErrorBox)
        assert box.display and "规则库无法使用" in text_of(box)


def test_settings_round_trip(tmp_path):
    s = Settings(engine="vosk", model="vosk-small-cn", device="2", phrasebook='C:\\pb "x"', trainee="张三")
    path = s.save(tmp_path / "s.toml")
    assert Settings.load(path) == s
    assert s.device_arg == 2
    (tmp_path / "bad.toml").write_text("engine = [", encoding="utf-8")
    assert Settings.load(tmp_path / "bad.toml") == Settings()


# ---------------------------------------------------------------- practice

PRACTICE_SCRIPT = [(0.8, "您好，请稍等"), (2.6, "不知道，你去问别人吧"), (4.4, "再见，请慢走")]


async def test_practice_run_to_score_card(tmp_path, monkeypatch):
    # the audio holds still after each answer until the test has looked (a turn advances 1 s of
    # audio after its answer; on a loaded machine that came before the screen was checked)
    sources: list[SilenceSource] = []

    def source(f, d):
        sources.append(SilenceSource(6.0, realtime=True, gates=(1.2, 3.0) if not sources else ()))
        return sources[-1]

    app = make_app(tmp_path, PRACTICE_SCRIPT, source_factory=source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        assert isinstance(app.screen, ScenarioPicker)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, PracticeScreen)
        await wait_for(pilot, lambda: screen.state == "idle", what="phrasebook loaded")
        assert "你好，我想办营业执照" in text_of(screen.query_one("#citizen"))
        assert "○ 问候 您好" in text_of(screen.query_one("#checklist"))
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.state == "listening", what="engine ready")

        # turn 1: both expected courtesies ticked green (the turn advances 1 s of audio later)
        await wait_for(pilot, lambda: sources[0].held_at == 1.2, what="audio at turn 1's gate")
        checklist = screen.query_one("#checklist")
        await wait_for(pilot, lambda: "✓ 问候 您好" in text_of(checklist) and "✓ 请稍等" in text_of(checklist),
                       what="turn 1 ticked")
        assert screen.run.turns[0].complete
        await wait_for(pilot, lambda: screen.query(".utt"), what="first line shown")
        utt = screen.query(".utt").first()
        assert coloured(utt, "您好", "green") and coloured(utt, "请稍等", "green")

        # turn 2 (advanced automatically): the brush-off in red, the suggestion beside it
        sources[0].release()
        await wait_for(pilot, lambda: sources[0].held_at == 3.0, what="audio at turn 2's gate")
        await wait_for(pilot, lambda: screen.run.index >= 1 and screen.run.turns[1].brush_offs, what="brush-off")
        assert "要等多久" in text_of(screen.query_one("#citizen"))
        await wait_for(pilot, lambda: [w for w in screen.query(".utt") if "不知道" in text_of(w)],
                       what="brush-off line shown")
        blocks = [w for w in screen.query(".utt") if "不知道" in text_of(w)]
        assert coloured(blocks[0], "不知道", "red")
        assert "改说：这个问题我帮您确认一下" in text_of(blocks[0])

        # the file ends -> score card
        sources[0].release()
        await wait_for(pilot, lambda: isinstance(app.screen, ScoreCardScreen) and app.screen.query("#say-instead"),
                       what="score card")
        card = app.screen
        said = text_of(card.query_one("#said"))
        assert "您好" in said and "请稍等" in said and "请慢走" in said
        missed = text_of(card.query_one("#missed"))
        assert "第3轮" in missed and "不好意思" in missed          # apology expected in turn 3
        instead = text_of(card.query_one("#say-instead"))
        assert "不知道" in instead and "改说" in instead
        assert card.card.result.breakdown["scenario"] == "tui_test"

        await pilot.press("v")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("escape", "r")
        assert isinstance(app.screen, PracticeScreen)
        await wait_for(pilot, lambda: app.screen.state == "idle", what="ready again")
        await pilot.press("escape")
        assert isinstance(app.screen, ScenarioPicker)


async def test_practice_next_key_and_early_finish(tmp_path):
    app = make_app(tmp_path, [(0.5, "您好")], seconds=30.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "enter", "space")
        screen = app.screen
        await wait_for(pilot, lambda: screen.run.utterances[1:], what="first utterance")
        assert screen.run.index == 0                 # 请稍等 still open: no automatic advance
        await pilot.press("n")
        assert screen.run.index == 1
        assert "第 2/3 轮" in text_of(screen.query_one("#turn-no"))
        await pilot.press("e")
        await wait_for(pilot, lambda: card_ready(app), what="score card")
        card = app.screen.card
        assert card.turns_done == 1 and card.turns_reached == 2
        # turn 3 was never reached: not charged
        assert [f.phrase for f in card.missed] == ["请稍等"]
        assert card.missed_turns == [1]


# ---------------------------------------------------------------- live

class RecordingSink:
    def __init__(self):
        self.events = []
        self.blocks = 0

    def start(self, meta):
        self.events.append(("start", meta.kind))

    def audio(self, block):
        self.blocks += 1

    def utterance(self, u, findings):
        self.events.append(("utterance", u.text))

    def finish(self, result):
        self.events.append(("finish", result.score))


async def test_live_counts_alert_pause_and_keep(tmp_path):
    sink = RecordingSink()
    script = [(0.6, "您好，请问您要办什么业务"), (1.4, "不知道")]
    app = make_app(tmp_path, script, seconds=60, hold_open=True, hold_s=1.0,
                   start="live", sink_factory=lambda meta: sink)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await wait_for(pilot, lambda: screen.counts["brush_off"] == 1, what="brush-off")
        counts = text_of(screen.query_one("#counts"))
        assert "文明用语 2" in counts and screen.counts["courtesy"] == 2
        assert "最近忌语：不知道" in counts
        # silence after the last utterance outlasts hold_s without 请稍等: alert
        alert = screen.query_one("#alert")
        await wait_for(pilot, lambda: screen.alert[0] == "hold", what="hold alert")
        await wait_for(pilot, lambda: "请稍等" in text_of(alert), what="hold alert shown")
        assert alert.has_class("-hold")

        await pilot.press("space")
        assert screen.state == "paused" and screen.alert[0] != "hold"
        assert "已暂停" in text_of(screen.query_one("#status"))
        at = screen.at          # paused, the microphone-like source goes on (fed as silence)
        await wait_for(pilot, lambda: screen.at >= at + 0.5, what="audio clock while paused")
        assert screen.alert[0] != "hold" and "等待" not in text_of(alert)
        await pilot.press("space")
        assert screen.state == "listening"

        await pilot.press("s")
        assert screen.state == "done" and screen.result is not None
        assert "本次得分" in text_of(screen.query_one("#counts"))
        # the counts panel now shows the final result's counts (whole-visit rules included)
        assert screen.counts == screen.result.breakdown["counts"]
        final = screen.result.breakdown["counts"]
        assert f"其他问题 {final['structure']}" in text_of(screen.query_one("#counts"))
        assert sink.events[0] == ("start", "live")
        assert sink.events[-1][0] == "finish"
        assert [e[1] for e in sink.events if e[0] == "utterance"] == ["您好，请问您要办什么业务", "不知道"]
        assert sink.blocks > 0
        await pilot.press("v")
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.result is screen.result


@pytest.mark.parametrize("failure", ["model", "device", "portaudio"])
async def test_errors_are_shown_in_app(tmp_path, failure):
    def engine(live):
        if failure == "model":
            raise ModelError("没有安装普通话 Vosk 模型", hint="coach models fetch vosk-small-cn")
        return ScriptedEngine([])

    def source(f, d):
        if failure == "device":
            raise AudioDeviceError("没有找到任何录音设备（麦克风）", hint="插上麦克风后运行 `coach devices` 确认")
        raise OSError("PortAudio library not found")

    app = make_app(tmp_path, start="live", engine_factory=engine, source_factory=source)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        box = screen.query_one(ErrorBox)
        await wait_for(pilot, lambda: box.display, what="error box")
        shown = text_of(box)
        assert screen.state == "error"
        assert "无法开始" in text_of(screen.query_one("#status"))
        expected = {"model": ("Vosk 模型", "coach models fetch"),
                    "device": ("麦克风", "coach devices"),
                    "portaudio": ("PortAudio", "libportaudio2")}[failure]
        assert expected[0] in shown and "解决办法" in shown and expected[1] in shown
        assert "Traceback" not in shown


# ---------------------------------------------------------------- review

def write_result(tmp_path) -> Path:
    ev = Evaluator(load_phrasebook())
    utts = [Utterance(0.5, 2.0, "clerk", "您好，请问您要办什么业务"),
            Utterance(2.5, 4.0, "citizen", "我想办营业执照"),
            Utterance(4.5, 6.0, "clerk", "不知道，你去问别人吧"),
            Utterance(13.0, 14.0, "clerk", "好了"),
            Utterance(14.5, 15.5, "clerk", "再见")]
    result = ev.evaluate(utts, session=True, file="counter.wav")
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result.to_json(), ensure_ascii=False), encoding="utf-8")
    return path


async def test_review_json_jump_filter_play(tmp_path):
    path = write_result(tmp_path)
    app = make_app(tmp_path, start="review", review=str(path))
    notes = []
    app.notify = lambda message, **kw: notes.append(message)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.result is not None, what="result")
        head = text_of(screen.query_one("#review-head"))
        assert "得分" in head and "忌语 2" in head
        ol = screen.query_one("#timeline", OptionList)
        assert ol.highlighted == 0
        # n: to the next utterance with a problem (the brush-off line), p back
        await pilot.press("n")
        index, findings = screen.entries[ol.highlighted]
        assert index == 2 and {f.phrase for f in findings} >= {"不知道"}
        detail = text_of(screen.query_one("#detail"))
        assert "不知道" in detail and "这个问题我帮您确认一下" in detail
        await pilot.press("n")
        assert screen.entries[ol.highlighted][0] != 2
        await pilot.press("p")
        assert screen.entries[ol.highlighted][0] == 2
        # f: filter by type (全部 -> 文明用语 -> 忌语 -> 其他问题)
        await pilot.press("f", "f")
        assert screen.filter == "brush_off"
        assert all(f.type == "brush_off" for _, fs in screen.entries for f in fs)
        assert [i for i, _ in screen.entries] == [2]
        await pilot.press("f")
        assert screen.filter == "problem"
        assert {f.rule for _, fs in screen.entries for f in fs} >= {"unannounced_hold", "referral_without_place"}
        await pilot.press("f")
        assert screen.filter == "all"
        # space: no recording behind a JSON result -> a clear message
        await pilot.press("space")
        assert any("没有关联的录音" in n for n in notes)


async def test_review_open_path(tmp_path):
    path = write_result(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, ReviewOpen)
        await pilot.press(*"missing.json", "enter")
        box = app.screen.query_one(ErrorBox)
        assert box.display and "找不到文件" in text_of(box)
        app.screen.query_one("#path").value = str(path)
        await pilot.press("enter")
        assert isinstance(app.screen, ReviewScreen)
        await wait_for(pilot, lambda: app.screen.result is not None)


async def test_review_bad_json_is_explained(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"utterances\": 3}", encoding="utf-8")
    app = make_app(tmp_path, start="review", review=str(bad))
    async with app.run_test(size=SIZE) as pilot:
        box = app.screen.query_one(ErrorBox)
        await wait_for(pilot, lambda: box.display)
        assert "不是 coach 的结果文件" in text_of(box)


# ---------------------------------------------------------------- messages

def test_floods_coalesce():
    a, b = PartialText("您"), PartialText("您好")
    assert b.can_replace(a) and a.can_replace(b)
    assert not PartialText("x").can_replace(AudioLevel(-20, 1.0))
    assert AudioLevel(-20, 1.0).can_replace(AudioLevel(-30, 1.1))


def test_cli_registers_app_commands():
    from coach.cli import build_parser
    p = build_parser()
    args = p.parse_args(["practice", "--scenario", "inquiry", "--input", "x.wav"])
    assert args.scenario == "inquiry" and args.input == "x.wav"
    args = p.parse_args(["live", "--device", "3"])
    assert args.device == "3"
    assert p.parse_args(["review", "result.json"]).target == "result.json"
    assert p.parse_args(["demo"]).func.__name__ == "run_demo"
    assert p.parse_args(["home"]).func.__name__ == "run_home"
    from coach.commands.app import demo_recording
    rec = demo_recording()
    assert rec.is_file() and rec.stat().st_size <= 400_000


async def test_live_session_kept_in_store_and_reviewed(tmp_path):
    """The store's SessionWriter as the sink: the session is kept, listed and opened in 回看."""
    from coach.store import SessionWriter

    script = [(0.5, "您好，请稍等"), (1.2, "不知道")]
    app = make_app(tmp_path, script, seconds=2.0, realtime=False, start="live",
                   sink_factory=lambda meta: SessionWriter(audio_dir=tmp_path / "audio"))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.state == "done", what="end of source")
        assert screen.result is not None
        await pilot.press("escape", "3")
        assert isinstance(app.screen, ReviewOpen)
        sessions = app.screen.query_one("#sessions", OptionList)
        assert sessions.option_count == 1 and sessions.get_option_at_index(0).id == "1"
        sessions.focus()
        sessions.highlighted = 0
        await pilot.press("enter")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await wait_for(pilot, lambda: review.result is not None, what="stored result")
        assert [u.text for u in review.result.utterances] == ["您好，请稍等", "不知道"]
        assert review.audio and Path(review.audio).is_file()      # the recording the sink kept
