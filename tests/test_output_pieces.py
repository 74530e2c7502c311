"""Output written as it is made (render_chunks, write_output of pieces): the same text as the
whole, a byte-order mark once, and a file left as it was when a piece fails to come."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from trialfinder.output import write_output
from trialfinder.render import formats
from trialfinder.render.cells import csv_cell
from trialfinder.render.formats import FORMATS, render, render_chunks


def _frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nct_id": [f"NCT9{n:07d}" for n in range(rows)],
            "title": [f'Trial {n}, "phase" ≥ 2' if n % 3 else "=1+1" for n in range(rows)],
            "phases": [["PHASE1", "PHASE2"] if n % 2 else [] for n in range(rows)],
            "enrollment": pd.array([n if n % 4 else None for n in range(rows)], dtype="Int64"),
        }
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("rows", [0, 1, 5, 7])
def test_the_pieces_join_to_the_whole_text(
    fmt: str, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "CHUNK_ROWS", 3)
    frame = _frame(rows)
    pieces = list(render_chunks(frame, fmt, width=80))
    assert "".join(pieces) == render(frame, fmt, width=80)
    # CSV: the header, then a piece each 3 rows; JSON lines: a piece each 3 rows; JSON: a
    # piece each 3 records and the closing bracket (or "[]" alone); tables: one piece
    expected = {
        "csv": 1 + -(-rows // 3),
        "jsonl": -(-rows // 3),
        "json": -(-rows // 3) + 1 if rows else 1,
    }
    assert len(pieces) == expected.get(fmt, 1)


def test_a_file_of_pieces_is_the_whole_text_with_one_byte_order_mark(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_output(iter(["a,b\r\n", "≥1,2\r\n", "3,4\r\n"]), target, bom=True, quiet=True)
    assert target.read_bytes() == "\ufeffa,b\r\n≥1,2\r\n3,4\r\n".encode()
    write_output(iter(["x\r\n", "y\r\n"]), target, quiet=True)
    assert target.read_bytes() == b"x\r\ny\r\n"


def test_a_piece_that_fails_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "saved.csv"
    target.write_text("what the user saved\n", encoding="utf-8")

    def pieces() -> Iterator[str]:
        yield "half,"
        raise RuntimeError("the render broke")

    with pytest.raises(RuntimeError):
        write_output(pieces(), target, quiet=True)
    assert target.read_text(encoding="utf-8") == "what the user saved\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.csv"]  # no temporary left


def test_pieces_to_stdout_are_utf8_whatever_its_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="latin-1")
    monkeypatch.setattr(sys, "stdout", stdout)
    write_output(iter(["≥ 2\n", "NCT1\n"]), None)
    assert raw.getvalue() == "≥ 2\nNCT1\n".encode()


def test_a_csv_in_pieces_is_what_the_csv_module_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "CHUNK_ROWS", 2)
    frame = _frame(7)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows([csv_cell(v) for v in row] for row in frame.itertuples(index=False))
    assert "".join(render_chunks(frame, "csv")) == buffer.getvalue()
