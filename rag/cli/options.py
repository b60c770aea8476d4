"""Argument types and the option groups several commands share (index, model, filters)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rag.answer import MAX_TOP
from rag.core.dates import iso_date
from rag.core.documents import KINDS
from rag.core.filters import Filters
from rag.encoders import DEFAULT_MODEL
from rag.encoders.engine import DEFAULT_ENGINE, ENGINE_ENV, ENGINES
from rag.paths import default_index_dir


def top(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= k <= MAX_TOP:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_TOP}, not {k}")
    return k


def date(value: str) -> str:
    try:
        return iso_date(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def add_answer_options(parser: argparse.ArgumentParser) -> None:
    """--top and the filters (--doc, --kind, --from, --to, --as-of)."""
    parser.add_argument("--top", type=top, default=5, metavar="K",
                        help=f"citations to return, 1..{MAX_TOP} (default 5); when the "
                        "question is refused these are the nearest candidates")
    group = parser.add_argument_group("filters")
    group.add_argument("--doc", action="append", default=[], metavar="DOC_ID",
                       help="only this document (repeatable); ids as in `rag chunk` output")
    group.add_argument("--kind", action="append", default=[], choices=KINDS,
                       help="only documents of this kind (repeatable)")
    group.add_argument("--from", dest="date_from", type=date, metavar="DATE",
                       help="only documents dated on or after DATE (YYYY-MM-DD)")
    group.add_argument("--to", dest="date_to", type=date, metavar="DATE",
                       help="only documents dated on or before DATE (YYYY-MM-DD)")
    group.add_argument("--as-of", dest="as_of", type=date, metavar="DATE",
                       help="prefer the versions in force on DATE (YYYY-MM-DD)")


def add_feedback_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feedback-db", default=None, metavar="URL",
        help="feedback and question memory: sqlite:///PATH or postgresql://USER@HOST/DB "
        "(default: $RAG_FEEDBACK_DB, else feedback.sqlite3 under $RAG_HOME)")


def add_follow_links_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--follow-links", action="store_true",
                        help="also read files that symbolic links inside a folder point to "
                        "outside it (default: report and skip them)")


BACKEND_VARIABLE = "RAG_BACKEND"


def backend_uri(value: str) -> str:
    """A ``milvus://HOST:PORT/NAME`` URI, checked (nothing is contacted yet)."""
    from rag.index.milvus.connection import MilvusLocation

    try:
        return MilvusLocation.parse(value).uri
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} (an index folder goes to --index)") from None


def add_index_option(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--index", type=Path, default=None,
        help=f"index folder (default: ${BACKEND_VARIABLE} when set, else $RAG_HOME/index, "
        f"here {default_index_dir()})",
    )
    where.add_argument(
        "--backend", type=backend_uri, default=None, metavar="milvus://HOST:PORT/NAME",
        help="an index on a Milvus server (Lite, Standalone or Distributed) instead of a "
        f"folder; also ${BACKEND_VARIABLE}. Needs the `scale` extra",
    )


def add_query_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None,
        help="embedding model (default: the one the index was built with, else "
        f"{DEFAULT_MODEL})",
    )
    add_engine_option(parser)


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--encoder-engine", choices=ENGINES, default=None,
        help=f"what runs the model: onnx (onnxruntime, no torch; exported once beside the "
        f"model) or torch; both give the same vectors (default: ${ENGINE_ENV}, else "
        f"{DEFAULT_ENGINE})",
    )


def add_question_options(parser: argparse.ArgumentParser) -> None:
    """What every command that answers questions takes: --top and the filters, the index,
    the model and the feedback database."""
    add_answer_options(parser)
    add_index_option(parser)
    add_query_model_option(parser)
    add_feedback_db_option(parser)


def index_location(args: argparse.Namespace) -> Path | str:
    """The index the command works on: --backend or --index, else $RAG_BACKEND (a
    milvus:// URI or a folder), else the default folder under $RAG_HOME."""
    if getattr(args, "backend", None):
        return str(args.backend)
    if args.index is not None:
        return Path(args.index)
    configured = os.environ.get(BACKEND_VARIABLE, "").strip()
    if configured.startswith(("milvus://", "milvus+https://")):
        try:
            return backend_uri(configured)
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"${BACKEND_VARIABLE}: {error}") from None
    return Path(configured) if configured else default_index_dir()


def filters_from(args: argparse.Namespace) -> Filters:
    """The filters the options name (validated by the library)."""
    return Filters(doc_ids=tuple(args.doc), kinds=tuple(args.kind), date_from=args.date_from,
                   date_to=args.date_to, as_of=args.as_of)
