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


def printable(text: object) -> str:
    """``text`` safe to echo to a terminal: control characters (ESC, BEL, CR, C1 …) shown as
    ``\\x1b``-style escapes; newlines and tabs kept."""
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch in "\n\t" or ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (finish the current write, clean up; exit 143)."""
