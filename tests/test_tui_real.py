"""The app on a real recording through the real pipeline: FileSource (real-time pace) +
faster-whisper base via coach.asr, in the practice screen and the review screen.

The clip (tests/data/practice_clip.ogg, 13.5 s, made by make_practice_clip.sh with espeak-ng)
has the clerk say 您好，请稍等 / 不知道，你去问别人吧 / 再见，请慢走, one line per turn of the
test scenario of test_tui.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.tui.app import CoachApp
from coach.tui.screens.practice import PracticeScreen, ScenarioPicker, ScoreCardScreen
from coach.tui.screens.review import ReviewScreen
from coach.tui.settings import Settings

from test_tui import SIZE, WAIT_S, coloured, make_phrasebook, text_of, wait_for

CLIP = Path(__file__).parent / "data" / "practice_clip.ogg"

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("app_dirs")]   # conftest




@pytest.fixture(scope="module")
def whisper_ready(tmp_path_factory):
    """Skip (with the reason) where the Whisper model cannot be had.  Otherwise load it once here,
    in the main thread, as the app's engine factory would (same settings and hotwords, so the
    screens get it from the factory's cache): a model loaded by a worker thread that has since
    ended decodes much slower when CTranslate2's OpenMP spins (see coach/tui/__init__.py), and
    another test module may have loaded ctranslate2 before OMP_WAIT_POLICY was set."""
    from coach.errors import ModelError
    from coach.tui.engines import open_engine, quick_hotwords
    try:
        open_engine(Settings(engine="whisper"), live=True,
                    hotwords=quick_hotwords(str(make_phrasebook(tmp_path_factory.mktemp("pb")))))
    except ModelError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"whisper-base unavailable: {exc}")


async def test_practice_from_real_audio(tmp_path, whisper_ready):
    pb = make_phrasebook(tmp_path)
    app = CoachApp(start="practice", input_file=str(CLIP), phrasebook=str(pb),
                   settings=Settings(engine="whisper"), save_settings=False)
    seen = {"green": False, "red": False, "suggestion": False, "partial": False}

    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, ScenarioPicker)
        await pilot.press("enter")                       # the test scenario; --input starts it at once
        screen = app.screen
        assert isinstance(screen, PracticeScreen)

        def card_ready() -> bool:
            """The score card is up *and* composed (its sections are mounted)."""
            card = app.screen
            return isinstance(card, ScoreCardScreen) and bool(card.query("#say-instead"))

        def watch() -> bool:
            if not isinstance(app.screen, PracticeScreen):
                return card_ready()
            if screen.query_one("#partial").render().plain.strip():
                seen["partial"] = True
            for w in screen.query(".utt"):
                if coloured(w, "您好", "green") or coloured(w, "请稍等", "green"):
                    seen["green"] = True
                if coloured(w, "不知道", "red"):
                    seen["red"] = True
                    seen["suggestion"] |= "改说：这个问题我帮您确认一下" in text_of(w)
            return False

        await wait_for(pilot, watch, timeout=2 * WAIT_S, what="score card")
        assert seen["green"], "courtesy not highlighted green"
        assert seen["red"] and seen["suggestion"], "brush-off not shown in red with its suggestion"

        card_screen = app.screen
        assert isinstance(card_screen, ScoreCardScreen)
        card = card_screen.card
        said = {p for _, p in card.said}
        assert {"您好", "请稍等"} <= said
        assert any(f.phrase == "不知道" and f.suggestion for f in card.brush_offs)
        assert "不好意思" in [f.phrase for f in card.missed]     # turn 3 expected an apology too
        assert "不知道" in text_of(card_screen.query_one("#say-instead"))
        assert "改说" in text_of(card_screen.query_one("#say-instead"))
        assert card.result.duration_s and card.result.duration_s > 10

        # 回看 of this run: the timeline comes from the run, the audio from the input file
        await pilot.press("v")
        review = app.screen
        assert isinstance(review, ReviewScreen) and review.audio == str(CLIP)
        await pilot.press("escape", "r")
        assert isinstance(app.screen, PracticeScreen)
        await pilot.press("escape")


async def test_review_analyses_a_recording(tmp_path, whisper_ready):
    app = CoachApp(start="review", review=str(CLIP), phrasebook=str(make_phrasebook(tmp_path)),
                   settings=Settings(engine="whisper"), save_settings=False)
    notes = []
    app.notify = lambda message, **kw: notes.append(message)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(pilot, lambda: screen.result is not None, what="analysis")
        texts = [u.text for u in screen.result.utterances]
        assert any("不知道" in t for t in texts)
        await pilot.press("n")
        _, findings = screen.entries[screen.query_one("#timeline").highlighted]
        assert any(f.type == "brush_off" for f in findings)
        # play the selected utterance: either it plays, or the app says why it cannot
        await pilot.press("space")
        await wait_for(pilot, lambda: not screen.workers or all(w.is_finished for w in screen.workers),
                       what="playback")
        assert all("Traceback" not in n for n in notes)
        if notes:
            assert any("无法播放" in n for n in notes)
