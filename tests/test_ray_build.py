"""Index builds on a local 2-CPU Ray cluster (all its ports pinned to one free range)
equal single-process builds: same documents, clauses, vectors and fingerprint."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import cli
from rag.encoders import HashingEncoder
from rag.index import EmbeddedBackend, index_paths
from rag.index.ray_build import index_paths_on_ray
from rag.search import open_index

from .conftest import CORPUS, small_corpus
from .servers import ray_cluster

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import ray

    with ray_cluster(tmp_path_factory.mktemp("ray"), cpus=2) as address:
        yield address
        ray.shutdown()  # this process leaves the cluster before it stops


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """Two statutes, a policy document with its sidecar, a news post, an unreadable file
    and two files whose document ids collide (renamed by folder, as load_documents does)."""
    folder = small_corpus(tmp_path / "corpus")
    (folder / "empty.txt").write_text("   \n", "utf-8")
    for sub in ("a", "b"):
        (folder / sub).mkdir()
        (folder / sub / "通知.txt").write_text(f"关于{sub}的通知\n\n一、加强证券监管。\n", "utf-8")
    return folder


def test_a_ray_build_equals_a_single_process_build(cluster: str, corpus: Path,
                                                   tmp_path: Path) -> None:
    encoder = HashingEncoder(dimension=64)
    local = index_paths([corpus], index=tmp_path / "local", encoder=encoder)
    distributed = index_paths_on_ray([corpus], index=tmp_path / "ray", model="hashing:64",
                                     address=cluster)
    assert distributed.skipped_files == local.skipped_files and len(local.skipped_files) == 1
    assert (distributed.documents, distributed.clauses, distributed.embedded) == \
        (local.documents, local.clauses, local.clauses)
    one = open_index(tmp_path / "local", encoder=encoder)
    two = open_index(tmp_path / "ray", encoder=encoder)
    assert two.documents == one.documents and two.clauses == one.clauses
    assert {"a-通知", "b-通知"} <= set(two.documents)
    assert two.info()["fingerprint"] == one.info()["fingerprint"]
    assert np.array_equal(EmbeddedBackend(tmp_path / "ray").vectors,
                          EmbeddedBackend(tmp_path / "local").vectors)

    # incremental on Ray too: one changed article is the only passage embedded
    law = corpus / "laws" / "证券法(2019-12-28).md"
    law.write_text(law.read_text("utf-8").replace("内幕信息的知情人包括", "内幕信息的知情人员包括"),
                   "utf-8")
    again = index_paths_on_ray([corpus], index=tmp_path / "ray", model="hashing:64",
                               address=cluster)
    assert (again.embedded, again.changed) == (1, True)
    index_paths([corpus], index=tmp_path / "local", encoder=encoder)
    assert open_index(tmp_path / "ray").manifest["corpus_fingerprint"] == \
        open_index(tmp_path / "local").manifest["corpus_fingerprint"]


def test_rag_index_ray_on_the_command_line(cluster: str, corpus: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["index", str(corpus), "--index", str(tmp_path / "idx"), "--model",
                     "hashing:64", "--ray", cluster]) == 3  # one file skipped
    err = capsys.readouterr().err
    assert "empty.txt: empty file" in err and "files skipped" in err


def test_no_cluster_at_the_address_is_one_clear_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", _refuse)
    assert cli.main(["index", str(CORPUS), "--index", str(tmp_path / "i"), "--model",
                     "hashing:64", "--ray", "127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Ray cluster there" in err and "ray start" in err


def _refuse(**_: object) -> None:
    raise ConnectionError("Could not find any running Ray instance")


def test_the_default_path_does_not_import_ray(tmp_path: Path) -> None:
    import subprocess

    code = ("import sys; from rag import cli; "
            f"cli.main(['index', {str(CORPUS / 'seeds')!r}, '--index', "
            f"{str(tmp_path / 'i')!r}, '--model', 'hashing:64', '--quiet']); "
            "from rag.search import open_index; open_index("
            f"{str(tmp_path / 'i')!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'pymilvus')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
