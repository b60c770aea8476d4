"""Failures found by trying to break the product: each case here failed before its fix.

Index folders, remembered sources, readers that must not leave the corpus, exports that
must not fail or inject, questions in the wrong encoding, batch edge cases.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from rag.encoders import HashingEncoder
from rag.index import EmbeddedBackend, StoreError, index_paths
from rag.index.folder import MARKER, current_generation, generations
from rag.search import open_index

from .conftest import CORPUS

SEEDS = CORPUS / "seeds"


@pytest.fixture()
def encoder() -> HashingEncoder:
    return HashingEncoder(dimension=64)


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("001_fac9b76a4238144e.txt", "001_fac9b76a4238144e.txt.meta.yaml",
                 "003_09ea28eacbf07f88.txt"):
        shutil.copy(SEEDS / name, folder / name)
    return folder


# ---------------------------------------------------------------- index folders (item 1)


def test_a_folder_that_is_not_an_index_is_refused_and_left_alone(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    careless = tmp_path / "careless"
    (careless / "gen-ai-policies").mkdir(parents=True)
    (careless / "gen-ai-policies" / "policy.txt").write_text("our AI policy", "utf-8")
    (careless / ".tmp-drafts").mkdir()
    (careless / ".tmp-drafts" / "draft.txt").write_text("draft", "utf-8")
    with pytest.raises(StoreError, match=r"not an index folder .*gen-ai-policies.*new or empty"):
        index_paths([small], index=careless, encoder=encoder)
    assert (careless / "gen-ai-policies" / "policy.txt").read_text("utf-8") == "our AI policy"
    assert (careless / ".tmp-drafts" / "draft.txt").read_text("utf-8") == "draft"
    assert sorted(p.name for p in careless.iterdir()) == [".tmp-drafts", "gen-ai-policies"]


def test_a_new_or_empty_folder_becomes_an_index(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "new" / "nested"):
        index_paths([small], index=folder, encoder=encoder)
        assert (folder / MARKER).is_file() and current_generation(folder) is not None


def test_cleanup_removes_only_what_the_index_recorded(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    # files a user put into the index folder later, named like ours
    (folder / ".tmp-notes").mkdir()
    (folder / ".tmp-notes" / "keep.txt").write_text("mine", "utf-8")
    (folder / "gen-mine").mkdir()
    (small / "003_09ea28eacbf07f88.txt").unlink()
    index_paths([small], index=folder, encoder=encoder)
    assert (folder / ".tmp-notes" / "keep.txt").read_text("utf-8") == "mine"
    assert (folder / "gen-mine").is_dir()


def test_an_index_written_before_the_marker_is_adopted(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    (folder / MARKER).unlink()
    (folder / "generations.json").unlink()
    live = current_generation(folder)
    index_paths([small], index=folder, encoder=encoder)  # nothing changed: still fine
    assert (folder / MARKER).is_file() and current_generation(folder) == live


# ---------------------------------------------------------------- generations kept (item 9)


def test_replaced_generations_are_kept_previous_whole_older_as_records(
    small: Path, tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_KEEP_GENERATIONS", "3")
    folder = tmp_path / "index"
    text = small / "003_09ea28eacbf07f88.txt"
    original = text.read_text("utf-8")
    for n in range(4):
        text.write_text(original + f"\n第{n}次补充说明：本段用于测试保留策略。", "utf-8")
        index_paths([small], index=folder, encoder=encoder)
    kept = generations(folder)
    assert [g.whole for g in kept] == [False, True, True]
    assert len(list(folder.glob("gen-*"))) == 3
    oldest = folder / kept[0].name
    assert (oldest / "clauses.jsonl").is_file() and (oldest / "documents.jsonl").is_file()
    assert not (oldest / "vectors.npy").exists() and not (oldest / "bm25").exists()
    assert kept[-1].name == current_generation(folder).name  # type: ignore[union-attr]


def test_a_reader_opening_while_a_build_publishes_still_loads(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    reader = EmbeddedBackend(folder)
    reader.manifest()  # the reader has read CURRENT …
    text = small / "003_09ea28eacbf07f88.txt"
    for n in range(3):  # … then builds publish three times before it loads the files
        text.write_text(text.read_text("utf-8") + f"\n补充{n}：新增的一段话。", "utf-8")
        index_paths([small], index=folder, encoder=encoder)
    assert reader.records().clauses


# ---------------------------------------------------------------- manifests (item 7)


@pytest.mark.parametrize("content", ["null", "[]", '{"format": "rag-index"}', "{}", "42"])
def test_a_manifest_that_is_not_one_is_refused_then_rebuilt(
    small: Path, tmp_path: Path, encoder: HashingEncoder, content: str
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    generation = current_generation(folder)
    assert generation is not None
    (generation / "manifest.json").write_text(content, "utf-8")
    with pytest.raises(StoreError, match=r"manifest\.json: .*rebuild the index with `rag index"):
        open_index(folder, encoder=encoder)
    report = index_paths([small], index=folder, encoder=encoder)
    assert report.changed
    assert open_index(folder, encoder=encoder).clauses


def test_cli_reports_a_broken_manifest_in_one_line(
    small: Path, tmp_path: Path, encoder: HashingEncoder, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main

    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    generation = current_generation(folder)
    assert generation is not None
    (generation / "manifest.json").write_text("null", "utf-8")
    code = main(["ask", "内幕交易", "--index", str(folder), "--model", "hashing:64"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "manifest.json" in err and "rag index" in err
    assert main(["index", str(small), "--index", str(folder), "--model", "hashing:64",
                 "--quiet"]) == 0


def _unused() -> None:  # keep imports used while the module grows
    _ = (json, os, time)


# ---------------------------------------------------------------- remembered sources (item 2)


def test_an_index_remembers_its_sources_and_rag_index_rereads_them_all(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main
    from rag.index import remembered_sources

    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(SEEDS / "004_be685d8d73ec7c1f.txt", more / "own-note.txt")
    folder = tmp_path / "index"
    assert main(["index", str(small), str(more), "--index", str(folder),
                 "--model", "hashing:64", "--quiet"]) == 0
    assert remembered_sources(folder) == [small.resolve(), more.resolve()]
    # `rag index` with no path re-reads every remembered source: nothing is dropped
    assert main(["index", "--index", str(folder), "--model", "hashing:64", "--quiet"]) == 0
    assert "own-note" in open_index(folder).documents
    assert "0 removed" in capsys.readouterr().err


def test_starting_the_chat_never_removes_documents(small: Path, tmp_path: Path) -> None:
    from rag.paths import shipped_corpus
    from ui.cli import update_sources

    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=HashingEncoder(dimension=64))
    # the chat re-reads the index's own sources, not the shipped corpus
    assert update_sources(folder, extra=[]) == [small.resolve()]
    extra = tmp_path / "extra"
    extra.mkdir()
    assert update_sources(folder, extra=[extra]) == [small.resolve(), extra]
    # a new index starts from the shipped corpus
    assert update_sources(tmp_path / "fresh", extra=[]) == [shipped_corpus()]
    # a source that went missing: serve as it is rather than drop its documents
    shutil.rmtree(small)
    assert update_sources(folder, extra=[]) == []
