"""The watch file: saved searches in TOML, readable and hand-editable, comments kept (tomlkit).

A watch is a value: its name, its `SearchSpec`, and the place it was resolved to when it was
added (so a cron job never depends on the gazetteer's answer changing). Its definition has a
canonical form and a hash; a changed definition starts a new baseline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialfinder.errors import UsageError
from trialfinder.geo.places import Place
from trialfinder.spec import Search, SearchSpec

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HEADER = (
    "# trialfinder saved searches: one [watches.NAME] table each, with search options named as\n"
    '# on the command line (after-car-t = true, near = "Houston, TX", ...). Edit by hand or\n'
    "# with `trialfinder watch edit`; a changed search starts a new baseline.\n"
)
_OWN_KEYS = ("place", "added", "full-every-days")
DEFAULT_FULL_EVERY_DAYS = 7
_PLACE_FIELDS = tuple(f.name for f in dataclasses.fields(Place))


def check_name(name: str) -> str:
    """A watch name: letters, digits, '.', '_' and '-', at most 64 characters."""
    if not NAME_RE.match(name):
        raise UsageError(
            f"invalid watch name {name!r} (use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit; at most 64 characters)"
        )
    return name


@dataclass(frozen=True)
class Watch:
    """One saved search."""

    name: str
    spec: SearchSpec
    place: Place | None = None  # the place `spec.near` resolved to when the watch was added
    added: str = ""
    full_every_days: int = DEFAULT_FULL_EVERY_DAYS

    def search(self) -> Search:
        """The validated search; the stored place is used, not looked up again."""
        place = self.place
        return self.spec.resolve(place_of=(lambda _: place) if place is not None else None)

    def definition(self) -> dict[str, Any]:
        """The canonical definition: what decides the results (not when it was added)."""
        place = dataclasses.asdict(self.place) if self.place is not None else None
        return {"spec": self.spec.to_dict(), "place": place}

    @property
    def definition_hash(self) -> str:
        """A short hash of the canonical definition."""
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def to_table(self) -> dict[str, Any]:
        """The watch as its TOML table (options, then its own keys)."""
        table: dict[str, Any] = dict(self.spec.to_dict())
        if self.place is not None:
            table["place"] = {
                k: v for k, v in dataclasses.asdict(self.place).items() if v is not None
            }
        if self.added:
            table["added"] = self.added
        if self.full_every_days != DEFAULT_FULL_EVERY_DAYS:
            table["full-every-days"] = self.full_every_days
        return table

    @classmethod
    def from_table(cls, name: str, table: Mapping[str, Any], *, where: str) -> Watch:
        """A watch from its TOML table; a mistake is an error naming `where`, the watch and key."""
        here = f"{where}: watch {name!r}"
        if not isinstance(table, Mapping):
            raise UsageError(f"{here} must be a table of search options")
        options = {k: v for k, v in table.items() if str(k) not in _OWN_KEYS}
        spec = SearchSpec.from_dict(options, where=here)
        place = _place(table.get("place"), here)
        if spec.near is not None and place is None:
            raise UsageError(f"{here}: near is set but place is missing (add the watch again)")
        added = table.get("added", "")
        days = table.get("full-every-days", DEFAULT_FULL_EVERY_DAYS)
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise UsageError(f"{here}: full-every-days must be a whole number of 1 or more")
        watch = cls(check_name(name), spec, place, str(added), days)
        try:
            watch.search()  # every option and combination, checked as `search` checks them
        except UsageError as exc:
            raise UsageError(f"{here}: {exc.message}") from None
        return watch


def _place(value: Any, here: str) -> Place | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise UsageError(f"{here}: place must be a table (label, lat, lon, kind, ...)")
    unknown = sorted(set(map(str, value)) - set(_PLACE_FIELDS))
    if unknown:
        raise UsageError(
            f"{here}: unknown key place.{unknown[0]} (valid: {', '.join(_PLACE_FIELDS)})"
        )
    try:
        place = Place(**{k: value[k] for k in value})
        lat, lon = float(place.lat), float(place.lon)
    except (TypeError, ValueError):
        raise UsageError(f"{here}: place needs label, lat, lon and kind") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UsageError(f"{here}: place.lat/lon are not coordinates")
    return place


def new_watch(name: str, spec: SearchSpec) -> Watch:
    """A watch for `spec`, validated and with its place resolved now (raises UsageError)."""
    search = spec.resolve()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return Watch(check_name(name), spec, search.options.near, now)


class WatchFile:
    """The watches in one TOML file; writes keep the user's comments and other tables."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _document(self) -> Any:
        import tomlkit
        from tomlkit.exceptions import ParseError

        if not self.path.exists():
            return tomlkit.parse(_HEADER)
        try:
            return tomlkit.parse(self.path.read_text(encoding="utf-8"))
        except ParseError as exc:
            raise UsageError(f"{self.path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {self.path}: {exc}") from None

    def _tables(self, doc: Any) -> Mapping[str, Any]:
        tables = doc.get("watches", {})
        if not isinstance(tables, Mapping):
            raise UsageError(f"{self.path}: 'watches' must be a table of [watches.NAME] tables")
        return tables

    def watches(self) -> list[Watch]:
        """Every watch, in file order; the first mistake is an error naming file, watch, key."""
        doc = self._document()
        tables = self._tables(doc)
        return [Watch.from_table(str(n), t, where=str(self.path)) for n, t in tables.items()]

    def __iter__(self) -> Iterator[Watch]:
        return iter(self.watches())

    def get(self, name: str) -> Watch:
        """One watch by name (raises UsageError naming the watches there are)."""
        for watch in self.watches():
            if watch.name == name:
                return watch
        names = [w.name for w in self.watches()]
        valid = ", ".join(names) if names else "none yet; add one with `trialfinder watch add`"
        raise UsageError(f"no watch named {name!r} (watches: {valid})")

    def put(self, watch: Watch, *, replace: bool) -> None:
        """Add a watch (or replace one with `replace`), writing the file whole."""
        import tomlkit

        doc = self._document()
        self.watches()  # refuse to rewrite a file that holds a mistake
        if "watches" not in doc:
            doc["watches"] = tomlkit.table(is_super_table=True)
        tables = doc["watches"]
        if watch.name in tables and not replace:
            raise UsageError(f"a watch named {watch.name!r} exists; use `trialfinder watch edit`")
        table = tomlkit.table()
        for key, value in watch.to_table().items():
            if isinstance(value, dict):
                inner = tomlkit.table()
                inner.update(value)
                table[key] = inner
            else:
                table[key] = value
        tables[watch.name] = table
        self._write(tomlkit.dumps(doc))

    def remove(self, name: str) -> None:
        """Remove a watch from the file (raises UsageError when there is none)."""
        import tomlkit

        self.get(name)
        doc = self._document()
        del doc["watches"][name]
        self._write(tomlkit.dumps(doc))

    def _write(self, text: str) -> None:
        from trialfinder.output import replace_atomically

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_atomically(self.path, text)
        except OSError as exc:
            raise UsageError(f"cannot write {self.path}: {exc.strerror or exc}") from None
