"""The output formats registry: each format's name, how it renders a frame, how it is written.

Every command takes the same `--format`; a test runs every format in this registry. Text
formats are in `FORMATS`; `FILE_FORMATS` holds the binary ones (xlsx), which go to a file or a
pipe and are refused for a terminal; `REPORT_FORMATS` are the change reports' (`report`,
`history`). The module itself is light (the help text names these formats at start-up): pandas,
tabulate and openpyxl are imported only when a format renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trialfinder.errors import InvalidOption

if TYPE_CHECKING:
    import pandas as pd

# (frame, columns, terminal width or None, column whose changes part rows or None) -> text
Renderer = Callable[["pd.DataFrame", Sequence[str], "int | None", "str | None"], str]
# The change reports' formats (rendered by trialfinder.render.changes and render.report).
REPORT_FORMATS = ("markdown", "json", "csv", "html", "email")


@dataclass(frozen=True)
class Format:
    """One output format."""

    name: str
    render: Renderer
    description: str
    tabular: bool = False  # a table for people: readable subset of columns, fits the width
    bom_in_files: bool = False  # a UTF-8 byte-order mark when written to a file (Excel)


def render_csv(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """CSV with a header row, stable column order, formula-like cells neutralised: what
    `csv.writer` writes (quoted where needed, `\\r\\n` line ends), each distinct cell of a
    column converted and quoted once (`cells.csv_fields`)."""
    from trialfinder.render.cells import csv_field, csv_fields

    header = [csv_field(c) for c in columns]
    body = [csv_fields(frame[c].tolist()) for c in columns]
    if len(columns) == 1:  # a row of one empty field is written "" (not an empty line)
        body = [['""' if f == "" else f for f in body[0]]]
        header = ['""' if f == "" else f for f in header]
    rows = map(",".join, zip(*body, strict=True))
    return "\r\n".join([",".join(header), *rows]) + "\r\n"


def _json(frame: pd.DataFrame, columns: Sequence[str], width: int | None, group: str | None) -> str:
    from trialfinder.render.cells import json_records

    return json.dumps(json_records(frame, columns), ensure_ascii=False, indent=2) + "\n"


def _jsonl(
    frame: pd.DataFrame, columns: Sequence[str], width: int | None, group: str | None
) -> str:
    from trialfinder.render.cells import json_records

    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in json_records(frame, columns))


def _table(
    frame: pd.DataFrame, columns: Sequence[str], width: int | None, group: str | None
) -> str:
    from trialfinder.render.tables import render_table  # tabulate only when a table is drawn

    return render_table(frame, columns, width, group=group) + "\n"


def _markdown(
    frame: pd.DataFrame, columns: Sequence[str], width: int | None, group: str | None
) -> str:
    from trialfinder.render.tables import render_markdown

    return render_markdown(frame, columns) + "\n"


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "table",
            _table,
            "an aligned table that fits the terminal, long cells wrapped",
            tabular=True,
        ),
        Format(
            "csv",
            lambda frame, cols, width, group: render_csv(frame, cols),
            "CSV",
            bom_in_files=True,
        ),
        Format("json", _json, "one JSON array of objects"),
        Format("jsonl", _jsonl, "one JSON object per line"),
        Format(
            "markdown",
            _markdown,
            "a GitHub table",
            tabular=True,
        ),
    )
}


@dataclass(frozen=True)
class FileFormat:
    """A binary output format: written to a file (or a pipe), never to a terminal."""

    name: str
    render: Callable[[pd.DataFrame, Sequence[str], str], bytes]  # (frame, columns, sheet)
    description: str
    suffix: str


def _xlsx(frame: pd.DataFrame, columns: Sequence[str], sheet: str) -> bytes:
    from trialfinder.render.xlsx import render_xlsx  # openpyxl only when asked for

    return render_xlsx(frame, columns, sheet)


# Binary formats, kept apart from the text FORMATS above (which every text path loops over).
FILE_FORMATS: dict[str, FileFormat] = {
    "xlsx": FileFormat(
        "xlsx", _xlsx, "an Excel workbook: typed cells, frozen header, filters, links", ".xlsx"
    ),
}
# Spellings accepted for a format (show's readable text is its `table`).
ALIASES = {"text": "table", "md": "markdown", "ndjson": "jsonl", "excel": "xlsx"}


def check_format(fmt: str) -> str:
    """Validate an output format name (raises InvalidOption naming the formats)."""
    key = fmt.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS and key not in FILE_FORMATS:
        raise InvalidOption("--format", fmt, (*FORMATS, *FILE_FORMATS))
    return key


def check_report_format(fmt: str) -> str:
    """Validate a change report's format name (raises InvalidOption naming the formats)."""
    key = fmt.strip().lower()
    key = {"md": "markdown", "text": "markdown", "table": "markdown"}.get(key, key)
    if key not in REPORT_FORMATS:
        raise InvalidOption("--format", fmt, REPORT_FORMATS)
    return key


def is_binary(fmt: str) -> bool:
    """Whether a (checked) format writes bytes, for a file rather than a terminal."""
    return fmt in FILE_FORMATS


def render_bytes(
    frame: pd.DataFrame, fmt: str, columns: Sequence[str] | None = None, *, sheet: str = "trials"
) -> bytes:
    """Render a frame in one of FILE_FORMATS."""
    cols = list(columns) if columns else list(frame.columns)
    return FILE_FORMATS[check_format(fmt)].render(frame, cols, sheet)


def render(
    frame: pd.DataFrame,
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
    group: str | None = None,
) -> str:
    """Render a frame in one of FORMATS; `width` bounds tables only, and `group` (a column)
    parts a table's rows with a blank line where its value changes."""
    cols = list(columns) if columns else list(frame.columns)
    return FORMATS[check_format(fmt)].render(frame, cols, width, group)


def render_json(value: Mapping[str, Any] | Sequence[Any], *, lines: bool = False) -> str:
    """Any JSON-ready structure -> text (one line per item when `lines`)."""
    from trialfinder.frames import plain_deep

    if lines and isinstance(value, Sequence):
        return "".join(json.dumps(plain_deep(v), ensure_ascii=False) + "\n" for v in value)
    return json.dumps(plain_deep(value), ensure_ascii=False, indent=2) + "\n"
