"""Whether an int8 model may embed bulk builds: STARD dev dense-only recall, int8 against fp32.

    python benchmarks/int8_gate.py                  # embeddings/lawrefbook-full, ~30 min
    python benchmarks/int8_gate.py --limit 5000     # a quick look (not the gate)

Issue 22's gate for an int8 model: offered only if STARD dev dense-only R@10 and R@100
stay within 0.005 of fp32. The default model's ONNX export is quantised with
onnxruntime's dynamic int8 quantisation (int8 weights, activations quantised per batch);
every distinct passage of the full-corpus index is embedded with it, and so are the
questions (an int8 model is a different model identity: its passages are searched with
its own questions). Both models rank all clauses by plain cosine — no fusion, no kind
penalties, no adapter: the encoders alone — scored article-level as stard_eval.py does.
The fp32 side is the index's own vectors and the product's encoder, in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stard import DEV, REPO, gold_keys, load_questions

from rag.encoders.onnx_model import GRAPH_FILE, RECORD_FILE, OnnxModel
from rag.evaluate.metrics import article_key, mean, score, table
from rag.index.passages import dense_passage
from rag.search import open_index

GATE = 0.005


def quantised(export: OnnxModel, into: Path) -> tuple[OnnxModel, dict]:  # type: ignore[type-arg]
    """The model's ONNX export, dynamically quantised to int8, opened unverified."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = export.folder
    record = json.loads((source / RECORD_FILE).read_text(encoding="utf-8"))
    plain = into / "fp32"
    plain.mkdir()
    for name in record["files"]:  # real copies: onnx refuses hard-linked external data
        shutil.copyfile(source / name, plain / name)
    (into / "int8").mkdir()
    quantize_dynamic(plain / GRAPH_FILE, into / "int8" / GRAPH_FILE,
                     weight_type=QuantType.QInt8)
    shutil.rmtree(plain)
    model = OnnxModel(into / "int8", source.parent / "tokenizer.json", record=record,
                      verify=False, max_seq_length=export.max_seq_length)
    return model, record


def ranked(index, vectors: np.ndarray, queries: np.ndarray, depth: int = 1000
           ) -> list[list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    out = []
    for q in queries:
        scores = vectors @ q
        top = np.argpartition(-scores, depth)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        seen: dict[tuple[str, str], None] = {}
        for row in top:
            seen.setdefault(article_key(index, index.clauses[row]), None)
        out.append(list(seen))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=REPO / "embeddings" / "lawrefbook-full")
    parser.add_argument("--questions", type=Path, default=DEV)
    parser.add_argument("--limit", type=int, default=0,
                        help="embed only the first N distinct passages (a quick look)")
    args = parser.parse_args()
    index = open_index(args.index)
    encoder = index.encoder
    export = encoder.onnx_model()  # type: ignore[attr-defined]
    if export is None:
        raise SystemExit("the index's model has no ONNX export to quantise")
    gen = args.index / (args.index / "CURRENT").read_text().strip()
    fp32 = np.load(gen / "vectors.npy").astype(np.float32)
    questions = load_questions(args.questions)
    golds = [gold_keys(q) for q in questions]
    texts = [dense_passage(c, index.documents[c.doc_id]) for c in index.clauses]
    distinct = list(dict.fromkeys(texts))
    if args.limit:
        distinct = distinct[:args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        int8, record = quantised(export, Path(tmp))
        size = (Path(tmp) / "int8" / GRAPH_FILE).stat().st_size
        print(f"quantised in {time.perf_counter() - started:.0f} s ({size / 1e6:.0f} MB)",
              file=sys.stderr)
        int8.use_threads(2)
        prefixes = record["prompts"]
        started = time.perf_counter()
        done = int8.encode([prefixes["passage"] + t for t in distinct], batch_size=32)
        took = time.perf_counter() - started
        print(f"int8: {len(distinct)} passages in {took:.0f} s "
              f"({len(distinct) / took:.1f}/s)", file=sys.stderr)
        row_of = {t: i for i, t in enumerate(distinct)}
        keep = np.array([t in row_of for t in texts])
        int8_vectors = np.zeros_like(fp32)
        int8_vectors[keep] = done[[row_of[t] for t in texts if t in row_of]]
        q_int8 = int8.encode([prefixes["query"] + q["question"] for q in questions])
    q_fp32 = encoder.encode_queries([q["question"] for q in questions])
    if args.limit:  # both models see the same clauses
        fp32 = np.where(keep[:, None], fp32, 0.0).astype(np.float32)
    cosines = np.sum(fp32[keep] * int8_vectors[keep], axis=1)
    rows = {
        "dense only, fp32": mean([score(r, g) for r, g in
                                  zip(ranked(index, fp32, q_fp32), golds, strict=True)]),
        "dense only, int8": mean([score(r, g) for r, g in
                                  zip(ranked(index, int8_vectors, q_int8), golds, strict=True)]),
    }
    print(table(rows, title=f"\nSTARD {args.questions.stem}, {len(questions)} questions, "
                f"{int(keep.sum())} of {len(texts)} clauses"))
    print(f"passage cosine int8 vs fp32: median {np.median(cosines):.4f}, "
          f"min {cosines.min():.4f}")
    drop = {k: rows["dense only, fp32"][k] - rows["dense only, int8"][k]
            for k in ("R@10", "R@100")}
    passed = all(d <= GATE for d in drop.values())
    print(f"gate (R@10 and R@100 within {GATE} of fp32): "
          + ", ".join(f"{k} −{d:.3f}" for k, d in drop.items())
          + (" → may be offered" if passed else " → not offered"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
