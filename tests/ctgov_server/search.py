"""A validated search applied: the studies that match a `_Plan`, in its sort order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import _collect, _Field
from .matching import _matches, _StudyView
from .plan import _Plan
from .studies import normalize_nct_id
from .values import _geo_within, _scalar


def _filtered(
    studies: list[dict[str, Any]], plan: _Plan, cache: dict[Any, Any] | None = None
) -> list[dict[str, Any]]:
    """The studies that match; `cache` keeps each study's field values across requests."""
    out = []
    for study in studies:
        view = _StudyView(study, cache=cache)
        if not all(_matches(node, view, area) for area, node in plan.queries):
            continue
        if plan.query_ids:
            # The spec: "If any query parameter contains only NCT IDs ... filters are ignored."
            aliases = _study_ids(study)
            if all(aliases & ids for ids in plan.query_ids):
                out.append(study)
            continue
        if not _passes_filters(study, view, plan):
            continue
        out.append(study)
    return out


def _passes_filters(study: dict[str, Any], view: _StudyView, plan: _Plan) -> bool:
    status = study.get("protocolSection", {}).get("statusModule", {}).get("overallStatus")
    if any(status not in allowed for allowed in plan.statuses):
        return False
    if plan.ids and not all(_study_ids(study) & ids for ids in plan.ids):
        return False
    if not all(_matches(node, view, None) for node in plan.advanced):
        return False
    if not plan.geo:
        return True
    points = _collect(study, ("protocolSection", "contactsLocationsModule", "locations"))
    return all(
        any(
            _geo_within(site.get("geoPoint"), lat, lon, km)
            for site in points
            if isinstance(site, dict)
        )
        for lat, lon, km in plan.geo
    )


def _sorted(
    studies: list[dict[str, Any]],
    keys: list[tuple[_Field | None, bool]],
    cache: dict[Any, Any] | None = None,
) -> list[dict[str, Any]]:
    result = list(studies)
    for target, descending in reversed(keys):
        if target is None:
            continue  # @relevance: every study is equally relevant here; keep the order
        valued: list[tuple[Any, dict[str, Any]]] = []
        missing: list[dict[str, Any]] = []
        for study in result:
            key = (id(study), target.path, "sort")
            present = cache.get(key) if cache is not None else None
            if present is None:
                values = [_scalar(target.kind, v) for v in _collect(study, target.path)]
                present = [v for v in values if v is not None]
                if cache is not None:
                    cache[key] = present
            if present:
                valued.append((present[0], study))
            else:
                missing.append(study)
        valued.sort(key=lambda pair: pair[0], reverse=descending)
        # The spec: "Studies missing sort field are always last."
        result = [study for _, study in valued] + missing
    return result


def _study_ids(study: Mapping[str, Any]) -> set[str]:
    ident = study.get("protocolSection", {}).get("identificationModule", {})
    raw = [ident.get("nctId", ""), *ident.get("nctIdAliases", [])]
    return {n for n in (normalize_nct_id(str(r)) for r in raw) if n is not None}
