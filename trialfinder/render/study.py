"""`show` as text: one study's detail, readable in a terminal, with the deciding sentence marked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialfinder.render.cells import cell_text
from trialfinder.render.tables import render_table

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
        if "site_status_from" in frame:
            borrowed = frame["site_status_from"] == "trial"
            frame["site_status"] = frame["site_status"].where(
                ~borrowed, frame["site_status"].astype(str) + " (from trial)"
            )
        frame["location"] = [
            ", ".join(p for p in (cell_text(c), cell_text(s) or cell_text(k)) if p)
            for c, s, k in zip(frame["city"], frame["state"], frame["country"], strict=True)
        ]
        table = render_table(frame, cols, width - 2)
        lines.extend("  " + row for row in table.split("\n"))
    else:
        lines.append("  (no sites listed)")
    return "\n".join(lines).rstrip() + "\n"
