"""Snapshots of the main screens (pytest-textual-snapshot).  Update after a deliberate change
with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

import pytest

from coach.phrasebook import load_phrasebook
from coach.schema import Utterance
from coach.session.evaluate import Evaluator
from coach.session.practice import PracticeRun
from coach.tui.app import CoachApp
from coach.tui.screens.practice import ScoreCardScreen
from coach.tui.settings import Settings
from coach.tui.testing import ScriptedEngine, SilenceSource

from test_tui import make_phrasebook, write_result


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COACH_DB", str(tmp_path / "coach.db"))
    monkeypatch.setenv("COACH_PLAYBACK_SINK", str(tmp_path / "played"))   # sound goes to WAV files
    monkeypatch.setenv("COACH_VOICE_CACHE", str(tmp_path / "voices"))


def app_for(tmp_path, **kw) -> CoachApp:
    return CoachApp(settings=Settings(trainee="张三"), phrasebook=str(make_phrasebook(tmp_path)),
                    engine_factory=lambda live: ScriptedEngine([]),
                    source_factory=lambda f, d: SilenceSource(1.0), save_settings=False, **kw)


def test_home(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path), terminal_size=(80, 24))


def test_practice_idle(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path, start="practice", scenario="tui_test"), terminal_size=(80, 24))


def test_score_card(snap_compare, tmp_path):
    app = app_for(tmp_path)
    pb = load_phrasebook(make_phrasebook(tmp_path / "card"))
    scenario = pb.scenario("tui_test")
    run = PracticeRun(Evaluator(pb, scenario), scenario)
    run.start_turn(0.0)
    run.add(Utterance(0.5, 2.0, "clerk", "您好，请稍等"))
    run.advance(4.0)
    run.add(Utterance(4.5, 6.5, "clerk", "不知道，你去问别人吧"))
    run.advance(8.0)
    run.add(Utterance(8.5, 10.0, "clerk", "再见，请慢走"))
    card = run.finish(duration_s=11.0)

    async def show(pilot):
        pilot.app.push_screen(ScoreCardScreen(card))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=show)


def test_review_json(snap_compare, tmp_path):
    path = write_result(tmp_path)
    assert snap_compare(app_for(tmp_path, start="review", review=str(path)), press=["n"],
                        terminal_size=(100, 30))
