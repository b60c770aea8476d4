"""Text encoders for the index: the public API (a sentence-transformers encoder, a hashing one)."""

# Importing this package is cheap: torch, transformers and sentence-transformers are imported
# only when a SentenceTransformerEncoder first encodes (or needs its model).
#
# Modules: protocol (the Encoder protocol, its error, shared checks), hashing (the test encoder),
# st_encoder (SentenceTransformerEncoder, load_encoder), st_load (opening a SentenceTransformer),
# hub (Hugging Face hub names), fingerprint (weights sha256), and the offline default model:
# e5_spec (what it is), e5s1 (its source file), e5_folder (writing the converted folder),
# e5_cache (where it is cached, building it once).

from rag.encoders.e5_cache import default_model_dir, ensure_default_model
from rag.encoders.e5_spec import DEFAULT_MODEL
from rag.encoders.fingerprint import weights_sha256
from rag.encoders.hashing import HashingEncoder
from rag.encoders.protocol import Encoder, EncoderLoadError
from rag.encoders.st_encoder import SentenceTransformerEncoder, load_encoder

__all__ = [
    "DEFAULT_MODEL",
    "Encoder",
    "EncoderLoadError",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "default_model_dir",
    "ensure_default_model",
    "load_encoder",
    "weights_sha256",
]
