"""Loading the trained parts for a model: checked against their sha256, identified by it.

Each model's parts are in a folder of their own, ``rag/learned/<model name>/`` (its
``manifest.json`` names the model identity they were trained with); the package folder's
own ``manifest.json`` records the fine-tuned encoder's delta (rag.encoders.lora).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "manifest.json"
PACKAGE = "rag.learned"
# what a manifest's "memory" section may set (rag.search.fusion.Fusion's field names)
MEMORY_SETTINGS = ("memory_weight", "memory_floor", "memory_null", "memory_temperature")


class LearnedError(RuntimeError):
    """Trained files that do not match their manifest; the message says what to do."""


def folder() -> Path:
    """Where the trained files are (package data)."""
    return Path(str(resources.files(PACKAGE)))


def model_folder(model: str) -> Path:
    """The folder of the trained parts of the model named ``model`` (it may not exist)."""
    if not model or "/" in model or "\\" in model or model.startswith("."):
        raise ValueError(f"{model!r} is not a model name")
    return folder() / model


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Learned:
    """The trained parts for one embedding model.

    ``adapter`` maps a query vector before the dense search (q' = W q, renormalised);
    ``reranker`` re-scores the fused candidates from :data:`features`; either may be
    absent. ``identity`` is what an index records and an answer's audit line names.
    The reranker (on by default where ``reranker_default``) is scored by ONNX Runtime from
    ``reranker_onnx``, its LightGBM model converted when it was trained (the encoder's
    runtime already; importing lightgbm, scikit-learn behind it, costs ``rag ask`` ~0.9 s),
    else by LightGBM from ``reranker_model``; either is parsed on first use.
    """

    model_identity: str
    adapter: np.ndarray | None = None
    adapter_sha: str | None = None
    reranker_model: str | None = field(default=None, compare=False, repr=False)
    reranker_sha: str | None = None
    features: tuple[str, ...] = ()
    pool: int = 0  # candidate units the reranker re-scores
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    # the question memory's settings chosen for this model's similarity scale (a manifest's
    # "memory": {"settings": {...}}); empty: the search's defaults
    memory: dict[str, float] = field(default_factory=dict, compare=False)
    # whether a search that leaves use_reranker unset re-orders with the reranker (the
    # manifest's "reranker": {"default": true}; off where absent)
    reranker_default: bool = False
    reranker_onnx: bytes | None = field(default=None, compare=False, repr=False)

    @cached_property
    def reranker(self) -> Any:
        """The LightGBM booster (None when there is no reranker)."""
        if self.reranker_model is None:
            return None
        import lightgbm

        return lightgbm.Booster(model_str=self.reranker_model)

    @cached_property
    def reranker_session(self) -> Any:
        """The ONNX Runtime session of ``reranker_onnx`` (None when there is none)."""
        if self.reranker_onnx is None:
            return None
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # a few hundred rows of small trees
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return ort.InferenceSession(self.reranker_onnx, options,
                                    providers=["CPUExecutionProvider"])

    @property
    def identity(self) -> dict[str, str | None]:
        return {"adapter": self.adapter_sha, "reranker": self.reranker_sha}

    def adapt(self, vector: np.ndarray) -> np.ndarray:
        """The query vector the dense channel searches with."""
        if self.adapter is None:
            return vector
        mapped = self.adapter @ np.asarray(vector, np.float32)
        norm = float(np.linalg.norm(mapped))
        return (mapped / norm if norm > 0 else mapped).astype(np.float32)

    def adapt_many(self, vectors: np.ndarray) -> np.ndarray:
        if self.adapter is None:
            return vectors
        mapped = np.asarray(vectors, np.float32) @ self.adapter.T
        norms = np.linalg.norm(mapped, axis=1, keepdims=True)
        return (mapped / np.maximum(norms, 1e-12)).astype(np.float32)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Reranker scores of feature rows ``[n, len(features)]`` (NaN: missing)."""
        session = self.reranker_session
        if session is None:
            return np.asarray(self.reranker.predict(rows), np.float64)
        name = session.get_inputs()[0].name
        out = session.run(None, {name: np.asarray(rows, np.float32)})[0]
        return np.asarray(out, np.float64).reshape(-1)


def _check(path: Path, expected: str) -> str:
    if not path.is_file():
        raise LearnedError(f"{path}: missing; reinstall rag or run "
                           "`python benchmarks/train_retrieval.py`")
    actual = sha256_of(path)
    if actual != expected:
        raise LearnedError(f"{path}: sha256 {actual[:12]}… is not the {expected[:12]}… its "
                           "manifest records; reinstall rag or retrain")
    return actual


def load(where: Path) -> Learned | None:
    """The trained parts in ``where``, or None when it holds none."""
    path = where / MANIFEST
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    adapter = adapter_sha = reranker = reranker_sha = None
    onnx: bytes | None = None
    features: tuple[str, ...] = ()
    pool = 0
    default: object = False
    if data.get("adapter"):
        adapter_sha = _check(where / data["adapter"]["file"], data["adapter"]["sha256"])
        adapter = np.load(where / data["adapter"]["file"], allow_pickle=False).astype(np.float32)
    if data.get("reranker"):
        spec = data["reranker"]
        reranker_sha = _check(where / spec["file"], spec["sha256"])
        reranker = (where / spec["file"]).read_text("utf-8")
        features = tuple(spec["features"])
        pool = int(spec["pool"])
        if spec.get("onnx"):
            _check(where / spec["onnx"]["file"], spec["onnx"]["sha256"])
            onnx = (where / spec["onnx"]["file"]).read_bytes()
        default = spec.get("default", False)
        if not isinstance(default, bool):
            raise LearnedError(f"{path}: reranker.default must be true or false, not "
                               f"{default!r}; reinstall rag or correct the manifest")
    return Learned(str(data["model_identity"]), adapter=adapter, adapter_sha=adapter_sha,
                   reranker_model=reranker, reranker_sha=reranker_sha, features=features,
                   pool=pool, meta=data, memory=memory_settings(data.get("memory"), path),
                   reranker_default=default is True, reranker_onnx=onnx)


def memory_settings(section: Any, path: Path) -> dict[str, float]:
    """A manifest's memory settings (``{"settings": {name: number}}``), checked by name."""
    if section is None:
        return {}
    settings = section.get("settings") if isinstance(section, dict) else None
    if not isinstance(settings, dict):
        raise LearnedError(f"{path}: \"memory\" must hold \"settings\", an object of numbers; "
                           "reinstall rag or rerun benchmarks/memory_eval.py --write")
    unknown = sorted(set(settings) - set(MEMORY_SETTINGS))
    bad = sorted(name for name, value in settings.items()
                 if isinstance(value, bool) or not isinstance(value, int | float))
    if unknown or bad:
        raise LearnedError(f"{path}: memory settings {', '.join(unknown + bad)}: each must be a "
                           f"number named one of {', '.join(MEMORY_SETTINGS)}; reinstall rag")
    return {name: float(value) for name, value in settings.items()}


def recorded_identity(where: Path) -> str | None:
    """The model identity the manifest in ``where`` names (None without a manifest)."""
    path = where / MANIFEST
    if not path.is_file():
        return None
    try:
        identity = json.loads(path.read_text(encoding="utf-8")).get("model_identity")
    except (ValueError, AttributeError) as error:
        raise LearnedError(f"{path}: not a manifest of trained parts ({error}); reinstall rag "
                           "or retrain") from error
    return str(identity) if identity else None


@lru_cache(maxsize=4)
def learned_for(model_identity: str) -> Learned | None:
    """The shipped trained parts of the model with this identity (the folder under
    rag/learned/ whose manifest names it), checked against their sha256; None when no
    folder names it."""
    found = [where for where in sorted(folder().iterdir())
             if where.is_dir() and recorded_identity(where) == model_identity]
    if len(found) > 1:
        raise LearnedError(f"{', '.join(map(str, found))}: trained parts for the same model "
                           f"{model_identity}; keep one (reinstall rag)")
    return load(found[0]) if found else None
