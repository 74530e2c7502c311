"""Which columns a table shows: the column policy for each kind of search and terminal width.

Data formats (CSV, JSON) carry every column; tables for people show the columns that answer
the question asked, and in a narrow terminal only those.
"""

from __future__ import annotations

from collections.abc import Sequence

from trialfinder.errors import InvalidOption
from trialfinder.render.formats import FORMATS
from trialfinder.spec import SearchOptions

NARROW = 110  # terminal columns below which tables keep only what answers the question


def default_columns(
    options: SearchOptions, fmt: str, available: Sequence[str], width: int | None = None
) -> list[str]:
    """The columns shown when --columns is not given.

    In a narrow terminal, a table keeps the columns that answer the user's question (the
    stance and its sentence; the nearest site and whom to call) rather than squeezing all of
    them into unreadable slivers.
    """
    narrow = width is not None and width < NARROW
    tabular = FORMATS[fmt].tabular
    if options.per_site:
        if not tabular:
            return list(available)
        cols = ["nct_id", "facility", "city", "state", "site_status", "contact"]
        return ["distance_mi", *cols] if options.near is not None else cols
    if not tabular:
        return list(available)
    cols = ["nct_id", "status", "phases", "title", "conditions"]
    if options.has_cart_columns:
        cols += ["car_t", "prior_car_t"]
    if options.after_car_t or options.prior_car_t:
        cols = ["nct_id", "prior_car_t", "status", "title", "prior_car_t_evidence"]
        if narrow:
            cols = ["nct_id", "prior_car_t", "prior_car_t_evidence"]
    if options.near is not None:
        cols = ["nct_id", "distance_mi", "nearest_site", "nearest_site_contact", "title"]
        if options.has_cart_columns:
            cols += ["prior_car_t"]
        if narrow:
            cols = ["nct_id", "distance_mi", "nearest_site", "nearest_site_contact"]
    return [c for c in cols if c in available]


def parse_columns(text: str | None, available: Sequence[str]) -> list[str] | None:
    """A comma-separated --columns value -> a list of known column names."""
    if text is None:
        return None
    cols = [c.strip().lower().replace("-", "_") for c in text.split(",") if c.strip()]
    cols = list(dict.fromkeys(cols))
    unknown = [c for c in cols if c not in available]
    if not cols or unknown:
        raise InvalidOption("--columns", ",".join(unknown) or text, list(available))
    return cols
