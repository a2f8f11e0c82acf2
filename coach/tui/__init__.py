"""The ``coach`` terminal app (Textual): see :mod:`coach.tui.app`."""

import os

# CTranslate2's OpenMP (libgomp) busy-waits between parallel regions by default.  The app loads
# the Whisper model in one worker thread and may decode in another (再练一次, 回看); once the
# loading thread is gone the spinning teams starve the decoder (measured 5–50× slower on
# 2 cores).  Passive waiting costs nothing measurable.  Must be set before ctranslate2 loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
