"""Export a sentence-transformers model to ONNX once, check it against torch, record it.

The whole model (transformer, pooling, normalisation or any other module) is traced with
``torch.onnx.export`` into one graph from ``input_ids`` and ``attention_mask`` to the
sentence embedding; its weights go to an external data file onnxruntime memory-maps. The
export is then run the way questions will run it (``tokenizers`` + onnxruntime, see
:mod:`rag.encoders.onnx_model`) on a fixed probe set of Chinese and English queries and
passages, one by one and as one padded batch, and must give the torch vectors (cosine >=
:data:`MIN_COSINE`). It is built in a temporary folder renamed into place under a lock, the
record (with each file's sha256) written last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.encoders.e5_folder import say, write_json
from rag.encoders.onnx_model import (
    DATA_FILE,
    EXPORT_DIR,
    FORMAT,
    FORMAT_VERSION,
    GRAPH_FILE,
    INPUTS,
    RECORD_FILE,
    OnnxModel,
    file_sha256,
    read_record,
)

MIN_COSINE = 0.9999
# what a newcomer waits for on 2 cores (the export and its check; measured 25–30 s)
EXPORT_SECONDS_ESTIMATE = 30
OPSET = 17
TOKENIZER_FILE = "tokenizer.json"
# queries and passages, Chinese and English, short and past 512 tokens (truncation)
PROBE_QUERIES = (
    "利用内幕消息炒股会被罚多少钱？",
    "操纵证券市场构成犯罪吗？",
    "What is the penalty for market manipulation?",
    "Can a listed company's director sell shares within six months of buying them?",
    "上市公司信息披露违规 penalties",
)
PROBE_PASSAGES = (
    "第一百九十一条 证券交易内幕信息的知情人或者非法获取内幕信息的人违反本法第五十三条的"
    "规定从事内幕交易的，责令依法处理非法持有的证券，没收违法所得，并处以违法所得一倍以上"
    "十倍以下的罚款。",
    "Article 55 No one may manipulate the securities market by any of the following means, "
    "thereby affecting or attempting to affect securities trading prices or volumes.",
    "第二条　在中华人民共和国境内，股票、公司债券、存托凭证和国务院依法认定的其他证券的"
    "发行和交易，适用本法。\n\n本法未规定的，适用《中华人民共和国公司法》和其他法律、"
    "行政法规的规定。",
    "证券公司应当建立健全内部控制制度。" * 60,  # well past 512 tokens
    "A securities company shall establish a sound internal control system. " * 60,
)


class OnnxExportError(RuntimeError):
    """The model could not be exported, or the export does not give the torch vectors."""


def probe_texts(query_prefix: str, passage_prefix: str) -> list[str]:
    return ([query_prefix + q for q in PROBE_QUERIES]
            + [passage_prefix + p for p in PROBE_PASSAGES])


def export_model(st: Any, target: Path, *, weights_sha256: str, tokenizer_file: Path,
                 prefixes: tuple[str, str], progress: bool = False) -> dict[str, Any]:
    """Export ``st`` (a loaded SentenceTransformer, float32 on CPU) into ``target`` unless a
    complete export of the same weights is there; return its record.

    Raises :class:`OnnxExportError` when the model cannot be exported or run without torch
    (no ``tokenizer.json``, an unsupported module) or its vectors differ from torch's.
    """
    target = Path(target)
    if not Path(tokenizer_file).is_file():
        raise OnnxExportError(f"{tokenizer_file} is missing: without a `tokenizers` "
                              "tokenizer.json the model cannot run without transformers")
    found = read_record(target, weights_sha256=weights_sha256)
    if found is not None:
        return found
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target):
        found = read_record(target, weights_sha256=weights_sha256)
        if found is not None:  # another process finished while we waited
            return found
        say(progress, f"exporting the model to ONNX → {target} (one time, ~"
                      f"{EXPORT_SECONDS_ESTIMATE} s, checked against torch)…")
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            record = _export_into(st, tmp, weights_sha256=weights_sha256,
                                  tokenizer_file=Path(tokenizer_file), prefixes=prefixes)
            _install(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return record


def _export_into(st: Any, folder: Path, *, weights_sha256: str, tokenizer_file: Path,
                 prefixes: tuple[str, str]) -> dict[str, Any]:
    import onnx
    import torch

    tokenizer = getattr(st, "tokenizer", None)
    pad_id = getattr(tokenizer, "pad_token_id", None)
    sample = st.preprocess(["query: 证券法", "passage: securities law of the people"])
    args = tuple(sample[name] for name in INPUTS)
    raw = folder / "raw.onnx"
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _traceable(st), args, str(raw), input_names=list(INPUTS),
                output_names=["sentence_embedding"], opset_version=OPSET, dynamo=False,
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS},
                              "sentence_embedding": {0: "batch"}},
            )
        graph = onnx.load(str(raw))
        raw.unlink()
        onnx.save_model(graph, str(folder / GRAPH_FILE), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=DATA_FILE,
                        size_threshold=1024)
        del graph
    except (RuntimeError, ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        # what tracing a foreign model raises (unsupported ops or inputs); OnnxExporterError
        # and onnx's checker errors are RuntimeError/ValueError
        raise OnnxExportError(f"torch.onnx.export failed: {type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                              ) from exc
    texts = probe_texts(*prefixes)
    with torch.inference_mode():
        reference = np.asarray(st.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                         normalize_embeddings=True), dtype=np.float32)
    record: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "weights_sha256": weights_sha256,
        "dimension": int(reference.shape[1]),
        "max_seq_length": int(st.max_seq_length),
        "pad_token_id": int(pad_id) if pad_id is not None else 0,
        "prompts": dict(getattr(st, "prompts", None) or {}),
        "inputs": list(INPUTS),
        "exported_with": {"torch": torch.__version__, "onnx": onnx.__version__,
                          "opset": OPSET},
        "files": {name: {"size": (folder / name).stat().st_size,
                         "sha256": file_sha256(folder / name)}
                  for name in (GRAPH_FILE, DATA_FILE)},
    }
    model = OnnxModel(folder, tokenizer_file, record=record, verify=False)
    batched = model.encode(texts, batch_size=len(texts))
    alone = np.concatenate([model.encode([t]) for t in texts])
    worst = float(min((batched * reference).sum(1).min(), (alone * reference).sum(1).min()))
    if not worst >= MIN_COSINE:
        raise OnnxExportError(f"the ONNX export gives other vectors than torch (lowest "
                              f"cosine {worst:.6f} on the probe set, need {MIN_COSINE})")
    record["probe"] = {"texts": len(texts), "min_cosine": round(worst, 8),
                       "need": MIN_COSINE}
    write_json(folder / RECORD_FILE, record)  # last: marks the export complete
    return record


def _traceable(st: Any) -> Any:
    """A module from ``input_ids``, ``attention_mask`` to ``st``'s sentence embedding."""
    import torch

    class Embedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            return self.st(features)["sentence_embedding"]

    return Embedding().eval()


def _install(tmp: Path, target: Path) -> None:
    """Move the finished export ``tmp`` to ``target``, replacing an incomplete or stale one."""
    umask = os.umask(0o022)
    os.umask(umask)
    for path in [tmp, *tmp.rglob("*")]:
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)
    if target.exists() or target.is_symlink():
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, trash / target.name)
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(tmp, target)


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """Exclusive lock next to ``target`` so concurrent processes export only once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename alone
        yield
        return
    with open(target.parent / f".{target.name}.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def export_folder(folder: Path, *, weights_sha256: str, prefixes: tuple[str, str],
                  progress: bool = False) -> dict[str, Any]:
    """Export the sentence-transformers model in ``folder`` into its ``rag-onnx/``."""
    from rag.encoders.st_load import load_folder

    st = load_folder(folder, "cpu")
    return export_model(st, folder / EXPORT_DIR, weights_sha256=weights_sha256,
                        tokenizer_file=folder / TOKENIZER_FILE, prefixes=prefixes,
                        progress=progress)
