"""The output formats registry: each format's name, how it renders a frame, how it is written.

Every command takes the same `--format`; a test runs every format in this registry. Text
formats are in `FORMATS`; `FILE_FORMATS` holds the binary ones (xlsx), which go to a file or a
pipe and are refused for a terminal; `REPORT_FORMATS` are the change reports' (`report`,
`history`). The module itself is light (the help text names these formats at start-up): pandas,
tabulate and openpyxl are imported only when a format renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from trialfinder.errors import InvalidOption

if TYPE_CHECKING:
    import pandas as pd

# (frame, columns, terminal width or None, column whose changes part rows or None) -> text
Renderer = Callable[["pd.DataFrame", Sequence[str], "int | None", "str | None"], str]
# (frame, columns) -> the text in pieces of about CHUNK_ROWS rows, for a format written as
# it is made (a CSV of 20,000 rows held whole, with its rows and its encoding, was some 45 MB)
Chunker = Callable[["pd.DataFrame", Sequence[str]], Iterator[str]]
CHUNK_ROWS = 1000
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
    chunks: Chunker | None = None  # the same text in pieces (render_chunks), if it streams


def render_csv(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """CSV with a header row, stable column order, formula-like cells neutralised: what
    `csv.writer` writes (quoted where needed, `\\r\\n` line ends), each distinct cell of a
    column converted and quoted once (`cells.csv_fields`)."""
    return "".join(csv_chunks(frame, columns))


def csv_chunks(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[str]:
    """`render_csv` in pieces: the header line, then CHUNK_ROWS rows at a time (each cell
    is made once for the whole column, as before; the rows are joined a piece at a time)."""
    from trialfinder.render.cells import csv_field, csv_fields

    header = [csv_field(c) for c in columns]
    body = [csv_fields(frame[c].tolist()) for c in columns]
    if len(columns) == 1:  # a row of one empty field is written "" (not an empty line)
        body = [['""' if f == "" else f for f in body[0]]]
        header = ['""' if f == "" else f for f in header]
    yield ",".join(header) + "\r\n"
    rows = zip(*body, strict=True)
    while piece := list(islice(rows, CHUNK_ROWS)):
        yield "\r\n".join(map(",".join, piece)) + "\r\n"


def _json(frame: pd.DataFrame, columns: Sequence[str], width: int | None, group: str | None) -> str:
    return "".join(_json_chunks(frame, columns))


def _json_chunks(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[str]:
    """`json.dumps(records, indent=2)` of the whole array, CHUNK_ROWS records at a time: each
    record as dumped alone, every line of it indented once more (a string in JSON holds no
    line break)."""
    if frame.empty:
        yield "[]\n"
        return
    opening = "[\n  "
    for records in _record_chunks(frame, columns):
        items = [json.dumps(r, ensure_ascii=False, indent=2).replace("\n", "\n  ") for r in records]
        yield opening + ",\n  ".join(items)
        opening = ",\n  "
    yield "\n]\n"


def _jsonl(
    frame: pd.DataFrame, columns: Sequence[str], width: int | None, group: str | None
) -> str:
    return "".join(_jsonl_chunks(frame, columns))


def _jsonl_chunks(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[str]:
    for records in _record_chunks(frame, columns):
        yield "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _record_chunks(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    """`cells.json_records` of the frame, CHUNK_ROWS rows at a time."""
    from trialfinder.render.cells import json_records

    for start in range(0, len(frame), CHUNK_ROWS):
        yield json_records(frame.iloc[start : start + CHUNK_ROWS], columns)


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
            chunks=csv_chunks,
        ),
        Format("json", _json, "one JSON array of objects", chunks=_json_chunks),
        Format("jsonl", _jsonl, "one JSON object per line", chunks=_jsonl_chunks),
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
    return "".join(render_chunks(frame, fmt, columns, width=width, group=group))


def render_chunks(
    frame: pd.DataFrame,
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
    group: str | None = None,
) -> Iterator[str]:
    """`render` in pieces that join to the same text, made as they are written: a format
    that streams (CSV, JSON, JSON lines) never holds its whole text; the others come in one
    piece."""
    cols = list(columns) if columns else list(frame.columns)
    chosen = FORMATS[check_format(fmt)]
    if chosen.chunks is not None:
        yield from chosen.chunks(frame, cols)
    else:
        yield chosen.render(frame, cols, width, group)


def render_json(value: Mapping[str, Any] | Sequence[Any], *, lines: bool = False) -> str:
    """Any JSON-ready structure -> text (one line per item when `lines`)."""
    from trialfinder.frames import plain_deep

    if lines and isinstance(value, Sequence):
        return "".join(json.dumps(plain_deep(v), ensure_ascii=False) + "\n" for v in value)
    return json.dumps(plain_deep(value), ensure_ascii=False, indent=2) + "\n"
