"""Reading a rendered terminal table back: its column names (headers wrap at underscores) and
the text of each column, by the positions of the dashed rule under the header."""

from __future__ import annotations

import re

from trialfinder.render.wrap import display_width


def _spans(rule: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"-+", rule)]


def _slice(line: str, start: int, end: int) -> str:
    # Positions are display columns: walk the characters, counting wide ones twice.
    out, col = [], 0
    for ch in line:
        w = display_width(ch)
        if start <= col < end:
            out.append(ch)
        col += w
    return "".join(out).strip()


def columns_of(table: str) -> list[str]:
    """The column names of a table, their wrapped header lines joined."""
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and "-" in line)
    return ["".join(_slice(h, a, b) for h in lines[:rule]) for a, b in _spans(lines[rule])]


def column_text(table: str, name: str) -> list[str]:
    """Every body line's text in column `name` (empty strings for blank lines)."""
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and "-" in line)
    a, b = _spans(lines[rule])[columns_of(table).index(name)]
    return [_slice(line, a, b) for line in lines[rule + 1 :]]
