"""OCR of scanned pages with RapidOCR (PP-OCRv4, models inside its wheel), cached by image.

The ``rapidocr-onnxruntime`` wheel carries its detection, direction and recognition
models, so nothing is downloaded. Results are cached as plain JSON under
``<data home>/ocr-cache/`` keyed by a hash of the page image and the engine version, so
indexing the same scan again does not OCR it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.readers._layout import Fragment

if TYPE_CHECKING:
    from PIL.Image import Image

PACKAGE = "rapidocr-onnxruntime"
CACHE_FORMAT = 1


class OcrError(RuntimeError):
    """OCR could not run on an image (engine missing or failing); the message says why."""


@dataclass(frozen=True)
class OcrBox:
    """One line of text the OCR found: pixel box (y downwards) and its score (0..1)."""

    text: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float


class Ocr:
    """Reads text from page images. The engine loads on first use; results are cached.

    ``cache_dir`` defaults to ``<data home>/ocr-cache`` (see :mod:`rag.paths`), decided
    on first use, not when the object is made. ``runs`` counts images actually OCR'd.
    """

    def __init__(self, *, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._engine: Any = None
        self.runs = 0

    @property
    def engine_id(self) -> str:
        try:
            version = metadata.version(PACKAGE)
        except metadata.PackageNotFoundError:
            version = "missing"
        return f"{PACKAGE} {version}"

    def read(self, image: Image) -> list[OcrBox]:
        """The text lines in ``image`` (cached by the image's pixels and the engine)."""
        key = self._key(image)
        cached = self._load(key)
        if cached is not None:
            return cached
        boxes = self._run(image)
        self._store(key, boxes)
        return boxes

    def _folder(self) -> Path:
        if self.cache_dir is None:
            from rag.paths import data_home

            self.cache_dir = data_home() / "ocr-cache"
        return self.cache_dir

    def _key(self, image: Image) -> str:
        digest = hashlib.sha256(f"{self.engine_id}|{image.mode}|{image.size}|".encode())
        digest.update(image.tobytes())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self._folder() / key[:2] / f"{key}.json"

    def _load(self, key: str) -> list[OcrBox] | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != CACHE_FORMAT:
                return None
            return [OcrBox(**box) for box in data["boxes"]]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache entry is read again, then overwritten

    def _store(self, key: str, boxes: list[OcrBox]) -> None:
        path = self._path(key)
        data = {"format": CACHE_FORMAT, "engine": self.engine_id,
                "boxes": [asdict(box) for box in boxes]}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
            ) as handle:
                json.dump(data, handle, ensure_ascii=False)
            os.replace(handle.name, path)
        except OSError:
            pass  # a cache that cannot be written only costs time on the next run

    def _run(self, image: Image) -> list[OcrBox]:
        import numpy as np

        engine = self._load_engine()
        errors = _engine_errors()
        try:
            found, _ = engine(np.asarray(image.convert("L")))
        except errors as exc:
            raise OcrError(f"OCR failed: {type(exc).__name__}: {exc}") from exc
        self.runs += 1
        boxes = []
        for points, text, score in found or []:
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            if str(text).strip():
                boxes.append(OcrBox(str(text), float(score), min(xs), min(ys), max(xs), max(ys)))
        return boxes

    def _load_engine(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise OcrError(
                    f"OCR is not available ({exc}): pip install {PACKAGE}==1.4.4"
                ) from exc
            self._engine = RapidOCR()
        return self._engine


def _engine_errors() -> tuple[type[BaseException], ...]:
    """What onnxruntime and OpenCV raise for an image they cannot process."""
    found: list[type[BaseException]] = [RuntimeError, ValueError, MemoryError]
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort

        found += [ort.Fail, ort.RuntimeException, ort.InvalidArgument]
    except ImportError:
        pass
    try:
        import cv2

        found.append(cv2.error)
    except ImportError:
        pass
    return tuple(found)


def fragments(boxes: list[OcrBox], *, scale: float) -> tuple[Fragment, ...]:
    """OCR boxes as page fragments in points (the image was rendered at ``scale``)."""
    return tuple(
        Fragment(box.text, box.x0 / scale, box.x1 / scale, box.y0 / scale, box.y1 / scale)
        for box in boxes
    )


def confidence(boxes: list[OcrBox]) -> float:
    """The page's confidence: box scores weighted by their text length (0 for none)."""
    total = sum(len(box.text) for box in boxes)
    if not total:
        return 0.0
    return sum(box.score * len(box.text) for box in boxes) / total
