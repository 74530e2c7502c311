"""Change reports as text: markdown (the default, for terminals and mail), JSON and CSV.

Every report says what data it is as of (`dataTimestamp`) and links each trial. Trials with
material changes come first (as `compare` ordered them); within a trial, material fields
first, then sites within the watch's radius, nearest first.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Any

from trialfinder.errors import InvalidOption
from trialfinder.render.cells import neutralise_formula
from trialfinder.render.formats import check_report_format
from trialfinder.watch.compare import SiteChange, TrialChange
from trialfinder.watch.runner import Report, change_rows
from trialfinder.watch.store import ChangeRow

KIND_LABELS = {"new": "New in the results", "left": "Left the results", "changed": "Changed"}
JSON_SCHEMA_VERSION = 1


def headline(report: Report) -> str:
    """One line: what the run found."""
    if report.data_unchanged:
        return f"{report.watch}: no new data since {report.data_timestamp or 'the last run'}."
    if report.first_run:
        return (
            f"{report.watch}: first run; the {report.result_count} trial(s) found now are the "
            "baseline, all listed as new."
        )
    if report.new_baseline:
        return (
            f"{report.watch}: the watch's search was changed, so this run starts a new "
            f"baseline; its {report.result_count} trial(s) are listed as new."
        )
    if not report.changes:
        return f"{report.watch}: nothing changed ({report.result_count} trial(s) watched)."
    counts = {k: sum(c.kind == k for c in report.changes) for k in KIND_LABELS}
    parts = [f"{counts['new']} new", f"{counts['left']} left", f"{counts['changed']} changed"]
    return f"{report.watch}: {', '.join(parts)} ({report.result_count} trial(s) watched)."


def site_line(site: SiteChange) -> str:
    where = "" if site.distance_mi is None else f" ({site.distance_mi:.1f} mi)"
    beyond = "" if site.within else " [outside the radius]"
    if site.kind == "status":
        what = f"status {site.old_status or 'none'} -> {site.new_status or 'none'}"
    elif site.kind == "added":
        what = f"added ({site.new_status or 'no status'})"
    else:
        what = f"removed (was {site.old_status or 'no status'})"
    return f"{site.site}{where}: {what}{beyond}"


def _md(text: str) -> str:
    """Text safe inside a markdown line (no table or heading syntax from the registry)."""
    return " ".join(text.replace("|", "\\|").split())


def render_markdown(reports: Sequence[Report]) -> str:
    """The reports as markdown."""
    out: list[str] = []
    for report in reports:
        out.append(f"# {_md(headline(report))}")
        out.append("")
        out.append(f"Data as of {report.data_timestamp or 'unknown'} (ClinicalTrials.gov).")
        if report.classifier_note:
            out.append("")
            out.append(f"Note: {report.classifier_note}.")
        for change in report.changes:
            out += ["", f"## {change.nct_id}: {_md(change.title)}", ""]
            label = KIND_LABELS[change.kind] + ("" if change.material else " (administrative only)")
            out.append(f"{label}. {change.url}")
            if change.reason:
                out.append(f"- Why: {_md(change.reason)}")
            for field in change.fields:
                if field.field == "eligibility":
                    out.append("- Eligibility text changed:")
                    out += [f"  - removed: {_md(line)}" for line in field.old.splitlines()]
                    out += [f"  - added: {_md(line)}" for line in field.new.splitlines()]
                else:
                    old, new = _md(field.old) or "(none)", _md(field.new) or "(none)"
                    out.append(f"- {field.field}: {old} -> {new}")
            for site in change.sites:
                out.append(f"- Site {_md(site_line(site))}")
        out.append("")
    out.append(
        "This is not medical advice. Data: ClinicalTrials.gov, U.S. National Library of "
        "Medicine (NLM); NLM does not endorse this tool."
    )
    return "\n".join(out) + "\n"


def _change_json(change: TrialChange) -> dict[str, Any]:
    return {
        "nct_id": change.nct_id,
        "title": change.title,
        "url": change.url,
        "kind": change.kind,
        "material": change.material,
        "reason": change.reason or None,
        "fields": [
            {"field": f.field, "old": f.old, "new": f.new, "material": f.material}
            for f in change.fields
        ],
        "sites": [
            {
                "kind": s.kind,
                "site": s.site,
                "old_status": s.old_status or None,
                "new_status": s.new_status or None,
                "distance_mi": s.distance_mi,
                "within_radius": s.within,
            }
            for s in change.sites
        ],
    }


def render_json(reports: Sequence[Report]) -> str:
    """One JSON document: {"schema": 1, "reports": [...]} with stable keys (see the README)."""
    doc = {
        "schema": JSON_SCHEMA_VERSION,
        "reports": [
            {
                "watch": r.watch,
                "data_timestamp": r.data_timestamp,
                "summary": headline(r),
                "first_run": r.first_run,
                "new_baseline": r.new_baseline,
                "data_unchanged": r.data_unchanged,
                "result_count": r.result_count,
                "classifier_note": r.classifier_note or None,
                "changes": [_change_json(c) for c in r.changes],
            }
            for r in reports
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = (
    "watch",
    "nct_id",
    "kind",
    "field",
    "old",
    "new",
    "site",
    "distance_mi",
    "material",
    "data_timestamp",
)


def render_csv(reports: Sequence[Report]) -> str:
    """One row per change; text cells are guarded against spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for nct, kind, field, old, new, site, miles, material in change_rows(report.changes):
            cells = [report.watch, nct, kind, field, old, new, site]
            writer.writerow(
                [neutralise_formula(" ".join(c.split())) for c in cells]
                + ["" if miles is None else f"{miles:.1f}", "yes" if material else "no"]
                + [report.data_timestamp or ""]
            )
    return buffer.getvalue()


def render_history(rows: Sequence[ChangeRow], fmt: str) -> str:
    """Recorded changes of trials (from `Store.history`), oldest first."""
    fmt = check_report_format(fmt)
    if fmt == "json":
        return (
            json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=2) + "\n"
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        names = [f.name for f in dataclasses.fields(ChangeRow)]
        writer.writerow(names)
        for row in rows:
            writer.writerow(
                [
                    neutralise_formula(
                        " ".join(
                            str(getattr(row, n) if getattr(row, n) is not None else "").split()
                        )
                    )
                    for n in names
                ]
            )
        return buffer.getvalue()
    if fmt != "markdown":
        raise InvalidOption("--format", fmt, ("markdown", "json", "csv"))
    out = []
    for row in rows:
        what = row.field or row.kind
        change = f"{_md(row.old) or '(none)'} -> {_md(row.new) or '(none)'}"
        if row.kind in ("new", "left") and not row.field:
            change = KIND_LABELS[row.kind] + (f": {_md(row.new)}" if row.new else "")
        site = f" {_md(row.site)}" if row.site else ""
        when = f"{row.started} {row.nct_id} ({row.watch}, data {row.data_timestamp})"
        out.append(f"- {when}: {what}{site}: {change}")
    return "\n".join(out) + ("\n" if out else "")
