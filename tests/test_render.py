"""Output formats: a loop over every format, CSV safety, table width, JSON types."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialfinder.errors import InvalidOption
from trialfinder.render.cells import (
    csv_cell,
    csv_column,
    neutralise_formula,
    table_cell,
    table_column,
)
from trialfinder.render.formats import FORMATS, check_format, render

_SCALARS = st.one_of(
    st.text(alphabet=st.sampled_from("ab=+-@ \t\x1b;1"), max_size=4),
    st.sampled_from(["RECRUITING", "=A1", "1", "yes"]),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(allow_infinity=False),
    st.none(),
)
_CELL_VALUES = st.one_of(
    _SCALARS, st.lists(_SCALARS, max_size=3), st.lists(_SCALARS, max_size=3).map(tuple)
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nct_id": ["NCT90000001", "NCT90000002"],
            "title": ["A very long title " * 10, '=HYPERLINK("http://evil")'],
            "phases": [["PHASE1", "PHASE2"], []],
            "enrollment": pd.array([40, None], dtype="Int64"),
            "distance_mi": [12.345, float("nan")],
            "car_t": [True, False],
            "sponsor": ["Ünïcödé Oncology — Zürich", "@risky"],
        }
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_row_and_column(fmt: str) -> None:
    text = render(frame(), fmt, width=100)
    assert "NCT90000001" in text and "NCT90000002" in text
    if fmt in ("table", "markdown", "csv"):
        for col in frame().columns:
            assert col in text


def test_unknown_format_lists_choices() -> None:
    with pytest.raises(InvalidOption, match="valid: table, csv, json, jsonl, markdown"):
        check_format("xml")


def test_csv_neutralises_formulas_and_keeps_unicode() -> None:
    rows = list(csv.reader(io.StringIO(render(frame(), "csv"))))
    assert rows[0] == list(frame().columns)
    assert rows[2][1].startswith("'=HYPERLINK")
    assert rows[2][6] == "'@risky"
    assert rows[1][6] == "Ünïcödé Oncology — Zürich"
    assert rows[1][2] == "PHASE1; PHASE2"
    assert rows[2][3] == "" and rows[2][4] == ""
    assert rows[1][5] == "yes"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell
    assert neutralise_formula("safe " + cell) == "safe " + cell


def test_table_fits_width_and_truncates_titles() -> None:
    text = render(frame(), "table", width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" in text


def test_json_and_jsonl_are_typed() -> None:
    data = json.loads(render(frame(), "json"))
    assert data[0]["phases"] == ["PHASE1", "PHASE2"] and data[1]["phases"] == []
    assert data[0]["enrollment"] == 40 and data[1]["enrollment"] is None
    assert data[1]["distance_mi"] is None and data[0]["car_t"] is True
    lines = render(frame(), "jsonl").splitlines()
    assert [json.loads(line)["nct_id"] for line in lines] == ["NCT90000001", "NCT90000002"]


def test_markdown_escapes_pipes() -> None:
    f = frame()
    f.loc[0, "sponsor"] = "A | B"
    assert "A \\| B" in render(f, "markdown")


def test_a_csv_column_is_each_cell_converted_alone() -> None:
    """Values repeated down a column are converted once, each with its own type: equal
    values of other types can differ in their cells (True == 1 == 1.0)."""
    values = ["=SUM(A1)", "RECRUITING", "RECRUITING", " a\x1b[31m b ", True, 1, 1.0, None,
              float("nan"), ("CD19", "BCMA"), ["x", "y"], 0, False, "=SUM(A1)", 1, True,
              ("CD19", "BCMA"), ("x", "y"), ("=x",), ["a", None, "b"], 2.5, float("nan"),
              ("A", 1), ("A", True), "x; y", ()]  # fmt: skip
    cells = csv_column(values)
    assert cells == [csv_cell(v) for v in values]
    assert cells[4:7] == ["yes", "1", "1"] and cells[11:13] == ["0", "no"]
    assert cells[0] == cells[13] == "'=SUM(A1)" and cells[3] == "a b"
    assert cells[14:16] == ["1", "yes"] and cells[18] == "'=x" and cells[19] == "a; b"
    assert cells[22:24] == ["A; 1", "A; yes"] and cells[21] == "" and cells[25] == ""


@given(st.lists(_CELL_VALUES, max_size=30))
def test_a_csv_column_equals_its_cells_one_by_one(values: list[Any]) -> None:
    assert csv_column(values) == [csv_cell(v) for v in values]


@given(st.lists(_CELL_VALUES, max_size=30), st.sampled_from(["title", "distance_mi"]))
def test_a_table_column_equals_its_cells_one_by_one(values: list[Any], column: str) -> None:
    assert table_column(values, column) == [table_cell(v, column) for v in values]


_CSV_TEXT = st.text(alphabet=st.sampled_from('a ,"\r\n=é;'), max_size=5)


@given(
    st.integers(min_value=1, max_value=3).flatmap(
        lambda width: st.lists(
            st.lists(_CELL_VALUES | _CSV_TEXT, min_size=width, max_size=width), max_size=6
        ).map(lambda rows: (width, rows))
    )
)
def test_csv_is_what_the_csv_module_writes_of_the_cells(shape: tuple[int, list[Any]]) -> None:
    """The rows are joined by hand, each distinct cell quoted once: what `csv.writer` writes
    (a lone empty field too)."""
    width, rows = shape
    columns = [f"c{n}" for n in range(width)]
    data = pd.DataFrame(
        {c: pd.Series([row[n] for row in rows], dtype=object) for n, c in enumerate(columns)}
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    assert render(data, "csv", columns) == buffer.getvalue()
