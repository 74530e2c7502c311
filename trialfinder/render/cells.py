"""Cells as text: one line per value, lists joined, formulas neutralised for spreadsheets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from trialfinder.frames import plain
from trialfinder.text import clean_line

LIST_SEPARATOR = "; "
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_text(value: Any, *, rounded: bool = False) -> str:
    """A cell -> one line of text (lists joined with '; ', missing as empty).

    Numbers keep their precision (coordinates must stay usable on a map) unless `rounded`,
    which tables use for distances.
    """
    if type(value) is str:  # most cells
        return clean_line(value)
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(cell_text(v) for v in value if v is not None)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if rounded else format(value, ".10g")
    return clean_line(value)


def table_cell(value: Any, column: str) -> str:
    return cell_text(value, rounded=column.startswith("distance"))


def csv_cell(value: Any) -> str:
    """A cell for CSV: text neutralised against formulas; numbers written as numbers."""
    if type(value) is str:  # most cells: straight to the line (a CSV has some 500,000)
        return neutralise_formula(clean_line(value))
    if _texts(value):  # conditions, phases, targets: as cell_text joins them
        return neutralise_formula(LIST_SEPARATOR.join(map(clean_line, value)))
    value = plain(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return cell_text(value)
    return neutralise_formula(cell_text(value))


def _texts(value: Any) -> bool:
    """Whether a value is a list or tuple of texts only."""
    return type(value) in (tuple, list) and all(type(v) is str for v in value)


def csv_column(values: list[Any]) -> list[str]:
    """`csv_cell` of each value of a column (`by_value`)."""
    return by_value(csv_cell, values)


def csv_fields(values: list[Any]) -> list[str]:
    """`csv_field` of `csv_cell` of each value of a column (`by_value`)."""
    return by_value(lambda value: csv_field(csv_cell(value)), values)


def csv_field(text: str) -> str:
    """A cell as `csv.writer` writes it among others: in quotes, its quotes doubled, when it
    holds a comma, a quote or a line break."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def table_column(values: list[Any], column: str) -> list[str]:
    """`table_cell` of each value of a column (`by_value`)."""
    rounded = column.startswith("distance")
    return by_value(lambda value: cell_text(value, rounded=rounded), values)


_NAN = object()


def by_value(convert: Callable[[Any], str], values: list[Any]) -> list[str]:
    """`convert` of each value of a column; a value met before in it is converted once
    (statuses, phases, stances and numbers repeat down a column of thousands). A value is
    remembered with its type (True == 1 == 1.0, but their cells differ), a list of texts as
    its texts; other values are converted each time."""
    done: dict[Any, str] = {}
    out = []
    for value in values:
        kind = type(value)
        if kind is str:
            key: Any = value
        elif kind is float and value != value:
            key = _NAN  # each NaN is its own object, and unequal to itself
        elif kind is int or kind is float or kind is bool:
            key = (kind, value)
        elif _texts(value):
            key = (list, *value)
        else:
            out.append(convert(value))
            continue
        cell = done.get(key)
        if cell is None:
            cell = done[key] = convert(value)
        out.append(cell)
    return out


def neutralise_formula(text: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def json_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts with the given columns, in order; empty text becomes null."""
    return [
        {col: (None if (v := plain(row[col])) == "" else v) for col in columns}
        for row in frame[list(columns)].to_dict(orient="records")
    ]
