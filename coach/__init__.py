__version__ = "0.1.0"

from coach import _native

_native.setup()   # before any matcher module is imported: compiled, or the plain source
