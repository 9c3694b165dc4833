"""The one error type that means "the caller asked for something that cannot be done as asked"."""
from __future__ import annotations


class UsageError(ValueError):
    """Bad input from the caller: an option, a date, a question set, a file to read or write. The
    command line reports it in one line with exit 2; any other ValueError is a bug and keeps its
    traceback (every ValueError was reported as bad usage, internal ones included)."""
