"""Tests for trialfinder.geo places, names, gazetteer, lookup: resolving, folding, index cache."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialfinder.errors import AmbiguousPlace, InvalidOption, UnknownPlace
from trialfinder.geo import gazetteer, lookup, places
from trialfinder.geo.places import (
    country_key,
    fold_name,
    place_from_coordinates,
    plain_number,
    resolve_place,
    us_state_code,
)


def reference_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine written independently of the package, with math only."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


# --------------------------------------------------------------------------- resolve_place


@pytest.mark.parametrize("text", ["77030", "77030-1234", " 77030 "])
def test_zip_code(text: str) -> None:
    place = resolve_place(text)
    assert place.kind == "zip"
    assert place.label == "ZIP 77030 (Houston, TX)"
    assert (place.city, place.state, place.country) == ("Houston", "Texas", "United States")
    assert reference_km(place.lat, place.lon, 29.7076, -95.4018) < 5  # Texas Medical Center


@pytest.mark.parametrize("text", ["00000", "09000"])  # no such ZIP; a military ZIP at 0,0
def test_zip_code_without_a_location(text: str) -> None:
    with pytest.raises(UnknownPlace):
        resolve_place(text)


def test_zip_code_in_a_territory_names_its_country() -> None:
    place = resolve_place("00901")
    assert (place.city, place.state, place.country) == ("San Juan", None, "Puerto Rico")


@pytest.mark.parametrize(
    "text", ["Houston, TX", "Houston, Texas", "  houston ,  TEXAS ", "Houston, TX, USA"]
)
def test_city_and_us_state(text: str) -> None:
    place = resolve_place(text)
    assert place.kind == "city"
    assert place.label == "Houston, TX, United States"
    assert (place.city, place.state, place.country) == ("Houston", "Texas", "United States")
    assert reference_km(place.lat, place.lon, 29.7604, -95.3698) < 5


def test_us_town_too_small_for_the_city_list_is_found_by_zip() -> None:
    place = resolve_place("Brownstown, MI")  # a ZIP's accepted city name, not in cities1000
    assert (place.city, place.state) == ("Brownstown", "Michigan")
    assert reference_km(place.lat, place.lon, 42.14, -83.22) < 20


@pytest.mark.parametrize(
    ("text", "city", "country", "lat", "lon"),
    [
        ("Paris, France", "Paris", "France", 48.8566, 2.3522),
        ("Toronto, Canada", "Toronto", "Canada", 43.6532, -79.3832),
        ("Toronto, ON", "Toronto", "Canada", 43.6532, -79.3832),
        ("Zurich, Switzerland", "Zürich", "Switzerland", 47.3769, 8.5417),
        ("Cologne, Germany", "Köln", "Germany", 50.9375, 6.9603),
        ("Seoul, Korea, Republic of", "Seoul", "South Korea", 37.5665, 126.978),
    ],
)
def test_city_and_country(text: str, city: str, country: str, lat: float, lon: float) -> None:
    place = resolve_place(text)
    assert (place.kind, place.city, place.country) == ("city", city, country)
    assert reference_km(place.lat, place.lon, lat, lon) < 10


def test_city_place_carries_a_region_name_where_known() -> None:
    assert resolve_place("Toronto, Canada").state == "Ontario"
    assert resolve_place("Paris, France").state is None


@pytest.mark.parametrize(
    ("text", "country", "capital_lat", "capital_lon"),
    [
        ("Germany", "Germany", 52.52, 13.405),
        ("USA", "United States", 38.895, -77.036),
        ("U.S.A.", "United States", 38.895, -77.036),
        ("UK", "United Kingdom", 51.507, -0.128),
        ("south korea", "South Korea", 37.566, 126.978),
        ("Korea, Republic of", "South Korea", 37.566, 126.978),
        ("Netherlands", "Netherlands", 52.374, 4.89),
    ],
)
def test_country_is_placed_at_its_capital(
    text: str, country: str, capital_lat: float, capital_lon: float
) -> None:
    place = resolve_place(text)
    assert (place.kind, place.country, place.city, place.state) == ("country", country, None, None)
    assert reference_km(place.lat, place.lon, capital_lat, capital_lon) < 10
    assert place.label.startswith(country)


@pytest.mark.parametrize(
    ("text", "label"),
    [("Zurich", "Zürich, Switzerland"), ("Houston", "Houston, TX, United States")],
)
def test_bare_city_resolves_when_one_candidate_dominates(text: str, label: str) -> None:
    assert resolve_place(text).label == label


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Springfield", "Springfield, MO, United States"),
        ("Portland", "Portland, OR, United States"),
        ("portland", "Portland, OR, United States"),
    ],
)
def test_ambiguous_name_lists_candidates_most_populous_first(text: str, first: str) -> None:
    with pytest.raises(AmbiguousPlace) as raised:
        resolve_place(text)
    candidates = raised.value.candidates
    assert 2 <= len(candidates) <= 5
    assert candidates[0] == first
    assert all(label in str(raised.value) for label in candidates)


def test_ambiguous_name_resolves_with_a_state() -> None:
    assert resolve_place("Portland, ME").state == "Maine"


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("Huston, TX", "Houston, TX, United States"),
        ("Pariss, France", "Paris, France"),
        ("Paris, Frnace", "France"),
        ("Bostonn", "Boston"),
    ],
)
def test_unknown_name_lists_close_spellings(text: str, suggestion: str) -> None:
    with pytest.raises(UnknownPlace) as raised:
        resolve_place(text)
    assert "did you mean" in str(raised.value)
    assert suggestion in str(raised.value)


@pytest.mark.parametrize("text", ["Qwxzzy", "", "Houston, TX, Texas, USA"])
def test_unknown_place(text: str) -> None:
    with pytest.raises(UnknownPlace):
        resolve_place(text)


def test_two_letter_us_state_is_not_read_as_a_country() -> None:
    # IN is Indiana, not India (whose Salem is far bigger); DE is Delaware, not Germany.
    assert resolve_place("Salem, IN").country == "United States"
    with pytest.raises(UnknownPlace, match="Berlin, Germany"):
        resolve_place("Berlin, DE")


def test_bare_us_state_is_the_whole_state_and_georgia_is_ambiguous() -> None:
    texas = resolve_place("Texas")
    assert (texas.kind, texas.state, texas.country) == ("state", "Texas", "United States")
    assert texas.label == "Texas, United States (around Houston)"
    assert resolve_place("tx") == texas
    # A state outweighs the towns named after it (California, MD).
    assert resolve_place("California").kind == "state"
    with pytest.raises(AmbiguousPlace, match=r"both a US state and a country: .*'Atlanta, GA'"):
        resolve_place("Georgia")
    assert resolve_place("Tbilisi, Georgia").country == "Georgia"
    assert resolve_place("Atlanta, Georgia").state == "Georgia"


def test_coordinates_as_text() -> None:
    place = resolve_place("29.7604, -95.3698")
    assert (place.kind, place.lat, place.lon) == ("coordinates", 29.7604, -95.3698)


@pytest.mark.parametrize(
    ("lat", "lon"), [(90.01, 0.0), (-91.0, 0.0), (0.0, 180.5), (0.0, -181.0), (math.nan, 0.0)]
)
def test_coordinates_out_of_range(lat: float, lon: float) -> None:
    with pytest.raises(InvalidOption):
        place_from_coordinates(lat, lon)


def test_coordinates_on_the_edges_are_valid() -> None:
    place = place_from_coordinates(-90, 180)
    assert (place.kind, place.lat, place.lon, place.country) == ("coordinates", -90, 180, None)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("United States", "US"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Turkey (Türkiye)", "TR"),
        ("Turkey", "TR"),
        ("Netherlands", "NL"),
        ("Atlantis", "atlantis"),  # unknown names come back folded, so equal names still match
    ],
)
def test_country_key_reads_every_spelling(name: str, code: str) -> None:
    assert country_key(name) == code


def test_fold_name_and_us_state_code() -> None:
    assert fold_name("Zürich") == "zurich"
    assert fold_name("St. Louis") == "saint louis"
    assert fold_name("U.S.A.") == "usa"
    assert us_state_code("Texas") == us_state_code("tx") == "TX"
    assert us_state_code("Ontario") == "Ontario"


@given(st.floats(allow_nan=False, allow_infinity=False), st.none() | st.integers(0, 8))
def test_plain_number_writes_what_numpy_writes(value: float, decimals: int | None) -> None:
    rounded = round(value, decimals) if decimals is not None else value
    expected = np.format_float_positional(rounded, trim="-")
    assert plain_number(value, decimals) == ("0" if expected in ("-0", "0") else expected)


# --------------------------------------------------------------------------- index cache


class Builds:
    """A tiny index builder that counts how often it runs."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, db: sqlite3.Connection) -> None:
        self.count += 1
        db.execute("CREATE TABLE thing (name TEXT)")
        db.execute("INSERT INTO thing VALUES ('x')")


def things(name: str, versions: str, build: Builds, directory: Path | None) -> list[str]:
    """What the index holds, opened (or built) the way the gazetteers are."""
    with closing(gazetteer._open_index(name, versions, build, directory)) as db:
        return [row[0] for row in db.execute("SELECT name FROM thing")]


def test_cache_dir_follows_xdg_and_falls_back_to_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert places.cache_dir() == tmp_path / "xdg" / "trialfinder"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # invalid per the XDG spec: ignored
    assert places.cache_dir() == tmp_path / "home" / ".cache" / "trialfinder"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert places.cache_dir() == tmp_path / "home" / ".cache" / "trialfinder"


def test_an_index_is_built_once_then_read_from_disk(tmp_path: Path) -> None:
    build = Builds()
    assert things("things", "v1", build, tmp_path) == ["x"]
    saved = list(tmp_path.glob("things-*.sqlite3"))
    assert len(saved) == 1
    assert list(tmp_path.iterdir()) == saved  # no temporary file left behind
    assert things("things", "v1", build, tmp_path) == ["x"]
    assert build.count == 1
    with (
        closing(gazetteer._open_index("things", "v1", build, tmp_path)) as db,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        db.execute("INSERT INTO thing VALUES ('y')")


def test_new_versions_build_a_new_index_and_drop_the_old_one(tmp_path: Path) -> None:
    build = Builds()
    things("things", "v1", build, tmp_path)
    (old,) = tmp_path.glob("things-*.sqlite3")
    things("things", "v2", build, tmp_path)
    (new,) = tmp_path.glob("things-*.sqlite3")
    assert build.count == 2 and new != old


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign"])
def test_an_unreadable_index_is_ignored_and_rebuilt(tmp_path: Path, damage: str) -> None:
    build = Builds()
    things("things", "v1", build, tmp_path)
    (path,) = tmp_path.glob("things-*.sqlite3")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a valid SQLite file that is not our index
        path.unlink()
        with closing(sqlite3.connect(path)) as other:
            other.execute("CREATE TABLE meta (key TEXT)")
            other.commit()
    assert things("things", "v1", build, tmp_path) == ["x"]
    assert build.count == 2
    assert things("things", "v1", build, tmp_path) == ["x"]
    assert build.count == 2  # the rebuilt index was saved in its place


def test_an_unwritable_cache_directory_never_fails_a_lookup(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory's parent should be")
    build = Builds()
    for _ in range(2):
        assert things("things", "v1", build, blocker / "trialfinder") == ["x"]
    assert build.count == 2  # kept in memory only, rebuilt by the next process
    assert things("things", "v1", build, None) == ["x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.fixture
def fresh_indexes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Place indexes cached in an empty directory, for this test only."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    forget_indexes()
    yield tmp_path / "trialfinder"
    forget_indexes()


def forget_indexes() -> None:
    """Close and forget this process's place indexes; the next lookup opens them again."""
    if lookup.city_index.cache_info().currsize:
        lookup.city_index().db.close()
    if lookup.zip_index.cache_info().currsize:
        lookup.zip_index().close()
    lookup.city_index.cache_clear()
    lookup.zip_index.cache_clear()


def test_the_place_indexes_are_saved_and_answer_from_disk(
    fresh_indexes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_place("77030").city == "Houston"
    assert sorted(p.name.split("-")[0] for p in fresh_indexes.iterdir()) == ["zips"]  # ZIP only
    built = {q: resolve_place(q) for q in ("Houston, TX", "Brownstown, MI", "Germany", "Cologne")}
    assert sorted(p.name.split("-")[0] for p in fresh_indexes.iterdir()) == ["cities", "zips"]

    forget_indexes()

    def no_build(db: sqlite3.Connection) -> None:
        raise AssertionError("the saved index should have been used")

    monkeypatch.setattr(gazetteer, "_build_cities", no_build)
    monkeypatch.setattr(gazetteer, "_build_zips", no_build)
    assert {q: resolve_place(q) for q in built} == built
    assert resolve_place("77030").city == "Houston"


def test_resolving_a_place_needs_neither_pandas_nor_numpy() -> None:
    code = (
        "import sys\n"
        "from trialfinder.geo.places import resolve_place\n"
        "resolve_place('77030')\n"
        "print('pandas' in sys.modules, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
