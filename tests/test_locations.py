"""The index location facts: which locations are servers and the command that builds each."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.locations import is_remote, rebuild_command
from rag.index import StoreError
from rag.index.manifest import check_learned


def test_rebuild_command_names_the_right_option() -> None:
    assert rebuild_command("embeddings/index") == "rag index PATH... --index embeddings/index"
    assert rebuild_command(Path("/tmp/ix")) == "rag index PATH... --index /tmp/ix"
    assert (rebuild_command("milvus://db:19530/laws")
            == "rag index PATH... --backend milvus://db:19530/laws")
    assert (rebuild_command("milvus+https://db/laws", paths="")
            == "rag index --backend milvus+https://db/laws")


def test_is_remote() -> None:
    assert is_remote("milvus://h:1/x") and is_remote("milvus+https://h/x")
    assert not is_remote("milvus") and not is_remote(Path("milvus:/x"))


def test_learned_mismatch_says_backend_for_a_server_index() -> None:
    manifest = {"retrieval": {"adapter": "sha256:old"}}
    with pytest.raises(StoreError, match=r"`rag index --backend milvus://h:1/laws`"):
        check_learned(manifest, None, location="milvus://h:1/laws")
