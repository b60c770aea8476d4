"""The advice works (issue 24, item 6 and the full disk): after a truncated ``vectors.npy``,
an edited ``documents.jsonl`` or a removed ``bm25/``, ``rag ask`` says to run ``rag
index``; ``rag index`` then verifies what it would reuse, rewrites the damaged part and the
index answers again — before, it said "already up to date" and ``rag serve`` answered 503
forever. A disk that fills during a build leaves the previous index answering and says so."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from rag.answer import answer
from rag.cli import main
from rag.encoders import HashingEncoder
from rag.index import StoreError, index_paths
from rag.index.folder import current_generation
from rag.search import open_index

from .test_serve import serve, wait_ready

QUESTION = "内幕交易的罚款是多少"
MODEL = ["--model", "hashing:64"]


def cited(folder: Path, encoder: HashingEncoder) -> list[str]:
    index = open_index(folder, encoder=encoder)
    return [c.clause_id for c in answer(QUESTION, index=index, encoder=encoder, k=3).citations]


def truncate_vectors(generation: Path) -> None:
    path = generation / "vectors.npy"
    path.write_bytes(path.read_bytes()[:-100])


def edit_documents(generation: Path) -> None:
    path = generation / "documents.jsonl"
    text = path.read_text("utf-8")
    path.write_text(text.replace("罚", "罪", 1), "utf-8")  # same length: only the hash tells


def remove_bm25(generation: Path) -> None:
    shutil.rmtree(generation / "bm25")


DAMAGE: dict[str, tuple[Callable[[Path], None], str, bool]] = {
    # how, the part named, whether the vectors had to be embedded again
    "truncated vectors": (truncate_vectors, "vectors.npy", True),
    "edited documents": (edit_documents, "documents.jsonl", False),
    "removed bm25": (remove_bm25, "bm25/", False),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_rag_index_rebuilds_what_is_damaged_and_the_index_answers_again(
        case: str, small: Path, tmp_path: Path, encoder: HashingEncoder,
        capsys: pytest.CaptureFixture[str]) -> None:
    damage, part, embedded_again = DAMAGE[case]
    folder = tmp_path / "index"
    first = index_paths([small], index=folder, encoder=encoder)
    before = cited(folder, encoder)
    assert before
    generation = current_generation(folder)
    assert generation is not None
    damage(generation)
    assert main(["ask", QUESTION, "--index", str(folder), *MODEL]) == 1
    err = capsys.readouterr().err
    assert "rag index" in err and "Traceback" not in err
    assert main(["index", str(small), "--index", str(folder), *MODEL, "--quiet"]) == 0
    out = capsys.readouterr()
    said = out.out + out.err
    assert "already up to date" not in said
    assert "repaired the damaged" in said and part in said, said
    assert current_generation(folder) != generation
    assert cited(folder, encoder) == before
    again = index_paths([small], index=folder, encoder=encoder)
    assert not again.changed and not again.repaired  # whole now: nothing to do
    report = index_paths([small], index=tmp_path / "fresh", encoder=encoder)
    assert report.clauses == first.clauses
    if embedded_again:  # no vector could be trusted: all embedded again
        assert "vectors.npy" in said


def test_rag_serve_recovers_from_a_damaged_index(
        small: Path, tmp_path: Path, encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    generation = current_generation(folder)
    assert generation is not None
    truncate_vectors(generation)
    remove_bm25(generation)
    seen: dict[str, object] = {}

    def visit(url: str, app: FastAPI) -> None:
        seen["status"] = wait_ready(url)
        reply = httpx.post(url + "api/v1/ask", json={"question": QUESTION, "top": 3})
        seen["ask"] = reply.status_code
        seen["citations"] = len(reply.json().get("citations", []))

    assert serve(monkeypatch, ["--index", str(folder), "--port", "0"], visit) == 0
    assert seen["ask"] == 200 and seen["citations"], seen
    assert cited(folder, encoder)


# ---------------------------------------------------------------- a full disk


def changed(small: Path) -> None:
    (small / "通知.md").write_text("# 内部合规通知\n\n第一条 员工买卖股票应当事先报备。\n",
                                 encoding="utf-8")


def test_a_full_disk_during_a_build_leaves_the_previous_index_answering(
        small: Path, tmp_path: Path, encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import rag.index.embedded as embedded

    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    before = cited(folder, encoder)
    live = current_generation(folder)
    changed(small)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    save = embedded.np.save
    monkeypatch.setattr(embedded.np, "save", full)
    with pytest.raises(StoreError, match=r"disk full while writing .*the previous index "
                       r"still answers"):
        index_paths([small], index=folder, encoder=encoder)
    assert main(["index", str(small), "--index", str(folder), *MODEL, "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "disk full while writing" in err and err.count("\n") == 1
    assert current_generation(folder) == live
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    assert cited(folder, encoder) == before
    monkeypatch.setattr(embedded.np, "save", save)  # space again: the build goes through
    assert index_paths([small], index=folder, encoder=encoder).changed


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root; the test above "
                    "injects ENOSPC instead")
def test_a_real_full_tmpfs(small: Path, tmp_path: Path, encoder: HashingEncoder) -> None:
    probe = tmp_path / "probe"
    index_paths([small], index=probe, encoder=encoder)
    used = sum(p.stat().st_size for p in probe.rglob("*") if p.is_file())
    disk = tmp_path / "disk"
    disk.mkdir()
    size = (used * 3 // 2 // 4096 + 1) * 4096  # one generation fits, two do not
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        folder = disk / "index"
        index_paths([small], index=folder, encoder=encoder)
        before = cited(folder, encoder)
        changed(small)
        started = time.monotonic()
        with pytest.raises(StoreError, match="disk full while writing"):
            index_paths([small], index=folder, encoder=encoder)
        assert time.monotonic() - started < 60
        assert cited(folder, encoder) == before
    finally:
        subprocess.run(["umount", str(disk)], check=False)
