"""``X.meta.yaml`` sidecars: metadata overrides for file ``X``."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rag.core.documents import KINDS, STATUSES
from rag.readers._text import FormatError, Parsed, parse_date

SIDECAR_SUFFIX = ".meta.yaml"
FIELDS = ("title", "date", "issuer", "url", "kind", "status", "version", "valid_from")
_DATE_FIELDS = frozenset({"date", "version", "valid_from"})
_REQUIRED = frozenset({"title", "kind"})
_MAX_BYTES = 1 << 20
_URL = re.compile(r"^https?://\S+$")


class SidecarError(FormatError):
    """An unreadable or invalid sidecar; the message names the sidecar and the field."""


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, str | None]:
    """Validated overrides from the sidecar of ``path``; empty when there is none."""
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return {}
    data = _load(sidecar)
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise SidecarError(
            f"sidecar {sidecar.name}: unknown field {unknown[0]!r} (valid: {', '.join(FIELDS)})"
        )
    return {key: _validate(sidecar, key, value) for key, value in data.items()}


def apply_sidecar(parsed: Parsed, overrides: dict[str, str | None]) -> None:
    for key, value in overrides.items():
        setattr(parsed, key, value)


def _load(sidecar: Path) -> dict[str, object]:
    try:
        if sidecar.stat().st_size > _MAX_BYTES:
            raise SidecarError(f"sidecar {sidecar.name}: larger than {_MAX_BYTES} bytes")
        data = yaml.safe_load(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SidecarError(f"sidecar {sidecar.name}: cannot read: {exc}") from exc
    except (yaml.YAMLError, ValueError) as exc:
        raise SidecarError(f"sidecar {sidecar.name}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SidecarError(f"sidecar {sidecar.name}: expected a mapping of fields")
    return {str(key): value for key, value in data.items()}


def _validate(sidecar: Path, key: str, value: object) -> str | None:
    def bad(why: str) -> SidecarError:
        return SidecarError(f"sidecar {sidecar.name}: field {key!r} {why}, got {value!r}")

    if value is None:
        if key in _REQUIRED:
            raise bad("cannot be empty")
        return None
    if key in _DATE_FIELDS:
        iso = parse_date(value)
        if iso is None:
            raise bad("must be a date like 2021-07-06")
        return iso
    if not isinstance(value, str) or not value.strip():
        raise bad("must be a non-empty string")
    text = value.strip()
    if key == "kind" and text not in KINDS:
        raise bad(f"must be one of {', '.join(KINDS)}")
    if key == "status" and text not in STATUSES:
        raise bad(f"must be one of {', '.join(STATUSES)}")
    if key == "url" and not _URL.match(text):
        raise bad("must be an http(s) URL")
    return text
