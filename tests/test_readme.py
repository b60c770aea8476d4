"""The README's promises that code can check: the library example runs, help(rag) lists
the public calls, every module stays small and says what it does."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rag

from .conftest import CORPUS, REPO, TEST_CACHE


def library_example() -> str:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme[readme.index("### As a library"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_readme_example_is_the_one_in_the_package_docstring() -> None:
    docstring = rag.__doc__ or ""
    block = docstring[docstring.index("import rag"):].split("\n\n")[0]
    assert textwrap.dedent("    " + block).strip() == library_example().strip()
    assert len(library_example().strip().splitlines()) == 5


@pytest.mark.integration
def test_the_readme_library_example_runs(real_index_dir: Path, real_index, real_encoder,  # type: ignore[no-untyped-def]
                                         tmp_path: Path) -> None:
    (tmp_path / "corpus").symlink_to(CORPUS, target_is_directory=True)
    shutil.copytree(real_index_dir, tmp_path / "embeddings" / "index")  # already built
    out = subprocess.run(
        [sys.executable, "-c", library_example()], cwd=tmp_path, capture_output=True,
        text=True, timeout=600, check=True,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
             "RAG_MODEL_CACHE": str(TEST_CACHE / "models"), "PYTHONPATH": str(REPO)},
    )
    # the function, not the package rag.answer: once any test has imported the package,
    # the attribute rag.answer is the package (the subprocess above is a fresh interpreter)
    from rag.answer import answer

    first = answer("内幕交易会被罚多少钱？", index=real_index, encoder=real_encoder).citations[0]
    assert out.stdout.strip() == first.citation
    assert "内幕" in first.text  # an insider-trading clause (securities or futures law)


def test_help_lists_the_public_calls() -> None:
    text = subprocess.run([sys.executable, "-c", "import rag; help(rag)"], capture_output=True,
                          text=True, check=True, env={"PAGER": "cat", "PYTHONPATH": str(REPO)},
                          cwd=REPO).stdout
    for name in ("answer", "open_index", "index_paths", "load_documents", "chunk_document",
                 "load_encoder", "retrieve", "Filters"):
        assert re.search(rf"\b{name}\b", text), name


def test_modules_are_small_and_say_what_they_do() -> None:
    for path in sorted([*(REPO / "rag").rglob("*.py"), *(REPO / "ui").rglob("*.py")]):
        lines = path.read_text("utf-8").splitlines()
        assert len(lines) <= 420, f"{path}: {len(lines)} lines"
        assert lines and lines[0].startswith('"""') and len(lines[0]) > 10, path
