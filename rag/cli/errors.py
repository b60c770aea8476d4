"""Exit codes and the errors the CLI reports as one clean line."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure to report as one clean line (no traceback); exit code 1."""


class UsageError(CommandError):
    """Bad arguments found after parsing; exit code 2."""
