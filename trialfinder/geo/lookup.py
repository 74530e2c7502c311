"""Index queries: every read of the city, country and ZIP indexes, each opened once per process.

gazetteer.py builds and caches the indexes; this module only reads them, through a few indexed
SQL queries, and knows nothing of what a person typed or how candidates rank (places.py's job).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple

from trialfinder.geo.gazetteer import CITY_COLUMNS, City, open_cities, open_zips
from trialfinder.geo.names import country_names


class Scope(NamedTuple):
    """An area a city is looked for in: a country, or one admin1 region of it."""

    cc: str
    admin1: str | None  # None: the whole country
    text: str  # how to name it in messages


class Country(NamedTuple):
    """A country with a city to centre a search on."""

    name: str  # as ClinicalTrials.gov writes it
    lat: float
    lon: float
    centre: str


class ZipCode(NamedTuple):
    """A US ZIP code as the index holds it; military ZIPs have no location."""

    city: str
    state: str
    lat: float | None
    lon: float | None


class Town(NamedTuple):
    """A US town placed at the mean of its ZIP codes' centroids."""

    name: str
    lat: float
    lon: float


class CityIndex:
    """The cities and countries index, with the country spellings."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        spellings = country_names()
        self.country_by_key = spellings.by_key
        self.iso2 = spellings.iso2
        # Countries without a city (Antarctica, defunct codes) have nowhere to centre a search.
        self.countries = {
            iso: Country(spellings.names[iso], lat, lon, centre)
            for iso, lat, lon, centre in db.execute("SELECT iso, lat, lon, centre FROM country")
        }

    def cities(self, sql: str, params: Sequence[Any] = ()) -> list[City]:
        """The cities a `SELECT {CITY_COLUMNS} ...` query finds."""
        return [City(*row) for row in self.db.execute(sql, params)]

    def lookup(self, key: str, scopes: Sequence[Scope] | None) -> list[City]:
        """Cities named `key`, within `scopes` if given.

        A big city found by an alternate name counts only when it is more populous than every
        city of that name: "Cologne" finds Köln, but "Philadelphia" does not find Amman, whose
        ancient name it was.
        """
        named = [
            c
            for c in self.cities(f"SELECT {CITY_COLUMNS} FROM city WHERE key = ?", (key,))
            if scopes is None or in_scopes(c, scopes)
        ]
        biggest = max((c.population for c in named), default=0)
        seen = {c.gid for c in named}
        by_alias = self.cities(
            f"SELECT {CITY_COLUMNS} FROM alias JOIN city USING (seq) WHERE alias.key = ?", (key,)
        )
        return named + [
            c
            for c in by_alias
            if (scopes is None or in_scopes(c, scopes))
            and c.population > biggest
            and c.gid not in seen
        ]

    def biggest_by_name(
        self, scopes: Sequence[Scope] | None, min_population: int = 0
    ) -> dict[str, City]:
        """Normalised name -> its most populous city, within `scopes` (for suggestions)."""
        where, params = _scope_sql(scopes)
        rows = self.db.execute(
            f"SELECT key, {CITY_COLUMNS} FROM city WHERE population >= ? AND ({where})"
            " ORDER BY population DESC, seq",
            (min_population, *params),
        )
        pool: dict[str, City] = {}
        for key, *city in rows:
            pool.setdefault(key, City(*city))
        return pool

    def biggest_in_us_state(self, state_code: str) -> City | None:
        """The most populous city of a US state; None when the index has none."""
        biggest = self.cities(
            f"SELECT {CITY_COLUMNS} FROM city WHERE cc = 'US' AND admin1 = ?"
            " ORDER BY population DESC, seq LIMIT 1",
            (state_code,),
        )
        return biggest[0] if biggest else None


def in_scopes(city: City, scopes: Sequence[Scope]) -> bool:
    """Whether `city` lies in any of `scopes`."""
    return any(city.cc == s.cc and (s.admin1 is None or city.admin1 == s.admin1) for s in scopes)


def _scope_sql(scopes: Sequence[Scope] | None) -> tuple[str, list[str]]:
    if scopes is None:
        return "1", []
    terms = ["(cc = ? AND admin1 = ?)" if s.admin1 is not None else "cc = ?" for s in scopes]
    params = [p for s in scopes for p in ((s.cc, s.admin1) if s.admin1 is not None else (s.cc,))]
    return " OR ".join(terms) or "0", params


@functools.cache
def city_index() -> CityIndex:
    """The cities index, opened once per process (built first when it is not cached)."""
    return CityIndex(open_cities())


@functools.cache
def zip_index() -> sqlite3.Connection:
    """The ZIP index, opened once per process (built first when it is not cached)."""
    return open_zips()


def zip_code(code: str) -> ZipCode | None:
    """The five-digit US ZIP code `code`; None when there is no such ZIP."""
    row = zip_index().execute("SELECT city, state, lat, lon FROM zip WHERE code = ?", (code,))
    found = row.fetchone()
    return None if found is None else ZipCode(*found)


def zip_town(key: str, state_code: str) -> Town | None:
    """The US town with folded name `key` in a state, from its ZIP codes; None if none."""
    row = (
        zip_index()
        .execute("SELECT name, lat, lon FROM town WHERE key = ? AND state = ?", (key, state_code))
        .fetchone()
    )
    return None if row is None else Town(*row)
