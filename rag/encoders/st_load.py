"""Open a SentenceTransformer quietly, computing in float32 on CPU; name the errors loads raise."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.encoders.protocol import EncoderLoadError


def load_errors() -> tuple[type[BaseException], ...]:
    """What opening a model can raise for a missing, broken or unsupported model (not bugs).

    Missing files and unknown names are OSError (huggingface_hub's and transformers' errors
    derive from it), bad JSON or configs ValueError/KeyError, unknown module classes
    ImportError, damaged weights SafetensorError, UnpicklingError or torch's RuntimeError.
    """
    from safetensors import SafetensorError

    return (OSError, ValueError, KeyError, ImportError, RuntimeError, pickle.UnpicklingError,
            SafetensorError)


def describe(exc: BaseException) -> str:
    """``TypeName: message`` of an exception, on one line (the first of its message)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def open_model(model: str, device: str, **options: Any) -> Any:
    """``SentenceTransformer(model, device=device, **options)`` without transformers' progress
    bar, in float32 on CPU.  Errors propagate unchanged."""
    from sentence_transformers import SentenceTransformer

    with _quiet_transformers():
        st = SentenceTransformer(model, device=device, **options)
    return _as_float32(st, device)


def load_folder(path: Path, device: str) -> Any:
    """The sentence-transformers model in the local folder ``path``, without network."""
    try:
        return open_model(str(path), device, local_files_only=True)
    except load_errors() as exc:
        raise EncoderLoadError(
            f"could not load the model folder {str(path)!r}: {type(exc).__name__}: {exc}"
        ) from exc


def _as_float32(st: Any, device: str) -> Any:
    """Compute in float32 on CPU (float16 compute there is several times slower)."""
    if str(device).startswith("cpu"):
        import torch

        if any(p.dtype != torch.float32 for p in st.parameters() if p.is_floating_point()):
            st = st.float()
    return st


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" progress bar."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
