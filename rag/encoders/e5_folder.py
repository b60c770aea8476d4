"""Write a converted E5S1 model as a sentence-transformers folder (weights, tokenizer, marker)."""

# Nothing here imports torch or transformers: the folder is written with numpy, safetensors and
# tokenizers only.

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from rag.core.files import write_json
from rag.encoders.e5_spec import (
    BASE_MODEL,
    CONVERTER_VERSION,
    MARKER_FILE,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    SOURCE_FILE,
    SOURCE_PACKAGE,
    SOURCE_SHA256,
)
from rag.encoders.e5s1 import E5S1, read_e5s1
from rag.encoders.fingerprint import weights_sha256
from rag.encoders.lora import Delta, describe, merge, read_delta

# Weights are stored as float16: 235 MB instead of 470 MB, and vectors equal to float32 storage
# (cosine >= 0.9999999; the 4-bit source has far less precision).  config.json asks for float32
# compute, which CPUs need for speed (float16 compute on CPU is several times slower).
STORE_DTYPE = "float16"
META = "\u2581"  # SentencePiece word-start marker


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
                       dtype: str = STORE_DTYPE, name: str = BASE_MODEL,
                       delta: Delta | None = None) -> None:
    """Write a complete sentence-transformers folder (marker file last) into ``folder``;
    with ``delta``, its LoRA matrices merged into the float32 weights before storing."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(model_or_data, E5S1):
        model = model_or_data
    else:
        say(progress, "  reading and dequantizing 4-bit weights…")
        model = read_e5s1(model_or_data)
    say(progress, f"  writing model.safetensors ({dtype})…")
    if delta is None:
        state = bert_state_dict(model, dtype=dtype)
    else:
        arrays = read_delta(delta)
        say(progress, f"  merging the fine-tuned delta ({describe(arrays)})…")
        state = merge(bert_state_dict(model, dtype="float32"), arrays, scale=delta.scale,
                      name=str(delta.file))
        state = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in state.items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state
    write_json(folder / "config.json", bert_config(model))

    say(progress, "  writing tokenizer.json…")
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    names = {k: model.pieces[v] for k, v in model.special_ids.items()}
    special_map = {
        "bos_token": names["bos"], "eos_token": names["eos"], "unk_token": names["unk"],
        "sep_token": names["eos"], "cls_token": names["bos"], "pad_token": names["pad"],
        "mask_token": "<mask>",
    }
    write_json(folder / "special_tokens_map.json", special_map)
    write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": True,
        **special_map,
    })

    write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(folder / "sentence_bert_config.json",
                {"max_seq_length": model.max_positions, "do_lower_case": False})
    write_json(folder / "1_Pooling" / "config.json", {
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
    write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })

    say(progress, "  fingerprinting weights…")
    files = {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*")) if path.is_file()
    }
    marker = {
        "format": "rag-e5s1",
        "model": name,
        "delta_sha256": delta.sha256 if delta is not None else None,
        "source": f"{SOURCE_PACKAGE}/{SOURCE_FILE}",
        "source_sha256": SOURCE_SHA256,
        "converter_version": CONVERTER_VERSION,
        "dtype": dtype,
        "weights_sha256": weights_sha256(folder),
        "files": files,
    }
    write_json(folder / MARKER_FILE, marker)


def say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)
