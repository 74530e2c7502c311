"""Frames -> text: table, csv, json, jsonl, markdown; the only module that imports tabulate."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from tabulate import tabulate

from trialfinder.errors import InvalidOption
from trialfinder.text import clean_line, truncate

FORMATS = ("table", "csv", "json", "jsonl", "markdown")
LIST_SEPARATOR = "; "
# Columns that give up width first when a table is wider than the terminal, with the width
# each keeps as long as it can (enough to read a sentence's start, or a name and a phone).
FLEX_COLUMNS: dict[str, int] = {
    "title": 16,
    "conditions": 16,
    "interventions": 16,
    "prior_car_t_evidence": 40,
    "nearest_site": 24,
    "nearest_site_contact": 36,
    "central_contact": 32,
    "sponsor": 16,
    "facility": 20,
    "location": 16,
    "contact": 32,
    "therapy_classes": 16,
    "car_targets": 12,
    "url": 12,
}
MIN_FLEX_WIDTH = 12
HEADER_PAD = 2  # tabulate.MIN_PADDING
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def check_format(fmt: str) -> str:
    """Validate an output format name."""
    key = fmt.strip().lower()
    if key not in FORMATS:
        raise InvalidOption("--format", fmt, FORMATS)
    return key


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def plain(value: Any) -> Any:
    """A cell -> a JSON-ready Python value (lists stay lists; NaN and NA become None)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if _is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    return value


def cell_text(value: Any, *, rounded: bool = False) -> str:
    """A cell -> one line of text (lists joined with '; ', missing as empty).

    Numbers keep their precision (coordinates must stay usable on a map) unless `rounded`,
    which tables use for distances.
    """
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


def _table_cell(value: Any, column: str) -> str:
    return cell_text(value, rounded=column.startswith("distance"))


def csv_cell(value: Any) -> str:
    """A cell for CSV: text neutralised against formulas; numbers written as numbers."""
    value = plain(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return cell_text(value)
    return neutralise_formula(cell_text(value))


def neutralise_formula(text: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts with the given columns, in order; empty text becomes null."""
    return [
        {col: (None if (v := plain(row[col])) == "" else v) for col in columns}
        for row in frame[list(columns)].to_dict(orient="records")
    ]


def _fit_widths(header: Sequence[str], rows: list[list[str]], width: int) -> list[int]:
    # tabulate pads every header by HEADER_PAD, so a column is at least that much wider.
    natural = [max([len(h) + HEADER_PAD, *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    gap = 2 * (len(header) - 1)
    excess = sum(natural) + gap - width
    limits = list(natural)
    # First the free-text columns give way (down to a readable floor), then, on a very
    # narrow terminal, every column but the NCT id (down to a few characters).
    passes = [
        ([i for i, h in enumerate(header) if h in FLEX_COLUMNS], None),
        ([i for i, h in enumerate(header) if h in FLEX_COLUMNS], MIN_FLEX_WIDTH),
        ([i for i, h in enumerate(header) if h != "nct_id"], 4),
    ]
    for candidates, fixed_floor in passes:
        while excess > 0 and candidates:
            i = max(candidates, key=lambda k: limits[k] - FLEX_COLUMNS.get(header[k], 0))
            floor = fixed_floor if fixed_floor is not None else FLEX_COLUMNS[header[i]]
            if limits[i] <= floor:
                candidates.remove(i)
                continue
            step = min(excess, limits[i] - floor, max(1, (limits[i] - floor) // 4))
            limits[i] -= step
            excess -= step
    return limits


def render_table(frame: pd.DataFrame, columns: Sequence[str], width: int | None) -> str:
    """An aligned plain-text table that fits `width` (long cells cut with an ellipsis)."""
    rows = [
        [_table_cell(row[c], c) for c in columns] for row in frame[list(columns)].to_dict("records")
    ]
    header = list(columns)
    if width:
        limits = _fit_widths(header, rows, width)
        rows = [[truncate(cell, limits[i]) for i, cell in enumerate(r)] for r in rows]
        header = [truncate(h, limits[i] - HEADER_PAD) for i, h in enumerate(header)]
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)


def render_markdown(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""
    rows = [
        [_table_cell(row[c], c).replace("|", "\\|") for c in columns]
        for row in frame[list(columns)].to_dict("records")
    ]
    return tabulate(rows, headers=list(columns), tablefmt="github", disable_numparse=True)


def render_csv(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """CSV with a header row, stable column order, formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in frame[list(columns)].to_dict("records"):
        writer.writerow([csv_cell(row[c]) for c in columns])
    return buffer.getvalue()


def render(
    frame: pd.DataFrame,
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    width: int | None = None,
) -> str:
    """Render a frame in one of FORMATS; `width` bounds the table format only."""
    fmt = check_format(fmt)
    cols = list(columns) if columns else list(frame.columns)
    if fmt == "table":
        return render_table(frame, cols, width) + "\n"
    if fmt == "markdown":
        return render_markdown(frame, cols) + "\n"
    if fmt == "csv":
        return render_csv(frame, cols)
    data = records(frame, cols)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data)


def render_json(value: Mapping[str, Any] | Sequence[Any], *, lines: bool = False) -> str:
    """Any JSON-ready structure -> text (one line per item when `lines`)."""
    if lines and isinstance(value, Sequence):
        return "".join(json.dumps(plain_deep(v), ensure_ascii=False) + "\n" for v in value)
    return json.dumps(plain_deep(value), ensure_ascii=False, indent=2) + "\n"


def plain_deep(value: Any) -> Any:
    """plain() applied through nested dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): plain_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_deep(v) for v in value]
    return plain(value)


MARK_START, MARK_END = ">>> ", " <<<"


def _wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    import textwrap

    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
            continue
        stripped = line.lstrip()
        lead = indent + " " * min(len(line) - len(stripped), 8)
        out.extend(
            textwrap.wrap(
                stripped,
                width=max(20, width),
                initial_indent=lead,
                subsequent_indent=lead + "  ",
                break_on_hyphens=False,
            )
            or [lead]
        )
    return out


def mark_evidence(criteria: str, span: tuple[int, int] | None) -> str:
    """The criteria text with the evidence span wrapped in >>> ... <<< markers."""
    if span is None:
        return criteria
    start, end = span
    return criteria[:start] + MARK_START + criteria[start:end] + MARK_END + criteria[end:]


def render_study(detail: Mapping[str, Any], *, width: int = 100) -> str:
    """One study's detail (from detail.study_detail) as readable terminal text."""
    d = detail
    lines: list[str] = []
    head = [d.get("nct_id") or "", d.get("status") or "", cell_text(d.get("phases"))]
    lines.append("  ".join(h for h in head if h))
    lines.extend(_wrap(d.get("title") or "", width, ""))
    if d.get("official_title") and d.get("official_title") != d.get("title"):
        lines.extend(_wrap(d["official_title"], width, ""))
    lines.append("")

    def field(label: str, value: Any) -> None:
        text = cell_text(value) if not isinstance(value, str) else value
        if text:
            wrapped = _wrap(text, width - 18, "")
            lines.append(f"{label + ':':<18}{wrapped[0].strip()}")
            lines.extend(" " * 18 + w.strip() for w in wrapped[1:])

    field("Conditions", d.get("conditions"))
    field("Interventions", d.get("interventions"))
    field("Sponsor", d.get("sponsor"))
    field("Study type", d.get("study_type"))
    ages = f"{d.get('min_age') or 'no minimum'} to {d.get('max_age') or 'no maximum'}"
    field("Ages", f"{ages}; sex: {d.get('sex') or 'not stated'}")
    field("Enrollment", d.get("enrollment"))
    field("Start", d.get("start_date"))
    field("Last update", d.get("last_update"))
    if d.get("car_t"):
        bits = ["yes"]
        if d.get("car_targets"):
            bits.append("targets " + cell_text(d.get("car_targets")))
        if d.get("car_cell_source") and d["car_cell_source"] != "unknown":
            bits.append(str(d["car_cell_source"]))
        if d.get("car_cell_type"):
            bits.append(f"cell type {d['car_cell_type']}")
        field("CAR-T trial", ", ".join(bits))
    else:
        field("CAR-T trial", "no")
    field("Therapy classes", d.get("therapy_classes"))
    label = str(d.get("prior_car_t") or "unmentioned")
    field("Prior CAR-T", f"{label.upper()}: {d.get('prior_car_t_summary') or ''}")
    if d.get("prior_car_t_evidence"):
        section = f" ({d['prior_car_t_section']} criteria)" if d.get("prior_car_t_section") else ""
        field("Evidence", f'"{d["prior_car_t_evidence"]}"{section}')
    field("Link", d.get("url"))

    if d.get("brief_summary"):
        lines += ["", "Summary"]
        lines.extend(_wrap(d["brief_summary"], width))
    lines += ["", "Eligibility criteria"]
    criteria = d.get("eligibility_criteria") or ""
    if criteria:
        span = d.get("evidence_span")
        lines.extend(_wrap(mark_evidence(criteria, tuple(span) if span else None), width))
    else:
        lines.append("  (not given in the record)")

    lines += ["", "Contacts"]
    contacts = list(d.get("central_contacts") or []) + list(d.get("overall_officials") or [])
    lines.extend(f"  {c}" for c in contacts if c)
    if not any(contacts):
        lines.append(
            "  (none listed; see the sites below)" if d.get("sites") else "  (none listed)"
        )

    sites = list(d.get("sites") or [])
    near = d.get("near")
    title = f"Sites ({len(sites)})"
    if near:
        title += f", nearest first from {near['place']}"
        if near.get("radius"):
            title += f", within {near['radius']}"
            if near.get("sites_beyond_radius"):
                title += f" ({near['sites_beyond_radius']} more farther away)"
    lines += ["", title]
    if sites:
        cols = ["facility", "location", "site_status", "contact"]
        if near:
            # Miles for people in the US (and the UK), kilometres for everyone else.
            miles = near.get("country") in (None, "United States", "United Kingdom")
            cols.insert(0, "distance_mi" if miles else "distance_km")
        frame = pd.DataFrame(sites)
        for col in (
            "facility",
            "city",
            "state",
            "country",
            "site_status",
            "contact",
            "distance_mi",
        ):
            if col not in frame:
                frame[col] = None
        frame["location"] = [
            ", ".join(p for p in (cell_text(c), cell_text(s) or cell_text(k)) if p)
            for c, s, k in zip(frame["city"], frame["state"], frame["country"], strict=True)
        ]
        table = render_table(frame, cols, width - 2)
        lines.extend("  " + row for row in table.split("\n"))
    else:
        lines.append("  (no sites listed)")
    return "\n".join(lines).rstrip() + "\n"
