"""HTML escaping for every page the web UI builds: the one ``esc``."""

from __future__ import annotations

import html


def esc(text: object) -> str:
    """HTML-escape anything shown on the page (quotes too, for attribute values)."""
    return html.escape("" if text is None else str(text), quote=True)
