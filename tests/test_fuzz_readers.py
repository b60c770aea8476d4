"""The readers under mutated input (issue 24): a fixed budget of hypothesis examples over
real PDF, Word, Markdown, HTML and text files, each read within its time budget in a
process whose address space is capped (see tests/fuzz_readers.py for longer runs)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_mutated_files_are_read_or_refused_in_one_line_within_bounds() -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tests.fuzz_readers", "--examples", "60",
                           "--seed", "24"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "fuzz: 60 mutated files read within 5 s each" in done.stderr
    assert time.monotonic() - started < 120


def test_the_fuzzer_itself_catches_a_reader_that_breaks_its_promise(
        tmp_path: Path) -> None:
    """The check fails on a multi-line error or a quote that is not the source's text."""
    import pytest

    from rag.readers import DocumentError

    from . import fuzz_readers

    bad = tmp_path / "x.txt"
    bad.write_text("第一条 罚款。\n", encoding="utf-8")
    fuzz_readers.check(bad)  # a real file passes

    def two_lines(path: Path, **kwargs: object) -> None:
        raise DocumentError(path, "first line\nsecond line")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("rag.readers.read_file", two_lines)
        with pytest.raises(AssertionError):
            fuzz_readers.check(bad)
