"""Tables that fit a terminal: which columns give way, how far; the only module using tabulate."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from tabulate import tabulate

from trialfinder.render.cells import table_cell
from trialfinder.text import truncate

# Columns that give up width first when a table is wider than the terminal, with the width
# each keeps as long as it can (enough to read a sentence's start, or a name and a phone).
FLEX_COLUMNS: dict[str, int] = {
    "title": 16,
    "conditions": 16,
    "interventions": 16,
    "prior_car_t_evidence": 40,
    "nearest_site": 24,
    "nearest_site_contact": 36,
    "central_contact": 32,
    "sponsor": 16,
    "facility": 20,
    "location": 16,
    "contact": 32,
    "therapy_classes": 16,
    "car_targets": 12,
    "url": 12,
}
MIN_FLEX_WIDTH = 12
HEADER_PAD = 2  # tabulate.MIN_PADDING


def _fit_widths(header: Sequence[str], rows: list[list[str]], width: int) -> list[int]:
    # tabulate pads every header by HEADER_PAD, so a column is at least that much wider.
    natural = [max([len(h) + HEADER_PAD, *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    gap = 2 * (len(header) - 1)
    excess = sum(natural) + gap - width
    limits = list(natural)
    # First the free-text columns give way (down to a readable floor), then, on a very
    # narrow terminal, every column but the NCT id (down to a few characters).
    passes = [
        ([i for i, h in enumerate(header) if h in FLEX_COLUMNS], None),
        ([i for i, h in enumerate(header) if h in FLEX_COLUMNS], MIN_FLEX_WIDTH),
        ([i for i, h in enumerate(header) if h != "nct_id"], 4),
    ]
    for candidates, fixed_floor in passes:
        while excess > 0 and candidates:
            i = max(candidates, key=lambda k: limits[k] - FLEX_COLUMNS.get(header[k], 0))
            floor = fixed_floor if fixed_floor is not None else FLEX_COLUMNS[header[i]]
            if limits[i] <= floor:
                candidates.remove(i)
                continue
            step = min(excess, limits[i] - floor, max(1, (limits[i] - floor) // 4))
            limits[i] -= step
            excess -= step
    return limits


def render_table(frame: pd.DataFrame, columns: Sequence[str], width: int | None) -> str:
    """An aligned plain-text table that fits `width` (long cells cut with an ellipsis)."""
    rows = [
        [table_cell(row[c], c) for c in columns] for row in frame[list(columns)].to_dict("records")
    ]
    header = list(columns)
    if width:
        limits = _fit_widths(header, rows, width)
        rows = [[truncate(cell, limits[i]) for i, cell in enumerate(r)] for r in rows]
        header = [truncate(h, limits[i] - HEADER_PAD) for i, h in enumerate(header)]
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)


def render_markdown(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""
    rows = [
        [table_cell(row[c], c).replace("|", "\\|") for c in columns]
        for row in frame[list(columns)].to_dict("records")
    ]
    return tabulate(rows, headers=list(columns), tablefmt="github", disable_numparse=True)
