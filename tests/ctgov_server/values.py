"""How a value reads to Essie and the filters: words, enum keys, dates, ages, numbers, distances."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, Final


def _words(text: str) -> str:
    """Lower-case words joined by single spaces and framed by spaces, for whole-word matching."""
    return " " + " ".join(re.findall(r"[^\W_]+", text.lower())) + " "


def _enum_key(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


@lru_cache(maxsize=65536)  # a search filters and sorts every study by its dates
def _pad_date(text: str) -> str | None:
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$", text.strip())
    if not match:
        return None
    return f"{match.group(1)}-{match.group(2) or '01'}-{match.group(3) or '01'}"


_AGE_UNITS: Final = {
    "minute": 1 / 1440,
    "hour": 1 / 24,
    "day": 1.0,
    "week": 7.0,
    "month": 365.25 / 12,
    "year": 365.25,
}


def _age_days(text: str) -> float | None:
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$", text)
    if not match or match.group(2).lower() not in _AGE_UNITS:
        return None
    return float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]


def _scalar(kind: str, value: Any) -> str | float | None:
    """A comparable form of a date, number or age; None when it has none."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    if kind == "DATE":
        return _pad_date(str(value))
    if kind == "NUMERIC":
        try:
            return float(value)
        except ValueError:
            return None
    if kind == "TIME":
        return _age_days(str(value))
    return None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _to_km(amount: str, unit: str | None) -> float:
    return float(amount) * (1.0 if unit == "km" else 1.609344)


def _geo_within(point: object, lat: float, lon: float, km: float) -> bool:
    if not isinstance(point, dict):
        return False
    try:
        return _distance_km(lat, lon, float(point["lat"]), float(point["lon"])) <= km
    except (KeyError, TypeError, ValueError):
        return False
