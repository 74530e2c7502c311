"""Tables for a terminal: which columns fit, how wide each is, cells wrapped onto several lines.

A table that is wider than the terminal first narrows its free-text columns (titles, sentences,
places) down to a readable floor, wrapping them; columns that must stay whole (an NCT id, a
stance, a distance, a phone number) are never cut. If it still does not fit, the least
important columns are left out (the caller says which matter most). Widths are display widths
(render/wrap.py). Markdown tables are the one use of tabulate.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import pandas as pd
from tabulate import tabulate

from trialfinder.render.cells import table_cell, table_column
from trialfinder.render.wrap import (
    display_width,
    header_lines,
    header_min,
    min_width,
    pad,
    wrap_cell,
)

GAP = "  "


# The cells last built, by column, for the frame they were built from, and each column's
# narrowest width: `fit_columns` and then `render_table` on the same frame build each cell
# and measure each column once (20,000 rows: 0.3 s and 0.2 s each time). A frame is not
# changed once it is being rendered; the length check is a guard.
_last: tuple[weakref.ref[pd.DataFrame], int, dict[str, list[str]], dict[str, int]] | None = None


def _built(
    frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each column's cells, and the memo of narrowest widths, for `frame`."""
    global _last
    if not (_last and _last[0]() is frame and _last[1] == len(frame)):
        _last = (weakref.ref(frame), len(frame), {}, {})
    built, narrowest = _last[2], _last[3]
    for c in columns:
        if c not in built:
            built[c] = table_column(frame[c].tolist(), c)
    return built, narrowest


def _narrowest(frame: pd.DataFrame, column: str) -> int:
    """`min_width` of a column's cells, measured once per frame."""
    built, narrowest = _built(frame, [column])
    if column not in narrowest:
        narrowest[column] = min_width(column, dict.fromkeys(built[column]))  # each cell once
    return narrowest[column]


def _natural(column: str, cells: Sequence[str]) -> int:
    widest = max(map(display_width, dict.fromkeys(cells)), default=0)  # each cell once
    return max(display_width(column), widest)


def fit_columns(
    frame: pd.DataFrame, columns: Sequence[str], width: int | None, priority: Sequence[str]
) -> list[str]:
    """The columns, in their order, that fit `width` at their narrowest; the columns missing
    from `priority` (most important first) are never dropped, the others last-first."""
    if not width:
        return list(columns)
    floor = {c: max(header_min(c), _narrowest(frame, c)) for c in columns}
    kept = list(columns)
    droppable = [c for c in reversed(priority) if c in kept]
    while len(kept) > 1 and sum(floor[c] for c in kept) + len(GAP) * (len(kept) - 1) > width:
        if not droppable:
            break
        kept.remove(droppable.pop(0))
    return kept


def _widths(frame: pd.DataFrame, columns: Sequence[str], width: int | None) -> list[int]:
    built, _ = _built(frame, columns)
    natural = [_natural(c, built[c]) for c in columns]
    if not width:
        return natural
    cells = [_narrowest(frame, c) for c in columns]
    # First the cells wrap and headers stay whole; only then do headers wrap at underscores.
    stages = [
        [min(n, max(display_width(c), m)) for c, n, m in zip(columns, natural, cells, strict=True)],
        [min(n, max(header_min(c), m)) for c, n, m in zip(columns, natural, cells, strict=True)],
    ]
    widths = list(natural)
    excess = sum(widths) + len(GAP) * (len(columns) - 1) - width
    for floors in stages:
        # The column with the most room above its floor gives way first, a little at a
        # time, so that long titles and sentences share the narrowing.
        while excess > 0:
            slack = [w - f for w, f in zip(widths, floors, strict=True)]
            i = max(range(len(widths)), key=lambda k: slack[k])
            if slack[i] <= 0:
                break
            step = min(excess, max(1, slack[i] // 4))
            widths[i] -= step
            excess -= step
    return widths


def render_table(
    frame: pd.DataFrame,
    columns: Sequence[str],
    width: int | None,
    *,
    group: str | None = None,
) -> str:
    """An aligned plain-text table no wider than `width` when it can be (None: natural widths).

    Long cells wrap onto several lines; with `group`, a blank line separates rows whose
    `group` value differs (e.g. trials for people after CAR-T, then trials that allow it).
    """
    columns = list(columns)
    built, _ = _built(frame, columns)
    widths = _widths(frame, columns, width)
    heads = [header_lines(c, w) for c, w in zip(columns, widths, strict=True)]
    lines = _block(heads, widths)
    lines.append(GAP.join("-" * w for w in widths))
    groups = list(frame[group]) if group and group in frame else None
    blank = [" " * w for w in widths]
    padded = [_padded(built[c], w, c) for c, w in zip(columns, widths, strict=True)]
    for number, row in enumerate(zip(*padded, strict=True)):
        if groups is not None and number and groups[number] != groups[number - 1]:
            lines.append("")
        height = max(map(len, row))
        if height == 1:  # most rows: every cell on one line
            lines.append(GAP.join([cell[0] for cell in row]).rstrip())
            continue
        for line in range(height):
            parts = [c[line] if line < len(c) else b for c, b in zip(row, blank, strict=True)]
            lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def _padded(cells: list[str], width: int, column: str) -> list[list[str]]:
    """Each cell's lines (`wrap_cell`), each padded to `width`; a cell met before in the
    column (a status, a phase, a stance) is wrapped once."""
    done: dict[str, list[str]] = {}
    out = []
    for text in cells:
        lines = done.get(text)
        if lines is None:
            lines = done[text] = [pad(line, width) for line in wrap_cell(text, width, column)]
        out.append(lines)
    return out


def _block(cells: list[list[str]], widths: list[int]) -> list[str]:
    height = max((len(c) for c in cells), default=1)
    out = []
    for line in range(height):
        parts = [
            pad(cell[line] if line < len(cell) else "", w)
            for cell, w in zip(cells, widths, strict=True)
        ]
        out.append(GAP.join(parts).rstrip())
    return out


def render_markdown(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""
    rows = [
        [table_cell(row[c], c).replace("|", "\\|") for c in columns]
        for row in frame[list(columns)].to_dict("records")
    ]
    return tabulate(rows, headers=list(columns), tablefmt="github", disable_numparse=True)
