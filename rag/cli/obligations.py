"""``rag obligations``: the register of duties of the indexed documents, as a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli.errors import EXIT_OK, UsageError
from rag.cli.options import add_index_option, index_location
from rag.core.documents import KINDS
from rag.export.register import FORMATS, register_rows, write_register
from rag.export.text import printable
from rag.links import MODALITIES


def add_obligations(commands: argparse._SubParsersAction) -> None:
    obligations = commands.add_parser(
        "obligations", help="write the register of duties (应当 / 不得 / 可以) with penalties",
        description="One row per duty sentence of the indexed statutes: document, article, "
        "the sentence verbatim with its offsets, modality (obligation, prohibition, "
        "permission), the actors it names, and the penalty clauses linked to it.",
        epilog="Example: rag obligations --doc 证券法-2019-12-28 --kind prohibition "
        "--out register.xlsx",
    )
    obligations.add_argument("--doc", action="append", default=[], metavar="DOC_ID",
                             help="only this document (repeatable)")
    obligations.add_argument("--kind", action="append", default=[],
                             choices=(*MODALITIES, *KINDS),
                             help="only this modality, or documents of this kind (repeatable)")
    obligations.add_argument("--out", type=Path, required=True, metavar="FILE",
                             help=f"the register, format by extension: {', '.join(FORMATS)}")
    add_index_option(obligations)
    obligations.set_defaults(run=cmd_obligations)


def cmd_obligations(args: argparse.Namespace) -> int:
    from rag.search import open_index

    if args.out.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {args.out}: unknown format {args.out.suffix or '(none)'}; "
                         f"use one of {', '.join(FORMATS)}")
    index = open_index(index_location(args))
    rows = register_rows(index, doc_ids=args.doc, kinds=args.kind)
    written = write_register(rows, args.out)
    linked = sum(1 for r in rows if r.penalties)
    print(printable(f"{written} duty sentences ({linked} with a linked penalty) → {args.out}"),
          file=sys.stderr)
    return EXIT_OK
