"""ISO dates given by users (filters, as-of dates): parsed once, with one clear error."""

from __future__ import annotations

import datetime as dt


def iso_date(value: str, *, what: str = "date") -> str:
    """``value`` as a ``YYYY-MM-DD`` string; ValueError naming ``what`` otherwise.

    >>> iso_date("2020-03-01")
    '2020-03-01'
    """
    text = value.strip() if isinstance(value, str) else value
    try:
        return dt.date.fromisoformat(text).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a date like 2020-03-01") from None


def optional_iso_date(value: str | None, *, what: str = "date") -> str | None:
    """:func:`iso_date`, with None or a blank string meaning no date."""
    if value is None or not str(value).strip():
        return None
    return iso_date(value, what=what)
