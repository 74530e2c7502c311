"""The `options` command: for a person whose CAR-T did not work, the trials open to them, by kind.

A search with --after-car-t (trials that require or allow prior CAR-T), each trial placed in
one option group (`trialfinder.cart.options`: CAR-T, allogeneic CAR-T, CAR-NK, bispecific,
ADC, checkpoint, transplant, targeted, radiotherapy, supportive, other), groups in that order
with their counts, and the groups with no trial said too.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Annotated

import typer

from trialfinder.cli.app import app, note, width
from trialfinder.cli.options import (
    AnySiteStatusOpt,
    ApiUrlOpt,
    ConditionOpt,
    LatOpt,
    LonOpt,
    NearOpt,
    NoCacheOpt,
    OutputOpt,
    QuietOpt,
    RadiusOpt,
    RefreshOpt,
    SourceOpt,
    StatusOpt,
    TermOpt,
    TherapyClassOpt,
    listed,
)
from trialfinder.errors import InvalidOption
from trialfinder.output import check_output, write_output

__all__ = ["grouped", "options", "render_options"]

if TYPE_CHECKING:
    import pandas as pd

_FORMATS = ("table", "text", "markdown", "csv", "json", "jsonl")
# The options view is grouped text or rows: no workbook (search -f xlsx writes one).
OptionsFormatOpt = Annotated[
    str,
    typer.Option("--format", "-f", help=f"Output format: {listed(_FORMATS)}.", metavar="FORMAT"),
]
_SHOWN = [
    "nct_id",
    "prior_car_t",
    "title",
    "distance_mi",
    "nearest_site_city",
    "nearest_site",
    "nearest_site_contact",
]
# A terminal table shows where in a few words (the city) and leaves the width to whom to call.
_TABLE_DROPS = ("nearest_site",)


@app.command()
def options(
    condition: ConditionOpt = None,
    term: TermOpt = None,
    status: StatusOpt = None,
    near: NearOpt = None,
    radius: RadiusOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    any_site_status: AnySiteStatusOpt = False,
    therapy_class: TherapyClassOpt = None,
    fmt: OptionsFormatOpt = "table",
    output: OutputOpt = None,
    source: SourceOpt = None,
    api_url: ApiUrlOpt = None,
    no_cache: NoCacheOpt = False,
    refresh: RefreshOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """After CAR-T: the trials open to someone who already had CAR-T, by kind of treatment.

    Each group (CAR-T against another target, allogeneic CAR-T, CAR-NK, bispecific
    antibodies, antibody-drug conjugates, checkpoint inhibitors, transplant, targeted drugs,
    radiotherapy, care after CAR-T, other) lists its trials with their prior-CAR-T stance,
    nearest open site, distance and whom to call; groups with no trial are named too.

    Example: trialfinder options -c lymphoma --near 77030 --radius 250mi
    """
    from trialfinder.cli.commands import _echo_place, _run
    from trialfinder.spec import SearchSpec

    if fmt not in _FORMATS:
        raise InvalidOption("--format", fmt, _FORMATS)
    plan = SearchSpec(
        condition=condition,
        term=term,
        status=tuple(status or ()),
        after_car_t=True,
        therapy_class=tuple(therapy_class or ()),
        near=near,
        lat=lat,
        lon=lon,
        radius=radius,
        any_site_status=any_site_status,
    ).resolve()
    say = (lambda _message: None) if quiet else note
    _echo_place(plan, say)
    check_output(output)
    result, cached = _run(plan, source, api_url, quiet=quiet, cache=(no_cache, refresh))
    say(f"Data: {result.source}")
    for line in cached:
        say(f"Note: {line}")
    wanted = plan.options.therapy_classes
    frame = grouped(result.studies, wanted)
    text = render_options(frame, fmt, wanted, near_me=plan.options.near is not None)
    write_output(text, output, quiet=quiet)


def grouped(studies: pd.DataFrame, wanted: tuple[str, ...] = ()) -> pd.DataFrame:
    """The studies with their option group, in group order, `required` first, then nearest."""
    from trialfinder.cart.options import option_groups, study_groups

    frame = studies.copy()
    if frame.empty:
        frame["therapy_group"] = []
        return frame
    frame["therapy_group"] = study_groups(frame)
    if wanted:
        frame = frame[frame["therapy_group"].isin(wanted)]
    order = {g.name: i for i, g in enumerate(option_groups())}
    distance = frame.get("distance_mi")
    frame = frame.assign(
        _g=frame["therapy_group"].map(order),
        _r=(frame["prior_car_t"] != "required").astype(int),
        _d=distance.fillna(math.inf) if distance is not None else 0.0,
    )
    return frame.sort_values(["_g", "_r", "_d"], kind="stable").drop(columns=["_g", "_r", "_d"])


def render_options(
    frame: pd.DataFrame, fmt: str, wanted: tuple[str, ...] = (), *, near_me: bool = False
) -> str:
    """The grouped trials in one format: a section per group (table, text, markdown) or one
    flat list with the group named on every row (csv, json, jsonl)."""
    from trialfinder.cart.options import option_groups
    from trialfinder.render.formats import render

    cols = [c for c in _SHOWN if c in frame.columns]
    groups = [g for g in option_groups() if not wanted or g.name in wanted]
    if fmt in ("csv", "json", "jsonl"):
        labels = {g.name: g.label for g in groups}
        flat = frame.assign(therapy_group_label=frame["therapy_group"].map(labels))
        flat_cols = ["therapy_group", "therapy_group_label", *cols]
        if fmt == "json" and flat.empty:
            return json.dumps([]) + "\n"
        return render(flat, fmt, flat_cols)
    heading = "### {} (`{}`): {} trial(s)\n\n" if fmt == "markdown" else "{} ({}): {} trial(s)\n"
    table_fmt = "markdown" if fmt == "markdown" else "table"
    parts, empty = [], []
    for group in groups:
        rows = frame[frame["therapy_group"] == group.name]
        if rows.empty:
            empty.append(group.label)
            continue
        parts.append(heading.format(group.label, group.name, len(rows)))
        shown = [c for c in cols if c not in _TABLE_DROPS or "nearest_site_city" not in cols]
        if fmt == "markdown":
            shown = cols
        parts.append(render(rows, table_fmt, shown, width=None if fmt == "markdown" else width()))
        parts.append("\n")
    where = "nearby" if near_me else "found"
    if empty:
        line = f"No trial {where}: {', '.join(empty)}."
        if fmt == "markdown":
            parts.append(line + "\n")
        else:
            import textwrap

            parts.append("\n".join(textwrap.wrap(line, width=width())) + "\n")
    return "".join(parts)
