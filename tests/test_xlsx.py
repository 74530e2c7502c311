"""`--format xlsx` (issue 10): a spreadsheet that opens right, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from clirun import run
from openpyxl import load_workbook

from trialfinder.render.formats import FILE_FORMATS, check_format, render_bytes

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def test_real_sites_keep_every_zip_code_as_text(records_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sites.xlsx"
    argv = ["search", "--source", str(records_dir), "--status", "any", "--sites"]
    result = run([*argv, "-f", "xlsx", "-o", str(out)])
    assert result.code == 0, result.err
    assert result.out == "" and f"Wrote {out}" in result.err
    expected = [r["zip"] for r in json.loads(run([*argv, "-f", "json"]).out)]
    ws = load_workbook(out)["sites"]
    header = [c.value for c in ws[1]]
    zips = [row[header.index("zip")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert zips == expected
    leading = [z for z in zips if isinstance(z, str) and z.startswith("0")]
    assert len(leading) > 300  # 07740 stays 07740
    assert all(z is None or isinstance(z, str) for z in zips)
    for name in ("nct_id", "contact"):
        col = header.index(name) + 1
        cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
        assert all(c.data_type == "s" for c in cells if c.value is not None)
        assert all(c.number_format == "@" for c in cells if c.value is not None)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == ws.dimensions


def test_trials_sheet_has_dates_links_numbers_and_widths(tmp_path: Path) -> None:
    out = tmp_path / "trials.xlsx"
    result = run(
        ["search", "--source", str(FIXTURES), "--status", "any", "-f", "xlsx", "-o", str(out)]
    )
    assert result.code == 0, result.err
    ws = load_workbook(out)["trials"]
    header = [c.value for c in ws[1]]
    i = header.index("start_date")
    assert header[i + 1] == "start_date_as_registered"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    for row in rows:
        date, registered = row[i], row[i + 1]
        assert isinstance(registered, str)
        if len(registered) == 10:
            assert isinstance(date, dt.datetime) and date.date().isoformat() == registered
        else:
            assert date is None  # a partial date has no date to be; its text is beside it
    partial = [r[i + 1] for r in rows if isinstance(r[i + 1], str) and len(str(r[i + 1])) == 7]
    assert partial, "the fixtures hold a partial date"
    first = ws.cell(row=2, column=header.index("nct_id") + 1)
    assert first.hyperlink is not None
    assert first.hyperlink.target == f"https://clinicaltrials.gov/study/{first.value}"
    assert isinstance(rows[0][header.index("sites_count")], int)
    assert ws.column_dimensions["B"].width > 10  # the title column is sized to its text


def test_the_formula_guard_applies() -> None:
    frame = pd.DataFrame(
        {"nct_id": ["NCT00000001"], "title": ['=HYPERLINK("http://evil")'], "sponsor": ["@x"]}
    )
    ws = load_workbook(io.BytesIO(render_bytes(frame, "xlsx"))).active
    assert ws is not None
    assert ws["B2"].value == '\'=HYPERLINK("http://evil")' and ws["B2"].data_type == "s"
    assert ws["C2"].value == "'@x"


def test_show_writes_xlsx_too(tmp_path: Path) -> None:
    out = tmp_path / "show.xlsx"
    result = run(["show", "NCT90000101", "--source", str(FIXTURES), "-f", "xlsx", "-o", str(out)])
    assert result.code == 0, result.err
    ws = load_workbook(out)["trials"]
    assert ws.cell(row=2, column=1).value == "NCT90000101"


@pytest.mark.parametrize("command", [["search"], ["show", "NCT90000101"]])
def test_a_terminal_is_refused_with_a_hint(command: list[str]) -> None:
    result = run([*command, "--source", str(FIXTURES), "-f", "xlsx"])
    assert result.code == 2
    assert result.err_lines == [
        "Error: --format xlsx writes a binary file, which a terminal cannot show; "
        "add -o FILE.xlsx (or redirect stdout to a file)"
    ]


def test_xlsx_is_registered_and_csv_stays_text(tmp_path: Path) -> None:
    assert check_format("XLSX") == "xlsx" and check_format("excel") == "xlsx"
    assert FILE_FORMATS["xlsx"].suffix == ".xlsx"
    csv_out = run(["search", "--source", str(FIXTURES), "-f", "csv"]).out
    assert csv_out.startswith("nct_id,")
