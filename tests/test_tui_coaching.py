"""On-the-spot correction in the app (issue 11): provisional highlights from partials, the hold
alert only while nobody speaks, the practice turn flow.  Scripted engine and generated audio
(no model); every wait is on the app's state, never on a clock."""

from __future__ import annotations

import pytest

from coach.tui.screens.live import LiveScreen
from coach.tui.screens.practice import PracticeScreen, ScoreCardScreen
from coach.tui.testing import ScriptedEngine, SilenceSource

from test_tui import SIZE, card_ready, make_app, styled_spans, text_of, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("app_dirs")]   # conftest




def styled_as(widget, text: str, *words: str) -> bool:
    return any(t == text and all(w in style for w in words) for t, style in styled_spans(widget))


# ---------------------------------------------------------------- early detection (live)

async def test_provisional_highlight_from_a_partial_then_confirmed(tmp_path):
    # the whole phrase is in a partial 2 s of audio before the utterance's final
    # the audio holds still between the partial and the final until the test has looked
    src = SilenceSource(30, realtime=True, hold_open=True, gates=(2.0,))
    app = make_app(tmp_path, start="live", source_factory=lambda f, d: src,
                   engine_factory=lambda live: ScriptedEngine([(3.0, "不知道，你去问别人吧")], lead=2.0))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        partial = screen.query_one("#partial")
        await wait_for(pilot, lambda: src.held_at == 2.0, what="audio at the gate")
        await wait_for(pilot, lambda: styled_as(partial, "不知道", "$text-error", "dim"),
                       what="provisional highlight")
        assert screen.session.utterances == []                 # no final yet
        assert screen.alert[0] == "provisional" and "忌语「" in screen.alert[1]
        assert "识别中" in text_of(screen.query_one("#alert"))
        # the final confirms it: the line in full colour, the alert no longer provisional
        src.release()
        await wait_for(pilot, lambda: screen.session.utterances, what="final")
        assert screen.alert[0] == "brush_off" and "改说" in screen.alert[1]
        await wait_for(pilot, lambda: screen.query(".utt"), what="line shown")
        line = screen.query(".utt").first()
        assert styled_as(line, "不知道", "bold", "$text-error")
        assert not text_of(partial).strip()


async def test_provisional_brush_off_withdrawn_by_the_final(tmp_path):
    engine = ScriptedEngine([(3.0, "不知道，你去问别人吧")], lead=2.0,
                            final_text={"不知道，你去问别人吧": "您好，这个我帮您问一下"})
    app = make_app(tmp_path, seconds=30, hold_open=True, start="live", engine_factory=lambda live: engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.alert[0] == "provisional", what="provisional alert")
        await wait_for(pilot, lambda: screen.session.utterances, what="final")
        assert screen.alert[0] == ""                            # withdrawn
        assert screen.counts["brush_off"] == 0


# ---------------------------------------------------------------- hold alert (live)

async def test_no_hold_alert_while_speaking(tmp_path):
    """After the last utterance someone keeps talking (loud audio, nothing recognised yet):
    no hold alert; once the audio is quiet for hold_s, the alert comes."""
    app = make_app(tmp_path, [(0.6, "您好，请问您要办什么业务")], seconds=60, hold_open=True, hold_s=1.0,
                   start="live", source_factory=lambda f, d: SilenceSource(
                       60, realtime=True, hold_open=True, loud=[(1.0, 4.0)]))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        seen = []

        def talking_until(t: float) -> bool:
            seen.append((screen.at, screen.alert[0]))
            return screen.at >= t

        await wait_for(pilot, lambda: talking_until(3.9), what="audio while talking")
        assert any(at >= 1.5 for at, _ in seen)
        assert all(kind != "hold" for at, kind in seen), seen
        await wait_for(pilot, lambda: screen.alert[0] == "hold", what="hold alert after the talking")
        assert screen.at >= 4.0 + 1.0 - 0.25


# ---------------------------------------------------------------- practice turn flow

async def open_practice(pilot, app) -> PracticeScreen:
    await pilot.press("1", "enter")
    screen = app.screen
    assert isinstance(screen, PracticeScreen)
    await wait_for(pilot, lambda: screen.state == "idle", what="phrasebook loaded")
    await pilot.press("space")
    await wait_for(pilot, lambda: screen.state == "listening", what="listening")
    return screen


async def test_practice_advances_on_a_synonym_of_the_expected_stage(tmp_path):
    # 麻烦您稍等一下 is a variant of 请稍等 (waiting); 您好 is the greeting
    app = make_app(tmp_path, [(0.8, "您好，麻烦您稍等一下")], seconds=30)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_practice(pilot, app)
        await wait_for(pilot, lambda: screen.run.index == 1, what="advanced to turn 2")
        assert screen.run.turns[0].complete
        assert "第 2/3 轮" in text_of(screen.query_one("#turn-no"))


async def test_practice_turns_follow_the_audio_when_the_recogniser_lags(tmp_path):
    """Turn 2's final comes only while the trainee is already saying turn 3's answer (a busy
    machine): the 2.8 s pause before it is in the audio, so that answer is turn 3's — its
    再见/请慢走 are credited there and only turn 3's 不好意思 is missed."""
    lines = [(2.0, "您好，请稍等"), (5.0, "好的，大概十分钟"), (9.0, "再见，请慢走")]
    loud = [(0.8, 2.0), (3.4, 5.0), (7.8, 9.0)]          # ScriptedEngine's spans of these lines
    app = make_app(tmp_path, engine_factory=lambda live: ScriptedEngine(lines, late={lines[1][1]: 3.5}),
                   source_factory=lambda f, d: SilenceSource(12.0, realtime=True, loud=loud))
    async with app.run_test(size=SIZE) as pilot:
        await open_practice(pilot, app)
        await wait_for(pilot, lambda: card_ready(app), what="card")
        card = app.screen.card
        assert card.turns_reached == 3
        assert {(3, "请慢走"), (3, "再见")} & set(card.said), card.said
        assert [f.phrase for f in card.missed] == ["不好意思"], [(f.phrase, t) for f, t in
                                                             zip(card.missed, card.missed_turns)]


async def test_practice_says_what_was_not_heard_and_shows_wordings(tmp_path):
    app = make_app(tmp_path, [(0.8, "您好")], seconds=30)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_practice(pilot, app)
        alert = screen.query_one("#alert")
        await wait_for(pilot, lambda: "没听到" in text_of(alert), what="nudge")
        assert "「请稍等」" in text_of(alert) and "n 下一轮" in text_of(alert)
        assert screen.run.index == 0                             # not advanced
        await pilot.press("w")
        checklist = text_of(screen.query_one("#checklist"))
        assert "可以说：" in checklist and "请稍候" in checklist
        await pilot.press("n")
        assert screen.run.index == 1 and "没听到" not in text_of(alert)


async def test_practice_nothing_said_gets_no_score(tmp_path):
    app = make_app(tmp_path, [], seconds=30)
    async with app.run_test(size=SIZE) as pilot:
        await open_practice(pilot, app)
        await pilot.press("e")
        await wait_for(pilot, lambda: card_ready(app), what="card")
        card = app.screen
        assert isinstance(card, ScoreCardScreen) and not card.card.spoken
        assert "未检测到讲话" in text_of(card.query_one("#score-head"))
        assert not card.query("#said")


async def test_practice_last_utterance_shown_before_the_card(tmp_path):
    """`e` while an utterance is still being recognised: its final comes, is shown, then the card."""
    app = make_app(tmp_path, [(0.8, "您好，请稍等")], seconds=0.9, realtime=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "enter", "space")
        screen = app.screen
        shown = []

        def watch() -> bool:
            if isinstance(app.screen, PracticeScreen):
                shown.extend(text_of(w) for w in screen.query(".utt") if "请稍等" in text_of(w))
            return card_ready(app)

        await wait_for(pilot, watch, what="card")
        assert shown, "the last utterance was never on screen before the card"
        assert {p for _, p in app.screen.card.said} >= {"您好", "请稍等"}


# ---------------------------------------------------------------- the citizen's voice

@pytest.mark.skipif(__import__("shutil").which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_practice_speaks_the_citizen_line_into_the_sink(tmp_path):
    app = make_app(tmp_path, [(0.8, "您好，请稍等")], seconds=30)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "enter")
        screen = app.screen
        await wait_for(pilot, lambda: screen.state == "idle", what="loaded")
        line = screen.scenario.turns[0].citizen
        await wait_for(pilot, lambda: app.voice.spoken == [line], what="line spoken")
        played = sorted((tmp_path / "played").glob("*.wav"))
        assert len(played) == 1 and played[0].stat().st_size > 16000


async def test_voice_setting_off_says_nothing(tmp_path):
    from coach.tui.settings import Settings
    app = make_app(tmp_path, [(0.8, "您好，请稍等")], seconds=30)
    app.settings = Settings(voice="off")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_practice(pilot, app)
        await wait_for(pilot, lambda: screen.run.index == 1, what="turn 2")
        assert app.voice is None and not (tmp_path / "played").exists()


# ---------------------------------------------------------------- conventions

async def test_help_palette_and_quit_scheme(tmp_path):
    from coach.tui.screens.common import ConfirmScreen, HelpScreen
    from coach.tui.screens.home import HomeScreen
    app = make_app(tmp_path, seconds=60, hold_open=True)
    notes = []
    app.notify = lambda message, **kw: notes.append((message, kw.get("title")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "ctrl+c")
        assert notes and "退出" in notes[-1][0] and notes[-1][1] == "要退出吗？"
        # the palette lists the app's own commands, in Chinese
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "情景练习：测试：办营业执照" in commands and "实时自检" in commands
        assert any(c.startswith("主题：") for c in commands)
        # q while recording asks; n keeps recording
        await pilot.press("2")
        live = app.screen
        await wait_for(pilot, lambda: live.state == "listening", what="listening")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is live
        await pilot.press("q", "y")
    assert live.state == "done"


async def test_review_fills_timeline_while_analysing_and_plays_to_the_sink(tmp_path):
    from pathlib import Path

    from coach.tui.screens.review import ReviewScreen
    import shutil
    clip = tmp_path / "practice_clip.ogg"           # the export lands beside the recording
    shutil.copy(Path(__file__).parent / "data" / "practice_clip.ogg", clip)
    script = [(2.0, "您好，请稍等"), (6.0, "不知道，你去问别人吧"), (11.0, "再见，请慢走")]
    app = make_app(tmp_path, start="review", review=str(clip),
                   engine_factory=lambda live: ScriptedEngine(script, partials=False))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.result is not None, what="analysis")
        assert [u.text for u, _ in screen.preview] == [t for _, t in script]   # shown one by one
        assert any(f.type == "brush_off" for _, fs in screen.preview for f in fs)
        assert not screen.query_one("#progress").display
        await pilot.press("space")
        played = tmp_path / "played" / "001.wav"
        await wait_for(pilot, lambda: played.is_file() and screen.playing is None, what="played")
        import wave
        with wave.open(str(played)) as w:
            assert w.getnframes() / w.getframerate() > 0.9
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.exported is not None, what="export")
        import json
        assert screen.exported.parent == tmp_path
        assert json.loads(screen.exported.read_text(encoding="utf-8"))["utterances"]


def test_review_unknown_session_exits_2_and_help_is_chinese(tmp_path):
    import os
    import subprocess
    import sys
    env = dict(os.environ, COACH_DB=str(tmp_path / "none.db"))
    r = subprocess.run([sys.executable, "-m", "coach", "review", "99"], capture_output=True, text=True, env=env)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "99" in r.stderr and "Traceback" not in r.stderr
    h = subprocess.run([sys.executable, "-m", "coach", "practice", "--help"], capture_output=True, text=True, env=env)
    assert h.returncode == 0 and h.stdout.startswith("用法：") and "选项：" in h.stdout
    assert "usage" not in h.stdout and "options" not in h.stdout and "show this help" not in h.stdout
    e = subprocess.run([sys.executable, "-m", "coach", "live", "--bogus"], capture_output=True, text=True, env=env)
    assert e.returncode == 2 and "错误：无法识别的参数" in e.stderr


# ---------------------------------------------------------------- pieces

def test_voice_activity_follows_the_noise_floor():
    from coach.tui.listen import VoiceActivity
    va = VoiceActivity()
    assert not any(va.update(-62.0) for _ in range(20))        # quiet room
    assert va.update(-22.0)                                     # someone speaks
    assert not va.update(-61.0)
    # a fan switched on: steady -45 dB is voice at first, then becomes the floor
    first = [va.update(-45.0) for _ in range(600)]
    assert first[0] and not first[-1]


def test_chinese_line_breaking_and_punctuation():
    from coach.tui.styled import NO_LINE_END, NO_LINE_START, Styled, kinsoku_lines, zh_punct
    assert zh_punct("您好,请稍等.ok, fine? 好吗?") == "您好，请稍等。ok, fine? 好吗？"
    text = "您好请问您要办什么业务，我这边可以帮您确认一下，请您稍等片刻。好的谢谢「身份证」"
    for width in range(6, 30):
        lines = [text[a:b] for a, b in kinsoku_lines(text, width)]
        assert "".join(lines) == text
        assert all(line[0] not in NO_LINE_START for line in lines[1:]), (width, lines)
        assert all(line[-1] not in NO_LINE_END for line in lines), (width, lines)
    wrapped = Styled("  ✗忌语「不知道」→改说：这个问题我帮您确认一下，请稍等。").visualize().wrapped(16).plain
    assert all(line.startswith("    ") for line in wrapped.split("\n")[1:])   # hanging indent
