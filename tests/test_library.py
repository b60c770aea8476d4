"""The library's storage rules, the admin token, and the live index's swap and queue, as
library calls (no server)."""

from __future__ import annotations

import io
import os
import shutil
import stat
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.api.auth import AdminToken, TokenFileError, token_from
from rag.api.library import MAX_NAME_BYTES, Library, NotInLibrary, UploadRefused, safe_name
from rag.api.live import BuildStatus, IndexNotReady, LiveIndex
from rag.encoders import HashingEncoder
from rag.index import Sources, index_paths
from rag.readers import SUFFIXES

from .conftest import DATA, GatedEncoder


@pytest.mark.parametrize(("sent", "stored"), [
    ("../../etc/passwd.md", "passwd.md"),
    ("C:\\Users\\x\\通知.TXT", "通知.txt"),
    ("名字 (1).md", "名字 (1).md"),
    ("a<b onload=x>.html", "a_b onload_x_.html"),
    ("a<script>alert(1)</script>.html", "script_.html"),  # "/": only the last part
    ("《证券法》（2019年修订）.md", "《证券法》（2019年修订）.md"),
    ("tab\tand\nnewline.txt", "tabandnewline.txt"),
    ("e\u0301.md", "\u00e9.md"),  # NFC
])
def test_names_are_sanitised(sent: str, stored: str) -> None:
    assert safe_name(sent) == stored


@pytest.mark.parametrize(("sent", "why"), [
    (".bashrc.md", "hidden"), ("dir/.hidden.txt", "hidden"), ("", "hidden or empty"),
    ("a.exe", "only .md"), ("notes", "only .md"), ("x.meta.yaml", "only .md"),
    ("report.doc", "only .md"), ("_index.md", "reserved"), ("/", "hidden or empty"),
])
def test_unsafe_names_are_refused(sent: str, why: str) -> None:
    with pytest.raises(UploadRefused, match=why):
        safe_name(sent)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_name_is_refused_or_made_safe(name: str) -> None:
    try:
        safe = safe_name(name + ".md")
    except UploadRefused:
        return
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and safe == safe.strip()
    assert Path(safe).suffix in SUFFIXES and Path(safe).name == safe
    assert len(safe.encode("utf-8")) <= MAX_NAME_BYTES
    assert all(unicodedata.category(c)[0] != "C" for c in safe)


def test_a_long_chinese_name_fits_the_file_system(tmp_path: Path) -> None:
    safe = safe_name("证" * 300 + ".md")
    assert safe.endswith(".md") and len(safe.encode()) <= MAX_NAME_BYTES
    (tmp_path / safe).write_text("x")  # the file system takes it


def test_store_reads_the_file_first_and_loses_nothing(tmp_path: Path) -> None:
    library = Library(tmp_path / "library", max_bytes=200)
    good = library.store("规定.md", io.BytesIO("# 规定\n\n第一条 内容。\n".encode()))
    assert good.document.doc_id == "规定" and good.path.read_text().startswith("# 规定")
    assert stat.S_IMODE(good.path.stat().st_mode) == 0o600
    for name, data, why in (
        ("big.md", b"# x\n" + b"y" * 300, "larger than the limit of 200 bytes"),
        ("empty.md", b"", "empty"),
        ("blank.txt", b"   \n\n", "empty file"),
        ("fake.pdf", b"%PDF-1.7 broken", "fake.pdf: "),
        ("规定.md", b"# again\n", "already in the library"),
        ("规定.txt", b"another", "already indexed"),  # same id as 规定.md
        ("taken.md", b"# t\n\nx\n", "already indexed"),
    ):
        with pytest.raises(UploadRefused, match=why):
            library.store(name, io.BytesIO(data), taken={"taken"})
    assert [p.name for p in library.files()] == ["规定.md"]
    assert not any((library.root / ".staging").iterdir())
    assert good.path.read_text().startswith("# 规定")  # never replaced


def test_store_many_reports_each_refusal_and_stores_the_rest(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\n第一条 甲。\n", encoding="utf-8")
    (tmp_path / "b.exe").write_bytes(b"MZ")
    library = Library(tmp_path / "library")
    stored, refused = library.store_many([("a.md", tmp_path / "a.md"),
                                          ("b.exe", tmp_path / "b.exe"),
                                          ("gone.md", tmp_path / "gone.md")])
    assert [s.name for s in stored] == ["a.md"]
    assert [r.name for r in refused] == ["b.exe", "gone.md"]
    assert "could not be stored" in refused[1].reason


def test_remove_only_what_the_library_stored(tmp_path: Path) -> None:
    from rag.readers import read_document

    library = Library(tmp_path / "library")
    mine = library.store("a.md", io.BytesIO("# A\n\n第一条 甲。\n".encode()))
    corpus = read_document(DATA / "mini" / "示范交易法.md")
    with pytest.raises(NotInLibrary, match="the library did not add"):
        library.remove(corpus)
    assert (DATA / "mini" / "示范交易法.md").exists()
    indexed = read_document(mine.path)  # as index_paths reads it: from the library folder
    assert library.owns(indexed) and not library.owns(corpus)
    assert library.remove(indexed) == mine.path and not mine.path.exists()


# ---------------------------------------------------------------- the token


def test_the_token_is_checked_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "token"
    path.write_text("  s3cret-token-0123456789\n")
    os.chmod(path, 0o600)
    admin = AdminToken.from_file(path)
    assert admin.check("s3cret-token-0123456789")
    for wrong in ("", None, "s3cret-token-012345678", "s3cret-token-01234567890", "Ｓ3cret"):
        assert not admin.check(wrong)
    assert admin.check_bearer("Bearer s3cret-token-0123456789")
    assert admin.check_bearer("bearer s3cret-token-0123456789")
    assert not admin.check_bearer("Basic s3cret-token-0123456789")
    assert not admin.granted("alice")
    admin.grant("alice")
    assert admin.granted("alice") and not admin.granted("bob") and not admin.granted("")
    # from $RAG_ADMIN_TOKEN_FILE; a file others can read is served, with a warning
    assert token_from(None) is None
    monkeypatch.setenv("RAG_ADMIN_TOKEN_FILE", str(path))
    os.chmod(path, 0o644)
    assert token_from(None) is not None
    assert "can be read by other users" in capsys.readouterr().err
    for text, why in (("short", "at least 16"), ("", "at least 16"),
                      ("ünïcode-token-0123456789", "ASCII")):
        path.write_text(text)
        with pytest.raises(TokenFileError, match=why):
            AdminToken.from_file(path)
    with pytest.raises(TokenFileError, match="cannot read the admin token"):
        AdminToken.from_file(tmp_path / "missing")


def test_session_grants_expire() -> None:
    admin = AdminToken("x" * 16, session_ttl=0.0)
    admin.grant("alice")
    assert not admin.granted("alice")


# ---------------------------------------------------------------- the live index


def test_the_live_index_swaps_after_a_build_and_queues_one_more(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "mini", corpus)
    encoder = GatedEncoder()
    live = LiveIndex(location=tmp_path / "index", encoder=encoder, sources=Sources((corpus,)))
    assert not live.open() and not live.ready
    with pytest.raises(IndexNotReady, match="not ready"):
        live.index  # noqa: B018
    encoder.gate.clear()
    assert live.rebuild().state == "building"
    assert encoder.waiting.wait(timeout=60)
    seen: list[BuildStatus] = []
    follower = threading.Thread(target=lambda: seen.extend(live.follow(every=0.05)))
    follower.start()
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "新规.md").write_text("# 新规\n\n第一条 新的内容。\n", encoding="utf-8")
    assert live.rebuild(add=[extra]).pending  # queued behind the running build
    encoder.gate.set()
    final = live.wait(timeout=60)
    follower.join(timeout=60)
    assert (final.state, final.builds, final.pending) == ("ready", 1, False)
    assert set(live.index.documents) == {"data_rules", "反洗钱工作意见", "示范交易法", "新规"}
    assert seen[0].stage == "embedding" and seen[-1].state == "ready"
    first = live.index
    swapped: list[object] = []
    live.listeners.append(swapped.append)
    assert live.rebuild().state == "building"  # nothing changed: the same index stays
    assert live.wait(timeout=60).state == "ready" and live.index is first and not swapped


def test_a_failed_build_keeps_the_index_answering(tmp_path: Path) -> None:
    from rag.index.folder import build_lock

    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "mini", corpus)
    encoder = HashingEncoder(dimension=64)
    index_paths([corpus], index=tmp_path / "index", encoder=encoder)
    live = LiveIndex(location=tmp_path / "index", encoder=encoder)
    assert live.open()
    before = live.index
    with build_lock(tmp_path / "index"):
        live.rebuild(add=[DATA / "readers"])
        failed = live.wait(timeout=60)
    assert failed.state == "failed" and "another `rag index` is building" in failed.message
    assert live.index is before
    fixed = LiveIndex.fixed(before, encoder)
    with pytest.raises(ValueError, match="served as it is"):
        fixed.rebuild()


class BrokenEncoder(HashingEncoder):
    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32,
                        progress: bool = False) -> np.ndarray:
        raise RuntimeError("the model crashed")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_build_that_crashes_says_so_and_keeps_the_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "mini", corpus)
    index_paths([corpus], index=tmp_path / "index", encoder=HashingEncoder(dimension=64))
    live = LiveIndex(location=tmp_path / "index", encoder=BrokenEncoder(dimension=64))
    assert live.open()
    before = live.index
    (corpus / "新规.md").write_text("# 新规\n\n第一条 新的内容。\n", encoding="utf-8")
    live.rebuild()
    crashed = live.wait(timeout=60)
    assert crashed.state == "failed" and "stopped unexpectedly" in crashed.message
    assert "RuntimeError: the model crashed" in crashed.message
    assert live.index is before
