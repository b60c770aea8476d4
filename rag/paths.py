"""Where the product keeps its data: ``RAG_HOME``, the index, the model cache, the corpus.

Nothing is located from ``__file__``: an installed package (``pip install .``, pipx) keeps
its data in a per-user folder, a checkout in its own ``embeddings/``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

HOME_ENV = "RAG_HOME"
MODEL_CACHE_ENV = "RAG_MODEL_CACHE"
APP_NAME = "rag-compliance"
SHIPPED_CORPUS_PACKAGE = "rag.shipped"


def data_home() -> Path:
    """``$RAG_HOME``; else ``./embeddings`` when the working directory is a checkout (it
    has a ``corpus/``); else the per-user data folder (``~/.local/share/rag-compliance``)."""
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    here = Path.cwd()
    if (here / "corpus").is_dir():
        return here / "embeddings"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_index_dir() -> Path:
    """The index ``rag index``, ``rag ask`` and ``rag serve`` use unless told otherwise."""
    return data_home() / "index"


def model_cache_dir() -> Path:
    """Folder of converted models: ``$RAG_MODEL_CACHE``, else ``<data home>/models``."""
    env = os.environ.get(MODEL_CACHE_ENV, "").strip()
    return Path(env).expanduser() if env else data_home() / "models"


FEEDBACK_DB_ENV = "RAG_FEEDBACK_DB"
FEEDBACK_DB_FILE = "feedback.sqlite3"


def default_feedback_db() -> Path:
    """The SQLite file of the feedback store when ``$RAG_FEEDBACK_DB`` names none."""
    return data_home() / FEEDBACK_DB_FILE


def shipped_corpus() -> Path:
    """The corpus that ships with the package (``corpus/`` of the source tree)."""
    return Path(str(resources.files(SHIPPED_CORPUS_PACKAGE)))
