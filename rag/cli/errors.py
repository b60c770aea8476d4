"""Exit codes, the errors the CLI reports as one clean line, and the inputs it skipped."""

from __future__ import annotations

import sys
from collections.abc import Iterable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure to report as one clean line (no traceback); exit code 1."""


class UsageError(CommandError):
    """Bad arguments found after parsing; exit code 2."""


def print_skipped(errors: Iterable[object]) -> None:
    """One ``skipped …`` line on stderr for each input left out (exit code 3 follows)."""
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)
