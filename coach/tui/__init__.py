"""The ``coach`` terminal app (Textual): see :mod:`coach.tui.app`."""
