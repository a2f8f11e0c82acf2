"""Errors that reach the user as one clear line and an exit code."""


class CoachError(Exception):
    """A problem the user can fix; printed as one line, never as a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class PhrasebookError(CoachError):
    """A phrasebook file that cannot be used (syntax, schema, regex ...)."""


class InputError(CoachError):
    """A transcript or audio file that cannot be read."""


class ModelError(CoachError):
    """A speech model that is missing or broken."""


class AudioDeviceError(CoachError):
    """No PortAudio, no input device, or a device that cannot be opened."""


class OutputError(CoachError):
    """A file coach was asked to write (report, result, settings) could not be written."""
