"""Tables that answer the question at any width (issue 10): each view at 80, 120 and 200
columns on the real records keeps its key columns, never cuts a stance or a phone number,
wraps long cells, shows why rows sit where they do, and measures wide characters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from clirun import run
from hypothesis import given, settings
from hypothesis import strategies as st
from table_text import column_text, columns_of

from trialfinder.render.tables import fit_columns, render_table
from trialfinder.render.wrap import display_width, wrap_cell

WIDTHS = (80, 120, 200)
NEAR_COLUMNS = [
    *("nct_id", "distance_mi", "nearest_site_city", "prior_car_t", "title"),
    "nearest_site_contact",
]
STANCES = {"required", "allowed", "excluded", "unmentioned"}
PHONE = re.compile(r"\d{3}-\d{3}-\d{4}")

VIEWS: dict[str, tuple[list[str], list[str]]] = {
    "default": (["-c", "lymphoma"], ["nct_id", "title", "status"]),
    "after-car-t": (
        ["-c", "lymphoma", "--after-car-t"],
        ["nct_id", "prior_car_t", "title", "prior_car_t_evidence"],
    ),
    "near": (
        ["-c", "lymphoma", "--after-car-t", "--near", "77030", "--radius", "250mi"],
        NEAR_COLUMNS,
    ),
    "sites": (
        ["-c", "leukemia", "--near", "77030", "--sites"],
        ["nct_id", "distance_mi", "city", "site_status", "contact"],
    ),
}


def search(records: Path, argv: list[str], width: int, *extra: str) -> str:
    result = run(["search", "--source", str(records), *argv, *extra], {"COLUMNS": str(width)})
    assert result.code == 0, result.err
    return result.out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", VIEWS)
def test_every_view_keeps_its_columns_and_fits(records_dir: Path, view: str, width: int) -> None:
    argv, needed = VIEWS[view]
    table = search(records_dir, argv, width)
    assert table.strip(), "no rows"
    shown = columns_of(table)
    assert [c for c in needed if c not in shown] == []
    assert max(display_width(line) for line in table.splitlines()) <= width
    if "prior_car_t" in shown:
        assert set(column_text(table, "prior_car_t")) <= STANCES | {""}  # never cut


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", ["near", "sites"])
def test_phone_numbers_are_whole(records_dir: Path, view: str, width: int) -> None:
    argv, _ = VIEWS[view]
    rows = json.loads(search(records_dir, argv, width, "-f", "json"))
    column = "contact" if view == "sites" else "nearest_site_contact"
    phones = {p for r in rows for p in PHONE.findall(r[column] or "")}
    assert phones
    lines = " | ".join(search(records_dir, argv, width).splitlines())
    assert {p for p in phones if p not in lines} == set()


def test_after_car_t_rows_are_grouped_by_stance(records_dir: Path) -> None:
    table = search(records_dir, VIEWS["near"][0], 80)
    body = table.splitlines()[
        table.splitlines().index(
            next(line for line in table.splitlines() if line.startswith("---"))
        )
        + 1 :
    ]
    stances = [s for s in column_text(table, "prior_car_t") if s]
    assert stances == sorted(stances, key=["required", "allowed"].index)
    assert "required" in stances and "allowed" in stances
    assert "" in body  # the blank line between required and allowed


@pytest.mark.parametrize("width", WIDTHS)
def test_show_sites_table_fits(records_dir: Path, width: int) -> None:
    argv = ["show", "NCT05827016", "--source", str(records_dir), "--near", "Houston, TX"]
    result = run(argv, {"COLUMNS": str(width)})
    assert result.code == 0, result.err
    sites = result.out.split("\nSites (")[1].split("\nThis is not medical advice")[0]
    assert max(display_width(line) for line in sites.splitlines()) <= min(width, 120)
    assert "713-792-2860" in sites and "214-648-5906" in sites


def test_wide_characters_line_up() -> None:
    frame = pd.DataFrame(
        {
            "nct_id": ["NCT00000001", "NCT00000002", "NCT00000003"],
            "title": ["中文标题的临床试验研究" * 3, "日本語のタイトル", "CAR-T 🧬 trial"],
            "status": ["RECRUITING", "NOT_YET_RECRUITING", "RECRUITING"],
        }
    )
    table = render_table(frame, ["nct_id", "title", "status"], 50)
    lines = table.splitlines()
    assert max(display_width(line) for line in lines) <= 50
    start = display_width(lines[0].split("status")[0])  # where the status column starts
    for line in lines[2:]:
        text = "".join(line)
        # whatever sits in the status column starts exactly at its display column
        cols, col = [], 0
        for ch in text:
            if col == start:
                cols.append(ch)
            col += display_width(ch)
        assert cols == [] or cols[0] in "RN", line


def test_a_phone_with_an_extension_keeps_the_number_whole() -> None:
    lines = wrap_cell("Trial desk; 800-633-1610 ext option 6; a@b.org", 14, "contact")
    assert lines[:3] == ["Trial desk", "800-633-1610", "ext option 6"]


def test_explicit_columns_are_never_dropped() -> None:
    frame = pd.DataFrame({"nct_id": ["NCT00000001"], "title": ["x" * 50], "status": ["R"]})
    assert fit_columns(frame, ["nct_id", "title", "status"], 20, priority=[]) == [
        "nct_id",
        "title",
        "status",
    ]
    assert fit_columns(frame, ["nct_id", "title", "status"], 20, ["nct_id", "status", "title"]) == [
        "nct_id",
        "status",
    ]


def test_an_email_too_wide_for_its_column_breaks_after_a_dot_not_mid_word() -> None:
    lines = wrap_cell("David Mc Call, MD; 713-792-6604; dmccall1@mdanderson.org", 13, "contact")
    assert lines == ["David Mc", "Call, MD", "713-792-6604", "dmccall1@", "mdanderson.", "org"]
    # a title keeps "2.5" whole: only contacts break at dots
    assert wrap_cell("Dose 2.5 mg weekly", 9, "title") == ["Dose 2.5", "mg weekly"]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("abcXYZ09.,-:;()"), min_size=1, max_size=14)
        | st.sampled_from(["_", "/", "@", "é", "\u00a0", "a_b", "x/y"]),
        min_size=1,
        max_size=12,
    ).map(" ".join)
    | st.text(alphabet=" ab_/@.-", max_size=30),
    st.integers(min_value=0, max_value=20),
)
def test_the_word_wrap_fast_path_equals_the_general_wrap(text: str, width: int) -> None:
    from trialfinder.render.wrap import _BREAKS, _wrap, _wrap_words

    fast = _wrap_words(text, width)
    if fast is not None:
        assert fast == _wrap(text, width, _BREAKS, None)


def test_a_plain_title_takes_the_word_wrap_fast_path() -> None:
    from trialfinder.render.wrap import _wrap_words

    title = "A Phase 2 Study of CAR T Cells in Relapsed Large B-Cell Lymphoma"
    assert _wrap_words(title, 20) == [
        "A Phase 2 Study of",
        "CAR T Cells in",
        "Relapsed Large",
        "B-Cell Lymphoma",
    ]
    assert _wrap_words("see https://example.org/x", 10) is None  # a slash breaks too


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.from_regex(r"[A-Za-z0-9.]{1,9}(-[A-Za-z0-9.]{1,9}){0,3}", fullmatch=True),
        min_size=1,
        max_size=8,
    ).map(" ".join),
    st.integers(min_value=1, max_value=24),
)
def test_a_wrapped_cell_is_pieces_of_its_text_no_wider_than_the_column(
    text: str, width: int
) -> None:
    """Lines break at spaces, then after hyphens within a word too wide for the line, then
    anywhere; each line is a piece of the text as it was (no space lost between two words)."""
    lines = wrap_cell(text, width, "official_title")
    assert all(line in text for line in lines), lines
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(display_width(line) <= width for line in lines)


def test_a_word_too_wide_breaks_after_its_hyphen_and_keeps_the_space_after_it() -> None:
    assert wrap_cell("GPRC5D-Directed CAR T Cells", 14, "official_title") == [
        "GPRC5D-",
        "Directed CAR T",
        "Cells",
    ]


def _rows_one_by_one(frame: pd.DataFrame, columns: list[str], width: int | None) -> list[str]:
    """The body of a table made the plain way: each row's cells wrapped and padded alone."""
    from trialfinder.render.cells import table_cell
    from trialfinder.render.tables import GAP, _widths
    from trialfinder.render.wrap import pad

    widths = _widths(frame, columns, width)
    lines = []
    for _, row in frame.iterrows():
        cells = [
            wrap_cell(table_cell(row[c], c), w, c) for c, w in zip(columns, widths, strict=True)
        ]
        for n in range(max(len(c) for c in cells)):
            parts = [pad(c[n] if n < len(c) else "", w) for c, w in zip(cells, widths, strict=True)]
            lines.append(GAP.join(parts).rstrip())
    return lines


_TABLE_COLUMNS = ["nct_id", "status", "title", "phases", "central_contact", "distance_mi"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["RECRUITING", "NOT_YET_RECRUITING", "COMPLETED"]),
            st.sampled_from(["A Study", "CAR T Cells in Relapsed Large B-Cell Lymphoma", "é 漢字"])
            | st.text(alphabet="ab -", max_size=40),
            st.sampled_from([["PHASE1"], ["PHASE1", "PHASE2"], []]),
            st.sampled_from(["", "Ann Lee; 713-792-3245 ext 12; ann.lee@mdanderson.org"]),
            st.sampled_from([1.25, float("nan"), 300.0]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([None, 40, 80, 120]),
)
def test_a_table_is_its_rows_each_wrapped_and_padded_alone(
    rows: list[tuple[object, ...]], width: int | None
) -> None:
    """Cells repeated down a column are built and wrapped once: the table is the same."""
    frame = pd.DataFrame(
        [(f"NCT{n:08d}", *row) for n, row in enumerate(rows)], columns=_TABLE_COLUMNS
    )
    body = render_table(frame, _TABLE_COLUMNS, width).split("\n")
    header_end = next(i for i, line in enumerate(body) if set(line) <= {"-", " "})
    assert body[header_end + 1 :] == _rows_one_by_one(frame, _TABLE_COLUMNS, width)
