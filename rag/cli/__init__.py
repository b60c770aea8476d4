"""The ``rag`` command: a thin layer over the library that turns its errors into one line.

Exit codes: 0 success; 1 the command failed (message on stderr); 2 bad usage;
3 the command finished but some inputs were skipped (files that could not be read,
batch questions that failed) — they are listed on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rag.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from rag.cli.parser import build_parser, command_names

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(plugins=False)  # a built-in command needs no entry points
    if not (argv and argv[0] in command_names(parser)):
        parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or bad usage (2), already printed by argparse
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    from rag.cli.errors import CommandError
    from rag.encoders import EncoderLoadError
    from rag.index import StoreError

    try:
        return int(args.run(args))
    except BrokenPipeError:  # e.g. `rag batch … | head`
        return EXIT_OK
    except UsageError as error:
        print(f"rag {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (CommandError, StoreError, EncoderLoadError, OSError, ValueError) as error:
        print(f"rag {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"rag {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
