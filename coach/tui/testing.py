"""Stand-ins for the speech engine and the microphone, for layout tests and offline try-outs.

``ScriptedEngine`` says the given lines at the given audio times, whatever the audio; with
``SilenceSource`` the screens can be driven without a model or a sound card.  The real engine
is tested through the same screens in ``tests/test_tui_real.py``.
"""

from __future__ import annotations

import threading
import time
from typing import Iterable, Iterator

import numpy as np

from coach.asr.base import Final, Partial
from coach.schema import Utterance

SAMPLE_RATE = 16000


class SilenceSource:
    """``seconds`` of quiet noise in 0.1 s blocks; ``realtime`` paces them by the clock."""

    def __init__(self, seconds: float = 10.0, *, realtime: bool = False, level: float = 0.01,
                 hold_open: bool = False, loud: Iterable[tuple[float, float]] = (),
                 gates: Iterable[float] = ()):
        self.seconds = seconds
        self.realtime = realtime
        self.level = level
        self.hold_open = hold_open        # keep yielding (like a microphone) until stopped
        self.loud = list(loud)            # (start, end) spans at speech level (someone talking)
        # audio times at which the source holds still until release(): a test looks at a state
        # the audio would otherwise move on from (a turn about to advance) however slow the machine
        self.gates = sorted(gates)
        self.held_at: float | None = None   # the gate the source is holding at, else None
        self._open = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def release(self) -> None:
        """Let the audio go on from the gate it holds at."""
        self.held_at = None
        self._open.set()

    def __iter__(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng(0)
        n = 0
        t0 = time.monotonic()
        while not self._stop.is_set():
            if n >= self.seconds * 10 and not self.hold_open:
                return
            if self.realtime or n >= self.seconds * 10:
                delay = t0 + n * 0.1 - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
            at = n * 0.1
            if self.gates and at >= self.gates[0] - 1e-9:
                gate = self.gates.pop(0)
                since = time.monotonic()
                self._open.clear()
                self.held_at = gate
                while not self._open.wait(0.05):
                    if self._stop.is_set():
                        return
                t0 += time.monotonic() - since   # the clock resumes from here (no rush to catch up)
            n += 1
            level = 0.3 if any(a <= at < b for a, b in self.loud) else self.level
            yield (rng.standard_normal(1600) * level).astype(np.float32)


class ScriptedEngine:
    """Yields a partial then a final for each ``(end_time, text)`` once the audio reaches it.

    With ``lead`` > 0 the partial is the whole text and comes ``lead`` seconds of audio before
    the final (a phrase complete in a partial long before the utterance ends); ``final_text``
    maps a text to what the final says instead (a partial the final corrects); ``late`` maps a
    text to the seconds of audio its final comes after the line's end (a recogniser that lags)."""

    name = "scripted"
    model = "script"

    def __init__(self, script: Iterable[tuple[float, str]], *, partials: bool = True, lead: float = 0.0,
                 final_text: dict[str, str] | None = None, late: dict[str, float] | None = None):
        self.script = list(script)
        self.late = dict(late or {})
        self.partials = partials
        self.lead = lead
        self.final_text = dict(final_text or {})

    def stream(self, source: Iterable[np.ndarray], *, speaker: str = "unknown"):
        events = []
        for end, text in self.script:
            start = max(0.0, end - max(1.0, len(text) * 0.2))
            if self.partials:
                shown = text if self.lead else text[: max(1, len(text) // 2)]
                at = max(start, end - self.lead)
                events.append((at, 0, Partial(shown, round(start, 2), speaker, round(at, 2))))
            final = self.final_text.get(text, text)
            events.append((end + self.late.get(text, 0.0), 1,
                           Final(Utterance(round(start, 2), round(end, 2), speaker, final))))
        events.sort(key=lambda e: (e[0], e[1]))
        t = 0.0
        for block in source:
            t += len(block) / SAMPLE_RATE
            while events and events[0][0] <= t:
                yield events.pop(0)[2]

    def transcribe(self, chunks: Iterable[np.ndarray], *, speaker: str = "unknown", offset: float = 0.0):
        """Finals only, as the audio passes each line's end (the review screen's analysis)."""
        for event in self.stream(chunks, speaker=speaker):
            if isinstance(event, Final):
                yield event.utterance
