"""Which inference engine runs a sentence-transformers model: ONNX Runtime (default) or torch."""

from __future__ import annotations

import os

ENGINE_ENV = "RAG_ENCODER_ENGINE"
ENGINES = ("onnx", "torch")
DEFAULT_ENGINE = "onnx"


def choose_engine(engine: str | None = None) -> str:
    """``engine`` if given, else ``$RAG_ENCODER_ENGINE``, else ``onnx``; checked."""
    source = "engine"
    if engine is None:
        engine = os.environ.get(ENGINE_ENV, "").strip() or DEFAULT_ENGINE
        source = f"${ENGINE_ENV}"
    engine = engine.strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"{source}: unknown encoder engine {engine!r}; choose one of "
                         f"{', '.join(ENGINES)}")
    return engine
