"""Shared by the geo tests: site rows and frames as distance.py reads them, an independent
haversine, and a place to measure from."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from trialfinder.geo.distance import SITE_COLUMNS, Place

HOUSTON = Place(
    "Houston, TX, United States", 29.7633, -95.3633, "city", "Houston", "Texas", "United States"
)


def reference_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine written independently of geo.py, with math only."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def site(**values: Any) -> dict[str, Any]:
    """One site row with the normalize.py columns; unspecified text is "" and coords NaN."""
    row: dict[str, Any] = {c: "" for c in SITE_COLUMNS}
    row.update(site_status="RECRUITING", lat=math.nan, lon=math.nan)
    row.update(values)
    return row


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(SITE_COLUMNS))
