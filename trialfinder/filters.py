"""Pure DataFrame -> DataFrame filters: the query applied locally to saved data.

The live API applies the same query on the server; saved data (`--source`) gets these local
equivalents, and server results get the structured ones again (the API ignores filters when a
query holds only NCT ids; pitfall 3). Text matching is a simplified Essie: an expression is
split on `OR` into alternatives; an alternative matches when every word (or "quoted phrase")
in it appears as a whole word, case-insensitively, in the area's text, and no word after a
`NOT` does.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

import pandas as pd

from trialfinder.ctgov.query import Query
from trialfinder.records import Study


def area_text(study: Study, area: str) -> str:
    """The text a query.* parameter searches, approximated from the record."""
    titles = [t for t in (study.brief_title, study.official_title, study.acronym) if t]
    parts: list[str] = []
    if area == "cond":
        parts = [*study.conditions, *study.keywords, *titles, *study.condition_mesh]
    elif area == "intr":
        for item in study.interventions:
            parts += [item.name, *item.other_names] if item.name else list(item.other_names)
        parts += study.intervention_mesh
    elif area == "locn":
        for site in study.sites:
            parts += [site.facility, site.city, site.state, site.zip, site.country]
    elif area == "spons":
        parts = [*([study.sponsor] if study.sponsor else []), *study.collaborators]
    elif area == "term":
        parts = [study.text]  # every value of the record: key names are not study text
    return " | ".join(parts).lower()


_WORD = re.compile(r"[0-9a-z]+")


def _tokens(text: str) -> str:
    """Text as ' word word ... ' (lower case, punctuation dropped) for whole-word matching."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def _words(part: str) -> list[str]:
    try:
        words = shlex.split(part)
    except ValueError:  # an unbalanced quote: fall back to plain words
        words = part.replace('"', " ").split()
    return [t for w in words if (t := _tokens(w).strip())]


def _alternatives(expression: str) -> list[tuple[list[str], list[str]]]:
    """'a b OR c NOT d' -> [(['a', 'b'], []), (['c'], ['d'])]: required and excluded words."""
    alternatives = []
    for alt in re.split(r"\s+OR\s+", expression):
        alt = re.sub(r"\bAND\b|[()]", " ", alt)
        positive, *negatives = re.split(r"\bNOT\b", alt)
        wanted = _words(positive)
        unwanted = [w for part in negatives for w in _words(part)]
        if wanted or unwanted:
            alternatives.append((wanted, unwanted))
    return alternatives


def _has(tokens: str, word: str) -> bool:
    # Whole words (or phrases), allowing a plural: "lymphoma" finds "lymphomas", and "ALL"
    # no longer finds "allogeneic".
    return any(f" {word}{suffix} " in tokens for suffix in ("", "s", "es"))


def text_matches(text: str, expression: str) -> bool:
    """Whether `text` matches the simplified Essie `expression` (whole words, OR, NOT)."""
    alternatives = _alternatives(expression)
    if not alternatives:
        return True
    tokens = _tokens(text)
    return any(
        all(_has(tokens, w) for w in wanted) and not any(_has(tokens, w) for w in unwanted)
        for wanted, unwanted in alternatives
    )


def apply_query(
    frame: pd.DataFrame,
    records: Mapping[str, Study],
    query: Query,
    *,
    text: bool = True,
) -> pd.DataFrame:
    """Keep the rows of a studies frame that the query admits.

    `records` maps nct_id -> the study, for the free-text areas the frame does not carry.
    With `text=False` only the structured filters run (status, phase, type, sex, age, date,
    ids): server results already matched the text with the API's own synonyms.
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
        mask &= frame["sex"].isin([query.sex, "ALL"])  # as AREA[Sex]: unknown sex is dropped
    if query.age is not None:
        max_years = frame["max_age_years"].fillna(float("inf"))
        mask &= (frame["min_age_years"].fillna(0.0) <= query.age) & (max_years >= query.age)
    if query.updated_since:
        since = query.updated_since.isoformat()
        mask &= frame["last_update"].fillna("").map(lambda d: bool(d) and d >= since)
    for area, value in query.text_queries() if text else []:
        mask &= frame["nct_id"].map(
            lambda nct, a=area, v=value: text_matches(area_text(records[nct], a), v)
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
