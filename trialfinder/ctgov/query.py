"""What the user asked for: a frozen Query, its validation, and its API v2 parameters; no I/O.

Every option value is checked here so that the CLI and library users get the same one-line
`InvalidOption` errors naming the valid choices.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trialfinder.errors import InvalidNctId, InvalidOption

# The spec's Status enum (components.schemas.Status), in the order the spec lists them.
STATUSES: tuple[str, ...] = (
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
)
DEFAULT_STATUSES: tuple[str, ...] = ("RECRUITING", "NOT_YET_RECRUITING")
# Friendly spellings beyond the enum names themselves (which are accepted in any case, with
# hyphens or underscores).
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "open": DEFAULT_STATUSES,
    "active": (
        "RECRUITING",
        "NOT_YET_RECRUITING",
        "ACTIVE_NOT_RECRUITING",
        "ENROLLING_BY_INVITATION",
    ),
    "closed": ("COMPLETED", "TERMINATED", "WITHDRAWN", "SUSPENDED"),
    "any": (),
    "all": (),
}

PHASES: dict[str, str] = {
    "early1": "EARLY_PHASE1",
    "1": "PHASE1",
    "2": "PHASE2",
    "3": "PHASE3",
    "4": "PHASE4",
    "na": "NA",
}
STUDY_TYPES: dict[str, str] = {
    "interventional": "INTERVENTIONAL",
    "observational": "OBSERVATIONAL",
    "expanded-access": "EXPANDED_ACCESS",
}
SEXES: dict[str, str] = {"all": "ALL", "female": "FEMALE", "male": "MALE"}
# Sort names -> the API's sort parameter (only dates, numbers and @relevance can be sorted).
SORTS: dict[str, str] = {
    "relevance": "@relevance",
    "last-update": "LastUpdatePostDate:desc",
    "start-date": "StartDate:desc",
    "enrollment": "EnrollmentCount:desc",
    "nct-id": "",
    "distance": "",
}

NCT_ID_RE = re.compile(r"^NCT\d{8}$")
MAX_PAGE_SIZE = 1000


def _key(text: str) -> str:
    return text.strip().lower().replace("_", "-").replace(" ", "-")


def parse_statuses(values: Iterable[str] | None) -> tuple[str, ...]:
    """Friendly status spellings -> Status enum values; () means any status."""
    values = list(values or [])
    if not values:
        return DEFAULT_STATUSES
    out: list[str] = []
    by_key = {_key(s): s for s in STATUSES}
    for raw in values:
        if not raw.strip():
            raise InvalidOption(
                "--status", raw, ["recruiting", "not-yet-recruiting", "open", "any"]
            )
        for part in raw.split(","):
            key = _key(part)
            if not key:
                continue
            if key in STATUS_GROUPS:
                if not STATUS_GROUPS[key]:
                    return ()
                out.extend(STATUS_GROUPS[key])
            elif key in by_key:
                out.append(by_key[key])
            else:
                choices = [*STATUS_GROUPS, *(s.lower().replace("_", "-") for s in STATUSES)]
                raise InvalidOption("--status", part.strip(), choices)
    return tuple(dict.fromkeys(out))


def parse_phases(values: Iterable[str] | None) -> tuple[str, ...]:
    """Phase spellings (early1, 1, 2, 3, 4, na, or PHASE2, phase-2) -> Phase enum values."""
    out: list[str] = []
    enum_by_key = {_key(v): v for v in PHASES.values()} | {"early-phase1": "EARLY_PHASE1"}
    for raw in values or []:
        if not raw.strip():
            raise InvalidOption("--phase", raw, list(PHASES))
        for part in raw.split(","):
            key = _key(part).replace("phase-", "phase")
            if not key:
                continue
            if key in PHASES:
                out.append(PHASES[key])
            elif key in enum_by_key:
                out.append(enum_by_key[key])
            elif key.startswith("phase") and key[5:] in PHASES:
                out.append(PHASES[key[5:]])
            else:
                raise InvalidOption("--phase", part.strip(), list(PHASES))
    return tuple(dict.fromkeys(out))


def _choice(option: str, value: str | None, table: dict[str, str]) -> str | None:
    if value is None:
        return None
    key = _key(value)
    if key in table:
        return table[key]
    upper = value.strip().upper()
    if upper in table.values():
        return upper
    raise InvalidOption(option, value, list(table))


def parse_date(option: str, value: str | None) -> dt.date | None:
    """YYYY-MM-DD (or YYYY-MM, taken as the first of the month) -> date."""
    if value is None:
        return None
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return dt.date.fromisoformat(text + "-01")
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidOption(option, value, "a date as YYYY-MM-DD, e.g. 2026-01-31") from None


def check_nct_id(value: str) -> str:
    """Return the NCT id upper-cased, or raise InvalidNctId."""
    text = value.strip().upper()
    if not NCT_ID_RE.match(text):
        raise InvalidNctId(value)
    return text


@dataclass(frozen=True)
class Query:
    """One search, already validated. Build it with `Query.build(...)` from raw user values."""

    condition: str | None = None
    term: str | None = None
    intervention: str | None = None
    location: str | None = None
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    sponsor: str | None = None
    age: float | None = None
    sex: str | None = None
    updated_since: dt.date | None = None
    limit: int | None = None
    sort: str = "relevance"
    ids: tuple[str, ...] = ()
    # Extra Essie expressions ANDed into filter.advanced by features that widen or narrow the
    # server query (CAR-T vocabulary, ...); they never replace local classification.
    advanced: tuple[str, ...] = field(default=())
    geo: str | None = None

    @classmethod
    def build(
        cls,
        *,
        condition: str | None = None,
        term: str | None = None,
        intervention: str | None = None,
        location: str | None = None,
        status: Sequence[str] | None = None,
        phase: Sequence[str] | None = None,
        study_type: str | None = None,
        sponsor: str | None = None,
        age: float | None = None,
        sex: str | None = None,
        updated_since: str | None = None,
        limit: int | None = None,
        sort: str | None = None,
        ids: Sequence[str] = (),
    ) -> Query:
        """Validate raw option values and return a Query (raises InvalidOption)."""
        if age is not None and not 0 <= age <= 120:
            raise InvalidOption("--age", age, "a number of years from 0 to 120")
        if limit is not None and limit < 1:
            raise InvalidOption("--limit", limit, "a whole number of 1 or more")
        sort_key = _key(sort) if sort else "relevance"
        if sort_key not in SORTS:
            raise InvalidOption("--sort", sort, list(SORTS))

        def clean(text: str | None, option: str, example: str) -> str | None:
            if text is None:
                return None
            words = " ".join(text.split())
            if not words:
                # An empty value would silently search for everything (issue 10).
                raise InvalidOption(option, text, f"one or more words, e.g. {example}")
            return words

        return cls(
            condition=clean(condition, "--condition", '"lymphoma"'),
            term=clean(term, "--term", '"CD19"'),
            intervention=clean(intervention, "--intervention", '"axicabtagene ciloleucel"'),
            location=clean(location, "--location", '"Houston"'),
            statuses=parse_statuses(status),
            phases=parse_phases(phase),
            study_type=_choice("--study-type", study_type, STUDY_TYPES),
            sponsor=clean(sponsor, "--sponsor", '"Kite"'),
            age=age,
            sex=_choice("--sex", sex, SEXES),
            updated_since=parse_date("--updated-since", updated_since),
            limit=limit,
            sort=sort_key,
            ids=tuple(check_nct_id(i) for i in ids),
        )

    def advanced_expression(self) -> str | None:
        """The Essie expression for filter.advanced: phases, type, sex, age, dates, extras."""
        terms: list[str] = []
        if self.phases:
            terms.append("(" + " OR ".join(f"AREA[Phase]{p}" for p in self.phases) + ")")
        if self.study_type:
            terms.append(f"AREA[StudyType]{self.study_type}")
        if self.sex and self.sex != "ALL":
            # A trial open to all sexes admits everyone.
            terms.append(f"(AREA[Sex]{self.sex} OR AREA[Sex]ALL)")
        if self.age is not None:
            # The spec's own example for "a person of N years is eligible".
            # Whole years as the spec's example writes them; a fraction of a year in months.
            if float(self.age).is_integer():
                years = f"{int(self.age)} years"
            else:
                years = f"{round(self.age * 12)} months"
            terms.append(
                f"AREA[MinimumAge]RANGE[MIN, {years}] AND AREA[MaximumAge]RANGE[{years}, MAX]"
            )
        if self.updated_since:
            terms.append(f"AREA[LastUpdatePostDate]RANGE[{self.updated_since.isoformat()},MAX]")
        terms.extend(f"({a})" for a in self.advanced)
        return " AND ".join(terms) if terms else None

    def to_params(self, fields: Sequence[str] = ()) -> dict[str, str]:
        """The /studies parameters for this query (every page repeats them; pitfall 4)."""
        params: dict[str, str] = {"format": "json"}
        for area, value in self.text_queries():
            params[f"query.{area}"] = value
        if self.statuses:
            params["filter.overallStatus"] = ",".join(self.statuses)
        if self.ids:
            params["filter.ids"] = ",".join(self.ids)
        if self.geo:
            params["filter.geo"] = self.geo
        advanced = self.advanced_expression()
        if advanced:
            params["filter.advanced"] = advanced
        api_sort = SORTS[self.sort]
        if self.sort == "relevance" and not self.has_text_query:
            # Relevance means nothing without a query; sort for stable output (pitfall 2).
            api_sort = SORTS["last-update"]
        if api_sort:
            params["sort"] = api_sort
        if fields:
            params["fields"] = ",".join(fields)
        return params

    def text_queries(self) -> list[tuple[str, str]]:
        """The free-text searches as (area, expression): area is the `query.<area>` suffix."""
        pairs = (
            ("cond", self.condition),
            ("term", self.term),
            ("intr", self.intervention),
            ("locn", self.location),
            ("spons", self.sponsor),
        )
        return [(area, value) for area, value in pairs if value]

    @property
    def has_text_query(self) -> bool:
        """Whether any query.* parameter is set (relevance ranking needs one)."""
        return bool(self.text_queries())

    def with_extra(self, *, advanced: Sequence[str] = (), geo: str | None = None) -> Query:
        """A copy with more filter.advanced terms and/or a filter.geo value."""
        from dataclasses import replace

        return replace(self, advanced=self.advanced + tuple(advanced), geo=geo or self.geo)


def quote_essie(text: str) -> str:
    """Quote a phrase for use inside an Essie expression (inner double quotes are dropped)."""
    return '"' + text.replace('"', " ").strip() + '"'
