"""Fingerprint a model folder's exact weights (sha256), reading a converted folder's marker."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rag.encoders.e5_spec import CONVERTER_VERSION, MARKER_FILE, SOURCE_SHA256

WEIGHT_SUFFIXES = (".safetensors", ".bin")
WEIGHT_NAMES = ("tokenizer.json",)


def weights_sha256(model_dir: Path | str) -> str:
    """Hex sha256 over a model folder's weight files (*.safetensors, *.bin, tokenizer.json).

    Files are hashed in sorted order of their relative paths, each as path, size and bytes, so
    the digest fingerprints the exact weights.  For the converted default model the digest
    recorded in its marker file is returned without re-reading the weights.
    """
    model_dir = Path(model_dir)
    marker = read_marker(model_dir)
    if marker is not None:
        return str(marker["weights_sha256"])
    files = _weight_files(model_dir)
    if not files:
        raise FileNotFoundError(
            f"{model_dir}: no weight files (*.safetensors, *.bin, tokenizer.json) to fingerprint"
        )
    digest = hashlib.sha256()
    for rel in files:
        path = model_dir / rel
        digest.update(f"{rel}\0{path.stat().st_size}\0".encode())
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def has_weight_files(model_dir: Path) -> bool:
    """Whether :func:`weights_sha256` has something to fingerprint in ``model_dir``."""
    return read_marker(model_dir) is not None or bool(_weight_files(model_dir))


def read_marker(folder: Path) -> dict | None:
    """The marker's contents if ``folder`` holds a complete build by this converter, else None."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict):
        return None
    if (marker.get("source_sha256") != SOURCE_SHA256
            or marker.get("converter_version") != CONVERTER_VERSION
            or not isinstance(marker.get("weights_sha256"), str)
            or not isinstance(marker.get("files"), dict)):
        return None
    for rel, size in marker["files"].items():
        try:
            if (folder / rel).stat().st_size != size:
                return None
        except OSError:
            return None
    return marker


def _weight_files(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.name.endswith(WEIGHT_SUFFIXES) or path.name in WEIGHT_NAMES:
            found.append(rel.as_posix())
    return sorted(found)
