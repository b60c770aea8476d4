"""A sentence-transformers model exported to ONNX, run by onnxruntime: no torch, no transformers.

The exported graph takes ``input_ids`` and ``attention_mask`` and returns the model's
sentence embedding (transformer, pooling and any further modules, as exported by
:mod:`rag.encoders.onnx_export`). Tokenisation is the model folder's ``tokenizer.json``
through the ``tokenizers`` library, truncated at the model's ``max_seq_length`` (as
sentence-transformers does); rows are L2-normalised here.

The folder the export lives in holds the graph, its weights (external data, memory-mapped
by onnxruntime, so opening is fast and sessions with different thread counts share them)
and a record: their sha256, which weights they were exported from, and the probe check.
The files are hashed again in the background when the model is opened and the first
encode waits for that check, unless a stamp (``verified.json``: each file's size, mtime
and inode, recorded after its hash matched) says they are the files last verified; a
file whose stamp differs is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.files import replace_file
from rag.encoders.protocol import EncoderLoadError, normalised
from rag.encoders.threads import available_cores

EXPORT_DIR = "rag-onnx"  # the export's folder inside a model folder
RECORD_FILE = "rag-onnx.json"  # written last: its presence (with matching sizes) means complete
STAMP_FILE = "verified.json"  # the files' stat when their sha256 last matched the record
GRAPH_FILE = "encoder.onnx"
DATA_FILE = "encoder.onnx.data"
FORMAT = "rag-onnx"
FORMAT_VERSION = 1
INPUTS = ("input_ids", "attention_mask")
# one question is fastest on one thread (two threads only add hand-offs for ~20 tokens);
# long runs of batches fit their thread count by timing (rag.encoders.threads)
QUESTION_THREADS = 1


def read_record(folder: Path, *, weights_sha256: str | None = None) -> dict[str, Any] | None:
    """The export record in ``folder`` if the export there is complete (and, when given, made
    from the weights ``weights_sha256``), else None."""
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(record, dict) or record.get("format") != FORMAT
            or record.get("format_version") != FORMAT_VERSION
            or not isinstance(record.get("files"), dict)):
        return None
    if weights_sha256 is not None and record.get("weights_sha256") != weights_sha256:
        return None
    for name, meta in record["files"].items():
        try:
            if (folder / name).stat().st_size != meta["size"]:
                return None
        except (OSError, KeyError, TypeError):
            return None
    return record


def _ort_errors() -> tuple[type[BaseException], ...]:
    """What opening a damaged or foreign graph raises (onnxruntime's errors are not OSError
    or RuntimeError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NoSuchFile",
             "NoModel", "RuntimeException", "NotImplemented")
    return (OSError, RuntimeError, *(getattr(state, n) for n in names if hasattr(state, n)))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)  # releases the GIL: the check runs beside other work
    return digest.hexdigest()


class OnnxModel:
    """The exported model in ``folder`` with the tokenizer ``tokenizer_file``.

    ``encode`` tokenises, sorts by length, pads each batch to its longest text, runs the
    graph and normalises. Sessions are made per thread count on first use.
    """

    def __init__(self, folder: Path, tokenizer_file: Path, *, record: dict[str, Any],
                 verify: bool = True, max_seq_length: int | None = None) -> None:
        self.folder = Path(folder)
        self.record = record
        self.max_seq_length = int(max_seq_length or record["max_seq_length"])
        self.threads = QUESTION_THREADS
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._checker: threading.Thread | None = None
        if verify and not self._stamped():
            self._checker = threading.Thread(target=self._check_files, daemon=True,
                                             name="rag-onnx-sha256")
            self._checker.start()
        from tokenizers import Tokenizer

        if not Path(tokenizer_file).is_file():
            raise EncoderLoadError(f"{tokenizer_file} is missing: the model folder is "
                                   "incomplete; restore or rebuild it")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_seq_length)

    @property
    def dimension(self) -> int:
        return int(self.record["dimension"])

    @property
    def pad_id(self) -> int:
        return int(self.record.get("pad_token_id") or 0)

    def use_threads(self, threads: int) -> None:
        """Run later encodes on ``threads`` intra-op threads (a session per count)."""
        self.threads = max(1, min(int(threads), available_cores()))

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """float32 [len(texts), dimension], rows L2-normalised, in the order given."""
        self._wait_for_check()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        session = self._session(self.threads)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                tokens = encodings[i].ids
                ids[j, :len(tokens)] = tokens
                mask[j, :len(tokens)] = 1
            (vectors,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[rows] = vectors
        return normalised(out)

    def _session(self, threads: int) -> Any:
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3  # errors only
                # a shared machine: waiting threads sleep instead of spinning on a core
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    session = ort.InferenceSession(str(self.folder / GRAPH_FILE), options,
                                                   providers=["CPUExecutionProvider"])
                except _ort_errors() as exc:
                    raise EncoderLoadError(
                        f"onnxruntime could not open {self.folder / GRAPH_FILE}: "
                        f"{type(exc).__name__}: {exc}; delete {self.folder} to export the "
                        "model again, or use --encoder-engine torch") from exc
                self._sessions[threads] = session
            return session

    def _stamp(self) -> dict[str, dict[str, Any]]:
        """Each file's identity on disk now: size, mtime (ns), inode, and the record's hash."""
        out = {}
        for name, meta in self.record["files"].items():
            found = (self.folder / name).stat()
            out[name] = {"size": found.st_size, "mtime_ns": found.st_mtime_ns,
                         "inode": found.st_ino, "sha256": meta.get("sha256")}
        return out

    def _stamped(self) -> bool:
        """Whether every file is the one whose sha256 was last verified (same stamp)."""
        try:
            stamp = json.loads((self.folder / STAMP_FILE).read_text(encoding="utf-8"))
            return isinstance(stamp, dict) and stamp.get("files") == self._stamp()
        except (OSError, ValueError):
            return False

    def _check_files(self) -> None:
        try:
            before = self._stamp()
        except OSError as exc:
            self._problem = str(exc)
            return
        for name, meta in self.record["files"].items():
            try:
                actual = file_sha256(self.folder / name)
            except OSError as exc:
                self._problem = f"{self.folder / name}: {exc}"
                return
            if actual != meta.get("sha256"):
                self._problem = (f"{self.folder / name}: sha256 is {actual}, the export "
                                 f"record says {meta.get('sha256')}")
                return
        try:  # verified: the next process trusts the files while their stamp is unchanged
            if self._stamp() == before:
                replace_file(self.folder / STAMP_FILE,
                             json.dumps({"files": before}, indent=1) + "\n")
        except OSError:
            pass  # a read-only model folder is verified each time

    def _wait_for_check(self) -> None:
        if self._checker is not None:
            self._checker.join()
            self._checker = None
        if self._problem is not None:
            raise EncoderLoadError(
                f"the ONNX export of the model is damaged ({self._problem}); delete "
                f"{self.folder} to export it again, or use --encoder-engine torch")

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.folder)!r})"
