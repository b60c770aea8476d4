"""One process loads a model once: threads wait for each other, not for "another process"
(rag serve's background build and first question both loading the model printed
"waiting for another process to finish building multilingual-e5-small…")."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rag.encoders import DEFAULT_MODEL, SentenceTransformerEncoder, e5_cache


def test_threads_of_one_process_take_turns_at_the_build_lock_quietly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / DEFAULT_MODEL
    inside: list[int] = []
    overlap: list[bool] = []

    def build() -> None:
        with e5_cache._build_lock(target, progress=True) as exclusive:
            assert exclusive
            inside.append(1)
            overlap.append(len(inside) > 1)
            time.sleep(0.2)
            inside.pop()

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlap == [False, False, False]  # one at a time
    assert "waiting for another process" not in capsys.readouterr().err


def test_an_encoder_shared_by_threads_opens_its_model_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []

    def slow_open(self: SentenceTransformerEncoder) -> Any:
        time.sleep(0.2)
        opened.append(object())
        return opened[-1]

    monkeypatch.setattr(SentenceTransformerEncoder, "_open_onnx", slow_open)
    encoder = SentenceTransformerEncoder(DEFAULT_MODEL, engine="onnx")
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(encoder.onnx_model()))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 1 and got == opened * 4


def test_an_encoder_shared_by_threads_builds_the_default_folder_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Path] = []

    def ensure(name: str, *, cache_dir: Path | str | None = None, **_: object) -> Path:
        time.sleep(0.2)
        built.append(Path(str(cache_dir)) / name)
        return built[-1]

    monkeypatch.setattr("rag.encoders.st_encoder.ensure_model", ensure)
    encoder = SentenceTransformerEncoder(DEFAULT_MODEL, engine="onnx", cache_dir=tmp_path)
    got: list[Path | None] = []
    threads = [threading.Thread(target=lambda: got.append(encoder._folder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [tmp_path / DEFAULT_MODEL] and got == built * 4
