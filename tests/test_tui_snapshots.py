"""Snapshots of the screens (pytest-textual-snapshot).  Update after a deliberate change with
``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs.

Every snapshot is taken once the screen has reached a settled state (waited on, not timed):
the phrasebook loaded, the scripted session ended, the microphone scan answered.
"""

from __future__ import annotations

import time

import pytest

from coach.phrasebook import load_phrasebook
from coach.schema import Utterance
from coach.session.evaluate import Evaluator
from coach.session.practice import PracticeRun
from coach.tui.app import CoachApp
from coach.tui.screens.practice import ScoreCardScreen
from coach.tui.settings import Settings
from coach.tui.testing import ScriptedEngine, SilenceSource

from test_tui import WAIT_S, make_phrasebook, write_result

pytestmark = pytest.mark.usefixtures("app_dirs")   # conftest: what the app writes goes to tmp

LONG_LINES = [
    (1.0, "您好，请问您要办什么业务？我这边可以帮您先看一下材料，请您稍等片刻，我马上帮您核对一下身份证和户口本。"),
    (2.0, "不知道，这个不归我管，你去问别人吧，那边窗口人多，你自己去排队。"),
    (3.0, "好的,您的业务已经办好了,这是您的回执,请您收好,请慢走,欢迎您对我们的工作提出意见和建议。"),
]



def app_for(tmp_path, script=(), seconds=1.0, **kw) -> CoachApp:
    kw.setdefault("engine_factory", lambda live: ScriptedEngine(script, partials=False))
    return CoachApp(settings=Settings(trainee="张三", voice="off"), phrasebook=str(make_phrasebook(tmp_path)),
                    source_factory=lambda f, d: SilenceSource(seconds), save_settings=False, **kw)


async def until(pilot, condition, timeout: float = WAIT_S) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "screen never settled"
        await pilot.pause(0.05)
    await pilot.pause()


def settled(state: str):
    async def wait(pilot):
        await until(pilot, lambda: getattr(pilot.app.screen, "state", None) == state)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    return wait


def test_home(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path), terminal_size=(80, 24))


def test_practice_idle(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path, start="practice", scenario="tui_test"), terminal_size=(80, 24),
                        run_before=settled("idle"))


def score_card(tmp_path, *, said: bool = True):
    pb = load_phrasebook(make_phrasebook(tmp_path / "card"))
    scenario = pb.scenario("tui_test")
    run = PracticeRun(Evaluator(pb, scenario), scenario)
    run.start_turn(0.0)
    if said:
        run.add(Utterance(0.5, 2.0, "clerk", "您好，请稍等"))
        run.advance(4.0)
        run.add(Utterance(4.5, 6.5, "clerk", "不知道，你去问别人吧"))
        run.advance(8.0)
        run.add(Utterance(8.5, 10.0, "clerk", "再见，请慢走"))
    return run.finish(duration_s=11.0)


def test_score_card(snap_compare, tmp_path):
    card = score_card(tmp_path)

    async def show(pilot):
        pilot.app.push_screen(ScoreCardScreen(card))
        await until(pilot, lambda: pilot.app.screen.query("#card-buttons Button"))

    assert snap_compare(app_for(tmp_path), terminal_size=(100, 30), run_before=show)


def test_score_card_nothing_said(snap_compare, tmp_path):
    card = score_card(tmp_path, said=False)

    async def show(pilot):
        pilot.app.push_screen(ScoreCardScreen(card))
        await until(pilot, lambda: pilot.app.screen.query("#card-buttons Button"))

    assert snap_compare(app_for(tmp_path), terminal_size=(80, 24), run_before=show)


def test_review_json(snap_compare, tmp_path):
    path = write_result(tmp_path)
    assert snap_compare(app_for(tmp_path, start="review", review=str(path)), press=["n"],
                        terminal_size=(100, 30))


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_live_long_chinese_lines(snap_compare, tmp_path, size):
    """Timestamps in a column, hanging indents, no line starting with punctuation, full-width
    punctuation (the third line comes from the engine with half-width commas)."""
    app = app_for(tmp_path, LONG_LINES, seconds=3.5, start="live")
    assert snap_compare(app, terminal_size=size, run_before=settled("done"))


def test_settings(snap_compare, tmp_path, monkeypatch):
    import coach.tui.screens.settings as settings_screen
    monkeypatch.setattr(settings_screen, "list_microphones", lambda: ([("0: USB 麦克风", "0")], None))

    async def open_settings(pilot):
        await pilot.press("4")
        await until(pilot, lambda: "找到 1 个麦克风" in str(pilot.app.screen.query_one("#mic-note").render()))
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False                              # no blink phase in the picture

    assert snap_compare(app_for(tmp_path), terminal_size=(80, 24), run_before=open_settings)


def test_review_picker_with_sessions(snap_compare, tmp_path, monkeypatch):
    from coach.store import Store
    monkeypatch.setenv("TZ", "UTC")          # the list shows local dates
    time.tzset()
    t0 = 1764590400.0        # fixed dates: 2025-12-01 12:00 UTC
    with Store() as store:
        done = store.create_session(kind="practice", trainee="张三", scenario="inquiry", started_at=t0)
        ev = Evaluator(load_phrasebook())
        result = ev.evaluate([Utterance(0.5, 2.0, "clerk", "您好，请稍等")], session=False, duration_s=125.0)
        store.finish_session(done, result)
        store.create_session(kind="live", trainee="", started_at=t0 + 3600)      # never finished

    async def open_picker(pilot):
        from textual.widgets import Input, OptionList
        await pilot.press("3")
        await until(pilot, lambda: pilot.app.screen.query("#sessions")
                    and pilot.app.screen.query_one("#sessions", OptionList).option_count == 2)
        pilot.app.screen.query_one(Input).cursor_blink = False     # no blink phase in the picture

    assert snap_compare(app_for(tmp_path), run_before=open_picker, terminal_size=(100, 24))


def test_error_state(snap_compare, tmp_path):
    from coach.errors import ModelError

    def engine(live):
        raise ModelError("没有安装普通话 Vosk 模型", hint="coach models fetch vosk-small-cn")

    app = app_for(tmp_path, start="live", engine_factory=engine)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled("error"))


def test_help_screen(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path, start="practice", scenario="tui_test"), terminal_size=(80, 24),
                        run_before=settled("idle"), press=["f1"])
