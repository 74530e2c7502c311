"""Which columns a table shows: the column policy for each view, in order of importance.

Data formats (CSV, JSON) carry every column. A table for people shows, per view, the columns
that answer its question; `TableView.priority` ranks them, most important first, and when the
terminal is too narrow for all of them at their narrowest (render/tables.py `fit_columns`), the
least important go first. At 80 columns every view keeps what it is for:

- default: the NCT id, title and status (and the stance when CAR-T columns are on);
- `--after-car-t` / `--prior-car-t`: the stance, the title and the deciding sentence;
- `--near`: the distance, the nearest site's city, the title, the stance, whom to call;
- `--sites`: the distance, city, site status and contact of each site.

With `--therapy-class`, the trial's class (`therapy_group`) joins the per-trial views, after
the columns above in importance: a narrow terminal drops it before them.

When rows are ordered by something other than a visible column (`--after-car-t` puts trials
for people after CAR-T first), `group` names the column whose changes a blank line marks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trialfinder.errors import InvalidOption, UsageError
from trialfinder.render.formats import FORMATS
from trialfinder.spec import SearchOptions


@dataclass(frozen=True)
class TableView:
    """A view's columns in display order, their importance, and the grouping column."""

    columns: tuple[str, ...]
    priority: tuple[str, ...]
    group: str | None = None


def table_view(options: SearchOptions, available: Sequence[str]) -> TableView:
    """The table view for a search's options (columns not in `available` are left out)."""
    stance = options.has_cart_columns
    group = "prior_car_t" if options.after_car_t else None
    if options.per_site:
        near = options.near is not None
        display = ["nct_id", *(["distance_mi"] if near else []), "city", "state", "facility"]
        display += ["site_status", "contact"]
        priority = ["nct_id", "distance_mi", "city", "site_status", "contact", "facility", "state"]
        group = None
    elif options.near is not None:
        display = ["nct_id", "distance_mi", "nearest_site_city", "prior_car_t", "therapy_group"]
        display += ["title", "nearest_site_contact", "nearest_site"]
        priority = ["nct_id", "distance_mi", "nearest_site_city", "prior_car_t", "title"]
        priority += ["nearest_site_contact", "therapy_group", "nearest_site"]
    elif options.after_car_t or options.prior_car_t:
        display = ["nct_id", "prior_car_t", "status", "therapy_group", "title"]
        display += ["prior_car_t_evidence"]
        priority = ["nct_id", "prior_car_t", "title", "prior_car_t_evidence", "therapy_group"]
        priority += ["status"]
    else:
        display = ["nct_id", "status", "phases", "therapy_group", "title", "conditions"]
        display += ["car_t", "prior_car_t"] if stance else []
        priority = ["nct_id", "title", "status", "prior_car_t", "therapy_group", "phases"]
        priority += ["conditions", "car_t"]
    if not stance:
        display = [c for c in display if c != "prior_car_t"]
    cols = tuple(c for c in display if c in available)
    return TableView(cols, tuple(c for c in priority if c in cols), group)


def default_columns(options: SearchOptions, fmt: str, available: Sequence[str]) -> list[str]:
    """The columns shown when --columns is not given: every one for data formats, the
    view's for tables (which `fit_columns` may narrow to the terminal)."""
    if fmt not in FORMATS or not FORMATS[fmt].tabular:
        return list(available)  # data formats (and spreadsheets) carry every column
    return list(table_view(options, available).columns)


def parse_columns(
    text: str | None, available: Sequence[str], needs: Mapping[str, str] | None = None
) -> list[str] | None:
    """A comma-separated --columns value -> a list of known column names.

    `needs` maps a column this search cannot have to the option that brings it
    ("distance_mi" -> "--near"), so the error says what to add rather than only listing names.
    """
    if text is None:
        return None
    cols = [c.strip().lower().replace("-", "_") for c in text.split(",") if c.strip()]
    cols = list(dict.fromkeys(cols))
    unknown = [c for c in cols if c not in available]
    for column in unknown:
        if needs and column in needs:
            raise UsageError(f"--columns {column} needs {needs[column]}")
    if not cols or unknown:
        raise InvalidOption("--columns", ",".join(unknown) or text, list(available))
    return cols
