"""Every command-line option, spelled once as an `Annotated` alias, so commands share spellings.

The search options here map one to one onto `SearchSpec` fields; a saved search takes the
same options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CART = "CAR-T"
NEAR = "Near me"

# -- output, shared by every command that prints data -----------------------------------

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, csv, json, jsonl, markdown or xlsx (a file: use -o).",
        metavar="FORMAT",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the data to this file instead of stdout.",
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="COLUMNS",
        help="Comma-separated columns to output (see the README for the list).",
    ),
]

# -- where the data comes from ------------------------------------------------------------

SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        metavar="PATH",
        help="Read saved API output (a JSON file or a directory of them) instead of the network.",
    ),
]
ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        metavar="URL",
        help="API base URL (default: $TRIALFINDER_API_URL, else https://clinicaltrials.gov/api/v2).",
    ),
]

# -- the query ------------------------------------------------------------------------------

ConditionOpt = Annotated[
    str | None,
    typer.Option("--condition", "-c", metavar="TEXT", help="Condition or disease, e.g. lymphoma."),
]
TermOpt = Annotated[
    str | None, typer.Option("--term", metavar="TEXT", help="Any other search words.")
]
InterventionOpt = Annotated[
    str | None,
    typer.Option("--intervention", metavar="TEXT", help="Drug, product or procedure."),
]
LocationOpt = Annotated[
    str | None,
    typer.Option("--location", metavar="TEXT", help="Free-text location words (city, country...)."),
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help="Recruitment status, repeatable: recruiting, not-yet-recruiting, "
        "active-not-recruiting, completed, ..., or open, closed, any "
        "(default: recruiting and not-yet-recruiting).",
    ),
]
PhaseOpt = Annotated[
    list[str] | None,
    typer.Option("--phase", metavar="PHASE", help="Phase, repeatable: early1, 1, 2, 3, 4, na."),
]
StudyTypeOpt = Annotated[
    str | None,
    typer.Option(
        "--study-type", metavar="TYPE", help="interventional, observational or expanded-access."
    ),
]
SponsorOpt = Annotated[
    str | None, typer.Option("--sponsor", metavar="TEXT", help="Sponsor or collaborator.")
]
AgeOpt = Annotated[
    float | None,
    typer.Option(
        "--age", metavar="YEARS", help="Keep trials that admit a person of this age (years)."
    ),
]
SexOpt = Annotated[
    str | None,
    typer.Option("--sex", metavar="SEX", help="female or male: keep trials open to this sex."),
]
UpdatedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--updated-since",
        help="Keep trials updated on or after DATE (YYYY-MM-DD).",
        metavar="DATE",
    ),
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", metavar="N", help="At most this many trials.")
]
SortOpt = Annotated[
    str | None,
    typer.Option(
        "--sort",
        metavar="ORDER",
        help="relevance, last-update, start-date, enrollment, nct-id or distance "
        "(default: relevance; distance with --near).",
    ),
]

# -- CAR-T ------------------------------------------------------------------------------------

CarTOpt = Annotated[
    bool,
    typer.Option(
        "--car-t",
        help="Only trials whose own treatment is a CAR cell product.",
        rich_help_panel=CART,
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        metavar="TARGET",
        help="CAR target, repeatable, e.g. CD19, BCMA (implies --car-t).",
        rich_help_panel=CART,
    ),
]
AfterCarTOpt = Annotated[
    bool,
    typer.Option(
        "--after-car-t",
        help="Trials that require or allow prior CAR-T (required first); those that "
        "exclude it are dropped and counted.",
        rich_help_panel=CART,
    ),
]
PriorCarTOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prior-car-t",
        metavar="STANCE",
        help="Keep trials with this stance on prior CAR-T, repeatable: required, allowed, "
        "excluded, unmentioned.",
        rich_help_panel=CART,
    ),
]

# -- near me ------------------------------------------------------------------------------------

NearOpt = Annotated[
    str | None,
    typer.Option(
        "--near",
        metavar="PLACE",
        help='Where the patient is: a US ZIP, "City, ST", "City, Country" or a country.',
        rich_help_panel=NEAR,
    ),
]
RadiusOpt = Annotated[
    str | None,
    typer.Option(
        "--radius",
        metavar="DISTANCE",
        help="Distance from --near, e.g. 50mi or 100km (default: 100mi; a whole "
        "country for a country).",
        rich_help_panel=NEAR,
    ),
]
LatOpt = Annotated[
    float | None,
    typer.Option(
        "--lat",
        metavar="DEGREES",
        help="Latitude, instead of --near (with --lon).",
        rich_help_panel=NEAR,
    ),
]
LonOpt = Annotated[
    float | None,
    typer.Option(
        "--lon",
        metavar="DEGREES",
        help="Longitude, instead of --near (with --lat).",
        rich_help_panel=NEAR,
    ),
]
AnySiteStatusOpt = Annotated[
    bool,
    typer.Option(
        "--any-site-status",
        help="Count sites of any status, not only recruiting or not-yet-recruiting ones.",
        rich_help_panel=NEAR,
    ),
]
SitesOpt = Annotated[
    bool,
    typer.Option(
        "--sites", help="One row per site (within the radius with --near) instead of per trial."
    ),
]

QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No notes on stderr (where the data came from, counts, what was dropped); "
        "errors are still shown. For cron.",
    ),
]
ExplainOpt = Annotated[
    bool,
    typer.Option(
        "--explain",
        "--show-dropped",
        help="List on stderr each trial a CAR-T or near-me filter dropped, and why "
        "(the stance and its sentence; the nearest open site and its distance).",
    ),
]

# -- show -------------------------------------------------------------------------------------

NctIdsArg = Annotated[
    list[str],
    typer.Argument(
        help="One or more NCT ids, e.g. NCT01234567 (separated by spaces or commas); "
        "'-' reads them from stdin.",
        metavar="NCT_ID...",
    ),
]
