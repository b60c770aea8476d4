"""``rag diff "公司法第四十九条"``: one article beside the same article in another version.

The article number is read in the newer version chosen (``--to``, default the version in
force today) unless ``--numbering from`` says it is the older version's number (people
still cite 公司法第二十八条 for what is now 第四十九条). The other version is ``--from``
(the version in force on that date; default the nearest other version). Articles are
paired by text, so a renumbered article finds its counterpart.
"""

from __future__ import annotations

import argparse
import json
import sys

from rag.answer.compare import NoArticleNamed, compare_named
from rag.answer.records import ComparisonRecord
from rag.answer.types import Comparison, VersionSide
from rag.cli.errors import EXIT_OK, CommandError, UsageError
from rag.cli.options import add_index_option, date, index_location
from rag.core.versions import status_label
from rag.export.common import split_runs
from rag.export.text import printable, use_color
from rag.search import open_index

TEXT_MARKS = {"deleted": ("[-", "-]"), "inserted": ("{+", "+}")}
COLOR_MARKS = {"deleted": ("\x1b[9;31m", "\x1b[0m"), "inserted": ("\x1b[4;32m", "\x1b[0m")}


def add_diff(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff", help="compare one article across versions of its law",
        description="Show an article beside the same article in another version of its law "
        "(paired by text, so a renumbered article is found), words deleted marked [-…-] "
        "and inserted {+…+} (red and green on a terminal).",
        epilog='Example: rag diff "公司法第四十九条" --from 2020-01-01',
    )
    diff.add_argument("article", nargs="+", help="the article, e.g. 公司法第四十九条")
    diff.add_argument("--from", dest="date_from", type=date, metavar="DATE",
                      help="compare with the version in force on DATE (default: the "
                      "nearest other version)")
    diff.add_argument("--to", dest="date_to", type=date, metavar="DATE",
                      help="the version in force on DATE (default: today)")
    diff.add_argument("--numbering", choices=("to", "from"), default="to",
                      help="whose article number you gave: the --to version's (default) "
                      "or the --from version's")
    diff.add_argument("--json", action="store_true", help="print one JSON object")
    diff.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="mark changes with ANSI colours: auto = only on a terminal")
    add_index_option(diff)
    diff.set_defaults(run=cmd_diff)


def _marked(side: VersionSide, *, color: bool) -> str:
    marks = COLOR_MARKS if color else TEXT_MARKS
    kind = side.marks[0].kind if side.marks else ""
    out = []
    for piece, marked in split_runs(side.text, [(m.start, m.end) for m in side.marks]):
        piece = printable(piece)  # control characters shown, not obeyed
        if marked:
            opening, closing = marks[kind]
            # per line, so a pager never carries a colour past a line break
            piece = "\n".join(f"{opening}{p}{closing}" if p else p for p in piece.split("\n"))
        out.append(piece)
    return "".join(out)


def format_comparison(compared: Comparison, *, color: bool = False) -> str:
    older, newer = compared.older, compared.newer
    head = printable(f"{older.version} {older.label or '(none)'} → {newer.version} "
                     f"{newer.label or '(none)'} · {compared.relation}")
    if compared.relation == "changed":
        head += f" (similarity {compared.similarity:.2f})"
    out = [head, ""]
    for side, when in ((older, "older"), (newer, "newer")):
        if side.clause_id is None:
            note = "new in the newer version" if when == "older" else "removed"
            out += [f"{side.version} version: no counterpart ({note})", ""]
            continue
        status = f" ({status_label(side.status)})" if side.status else ""
        out += [printable(f"{side.version} version{status}: {side.citation}"),
                _marked(side, color=color), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def cmd_diff(args: argparse.Namespace) -> int:
    text = " ".join(args.article).strip()
    if not text:
        raise UsageError("name an article, e.g. rag diff \"公司法第四十九条\"")
    index = open_index(index_location(args))
    try:
        compared = compare_named(index, text, date_from=args.date_from, date_to=args.date_to,
                                 numbering=args.numbering)
    except NoArticleNamed as error:
        raise UsageError(str(error)) from None
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.json:
        document = index.documents[compared.newer.doc_id].title
        record = ComparisonRecord.model_validate(compared).model_dump(mode="json")
        print(json.dumps({"article": text, "document": document, **record},
                         ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(format_comparison(compared, color=use_color(args.color, sys.stdout)))
    return EXIT_OK
