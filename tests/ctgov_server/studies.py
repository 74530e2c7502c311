"""Study objects: the `make_study` builders, saved-record loading and NCT id checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from .spec import _NCT_RE


def normalize_nct_id(value: str) -> str | None:
    """`value` as NCT + 8 digits when it matches the spec's pattern (`nct1234` too), else None."""
    match = _NCT_RE.match(value)
    return f"NCT{int(match.group(1)):08d}" if match else None


def _nct_of(study: Mapping[str, Any]) -> str:
    try:
        raw = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        raise ValueError("a study needs protocolSection.identificationModule.nctId") from None
    nct = normalize_nct_id(str(raw))
    if nct is None:
        raise ValueError(f"malformed nctId {raw!r}")
    return nct


def load_record_studies(path: Path) -> list[dict[str, Any]]:
    """The studies in saved API output: a /studies page, one study, or a JSON array of studies."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, list):
        studies = data
    elif isinstance(data, dict) and isinstance(data.get("studies"), list):
        studies = data["studies"]
    elif isinstance(data, dict) and "protocolSection" in data:
        studies = [data]
    else:
        raise ValueError(f"{path}: not a /studies page, a study or a list of studies")
    for study in studies:
        if not isinstance(study, dict) or "protocolSection" not in study:
            raise ValueError(f"{path}: an item is not a study object")
    return studies


_OVERRIDE_PATHS: Final = {
    "brief_title": "protocolSection.identificationModule.briefTitle",
    "official_title": "protocolSection.identificationModule.officialTitle",
    "acronym": "protocolSection.identificationModule.acronym",
    "nct_id_aliases": "protocolSection.identificationModule.nctIdAliases",
    "overall_status": "protocolSection.statusModule.overallStatus",
    "start_date": "protocolSection.statusModule.startDateStruct.date",
    "primary_completion_date": "protocolSection.statusModule.primaryCompletionDateStruct.date",
    "completion_date": "protocolSection.statusModule.completionDateStruct.date",
    "last_update_post_date": "protocolSection.statusModule.lastUpdatePostDateStruct.date",
    "lead_sponsor": "protocolSection.sponsorCollaboratorsModule.leadSponsor.name",
    "brief_summary": "protocolSection.descriptionModule.briefSummary",
    "conditions": "protocolSection.conditionsModule.conditions",
    "keywords": "protocolSection.conditionsModule.keywords",
    "study_type": "protocolSection.designModule.studyType",
    "phases": "protocolSection.designModule.phases",
    "enrollment_count": "protocolSection.designModule.enrollmentInfo.count",
    "eligibility_criteria": "protocolSection.eligibilityModule.eligibilityCriteria",
    "healthy_volunteers": "protocolSection.eligibilityModule.healthyVolunteers",
    "sex": "protocolSection.eligibilityModule.sex",
    "minimum_age": "protocolSection.eligibilityModule.minimumAge",
    "maximum_age": "protocolSection.eligibilityModule.maximumAge",
    "std_ages": "protocolSection.eligibilityModule.stdAges",
    "locations": "protocolSection.contactsLocationsModule.locations",
    "has_results": "hasResults",
}


_TOP_LEVEL_KEYS: Final = frozenset(
    {
        "protocolSection",
        "resultsSection",
        "annotationSection",
        "documentSection",
        "derivedSection",
        "hasResults",
    }
)


def _set_path(study: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = study
    for name in parents:
        node = node.setdefault(name, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def _label(intervention_type: str) -> str:
    return intervention_type.replace("_", " ").title()


def make_study(nct_id: str, **overrides: Any) -> dict[str, Any]:
    """A small but realistic study object, in the exact shape the API returns.

    Defaults: a recruiting phase 2 interventional study of "Study Drug" in lymphoma with one
    recruiting site in Houston (with geoPoint). The last update date and enrollment vary with the
    id, so sorting has something to do. Overrides, by keyword:

    * the names in `_OVERRIDE_PATHS` (`overall_status="COMPLETED"`, `phases=["PHASE1",
      "PHASE2"]`, `last_update_post_date="2026-01-05"`, `locations=[{...}]`, ...);
    * `interventions`: names (taken as DRUG) or intervention objects; the arm is rebuilt;
    * `collaborators`: names;
    * any dotted JSON path, passed as `**{"protocolSection.statusModule.whyStopped": "..."}`,
      or a top-level key such as `hasResults`.

    A value of None removes the field.
    """
    nct = normalize_nct_id(nct_id)
    if nct is None:
        raise ValueError(f"malformed NCT id {nct_id!r}")
    n = int(nct[3:])
    updated = (date(2025, 1, 1) + timedelta(days=n % 365)).isoformat()
    study: dict[str, Any] = {
        "protocolSection": {
            "identificationModule": {
                "nctId": nct,
                "orgStudyIdInfo": {"id": f"ORG-{n}"},
                "organization": {"fullName": "Example Cancer Center", "class": "OTHER"},
                "briefTitle": f"Study Drug in Relapsed Lymphoma ({nct})",
                "officialTitle": (
                    "A Phase 2 Study of Study Drug in Adults With Relapsed or Refractory "
                    f"Lymphoma ({nct})"
                ),
            },
            "statusModule": {
                "statusVerifiedDate": updated[:7],
                "overallStatus": "RECRUITING",
                "startDateStruct": {"date": f"2024-{n % 12 + 1:02d}", "type": "ACTUAL"},
                "primaryCompletionDateStruct": {"date": "2027-06", "type": "ESTIMATED"},
                "completionDateStruct": {"date": "2028-06", "type": "ESTIMATED"},
                "studyFirstSubmitDate": "2024-01-10",
                "studyFirstSubmitQcDate": "2024-01-10",
                "studyFirstPostDateStruct": {"date": "2024-01-15", "type": "ACTUAL"},
                "lastUpdateSubmitDate": updated,
                "lastUpdatePostDateStruct": {"date": updated, "type": "ACTUAL"},
            },
            "sponsorCollaboratorsModule": {
                "responsibleParty": {"type": "SPONSOR"},
                "leadSponsor": {"name": "Example Cancer Center", "class": "OTHER"},
            },
            "descriptionModule": {
                "briefSummary": "This study tests Study Drug in relapsed or refractory lymphoma.",
            },
            "conditionsModule": {
                "conditions": ["Lymphoma"],
                "keywords": ["relapsed", "refractory"],
            },
            "designModule": {
                "studyType": "INTERVENTIONAL",
                "phases": ["PHASE2"],
                "designInfo": {
                    "allocation": "NA",
                    "interventionModel": "SINGLE_GROUP",
                    "primaryPurpose": "TREATMENT",
                    "maskingInfo": {"masking": "NONE"},
                },
                "enrollmentInfo": {"count": 10 + n % 491, "type": "ESTIMATED"},
            },
            "armsInterventionsModule": {},
            "outcomesModule": {
                "primaryOutcomes": [
                    {"measure": "Overall response rate", "timeFrame": "Up to 12 months"}
                ],
            },
            "eligibilityModule": {
                "eligibilityCriteria": (
                    "Inclusion Criteria:\n\n* Age 18 years or older\n"
                    "* Relapsed or refractory lymphoma\n\n"
                    "Exclusion Criteria:\n\n* Active uncontrolled infection"
                ),
                "healthyVolunteers": False,
                "sex": "ALL",
                "minimumAge": "18 Years",
                "stdAges": ["ADULT", "OLDER_ADULT"],
            },
            "contactsLocationsModule": {
                "locations": [
                    {
                        "facility": "Example Cancer Center",
                        "status": "RECRUITING",
                        "city": "Houston",
                        "state": "Texas",
                        "zip": "77030",
                        "country": "United States",
                        "geoPoint": {"lat": 29.76328, "lon": -95.36327},
                    }
                ],
            },
        },
        "derivedSection": {"miscInfoModule": {"versionHolder": updated}},
        "hasResults": False,
    }
    interventions: Any = overrides.pop("interventions", ["Study Drug"])
    _set_interventions(study, interventions)
    collaborators = overrides.pop("collaborators", None)
    if collaborators is not None:
        _set_path(
            study,
            "protocolSection.sponsorCollaboratorsModule.collaborators",
            [{"name": name, "class": "OTHER"} for name in collaborators],
        )
    for key, value in overrides.items():
        if key in _OVERRIDE_PATHS:
            _set_path(study, _OVERRIDE_PATHS[key], copy.deepcopy(value))
        elif "." in key or key in _TOP_LEVEL_KEYS:
            _set_path(study, key, copy.deepcopy(value))
        else:
            raise TypeError(f"make_study() got an unknown override {key!r}")
    return study


def _set_interventions(
    study: dict[str, Any], interventions: Sequence[str | Mapping[str, Any]] | None
) -> None:
    module = study["protocolSection"]["armsInterventionsModule"]
    if not interventions:
        module.clear()
        return
    items: list[dict[str, Any]] = [
        {"type": "DRUG", "name": item} if isinstance(item, str) else copy.deepcopy(dict(item))
        for item in interventions
    ]
    arm = "Experimental: " + " + ".join(str(i.get("name", "")) for i in items)
    for item in items:
        item.setdefault("type", "DRUG")
        item.setdefault("armGroupLabels", [arm])
    module["armGroups"] = [
        {
            "label": arm,
            "type": "EXPERIMENTAL",
            "interventionNames": [f"{_label(i['type'])}: {i.get('name', '')}" for i in items],
        }
    ]
    module["interventions"] = items


def make_studies(count: int, *, first: int = 90000001, **overrides: Any) -> list[dict[str, Any]]:
    """`count` studies from `make_study`, with ids NCT90000001, NCT90000002, ..."""
    return [make_study(f"NCT{first + i:08d}", **overrides) for i in range(count)]
