"""Fuzz the readers: real PDF, Word, Markdown, HTML and plain-text files, mutated, must each
be read into a document whose clauses quote it exactly, or refused with one line naming
the file — within a time budget per file, in a process whose memory is capped.

    python -m tests.fuzz_readers --examples 60          # what CI runs (a few seconds)
    python -m tests.fuzz_readers --examples 5000        # a longer run
    python -m tests.fuzz_readers --atheris -- -max_total_time=600   # coverage-guided

Hypothesis derives each file from a seed file by byte edits (flips, inserts, deletes,
truncation) or, for Word, by splicing WordprocessingML fragments into document.xml;
atheris (libFuzzer) mutates the seed bytes itself, guided by coverage.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SECONDS_PER_FILE = 5.0
MEMORY_CAP = 3 * 2**30  # address space of the fuzzing process
SUFFIXES = (".pdf", ".docx", ".md", ".html", ".txt")
FRAGMENTS = (
    "<w:p>", "</w:p>", "<w:r><w:t>第一条 罚款</w:t></w:r>", "<w:tbl><w:tr><w:tc>", "</w:tc>",
    "</w:tr></w:tbl>", '<w:pPr><w:numPr><w:ilvl w:val="8"/><w:numId w:val="1"/></w:numPr>'
    "</w:pPr>", '<w:pPr><w:pStyle w:val="Heading1"/></w:pPr>', "<w:del>", "</w:del>",
    '<w:outlineLvl w:val="99"/>', "&#0;", "\x00", "<![CDATA[x]]>", "<w:txbxContent>",
    '<w:pPr><w:numPr><w:ilvl w:val="-1"/><w:numId w:val="999999999999"/></w:numPr></w:pPr>',
)


class NoOcr:
    """Stands in for RapidOCR: renders nothing itself, finds no text (the fuzz is about
    the readers' own bounds, not the OCR model)."""

    def read(self, image: Any) -> list[Any]:
        return []

    def engine_id(self) -> str:
        return "none"


def seeds(folder: Path) -> dict[str, bytes]:
    """One real file per format."""
    from .makedocs import make_docx, make_pdf

    articles = ["第一条 为了规范证券发行和交易行为，制定本法。",
                "第二条 证券交易内幕信息的知情人从事内幕交易的，处以罚款。（一）情节严重的，"
                "依法追究责任。"]
    make_pdf(folder / "seed.pdf", ["中华人民共和国证券法", *articles], title="证券法")
    make_docx(folder / "seed.docx", [("title", "证券法"), ("article", articles[0][4:]),
                                      ("item", "情节严重"), ("table", "条|罚款\n一|十万")])
    text = "\n\n".join(articles)
    return {
        ".pdf": (folder / "seed.pdf").read_bytes(),
        ".docx": (folder / "seed.docx").read_bytes(),
        ".md": f"---\ntitle: 证券法\ndate: 2019-12-28\n---\n# 证券法\n\n{text}\n".encode(),
        ".html": f"<html><head><title>证券法</title></head><body><h1>证券法</h1>"
                 f"<p>{'</p><p>'.join(articles)}</p></body></html>".encode(),
        ".txt": f"证券法\n2019年12月28日\n{text}\n".encode(),
    }


def check(path: Path) -> None:
    """Read ``path``: a document whose clauses quote it exactly, or one line naming it."""
    from rag.chunking import chunk_document
    from rag.readers import DocumentError, read_file

    started = time.monotonic()
    try:
        document, warnings = read_file(path, max_seconds=SECONDS_PER_FILE,
                                       ocr=NoOcr())  # type: ignore[arg-type]
    except DocumentError as error:
        message = str(error)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        return
    finally:
        took = time.monotonic() - started
        assert took < SECONDS_PER_FILE + 2, f"{path.name}: read for {took:.1f} s"
    assert document.text.strip()
    for warning in warnings:
        assert "\n" not in str(warning)
    for clause in chunk_document(document):
        assert document.text[clause.start:clause.end] == clause.text


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (where, what, bytes) edits: 0 flip a byte, 1 insert, 2 delete, 3 truncate."""
    out = bytearray(data)
    for where, what, chunk in edits:
        at = where % (len(out) + 1)
        if what == 0 and out and at < len(out):
            out[at] ^= chunk[0] if chunk else 0xFF
        elif what == 1:
            out[at:at] = chunk
        elif what == 2:
            del out[at:at + len(chunk) + 1]
        else:
            del out[at:]
    return bytes(out)


def splice_docx(data: bytes, where: list[int], parts: list[str]) -> bytes:
    """The Word file with WordprocessingML fragments spliced into its document.xml."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "word/document.xml":
                text = body.decode("utf-8")
                for at, part in zip(where, parts, strict=False):
                    cut = at % (len(text) + 1)
                    text = text[:cut] + part + text[cut:]
                body = text.encode("utf-8", "surrogatepass")
            target.writestr(info, body)
    return buffer.getvalue()


def run_hypothesis(examples: int, *, seed: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed
    from hypothesis import strategies as st

    folder = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    originals = seeds(folder)
    edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 3),
                               st.binary(max_size=32)), max_size=6)
    spliced = st.tuples(st.lists(st.integers(0, 1 << 16), max_size=6),
                        st.lists(st.sampled_from(FRAGMENTS), max_size=6))

    @fixed_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(suffix=st.sampled_from(SUFFIXES), edits=edits, spliced=spliced,
           structured=st.booleans())
    def fuzz(suffix: str, edits: list[tuple[int, int, bytes]],
             spliced: tuple[list[int], list[str]], structured: bool) -> None:
        data = originals[suffix]
        if suffix == ".docx" and structured:
            data = splice_docx(data, *spliced)
        else:
            data = mutate(data, edits)
        path = folder / f"case{suffix}"
        path.write_bytes(data)
        check(path)

    fuzz()


def run_atheris(argv: list[str]) -> None:
    import atheris  # optional: pip install atheris

    folder = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    originals = seeds(folder)

    def one(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        suffix = SUFFIXES[provider.ConsumeIntInRange(0, len(SUFFIXES) - 1)]
        base = originals[suffix]
        body = provider.ConsumeBytes(provider.remaining_bytes())
        at = len(body) % (len(base) + 1)
        path = folder / f"case{suffix}"
        path.write_bytes(base[:at] + body + base[at + len(body) // 2:])
        check(path)

    import rag.chunking
    import rag.readers  # noqa: F401  (loaded, then instrumented for coverage)

    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *argv], one)
    atheris.Fuzz()


def cap_memory(limit: int = MEMORY_CAP) -> Callable[[], None]:
    def apply() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    return apply


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--atheris", action="store_true",
                        help="coverage-guided fuzzing with atheris (libFuzzer options after --)")
    args, rest = parser.parse_known_args(argv)
    cap_memory()()
    if args.atheris:
        run_atheris([a for a in rest if a != "--"])
    else:
        run_hypothesis(args.examples, seed=args.seed)
        print(f"fuzz: {args.examples} mutated files read within {SECONDS_PER_FILE:g} s "
              f"each, under a {MEMORY_CAP >> 30} GiB address-space cap", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
