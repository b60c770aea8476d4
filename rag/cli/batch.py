"""``rag batch``: many questions from a file, answered into JSON lines, CSV or a memo."""

from __future__ import annotations

import argparse
import csv
import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from rag.answer import Answer
from rag.answer.workers import answer_in_workers
from rag.cli.commands import open_for_questions
from rag.cli.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, CommandError, UsageError
from rag.cli.questions import BatchQuestion, read_questions
from rag.export.records import CSV_COLUMNS, batch_row, csv_rows, json_line
from rag.export.text import printable
from rag.search import Index

BATCH_OUTPUTS = (".jsonl", ".csv", ".md", ".docx")


def _failed_answer(item: BatchQuestion, error: str) -> Answer:
    return Answer(question=item.question or f"(question {item.id})", answered=False,
                  confidence=0.0, message=f"The question could not be run: {error}",
                  citations=())


def _output(path_arg: str | None) -> Path | None:
    if not path_arg or path_arg == "-":
        return None
    out_path = Path(path_arg)
    if out_path.suffix.lower() not in BATCH_OUTPUTS:
        raise UsageError(
            f"--out {path_arg}: unknown output type {out_path.suffix or '(none)'}; "
            f"use {', '.join(BATCH_OUTPUTS)} (or leave it out for JSON lines on stdout)"
        )
    if not out_path.parent.is_dir():
        raise CommandError(f"--out {path_arg}: folder {out_path.parent} does not exist")
    return out_path


def _same_file(out_path: Path, questions: str) -> bool:
    """Whether writing ``out_path`` would overwrite the questions file: the same path, a
    symlink to it, or a hard link (the same device and inode)."""
    if out_path.resolve() == Path(questions).resolve():
        return True
    try:
        out, source = out_path.stat(), Path(questions).stat()
    except OSError:  # no output yet (or no questions file: read_questions says so)
        return False
    return (out.st_dev, out.st_ino) == (source.st_dev, source.st_ino)


def _open_index(args: argparse.Namespace) -> Index:
    """The index as ``rag batch`` opens it (in each --workers process too)."""
    return open_for_questions(args)[0]


def cmd_batch(args: argparse.Namespace) -> int:
    out_path = _output(args.out)
    if out_path is not None and args.file != "-" and _same_file(out_path, args.file):
        raise UsageError(f"--out {args.out} is the questions file itself (the same file, "
                         "a link to it or a hard link); write the answers to another file")
    questions = read_questions(args.file)
    index, filters = open_for_questions(args)  # once for the whole batch

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
    failed = answered = done = 0
    interrupted = False
    # one bad question never stops the rest; --workers N answers in N processes
    outcomes = answer_in_workers((item.question for item in questions if item.error is None),
                                 index=index, opener=partial(_open_index, args),
                                 workers=args.workers, k=args.top, filters=filters)
    try:
        for item in questions:
            result, error = None, item.error
            if error is None:
                outcome = next(outcomes)
                if isinstance(outcome, ValueError):
                    error = str(outcome) or type(outcome).__name__
                else:
                    result = outcome
            if error is not None:
                failed += 1
                print(f"rag batch: question {printable(item.id)} (line {item.line}) failed: "
                      f"{printable(error)}",
                      file=sys.stderr)
            answered += bool(result and result.answered)
            row = batch_row(id=item.id, question=item.question, line=item.line, result=result,
                            error=error, debug=args.debug)
            if kind == ".jsonl":
                handle.write(json_line(row) + "\n")
            elif writer:
                writer.writerows(csv_rows(row))
            else:
                answers.append(result or _failed_answer(item, error or "unknown error"))
            done += 1
    except KeyboardInterrupt:
        interrupted = True  # keep what is done: write it below and say so
    finally:
        if out_path is not None and kind in (".jsonl", ".csv"):
            handle.close()

    if kind in (".md", ".docx") and out_path is not None:
        from rag.core.files import replace_file
        from rag.export.docx import memo_docx
        from rag.export.markdown import memo_markdown

        info = index.info()
        if kind == ".md":
            replace_file(out_path, memo_markdown(answers, index=info))
        else:
            memo_docx(answers, out_path, index=info)
    where = f" → {out_path}" if out_path else ""
    if interrupted:
        print(f"rag batch: interrupted after {done} of {len(questions)} questions; the "
              f"answers to those {done} were written{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(
        f"{len(questions)} questions: {answered} answered, "
        f"{len(questions) - answered - failed} not answered by the corpus, {failed} failed{where}",
        file=sys.stderr,
    )
    return EXIT_PARTIAL if failed else EXIT_OK
