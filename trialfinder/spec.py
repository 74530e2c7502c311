"""SearchSpec: one search as the user wrote it, validated here with every cross-option check.

A spec holds the query, the CAR-T options and the near-me options with the place as typed
("Houston, TX", not coordinates). `SearchSpec.resolve()` checks everything, in the order the
command line always has, and returns a `Search` the pipeline runs: so a bad combination is
refused with the same message from the CLI, a saved-search file or the library. A spec
round-trips through a plain dict of strings, numbers, booleans and lists (TOML-ready), keyed
by the command-line option names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from trialfinder.errors import InvalidOption, UsageError
from trialfinder.schema import PRIOR_CAR_T_LABELS

if TYPE_CHECKING:
    from trialfinder.ctgov.query import Query
    from trialfinder.geo.distance import Distance
    from trialfinder.geo.places import Place


@dataclass(frozen=True)
class SearchOptions:
    """What the search does beyond the API query: CAR-T intelligence and near-me."""

    car_t: bool = False
    targets: tuple[str, ...] = ()
    after_car_t: bool = False
    prior_car_t: tuple[str, ...] = ()
    therapy_classes: tuple[str, ...] = ()  # option group names (trialfinder.cart.options)
    near: Place | None = None
    radius: Distance | None = None
    any_site_status: bool = False
    per_site: bool = False
    cart_columns: bool = True  # compute the CAR-T columns even when no CAR-T filter is set

    @property
    def filters_cart(self) -> bool:
        """Whether a CAR-T filter decides which studies are kept."""
        return bool(
            self.car_t
            or self.targets
            or self.after_car_t
            or self.prior_car_t
            or self.therapy_classes
        )

    @property
    def only_car_trials(self) -> bool:
        """Whether every trial kept is a CAR-T trial: --car-t, --target, or only CAR groups
        asked for with --therapy-class (each trial of those is one)."""
        if self.car_t or self.targets:
            return True
        from trialfinder.cart.options import car_groups_only

        return car_groups_only(self.therapy_classes)

    @property
    def client_side(self) -> bool:
        """Whether studies are dropped after fetching (so --limit applies afterwards)."""
        return self.filters_cart or self.near is not None

    @property
    def has_cart_columns(self) -> bool:
        """Whether the result carries the CAR-T columns."""
        return self.cart_columns or self.filters_cart


@dataclass(frozen=True)
class Search:
    """A validated spec, ready to run: the API query and what is done beyond it."""

    query: Query
    options: SearchOptions


def _split(values: Sequence[str]) -> list[str]:
    """Repeatable values that may also be comma-separated; an empty value stays, to be refused."""
    parts = [p.strip() for raw in values for p in (raw.split(",") if raw.strip() else [raw])]
    return [p for p in parts if p] or ([""] if values else [])


def parse_stances(values: Sequence[str]) -> tuple[str, ...]:
    """--prior-car-t values -> stance labels (raises InvalidOption naming the labels)."""
    out = []
    for part in _split(values):
        key = part.strip().lower()
        if key not in PRIOR_CAR_T_LABELS:
            raise InvalidOption("--prior-car-t", part.strip(), list(PRIOR_CAR_T_LABELS))
        out.append(key)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class SearchSpec:
    """One search, as the user wrote it (see the module docstring). Build, then `resolve()`."""

    condition: str | None = None
    term: str | None = None
    intervention: str | None = None
    location: str | None = None
    status: tuple[str, ...] = ()
    phase: tuple[str, ...] = ()
    study_type: str | None = None
    sponsor: str | None = None
    age: float | None = None
    sex: str | None = None
    updated_since: str | None = None
    limit: int | None = None
    sort: str | None = None
    car_t: bool = False
    target: tuple[str, ...] = ()
    after_car_t: bool = False
    prior_car_t: tuple[str, ...] = ()
    therapy_class: tuple[str, ...] = ()
    near: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius: str | None = None
    any_site_status: bool = False
    sites: bool = False
    ids: tuple[str, ...] = field(default=())

    @property
    def has_place(self) -> bool:
        """Whether a place is given (by name or by coordinates)."""
        return self.near is not None or self.lat is not None or self.lon is not None

    def resolve(self, *, place_of: Callable[[str], Place] | None = None) -> Search:
        """Validate every option and combination, resolve the place; raises UsageError.

        `place_of` turns a place name into a Place (default: the offline gazetteer).
        """
        from trialfinder.ctgov.query import Query

        query = Query.build(
            condition=self.condition,
            term=self.term,
            intervention=self.intervention,
            location=self.location,
            status=list(self.status) or None,
            phase=list(self.phase) or None,
            study_type=self.study_type,
            sponsor=self.sponsor,
            age=self.age,
            sex=self.sex,
            updated_since=self.updated_since,
            limit=self.limit,
            sort=self.sort or ("distance" if (self.near or self.lat is not None) else None),
            ids=self.ids,
        )
        if query.sort == "distance" and self.near is None and self.lat is None:
            raise UsageError("--sort distance needs --near (or --lat and --lon)")
        targets = self._targets()
        stances = parse_stances(self.prior_car_t) if self.prior_car_t else ()
        therapy_classes = self._therapy_classes()
        distance = self.distance()
        place = self.place(place_of=place_of)
        if self.any_site_status and place is None:
            raise UsageError("--any-site-status needs --near (or --lat and --lon)")
        if self.after_car_t and set(stances) - {"required", "allowed"}:
            raise UsageError(
                "--after-car-t keeps trials that require or allow prior CAR-T; it cannot be "
                "combined with --prior-car-t excluded or unmentioned"
            )
        options = SearchOptions(
            car_t=self.car_t,
            targets=targets,
            after_car_t=self.after_car_t,
            prior_car_t=stances,
            therapy_classes=therapy_classes,
            near=place,
            radius=distance,
            any_site_status=self.any_site_status,
            per_site=self.sites,
        )
        return Search(query, options)

    def _targets(self) -> tuple[str, ...]:
        if not self.target:
            return ()
        from trialfinder.cart.vocab import parse_targets

        return parse_targets(_split(self.target))

    def _therapy_classes(self) -> tuple[str, ...]:
        if not self.therapy_class:
            return ()
        from trialfinder.cart.options import check_option_groups

        return check_option_groups(_split(self.therapy_class))

    def distance(self) -> Distance | None:
        """The radius, parsed (None when not given); a radius needs a place."""
        if self.radius is None:
            return None
        if not self.has_place:
            raise UsageError("--radius needs --near (or --lat and --lon)")
        from trialfinder.geo.distance import parse_radius

        return parse_radius(self.radius)

    def place(self, *, place_of: Callable[[str], Place] | None = None) -> Place | None:
        """The place searched from, resolved (None when no place is given)."""
        if not self.has_place:
            return None
        from trialfinder.geo.places import place_from_coordinates, resolve_place

        if self.near is not None and (self.lat is not None or self.lon is not None):
            raise UsageError("give either --near or --lat/--lon, not both")
        if self.near is not None:
            return (place_of or resolve_place)(self.near)
        if self.lat is None or self.lon is None:
            raise UsageError("--lat and --lon go together: give both")
        return place_from_coordinates(self.lat, self.lon)

    # -- a plain dict, keyed by option names (TOML-ready) ----------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The options that differ from the defaults, keyed by option name (e.g. 'after-car-t')."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            out[_key(f.name)] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "the search") -> SearchSpec:
        """A spec from `to_dict()` output or a hand-written table (raises UsageError).

        Keys may use hyphens or underscores; an unknown key or a value of the wrong type is
        an error naming `where`, the key and what is expected. Values are checked further by
        `resolve()`.
        """
        by_key = {_key(f.name): f for f in fields(cls)}
        values: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = _key(str(raw_key))
            if key not in by_key:
                raise UsageError(
                    f"{where}: unknown option {raw_key!r} (valid: {', '.join(by_key)})"
                )
            f = by_key[key]
            values[f.name] = _typed(value, _KINDS[f.name], f"{where}: {key}")
        return cls(**values)

    def with_changes(self, **changes: Any) -> SearchSpec:
        """A copy with some options changed (for editing a saved search)."""
        return replace(self, **changes)


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


_EXPECTED = {
    "text": "a string",
    "texts": "a list of strings",
    "flag": "true or false",
    "number": "a number",
    "count": "a whole number",
}


def _typed(value: Any, kind: str, where: str) -> Any:
    ok = {
        "text": isinstance(value, str),
        "texts": isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value),
        "flag": isinstance(value, bool),
        "number": isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value),
        "count": isinstance(value, int) and not isinstance(value, bool),
    }[kind]
    if kind == "texts" and isinstance(value, str):
        return (value,)  # one value where a list is allowed: `status = "recruiting"`
    if not ok:
        raise UsageError(f"{where} must be {_EXPECTED[kind]}, not {value!r}")
    if kind == "number":
        return float(value)  # as the command line gives it: 40 and 40.0 are one age
    return tuple(value) if kind == "texts" else value


# The type of each option's value in a dict (and a TOML file).
_KINDS: dict[str, str] = {
    "condition": "text",
    "term": "text",
    "intervention": "text",
    "location": "text",
    "status": "texts",
    "phase": "texts",
    "study_type": "text",
    "sponsor": "text",
    "age": "number",
    "sex": "text",
    "updated_since": "text",
    "limit": "count",
    "sort": "text",
    "car_t": "flag",
    "target": "texts",
    "after_car_t": "flag",
    "prior_car_t": "texts",
    "therapy_class": "texts",
    "near": "text",
    "lat": "number",
    "lon": "number",
    "radius": "text",
    "any_site_status": "flag",
    "sites": "flag",
    "ids": "texts",
}
