"""Where studies come from: the live API (filtered by the server) or saved API output on disk."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trialfinder.errors import SourceError, StudyNotFound
from trialfinder.normalize import nct_id_of
from trialfinder.ctgov.query import MAX_PAGE_SIZE, Query, check_nct_id

if TYPE_CHECKING:
    from trialfinder.ctgov.client import CtGovClient

Progress = Callable[[int, "int | None"], None]


@dataclass
class Fetched:
    """Raw studies from a source, with what is known about them."""

    studies: list[dict[str, Any]]
    description: str
    server_filtered: bool  # the query's filters were applied by the server
    total: int | None = None  # the server's totalCount, when it sent one
    truncated: bool = False  # stopped early because of --limit (more matched)
    notes: list[str] = field(default_factory=list)


class StudySource(Protocol):
    """Anything that can run a search and fetch one study."""

    description: str

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> Fetched:
        """Studies matching the query (servers) or all studies (files; filtered later)."""
        ...

    def get(self, nct_id: str, fields: Sequence[str] = ()) -> dict[str, Any]:
        """One study by NCT id; raises StudyNotFound."""
        ...


def _dedupe(
    studies: Iterable[dict[str, Any]], notes: list[str], where: str
) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    repeats = 0
    for study in studies:
        nct = nct_id_of(study) or ""
        if nct in seen:
            repeats += 1
            continue
        seen.add(nct)
        out.append(study)
    if repeats:
        notes.append(f"{repeats} study record(s) repeated in {where}; each kept once")
    return out


class ApiSource:
    """The ClinicalTrials.gov API v2, which applies the query's filters itself."""

    def __init__(self, client: CtGovClient) -> None:
        self.client = client
        self.description = f"ClinicalTrials.gov API at {client.base_url}"

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> Fetched:
        """Page through the whole search (or until `limit` studies have come)."""
        params = query.to_params(fields)
        page_size = min(limit, MAX_PAGE_SIZE) if limit else MAX_PAGE_SIZE
        studies: list[dict[str, Any]] = []
        total: int | None = None
        truncated = False
        if progress:
            progress(0, None)  # show that work started before the first page arrives
        for page in self.client.iter_pages(params, page_size=page_size):
            if page.total is not None:
                total = page.total
            studies.extend(page.studies)
            if progress:
                progress(len(studies), total)
            if limit is not None and len(studies) >= limit:
                # A full page carries a token even when nothing follows (pitfall 1): trust
                # totalCount when the API sent it.
                more = total > limit if total is not None else bool(page.next_token)
                truncated = more or len(studies) > limit
                studies = studies[:limit]
                break
        notes: list[str] = []
        studies = _dedupe(studies, notes, "the API's pages")
        if not truncated and total is not None and len(studies) != total:
            notes.append(
                f"the API counted {total} matching studies but sent {len(studies)} "
                "(the data may have changed while paging)"
            )
        return Fetched(studies, self.description, True, total, truncated, notes)

    def get(self, nct_id: str, fields: Sequence[str] = ()) -> dict[str, Any]:
        """One study from /studies/{nctId}."""
        return self.client.get_study(nct_id, fields)


def studies_in_json(data: Any, where: str) -> list[dict[str, Any]]:
    """Saved API output -> study objects: a /studies page, one study, or a list of studies."""
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        items = data["studies"]
    elif isinstance(data, dict) and "protocolSection" in data:
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise SourceError(
            f"{where} is not ClinicalTrials.gov API output "
            "(expected a /studies page, a study object, or a JSON array of studies)"
        )
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not nct_id_of(item):
            raise SourceError(f"{where}: item {number} is not a study (it has no nctId)")
        for section in ("protocolSection", "derivedSection"):
            modules = item.get(section, {})
            bad = (
                [section]
                if not isinstance(modules, dict)
                else [f"{section}.{k}" for k, v in modules.items() if not isinstance(v, dict)]
            )
            if bad:
                raise SourceError(
                    f"{where}: study {nct_id_of(item)} is malformed ({bad[0]} is not an object)"
                )
    return list(items)


class FileSource:
    """Saved API output: a JSON file, or a directory of them; nothing is filtered on read."""

    def __init__(self, path: str | Path) -> None:
        if not str(path).strip():
            raise SourceError("--source needs a path to a JSON file or a directory of them")
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"--source {self.path}: no such file or directory")
        self.files = self._files()
        self._studies: list[dict[str, Any]] | None = None
        self.notes: list[str] = []
        noun = "file" if len(self.files) == 1 else "files"
        self.description = f"saved data in {self.path} ({len(self.files)} {noun}), not the live API"

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        files = sorted(p for p in self.path.rglob("*.json") if p.is_file())
        if not files:
            raise SourceError(f"--source {self.path}: the directory holds no .json files")
        return files

    def load(self) -> list[dict[str, Any]]:
        """Every study in the files, each NCT id once (first one wins), in file order."""
        if self._studies is None:
            studies: list[dict[str, Any]] = []
            for path in self.files:
                try:
                    data = json.loads(path.read_text(encoding="utf-8-sig"))
                except (OSError, UnicodeDecodeError) as exc:
                    raise SourceError(f"cannot read {path}: {exc}") from None
                except json.JSONDecodeError as exc:
                    raise SourceError(f"{path} is not valid JSON: {exc}") from None
                studies.extend(studies_in_json(data, str(path)))
            self._studies = _dedupe(studies, self.notes, str(self.path))
        return self._studies

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> Fetched:
        """All saved studies; the search pipeline applies the query locally."""
        studies = self.load()
        if progress:
            progress(len(studies), len(studies))
        return Fetched(list(studies), self.description, False, None, False, list(self.notes))

    def get(self, nct_id: str, fields: Sequence[str] = ()) -> dict[str, Any]:
        """One saved study by NCT id."""
        nct_id = check_nct_id(nct_id)
        for study in self.load():
            if nct_id_of(study) == nct_id:
                return study
        raise StudyNotFound(f"no study {nct_id} in {self.path}")
