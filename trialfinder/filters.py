"""Pure DataFrame -> DataFrame filters: the query applied locally to saved data.

The live API applies the same query on the server; saved data (`--source`) gets these local
equivalents. Text matching is a simplified Essie: an expression is split on `OR` into
alternatives; an alternative matches when every word (or "quoted phrase") in it appears,
case-insensitively, in the area's text.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .normalize import dig
from .query import Query


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _mesh_terms(study: Mapping[str, Any], module: str) -> list[str]:
    derived = dig(study, "derivedSection", module) or {}
    terms: list[str] = []
    # Only the study's own MeSH terms and their ancestors: browse leaves include terms the
    # registry marks as of low relevance, which would make saved-data searches too wide.
    for key in ("meshes", "ancestors"):
        for item in derived.get(key) or []:
            if isinstance(item, Mapping):
                terms += _strings(item.get("term")) + _strings(item.get("name"))
    return terms


def area_text(study: Mapping[str, Any], area: str) -> str:
    """The text a query.* parameter searches, approximated from the record."""
    ps = study.get("protocolSection") or {}
    ident = ps.get("identificationModule") or {}
    titles = _strings(ident.get("briefTitle")) + _strings(ident.get("officialTitle"))
    titles += _strings(ident.get("acronym"))
    parts: list[str] = []
    if area == "cond":
        cond = ps.get("conditionsModule") or {}
        parts = _strings(cond.get("conditions")) + _strings(cond.get("keywords")) + titles
        parts += _mesh_terms(study, "conditionBrowseModule")
    elif area == "intr":
        for item in dig(ps, "armsInterventionsModule", "interventions") or []:
            if isinstance(item, Mapping):
                parts += _strings(item.get("name")) + _strings(item.get("otherNames"))
        parts += _mesh_terms(study, "interventionBrowseModule")
    elif area == "locn":
        for loc in dig(ps, "contactsLocationsModule", "locations") or []:
            if isinstance(loc, Mapping):
                parts += [
                    str(loc.get(k) or "") for k in ("facility", "city", "state", "zip", "country")
                ]
    elif area == "spons":
        sponsors = ps.get("sponsorCollaboratorsModule") or {}
        parts = _strings(dig(sponsors, "leadSponsor", "name"))
        parts += [
            c.get("name", "") for c in sponsors.get("collaborators") or [] if isinstance(c, Mapping)
        ]
    elif area == "term":
        parts = [json.dumps(study, ensure_ascii=False)]
    return " | ".join(parts).lower()


def _alternatives(expression: str) -> list[list[str]]:
    alternatives = []
    for alt in re.split(r"\s+OR\s+", expression):
        alt = re.sub(r"\b(AND|NOT)\b|[()]", " ", alt)
        try:
            words = shlex.split(alt)
        except ValueError:  # an unbalanced quote: fall back to plain words
            words = alt.replace('"', " ").split()
        words = [w.lower() for w in words if w.strip()]
        if words:
            alternatives.append(words)
    return alternatives


def text_matches(text: str, expression: str) -> bool:
    """Whether lower-cased `text` matches the simplified Essie `expression`."""
    alternatives = _alternatives(expression)
    return not alternatives or any(all(w in text for w in alt) for alt in alternatives)


def apply_query(
    frame: pd.DataFrame, raw: Mapping[str, Mapping[str, Any]], query: Query
) -> pd.DataFrame:
    """Keep the rows of a studies frame that the query admits (for saved data).

    `raw` maps nct_id -> the raw study, for the free-text areas the frame does not carry.
    """
    mask = pd.Series(True, index=frame.index)
    if query.ids:
        mask &= frame["nct_id"].isin(query.ids)
    if query.statuses:
        mask &= frame["status"].isin(query.statuses)
    if query.phases:
        wanted = set(query.phases)
        mask &= frame["phases"].map(lambda ps: bool(wanted.intersection(ps)))
    if query.study_type:
        mask &= frame["study_type"] == query.study_type
    if query.sex and query.sex != "ALL":
        mask &= frame["sex"].isin([query.sex, "ALL"]) | frame["sex"].isna()
    if query.age is not None:
        max_years = frame["max_age_years"].fillna(float("inf"))
        mask &= (frame["min_age_years"].fillna(0.0) <= query.age) & (max_years >= query.age)
    if query.updated_since:
        since = query.updated_since.isoformat()
        mask &= frame["last_update"].fillna("").map(lambda d: bool(d) and d >= since)
    for area, value in (
        ("cond", query.condition),
        ("term", query.term),
        ("intr", query.intervention),
        ("locn", query.location),
        ("spons", query.sponsor),
    ):
        if value:
            mask &= frame["nct_id"].map(
                lambda nct, a=area, v=value: text_matches(area_text(raw.get(nct, {}), a), v)
            )
    return frame.loc[mask.astype(bool)].reset_index(drop=True)


def sort_frame(frame: pd.DataFrame, sort: str) -> pd.DataFrame:
    """Sort a studies frame locally by one of query.SORTS (relevance keeps the given order)."""
    if frame.empty:
        return frame
    if sort == "last-update":
        return frame.sort_values(
            ["last_update", "nct_id"], ascending=[False, True], na_position="last", kind="stable"
        ).reset_index(drop=True)
    if sort == "start-date":
        return frame.sort_values(
            ["start_date", "nct_id"], ascending=[False, True], na_position="last", kind="stable"
        ).reset_index(drop=True)
    if sort == "enrollment":
        return frame.sort_values(
            ["enrollment", "nct_id"], ascending=[False, True], na_position="last", kind="stable"
        ).reset_index(drop=True)
    if sort == "nct-id":
        return frame.sort_values("nct_id", kind="stable").reset_index(drop=True)
    if sort == "distance" and "distance_mi" in frame:
        return frame.sort_values(
            ["distance_mi", "nct_id"], na_position="last", kind="stable"
        ).reset_index(drop=True)
    return frame
