"""Study records -> pandas frames with declared columns: studies (one row each) and sites.

The columns are declared once, in `trialfinder.schema`; the README's column tables, the
renderer and CSV headers follow them. Missing values become None (or NaN for numbers).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from trialfinder.records import Study
from trialfinder.rows import intervention_labels, site_row, study_row, study_values
from trialfinder.schema import SITE_COLUMNS, STUDY_COLUMNS

__all__ = [
    "MadeRows",
    "intervention_labels",
    "plain",
    "plain_deep",
    "site_row",
    "sites_frame",
    "studies_frame",
    "study_row",
]


# Rows made ahead (while pages travel): `study_values` of a record, with it, by NCT id.
MadeRows = Mapping[str, tuple[Study, tuple[Any, ...]]]


def studies_frame(studies: Iterable[Study], made: MadeRows | None = None) -> pd.DataFrame:
    """Studies -> a frame with the STUDY_COLUMNS, in that order, one row per study; a row in
    `made` for the very record is taken as it is."""
    made = made or {}
    rows = [
        entry[1] if (entry := made.get(s.nct_id)) is not None and entry[0] is s else study_values(s)
        for s in studies
    ]
    frame = pd.DataFrame(rows, columns=list(STUDY_COLUMNS))
    frame["enrollment"] = frame["enrollment"].astype("Int64")
    frame["sites_count"] = frame["sites_count"].astype("int64")
    frame["min_age_years"] = frame["min_age_years"].astype("float64")
    frame["max_age_years"] = frame["max_age_years"].astype("float64")
    return frame


def sites_frame(studies: Iterable[Study]) -> pd.DataFrame:
    """Studies -> a frame with the SITE_COLUMNS, one row per site, in record order."""
    rows = [site_row(s.nct_id, site, s.status) for s in studies for site in s.sites]
    frame = pd.DataFrame(rows, columns=list(SITE_COLUMNS))
    frame["lat"] = frame["lat"].astype("float64")
    frame["lon"] = frame["lon"].astype("float64")
    return frame


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def plain(value: Any) -> Any:
    """A cell -> a JSON-ready Python value (lists stay lists; NaN and NA become None)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if _is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    return value


def plain_deep(value: Any) -> Any:
    """plain() applied through nested dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): plain_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_deep(v) for v in value]
    return plain(value)
