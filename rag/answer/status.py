"""A document version's standing: the codes answers carry and the one label each shows as.

Answers store the code (``Citation.status``, ``VersionSide.status``); every front end shows
:func:`status_label` of it and keys its styling on the code, never on the label.
"""

from __future__ import annotations

STATUS_LABELS = {
    "in_force": "现行有效",
    "repealed": "已废止",
    "not_yet_in_force": "尚未施行",
    "superseded": "已被修订",
}


def status_label(code: str | None) -> str | None:
    """``现行有效`` for ``in_force``; an unknown code shows as itself, None as None."""
    return STATUS_LABELS.get(code, code) if code else None
