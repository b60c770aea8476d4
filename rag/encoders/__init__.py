"""Text encoders for the index: the public API (a sentence-transformers encoder, a hashing one)."""

# Importing this package is cheap: onnxruntime (or, with engine="torch", torch, transformers
# and sentence-transformers) is imported only when a SentenceTransformerEncoder first encodes.
# Answering with the default onnx engine never imports torch; exporting the model does, once.
#
# Modules: protocol (the Encoder protocol, its error, shared checks), hashing (the test encoder),
# st_encoder (SentenceTransformerEncoder, load_encoder), engine (onnx or torch), onnx_model
# (running an export: tokenizers + onnxruntime), onnx_export (exporting and checking it, with
# torch), threads (fitting thread counts), st_load (opening a SentenceTransformer),
# hub (Hugging Face hub names), fingerprint (weights sha256), and the offline default model:
# e5_spec (what it is), e5s1 (its source file), e5_folder (writing the converted folder),
# e5_cache (where it is cached, building it once), lora (the fine-tuned model's delta).

from rag.encoders.e5_cache import default_model_dir, ensure_default_model, ensure_model
from rag.encoders.e5_spec import BASE_MODEL, BUNDLED_MODELS, DEFAULT_MODEL, TUNED_MODEL
from rag.encoders.fingerprint import weights_sha256
from rag.encoders.hashing import HashingEncoder
from rag.encoders.protocol import Encoder, EncoderLoadError
from rag.encoders.st_encoder import SentenceTransformerEncoder, load_encoder

__all__ = [
    "BASE_MODEL",
    "BUNDLED_MODELS",
    "DEFAULT_MODEL",
    "TUNED_MODEL",
    "Encoder",
    "EncoderLoadError",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "default_model_dir",
    "ensure_default_model",
    "ensure_model",
    "load_encoder",
    "weights_sha256",
]
