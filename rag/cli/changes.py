"""``rag changes``: what changed in the index since an earlier generation (a change feed).

Compares the live generation of an index folder with one it kept (the previous one by
default, ``--since GENERATION`` or the last one published by ``--since DATE``): documents
added, changed, removed, new versions of laws, and each article changed with its diff.
``--list`` shows the kept generations and the disk they use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.changes.generations import current, index_folder, retention_line
from rag.changes.report import changes_since
from rag.cli.errors import EXIT_OK, UsageError
from rag.cli.options import add_index_option, index_location
from rag.export.changes import FORMATS, report_text, write_report
from rag.export.text import printable
from rag.index import folder as folders
from rag.links.changes import link_changes_since, link_lines


def add_changes(commands: argparse._SubParsersAction) -> None:
    changes = commands.add_parser(
        "changes", help="what changed in the index since an earlier build",
        description="List the documents and articles added, changed and removed between an "
        "earlier generation of the index and the live one, each change with its diff "
        "(deleted [-…-], inserted {+…+}) and citation. Needs a folder index (--index).",
        epilog="Examples: rag changes · rag changes --since 2024-06-30 --out report.docx",
    )
    changes.add_argument("--since", metavar="DATE|GENERATION",
                         help="the generation to compare with: a name from --list, or a date "
                         "(the last one published by then); default the previous one")
    changes.add_argument("--out", type=Path, metavar="FILE",
                         help=f"write the report to FILE, format by extension: "
                         f"{', '.join(FORMATS)}; default: text on stdout")
    changes.add_argument("--list", action="store_true",
                         help="list the kept generations and the disk they use")
    add_index_option(changes)
    changes.set_defaults(run=cmd_changes)


def list_generations(index_dir: Path) -> str:
    live = current(index_dir).name
    lines = []
    for g in folders.generations(index_dir):
        kept = "live" if g.name == live else ("whole" if g.whole else "records")
        lines.append(f"{g.name}  {g.published or 'unknown':<24}  {g.documents:>5} documents "
                     f"{g.clauses:>7} clauses  {kept}")
    lines.append(retention_line(index_dir))
    return "\n".join(lines) + "\n"


def cmd_changes(args: argparse.Namespace) -> int:
    location = index_location(args)
    if args.list:
        sys.stdout.write(printable(list_generations(index_folder(location))))
        return EXIT_OK
    if args.out is not None and args.out.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {args.out}: unknown format {args.out.suffix or '(none)'}; "
                         f"use one of {', '.join(FORMATS)}")
    report = changes_since(location, since=args.since)
    links = link_lines(link_changes_since(location, since=args.since))
    if args.out is None:
        sys.stdout.write(report_text(report))
        if links:
            sys.stdout.write(printable("\n" + "\n".join(links) + "\n"))
    else:
        write_report(report, args.out)
        print(printable(f"{report.summary()} → {args.out}"), file=sys.stderr)
        if links:
            print(printable("\n".join(links)), file=sys.stderr)
    return EXIT_OK


def index_epilogue(location: Path | str) -> str | None:
    """What ``rag index`` says after a build that changed something: how many clauses
    changed since the previous generation and how to see them, and the disk the kept
    generations use. None when there is nothing earlier to compare with."""
    from rag.core.locations import is_remote
    from rag.index import StoreError

    if is_remote(location):
        return "(change reports need the folder index: `rag changes` compares the " \
               "generations an index folder keeps; a Milvus index keeps none)"
    from rag.paths import default_index_dir

    try:
        report = changes_since(location)
    except StoreError:
        return None
    command = "rag changes" if Path(location) == default_index_dir() else \
        f"rag changes --index {location}"
    return f"{report.summary()}; see them with `{command}`\n{retention_line(Path(location))}"
