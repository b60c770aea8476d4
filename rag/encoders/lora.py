"""A low-rank weight delta (LoRA) over the bundled model: its file, its check, its merge.

The fine-tuned model is the base model's weights plus, for each adapted linear layer,
``scale · B @ A`` (``A`` is ``[rank, in]``, ``B`` is ``[out, rank]``), stored as plain
float32 arrays in one safetensors file under ``rag/learned/`` whose sha256 the learned
manifest records. Merging is numpy only: building the fine-tuned folder never trains and
never needs the network. ``benchmarks/finetune_encoder.py`` makes the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.encoders.protocol import EncoderLoadError

# the linear layers of a BertModel layer that LoRA adapts (names as in bert_state_dict)
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense")
MANIFEST_KEY = "encoder_delta"  # its section of rag/learned/manifest.json


class DeltaError(EncoderLoadError):
    """The delta file is missing, altered or does not fit the base weights."""


@dataclass(frozen=True)
class Delta:
    """What the learned manifest says of the delta: its file, hash, scale and base."""

    file: Path
    sha256: str
    scale: float
    base_weights_sha256: str

    @property
    def short(self) -> str:
        return self.sha256[:16]


def delta_spec(learned_dir: Path) -> Delta | None:
    """The delta the manifest in ``learned_dir`` records, or None when it records none."""
    try:
        manifest = json.loads((learned_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    spec = manifest.get(MANIFEST_KEY) if isinstance(manifest, dict) else None
    if not isinstance(spec, dict):
        return None
    return Delta(learned_dir / str(spec["file"]), str(spec["sha256"]), float(spec["scale"]),
                 str(spec["base_weights_sha256"]))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_delta(delta: Delta) -> dict[str, np.ndarray]:
    """The delta's arrays, after checking the file against the manifest's sha256."""
    from safetensors.numpy import load_file

    if not delta.file.is_file():
        raise DeltaError(f"{delta.file}: missing; reinstall rag or run "
                         "`python benchmarks/finetune_encoder.py`")
    actual = file_sha256(delta.file)
    if actual != delta.sha256:
        raise DeltaError(f"{delta.file}: sha256 {actual[:12]}… is not the {delta.sha256[:12]}… "
                         "the learned manifest records; reinstall rag or retrain with "
                         "`python benchmarks/finetune_encoder.py`")
    return load_file(str(delta.file))


def merge(state: dict[str, np.ndarray], arrays: dict[str, np.ndarray], *, scale: float,
          name: str = "delta") -> dict[str, np.ndarray]:
    """``state`` with ``W += scale · B @ A`` for every ``<weight>.lora_A``/``.lora_B`` pair
    (computed in float32, stored back in each weight's dtype); ``state`` is not changed."""
    out = dict(state)
    pairs = sorted({key.rsplit(".lora_", 1)[0] for key in arrays})
    if not pairs:
        raise DeltaError(f"{name}: holds no lora_A/lora_B arrays")
    for weight in pairs:
        a, b = arrays.get(f"{weight}.lora_A"), arrays.get(f"{weight}.lora_B")
        if a is None or b is None or weight not in state:
            raise DeltaError(f"{name}: {weight} has no matching base weight or misses its "
                             "lora_A/lora_B half")
        base = state[weight]
        if b.shape[1] != a.shape[0] or (b.shape[0], a.shape[1]) != base.shape:
            raise DeltaError(f"{name}: {weight} is {base.shape}, the delta is "
                             f"{b.shape} @ {a.shape}")
        merged = base.astype(np.float32) + np.float32(scale) * (
            b.astype(np.float32) @ a.astype(np.float32))
        out[weight] = merged.astype(base.dtype)
    return out


def describe(arrays: dict[str, Any]) -> str:
    """``N matrices, rank r, P parameters`` of a delta's arrays."""
    ranks = {int(v.shape[0]) for k, v in arrays.items() if k.endswith(".lora_A")}
    size = sum(int(np.prod(v.shape)) for v in arrays.values())
    return (f"{len(arrays) // 2} matrices, rank {'/'.join(map(str, sorted(ranks)))}, "
            f"{size:,} parameters")
