"""Batch questions in: the question files ``rag batch`` reads (.txt, .jsonl, .csv, stdin).

Questions come from ``.txt`` (one per line), ``.jsonl`` (field ``question``, optional
``id``), ``.csv`` (column ``question``, optional ``id``) or stdin; a line that cannot be
used becomes a question with an ``error`` so the batch reports it and carries on.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rag.cli.errors import CommandError, UsageError

BATCH_INPUTS = (".txt", ".jsonl", ".csv")


@dataclass(frozen=True)
class BatchQuestion:
    """One question read from a batch file; ``error`` when the line itself is unusable."""

    id: str
    question: str
    line: int
    error: str | None = None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their numbers. Only line feeds end a line: a vertical tab or
    form feed pasted inside a question (str.splitlines would split there) stays in it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            yield number, line


def decode(data: bytes, *, name: str) -> str:
    """Question-file bytes as text: UTF-8 (with or without BOM) or UTF-16 (with or without
    BOM); otherwise a CommandError that names the encoding problem."""
    from rag.readers._text import DecodeError, decode_bytes

    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        try:
            return decode_bytes(data)
        except DecodeError as error:
            raise CommandError(f"{name}: {error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        hint = ""
        try:
            data.decode("gb18030")
            hint = " — it looks like GBK/GB18030"
        except UnicodeDecodeError:
            pass
        raise CommandError(
            f"{name}: not UTF-8 text (byte 0x{data[error.start]:02x} at {error.start}"
            f"{hint}); save it as UTF-8"
        ) from None


def questions_from_txt(text: str) -> list[BatchQuestion]:
    return [BatchQuestion(str(n), line.strip(), line=lineno)
            for n, (lineno, line) in enumerate(_lines(text), 1)]


def questions_from_jsonl(text: str) -> list[BatchQuestion]:
    out = []
    for n, (lineno, line) in enumerate(_lines(text), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            out.append(BatchQuestion(str(n), "", lineno, f"line {lineno} is not JSON ({error})"))
            continue
        if not isinstance(row, dict):
            out.append(BatchQuestion(str(n), "", lineno, f"line {lineno} is not a JSON object"))
            continue
        qid = row.get("id")
        qid = str(n) if qid is None or qid == "" else str(qid)
        question = row.get("question")
        if not isinstance(question, str):
            out.append(BatchQuestion(
                qid, "", lineno, f"line {lineno} has no \"question\" string field"))
            continue
        out.append(BatchQuestion(qid, question.strip(), lineno,
                                 None if question.strip() else "the question is empty"))
    return out


def questions_from_csv(text: str, *, name: str) -> list[BatchQuestion]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    if "question" not in columns:
        found = ", ".join(repr(c) for c in reader.fieldnames or []) or "none"
        raise CommandError(f"{name}: no 'question' column in the header (found: {found})")
    out = []
    for n, row in enumerate(reader, 1):
        question = (row.get(columns["question"]) or "").strip()
        qid = (row.get(columns["id"]) or "").strip() if "id" in columns else ""
        out.append(BatchQuestion(qid or str(n), question, reader.line_num,
                                 None if question else "the question is empty"))
    return out


def read_questions(source: str, *, stdin: TextIO | None = None) -> list[BatchQuestion]:
    """Questions from a .txt/.jsonl/.csv file, or ``-`` for stdin (txt, or jsonl when the
    lines start with ``{``)."""
    if source == "-":
        stream = stdin or sys.stdin
        raw = getattr(stream, "buffer", None)
        text = decode(raw.read(), name="stdin") if raw is not None else stream.read()
        text = text.lstrip("\ufeff")
        first = next((line for _, line in _lines(text)), "")
        return questions_from_jsonl(text) if first.lstrip().startswith("{") else \
            questions_from_txt(text)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in BATCH_INPUTS:
        raise UsageError(
            f"{source}: unknown question file type {suffix or '(none)'}; "
            f"use {', '.join(BATCH_INPUTS)}, or - for stdin"
        )
    if not path.exists():
        raise CommandError(f"{source}: no such file")
    if not path.is_file():  # a FIFO, device or folder: reading it could block or never end
        raise CommandError(f"{source}: not a regular file; give a file of questions (or - "
                           "to read them from stdin)")
    text = decode(path.read_bytes(), name=source)
    if suffix == ".csv":
        return questions_from_csv(text, name=source)
    return questions_from_jsonl(text) if suffix == ".jsonl" else questions_from_txt(text)
