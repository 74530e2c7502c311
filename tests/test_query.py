"""Query validation and the API parameters it produces (checked against the spec's names)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from trialfinder.ctgov.query import (
    DEFAULT_STATUSES,
    Query,
    check_nct_id,
    parse_phases,
    parse_statuses,
)
from trialfinder.errors import InvalidNctId, InvalidOption

SPEC = Path(__file__).resolve().parents[2] / "shared" / "ctgov" / "spec" / "ctg-oas-v2.yaml"


def spec_study_params() -> set[str]:
    if not SPEC.exists():
        pytest.skip(f"the OpenAPI spec is not at {SPEC}")
    text = SPEC.read_text(encoding="utf-8")
    block = text.split("  /studies:", 1)[1].split("  /studies/{nctId}:", 1)[0]
    return set(re.findall(r'- name: "([^"]+)"', block))


def test_status_spellings() -> None:
    assert parse_statuses(None) == DEFAULT_STATUSES == ("RECRUITING", "NOT_YET_RECRUITING")
    assert parse_statuses(["recruiting"]) == ("RECRUITING",)
    assert parse_statuses(["not-yet-recruiting", "ACTIVE_NOT_RECRUITING"]) == (
        "NOT_YET_RECRUITING",
        "ACTIVE_NOT_RECRUITING",
    )
    assert parse_statuses(["Recruiting,completed"]) == ("RECRUITING", "COMPLETED")
    assert parse_statuses(["any"]) == ()
    with pytest.raises(InvalidOption, match=r"valid: .*recruiting"):
        parse_statuses(["recruting"])


def test_phase_spellings() -> None:
    assert parse_phases(["early1", "1", "2", "3", "4", "na"]) == (
        "EARLY_PHASE1",
        "PHASE1",
        "PHASE2",
        "PHASE3",
        "PHASE4",
        "NA",
    )
    assert parse_phases(["PHASE2", "phase-3", "Phase 1"]) == ("PHASE2", "PHASE3", "PHASE1")
    with pytest.raises(InvalidOption, match=r"--phase.*valid: early1, 1, 2, 3, 4, na"):
        parse_phases(["5"])


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"age": -1}, "--age"),
        ({"age": 200}, "--age"),
        ({"limit": 0}, "--limit"),
        ({"sort": "popularity"}, "--sort"),
        ({"sex": "other"}, "--sex"),
        ({"study_type": "trial"}, "--study-type"),
        ({"updated_since": "yesterday"}, "--updated-since"),
        ({"updated_since": "2026-13-01"}, "--updated-since"),
    ],
)
def test_bad_values_name_the_option(kwargs: dict[str, object], option: str) -> None:
    with pytest.raises(InvalidOption) as info:
        Query.build(**kwargs)  # type: ignore[arg-type]
    assert option in str(info.value) and "valid" in str(info.value)


def test_nct_ids() -> None:
    assert check_nct_id(" nct01234567 ") == "NCT01234567"
    for bad in ("NCT1234567", "NCT012345678", "01234567", "NCTabcdefgh", ""):
        with pytest.raises(InvalidNctId):
            check_nct_id(bad)


def test_params_use_only_spec_parameters_and_essie_for_phase_age_dates() -> None:
    q = Query.build(
        condition="lymphoma",
        term="relapsed",
        intervention="CAR-T",
        location="Houston",
        status=["recruiting"],
        phase=["1", "2"],
        study_type="interventional",
        sponsor="Example",
        age=16,
        sex="female",
        updated_since="2026-01-01",
        sort="last-update",
    ).with_extra(advanced=["AREA[Keyword]CAR"], geo="distance(29.7,-95.4,100mi)")
    params = q.to_params(["NCTId", "BriefTitle"])
    assert set(params) <= spec_study_params()
    assert "filter.phase" not in params
    assert params["filter.overallStatus"] == "RECRUITING"
    adv = params["filter.advanced"]
    assert "(AREA[Phase]PHASE1 OR AREA[Phase]PHASE2)" in adv
    assert "AREA[MinimumAge]RANGE[MIN, 16 years] AND AREA[MaximumAge]RANGE[16 years, MAX]" in adv
    assert "AREA[LastUpdatePostDate]RANGE[2026-01-01,MAX]" in adv
    assert "(AREA[Sex]FEMALE OR AREA[Sex]ALL)" in adv
    assert "AREA[StudyType]INTERVENTIONAL" in adv and "(AREA[Keyword]CAR)" in adv
    assert params["sort"] == "LastUpdatePostDate:desc"
    assert params["fields"] == "NCTId,BriefTitle"
    assert params["filter.geo"] == "distance(29.7,-95.4,100mi)"
    assert params["query.cond"] == "lymphoma" and params["query.intr"] == "CAR-T"


def test_relevance_without_a_query_sorts_by_last_update_for_stable_output() -> None:
    assert Query.build(status=["any"]).to_params()["sort"] == "LastUpdatePostDate:desc"
    assert Query.build(condition="myeloma").to_params()["sort"] == "@relevance"
    assert "filter.overallStatus" not in Query.build(status=["any"]).to_params()


def test_updated_since_accepts_year_month() -> None:
    assert Query.build(updated_since="2026-03").updated_since == dt.date(2026, 3, 1)


def test_fractional_ages_go_to_the_api_in_months() -> None:
    adv = Query.build(age=0.5).to_params()["filter.advanced"]
    assert "RANGE[MIN, 6 months]" in adv and "RANGE[6 months, MAX]" in adv
    assert "RANGE[MIN, 40 years]" in Query.build(age=40).to_params()["filter.advanced"]
