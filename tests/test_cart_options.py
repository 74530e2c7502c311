"""After CAR-T options: the option groups (rules in the vocabulary) and the `options` command."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from clirun import run
from ctgov_server import FakeCtGov

from trialfinder.cart.options import check_option_groups, option_group, option_groups
from trialfinder.ctgov.sources import FileSource
from trialfinder.errors import InvalidOption

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"}

# One trial per group: (therapy classes, title and intervention names) -> expected group.
_CASES = {
    "car-t": (["CAR-T"], ["CD22 CAR T cells after CD19 CAR-T"]),
    "allogeneic-car-t": (["allogeneic CAR-T"], ["Off-the-shelf CD19 CAR T cells"]),
    "car-nk": (["CAR-NK"], ["Cord blood CAR-NK cells"]),
    "bispecific": (["CD3 bispecific", "monoclonal antibody"], ["Glofitamab with obinutuzumab"]),
    "adc": (["ADC", "monoclonal antibody"], ["Loncastuximab tesirine with rituximab"]),
    "checkpoint": (["checkpoint inhibitor"], ["Pembrolizumab after CAR-T"]),
    "transplant": (["stem cell transplant"], ["Reduced-intensity allogeneic transplant"]),
    "targeted": (["BTK inhibitor"], ["Pirtobrutinib in relapsed MCL"]),
    "radiotherapy": ([], ["Bridging radiotherapy before CAR-T", "RADIATION: Focal RT"]),
    "supportive": ([], ["Eltrombopag for prolonged cytopenia after CAR T-cell therapy"]),
    "other": ([], ["A new oral drug in lymphoma"]),
}


def test_every_group_has_a_case_and_groups_are_data() -> None:
    assert [g.name for g in option_groups()] == list(_CASES)
    assert all(g.label for g in option_groups())


@pytest.mark.parametrize("name", list(_CASES))
def test_each_group_rule(name: str) -> None:
    classes, texts = _CASES[name]
    assert option_group(classes, texts) == name


def test_therapy_class_values_are_checked() -> None:
    assert check_option_groups(["ADC", "adc", "bispecific"]) == ("adc", "bispecific")
    with pytest.raises(InvalidOption, match="car-nk"):
        check_option_groups(["nope"])


def _groups_in(out: str) -> list[str]:
    return [line.split("(")[-2].split(")")[0] for line in out.splitlines() if "trial(s)" in line]


def test_options_on_the_sample_data_as_a_table() -> None:
    result = run(["options", "-c", "lymphoma", "--source", str(FIXTURES), "--near", "77030",
                  "--radius", "250mi"])  # fmt: skip
    assert result.code == 0, result.err
    assert result.err_lines[0].startswith("Near: ZIP 77030")
    assert "Bispecific antibodies (bispecific): 2 trial(s)" in result.out
    assert "Care after CAR-T" in result.out and "nearest_site_contact" in result.out
    assert "excluded" not in result.out  # trials that turn the patient away are not options
    assert result.out.rstrip().splitlines()[-1].startswith("No trial nearby: ")


def test_options_formats_markdown_csv_json() -> None:
    base = ["options", "-c", "lymphoma", "--source", str(FIXTURES), "--near", "Houston, TX"]
    md = run([*base, "-f", "markdown"])
    assert md.code == 0 and "### Bispecific antibodies (`bispecific`): " in md.out
    assert "| nct_id" in md.out
    rows = list(csv.DictReader(io.StringIO(run([*base, "-f", "csv"]).out)))
    assert rows and {r["prior_car_t"] for r in rows} <= {"required", "allowed"}
    assert {"therapy_group", "therapy_group_label", "distance_mi"} <= set(rows[0])
    data = json.loads(run([*base, "-f", "json", "--therapy-class", "adc"]).out)
    assert data and {d["therapy_group"] for d in data} == {"adc"}


def test_options_against_the_loopback_api() -> None:
    with FakeCtGov(FileSource(FIXTURES).load_raw()) as server:
        env = {"TRIALFINDER_API_URL": server.base_url, **FAST}
        result = run(["options", "-c", "lymphoma", "-f", "jsonl"], env)
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines and all(line["prior_car_t"] in ("required", "allowed") for line in lines)
    order = [g.name for g in option_groups()]
    positions = [order.index(line["therapy_group"]) for line in lines]
    assert positions == sorted(positions)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_options_against_the_loopback_api_in_every_format(fmt: str) -> None:
    """The same trials in each format as in JSON lines, from the loopback API."""
    with FakeCtGov(FileSource(FIXTURES).load_raw()) as server:
        env = {"TRIALFINDER_API_URL": server.base_url, "COLUMNS": "120", **FAST}
        lines = run(["options", "-c", "lymphoma", "-f", "jsonl"], env)
        shown = run(["options", "-c", "lymphoma", "-f", fmt], env)
    assert lines.code == shown.code == 0, shown.err
    expected = {json.loads(line)["nct_id"] for line in lines.out.splitlines()}
    assert expected and set(re.findall(r"NCT\d{8}", shown.out)) == expected


def test_options_help_lists_the_classes_and_bad_values_are_errors() -> None:
    helped = run(["options", "--help"])
    assert helped.code == 0 and "allogeneic-car-t" in helped.out and "Example:" in helped.out
    bad = run(["options", "--therapy-class", "nope", "--source", str(FIXTURES)])
    assert bad.code == 2 and bad.err.startswith("Error:")
    assert run(["options", "-f", "xlsx", "--source", str(FIXTURES)]).code == 2
    # and --help offers only the formats the view writes (no workbook)
    formats = helped.out.split("--format", 1)[1].split("[default", 1)[0]
    assert "jsonl" in formats and "xlsx" not in formats
