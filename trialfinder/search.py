"""The search pipeline: spec -> source -> records -> classified, filtered, measured, sorted.

This is the library entry point (`trialfinder.search.run_search`); the CLI only maps options
onto a `SearchSpec` and renders what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from trialfinder.ctgov.sources import NO_HOOKS, Hooks, StudySource
from trialfinder.fields import ALL_FIELDS, fields_for
from trialfinder.records import Study
from trialfinder.schema import NEAREST_COLUMNS, STUDY_COLUMNS
from trialfinder.spec import Search, SearchOptions, SearchSpec

if TYPE_CHECKING:  # pandas, frames and filters are imported when the first frame is built
    import pandas as pd

    from trialfinder.ctgov.query import Query

__all__ = [
    "ALL_FIELDS",
    "SITE_OUTPUT_COLUMNS",
    "Search",
    "SearchOptions",
    "SearchResult",
    "SearchSpec",
    "all_columns",
    "needed_fields",
    "run_search",
    "server_query",
    "site_rows",
    "study_rows",
]

GEO_COLUMNS: tuple[str, ...] = tuple(c for c in NEAREST_COLUMNS if c != "nct_id")
SITE_OUTPUT_COLUMNS: tuple[str, ...] = (
    "nct_id",
    "title",
    "status",
    "facility",
    "city",
    "state",
    "zip",
    "country",
    "site_status",
    "site_status_from",
    "lat",
    "lon",
    "distance_mi",
    "distance_km",
    "located_by",
    "contact",
)


@dataclass
class SearchResult:
    """What a search found, with the notes the user should read on stderr.

    `sites` is built on first use when the search itself did not need it (no --near, no
    --sites): a CSV of 20,000 trials would otherwise build some 300,000 site rows it never
    shows. Pass a frame, or a callable that builds it.
    """

    studies: pd.DataFrame
    _sites: pd.DataFrame | Callable[[], pd.DataFrame]
    records: list[Study]  # the result's studies, in its order
    source: str
    notes: list[str] = field(default_factory=list)
    total: int | None = None
    truncated: bool = False
    # Trials a CAR-T or near-me filter dropped: (nct_id, title, reason), in the order dropped.
    dropped: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def sites(self) -> pd.DataFrame:
        """One row per site of the result's studies (within the radius with --near)."""
        import pandas as pd

        if not isinstance(self._sites, pd.DataFrame):
            self._sites = self._sites()
        return self._sites

    @property
    def columns(self) -> list[str]:
        """Every column the studies frame carries, in declared order."""
        return list(self.studies.columns)


def needed_fields(
    query: Query, options: SearchOptions, columns: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The API `fields` the search needs to show `columns` (None: every column)."""
    return fields_for(query, options, columns)


def server_query(query: Query, options: SearchOptions) -> Query:
    """The query sent to the server: widened for CAR-T, narrowed by distance."""
    advanced: list[str] = []
    geo_filter: str | None = None
    if options.filters_cart:
        from trialfinder.cart.widening import server_expression

        # Only stances that need a CAR-T sentence in the criteria may narrow the server query
        # to criteria that mention CAR-T; "unmentioned" trials, by definition, do not.
        speaks_of_car_t = bool(options.prior_car_t) and "unmentioned" not in options.prior_car_t
        expression = server_expression(
            car_t=options.only_car_trials,
            after_car_t=options.after_car_t or speaks_of_car_t,
            targets=options.targets,
        )
        if expression:
            advanced.append(expression)
    if options.near is not None:
        from trialfinder.geo.distance import DEFAULT_RADIUS, whole_country, whole_state
        from trialfinder.geo.distance import geo_filter as make_geo_filter

        country = whole_country(options.near, options.radius)
        state = whole_state(options.near, options.radius)
        from trialfinder.ctgov.query import quote_essie

        if country is not None:
            # The whole country, not filter.geo's circle around its capital.
            advanced.append(f"AREA[LocationCountry]{quote_essie(country)}")
        elif state is not None:
            advanced.append(
                f'AREA[LocationState]{quote_essie(state)} AND AREA[LocationCountry]"United States"'
            )
        else:
            geo_filter = make_geo_filter(options.near, options.radius or DEFAULT_RADIUS)
    return query.with_extra(advanced=advanced, geo=geo_filter)


def _add_cart_columns(
    frame: pd.DataFrame,
    records: dict[str, Study],
    profiles: dict[str, Any] | None = None,
    *,
    groups: bool = False,
) -> pd.DataFrame:
    """The CAR-T columns of each row, from `profiles` (made as pages came) or made now, and
    each study's --therapy-class group when `groups`."""
    import pandas as pd

    from trialfinder.cart.options import study_groups
    from trialfinder.cart.profile import CART_COLUMNS, profile_row
    from trialfinder.text import clean_line

    made = profiles or {}
    rows = [made.get(nct) or profile_row(records[nct]) for nct in frame["nct_id"]]
    cart = pd.DataFrame(rows, columns=list(CART_COLUMNS), index=frame.index)
    cart["prior_car_t_evidence"] = cart["prior_car_t_evidence"].map(clean_line)
    if not cart.empty:
        cart["car_t"] = cart["car_t"].astype(bool)
    out = pd.concat([frame, cart], axis=1)
    return out.assign(therapy_group=study_groups(out)) if groups else out


def _cart_filter(
    frame: pd.DataFrame,
    options: SearchOptions,
    notes: list[str],
    dropped: list[tuple[str, str, str]],
) -> pd.DataFrame:
    from trialfinder.cart.explain import stance_reason
    from trialfinder.cart.options import group_reason

    if frame.empty:
        return frame
    reasons: dict[Any, str] = {}  # frame index -> why it was dropped (the first reason)

    def drop(mask: pd.Series[bool], why: Callable[[pd.Series[Any]], str]) -> None:
        for index in frame.index[mask]:
            reasons.setdefault(index, why(frame.loc[index]))

    if options.car_t or options.targets:
        drop(~frame["car_t"].astype(bool), lambda r: "not a CAR-T trial (its own treatment)")
    if options.targets:
        wanted = {t.upper() for t in options.targets}
        has = frame["car_targets"].map(lambda ts: bool(wanted & {t.upper() for t in ts}))
        drop(
            ~has.astype(bool), lambda r: "CAR targets " + (", ".join(r["car_targets"]) or "unknown")
        )
    if kinds := options.therapy_classes:
        drop(~frame["therapy_group"].isin(kinds), lambda r: group_reason(r, kinds))
    if options.prior_car_t:
        drop(~frame["prior_car_t"].isin(options.prior_car_t), stance_reason)
    if options.after_car_t:
        excluded = (frame["prior_car_t"] == "excluded") & ~frame.index.isin(list(reasons))
        if excluded.any():
            notes.append(
                f"{int(excluded.sum())} trial(s) dropped because their eligibility criteria "
                "exclude people who already had CAR-T (see them with --prior-car-t excluded)"
            )
        drop(~frame["prior_car_t"].isin(("required", "allowed")), stance_reason)
    gone = frame.index.isin(list(reasons))
    dropped += [
        (str(frame.at[i, "nct_id"]), str(frame.at[i, "title"]), reasons[i])
        for i in frame.index[gone]
    ]
    return frame.loc[~gone].reset_index(drop=True)


def run_search(
    query: Query,
    source: StudySource,
    options: SearchOptions | None = None,
    *,
    hooks: Hooks = NO_HOOKS,
    columns: Sequence[str] | None = None,
    with_sites: bool = True,
    with_long_texts: bool = True,
) -> SearchResult:
    """Run one search end to end and return frames with declared columns.

    Build `query` and `options` from a `SearchSpec` with `spec.resolve()`, which validates
    every option and combination. `columns` names the columns the caller will read (None:
    every one): the API is asked only for the record pieces they need, and the others come
    back empty. Without `with_sites` the caller reads neither `result.sites` nor the records'
    sites: saved data's sites are then counted, not read, unless the search needs them.
    Without `with_long_texts` it reads none of the records' long texts (criteria, summary,
    intervention descriptions): each record lets them go once classified where it was read
    (`Study.without_long_texts`), half a record's memory.
    """
    options = options or SearchOptions()
    sent = server_query(query, options)
    # The API can only sort by dates, numbers and relevance; other orders (and local filters)
    # need every match before --limit cuts.
    from trialfinder.ctgov.query import SORTS

    local_order = not SORTS.get(query.sort, "")
    limit = None if options.client_side or local_order else query.limit
    if options.has_cart_columns:
        from trialfinder.cart.profile import profile_row

        hooks = replace(hooks, classify=profile_row)  # each record where it is read
    hooks = replace(hooks, long_texts=with_long_texts)
    made: dict[str, tuple[Study, tuple[Any, ...]]] = {}  # study rows, made while pages travel
    hooks = replace(hooks, studies=partial(_make_rows, made, hooks.studies))
    fields = needed_fields(query, options, columns)
    # Saved data is read whole: its sites (a study's largest part) only when the search needs
    # more than their number.
    shown = all_columns(options) if columns is None else columns
    counted = [c for c in shown if c != "sites_count"]
    read_sites = with_sites or "Location" in needed_fields(query, options, counted)
    fetched = source.fetch(sent, fields, limit=limit, hooks=hooks, sites=read_sites)
    profiles = fetched.classified
    records = {s.nct_id: s for s in fetched.studies}
    notes = list(fetched.notes)
    from trialfinder import filters
    from trialfinder.frames import sites_frame, studies_frame

    frame = studies_frame(fetched.studies, made)
    made.clear()
    # Saved data gets the whole query locally; server results get its structured part again,
    # which is cheap and covers the API ignoring filters for NCT-id-only queries (pitfall 3).
    frame = filters.apply_query(frame, records, query, text=not fetched.server_filtered)
    dropped: list[tuple[str, str, str]] = []
    if options.has_cart_columns:
        groups = bool(options.therapy_classes)
        frame = _add_cart_columns(frame, records, profiles, groups=groups)
        frame = _cart_filter(frame, options, notes, dropped)

    # Site rows in this (pre-sort) order; built now only when the search needs them.
    site_order = list(frame["nct_id"])
    sites: pd.DataFrame | None = None
    if options.near is not None:
        sites = sites_frame(records[n] for n in site_order)
        from trialfinder.nearby import near

        frame, sites = near(frame, sites, options, notes, dropped)

    sort = query.sort
    if sort == "relevance" and not (fetched.server_filtered and query.has_text_query):
        sort = "distance" if options.near is not None else "last-update"
    if sort != "relevance" or not fetched.server_filtered:
        frame = filters.sort_frame(frame, sort)
    if options.after_car_t and not frame.empty:
        # Trials made for people after CAR-T come first; the sort holds within each group.
        order = frame["prior_car_t"].map({"required": 0, "allowed": 1}).fillna(2)
        frame = frame.assign(_rank=order).sort_values("_rank", kind="stable").drop(columns="_rank")
        frame = frame.reset_index(drop=True)

    truncated = fetched.truncated
    if query.limit is not None and len(frame) > query.limit:
        frame = frame.head(query.limit).reset_index(drop=True)
        truncated = True
    if truncated:
        notes.append(f"showing the first {len(frame)} result(s); more match (raise --limit)")
    kept_ids = set(frame["nct_id"])
    result_sites: pd.DataFrame | Callable[[], pd.DataFrame]
    if sites is not None:
        result_sites = sites[sites["nct_id"].isin(kept_ids)].reset_index(drop=True)
    else:
        result_sites = partial(_sites_of, [records[n] for n in site_order if n in kept_ids])
        if options.per_site:
            result_sites = result_sites()
    kept = [records[n] for n in frame["nct_id"]]
    return SearchResult(
        frame, result_sites, kept, fetched.description, notes, fetched.total, truncated, dropped
    )


def _make_rows(
    made: dict[str, tuple[Study, tuple[Any, ...]]],
    then: Callable[[Sequence[Study]], None] | None,
    batch: Sequence[Study],
) -> None:
    """Each new record's study row, while the next page travels (pandas is not needed)."""
    from trialfinder.rows import study_values

    for study in batch:
        if study.nct_id not in made:  # the first record of an id wins, as in the result
            made[study.nct_id] = (study, study_values(study))
    if then is not None:
        then(batch)


def _sites_of(studies: list[Study]) -> pd.DataFrame:
    from trialfinder.frames import sites_frame

    return sites_frame(studies).reset_index(drop=True)


def study_rows(studies: Sequence[Study]) -> pd.DataFrame:
    """Studies as one row each with every study and CAR-T column (for `show` as a table)."""
    from trialfinder.frames import studies_frame

    return _add_cart_columns(studies_frame(studies), {s.nct_id: s for s in studies})


def site_rows(result: SearchResult, *, by_distance: bool = False) -> pd.DataFrame:
    """One row per site of the result's studies (within the radius when --near was given).

    Sites follow their trials' order, or come nearest first when `by_distance`. A site
    without a contact of its own shows the trial's central contact, as per-trial rows do.
    """
    sites = result.sites.copy()
    for col in ("distance_mi", "distance_km"):
        if col not in sites:
            sites[col] = float("nan")
    if "located_by" not in sites:
        sites["located_by"] = sites["lat"].notna().map({True: "coordinates", False: ""})
    columns = ["nct_id", "title", "status", "central_contact"]
    info = result.studies[columns].assign(_order=range(len(result.studies)))
    merged = sites.merge(info, on="nct_id", how="inner")
    # Whom to call, as the per-trial rows say it: the site's contact, else the trial's.
    own = merged["contact"].fillna("").astype(str).str.strip()
    merged["contact"] = own.where(own != "", merged["central_contact"].fillna(""))
    keys = ["distance_km", "_order"] if by_distance else ["_order", "distance_km"]
    merged = merged.sort_values(keys, na_position="last", kind="stable")
    return merged[list(SITE_OUTPUT_COLUMNS)].reset_index(drop=True)


def all_columns(options: SearchOptions) -> list[str]:
    """Every column a search with these options can output (for --columns validation)."""
    cols = list(STUDY_COLUMNS)
    if options.cart_columns or options.filters_cart:
        from trialfinder.cart.profile import CART_COLUMNS

        cols += list(CART_COLUMNS) + (["therapy_group"] if options.therapy_classes else [])
    if options.near is not None:
        cols += list(GEO_COLUMNS)
    return cols
