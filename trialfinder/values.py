"""Small parsers of record values the registry sends as text: ages and dates."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["clean_date", "parse_age_years"]

_AGE_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.IGNORECASE
)
_UNIT_YEARS = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
}
_DATE_RE = re.compile(r"^\d{4}(-\d{2}){0,2}$")


def parse_age_years(text: str | None) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; None or unparseable -> None."""
    if not text:
        return None
    match = _AGE_RE.match(str(text))
    if not match:
        return None
    return float(match.group(1)) * _UNIT_YEARS[match.group(2).lower()]


def clean_date(text: Any) -> str | None:
    """Keep YYYY, YYYY-MM or YYYY-MM-DD as sent; anything else is dropped to None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    return text if _DATE_RE.match(text) else None
