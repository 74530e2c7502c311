"""A spreadsheet that opens right: `--format xlsx` (openpyxl), the one binary output format.

CSV leaves types to the spreadsheet, which turns ZIP code 07740 into 7740 and mixes dates with
text. Here every cell has its type set: identifiers, ZIP codes, phone numbers and other text as
text (cell format `@`, so editing keeps them text); numbers as numbers; a complete date
(YYYY-MM-DD) as a date, while a partial one (YYYY-MM) has no date to be, so each date column
is followed by `<column>_as_registered`, the value as text, and the date column holds only whole
dates. The header row is frozen and filtered, columns are sized to their text, the NCT id
links to the trial's page, and text a spreadsheet would run as a formula gets the same `'`
guard as CSV.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from trialfinder.frames import plain
from trialfinder.render.cells import LIST_SEPARATOR, neutralise_formula
from trialfinder.text import clean_line

DATE_COLUMNS = frozenset({"start_date", "last_update"})
REGISTERED = "_as_registered"
MAX_WIDTH = 60
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STUDY_URL = "https://clinicaltrials.gov/study/{}"
# openpyxl refuses the control characters XML 1.0 cannot hold (they are removed on input
# already; this keeps a library caller's frame from failing the whole export).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_columns(columns: Sequence[str]) -> list[str]:
    """The sheet's columns: each date column followed by its text as registered."""
    out: list[str] = []
    for column in columns:
        out.append(column)
        if column in DATE_COLUMNS:
            out.append(column + REGISTERED)
    return out


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and _FULL_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _value(value: Any) -> tuple[Any, str | None]:
    """A cell -> (what the sheet stores, its number format or None)."""
    value = plain(value)
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)):
        return (value, None) if math.isfinite(value) else (None, None)
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(clean_line(v) for v in value if v is not None)
    text = _ILLEGAL.sub("", neutralise_formula(clean_line(value)))
    return (text or None), "@"


def render_xlsx(frame: pd.DataFrame, columns: Sequence[str], sheet: str = "trials") -> bytes:
    """The frame's rows and `columns` as an .xlsx workbook (bytes)."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    header = xlsx_columns(columns)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in header]
    link = Font(color="0563C1", underline="single")
    for number, row in enumerate(frame[list(columns)].to_dict("records"), start=2):
        col = 0
        for column in columns:
            raw = plain(row[column])
            targets: list[tuple[Any, str | None]]
            if column in DATE_COLUMNS:
                date = _date(raw)
                targets = [(date, "yyyy-mm-dd") if date else (None, None), _value(raw)]
            else:
                targets = [_value(raw)]
            for value, number_format in targets:
                col += 1
                cell = ws.cell(row=number, column=col, value=value)
                if number_format:
                    cell.number_format = number_format
                shown = 10 if isinstance(value, dt.date) else len(str(value or ""))
                widths[col - 1] = max(widths[col - 1], shown)
                if column == "nct_id" and isinstance(value, str):
                    cell.hyperlink = STUDY_URL.format(value)
                    cell.font = link
                elif column == "url" and isinstance(value, str) and value.startswith("https://"):
                    cell.hyperlink = value
                    cell.font = link
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, width + 2)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
