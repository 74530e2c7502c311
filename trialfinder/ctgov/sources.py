"""Where studies come from: the live API (filtered by the server) or saved API output on disk.

Both return `Study` records, parsed once (`trialfinder.records`). A source takes explicit hooks
for progress and retries, says how long one request takes at its pace, and is closed by
whoever opened it; nobody reaches inside it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trialfinder.ctgov.query import MAX_PAGE_SIZE, Query, check_nct_id
from trialfinder.errors import ApiError, RecordError, SourceError, StudyNotFound
from trialfinder.records import Study, describe_raw, nct_id_of, parse_study

if TYPE_CHECKING:
    from types import TracebackType

    from trialfinder.ctgov.client import CtGovClient

Progress = Callable[[int, "int | None"], None]
# (problem, seconds to wait, retry number, retries allowed), called before each retry's wait.
RetryHook = Callable[[str, float, int, int], None]


@dataclass(frozen=True)
class Hooks:
    """What a caller wants to hear while a source works; the source itself never prints."""

    progress: Progress | None = None  # (studies so far, total when known)
    retry: RetryHook | None = None


NO_HOOKS = Hooks()


@dataclass
class Fetched:
    """Studies from a source, with what is known about them."""

    studies: list[Study]
    description: str
    server_filtered: bool  # the query's filters were applied by the server
    total: int | None = None  # the server's totalCount, when it sent one
    truncated: bool = False  # stopped early because of --limit (more matched)
    notes: list[str] = field(default_factory=list)


class StudySource(Protocol):
    """Anything that can run a search and fetch one study."""

    description: str

    @property
    def pace(self) -> float:
        """Seconds one request takes at the source's polite pace (0 for files)."""
        ...

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Fetched:
        """Studies matching the query (servers) or all studies (files; filtered later)."""
        ...

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study by NCT id; raises StudyNotFound."""
        ...

    def close(self) -> None:
        """Release what the source holds (connections)."""
        ...


class _Closing:
    """Context-manager support for sources."""

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self: Any) -> Any:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _dedupe(studies: Iterable[Study], notes: list[str], where: str) -> list[Study]:
    seen: set[str] = set()
    out = []
    repeats = 0
    for study in studies:
        if study.nct_id in seen:
            repeats += 1
            continue
        seen.add(study.nct_id)
        out.append(study)
    if repeats:
        notes.append(f"{repeats} study record(s) repeated in {where}; each kept once")
    return out


def _from_api(raw: Any, where: str) -> Study:
    try:
        return parse_study(raw)
    except RecordError as exc:
        raise ApiError(f"the API sent {where} that is {exc}: {describe_raw(raw)}") from None


def count_slack(total: int) -> int:
    """How many studies fewer than `totalCount` a finished search may bring (pitfall 10).

    The registry is refreshed while a long search pages, so a study may leave the match
    between pages: up to 1% of the count, and at least 3 studies, is a note; more is an error.
    """
    return max(3, total // 100)


class ApiSource(_Closing):
    """The ClinicalTrials.gov API v2, which applies the query's filters itself."""

    def __init__(self, client: CtGovClient) -> None:
        self._client = client
        self.description = f"ClinicalTrials.gov API at {client.base_url}"

    @property
    def pace(self) -> float:
        """Seconds between request starts at the client's pace."""
        return self._client.pace

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    @property
    def requests_made(self) -> int:
        """Requests sent so far (for counting what a run cost)."""
        return self._client.requests_made

    def cache_notes(self) -> list[str]:
        """What the cache did this run, for the user (none without a cache)."""
        cache = self._client.cache
        return cache.notes(self._client.requests_made) if cache is not None else []

    def data_timestamp(self, *, hooks: Hooks = NO_HOOKS) -> str | None:
        """When the registry's data was last loaded (/version's `dataTimestamp`)."""
        value = self._client.version(on_retry=hooks.retry).get("dataTimestamp")
        return str(value) if value else None

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Fetched:
        """Page through the whole search (or until `limit` studies have come)."""
        params = query.to_params(fields)
        page_size = min(limit, MAX_PAGE_SIZE) if limit else MAX_PAGE_SIZE
        studies: list[Study] = []
        total: int | None = None
        truncated = False
        if hooks.progress:
            hooks.progress(0, None)  # show that work started before the first page arrives
        for page in self._client.iter_pages(params, page_size=page_size, on_retry=hooks.retry):
            if page.total is not None:
                total = page.total
            studies.extend(
                _from_api(s, f"item {i} on page {page.number}")
                for i, s in enumerate(page.studies, 1)
            )
            if hooks.progress:
                hooks.progress(len(studies), total)
            if limit is not None and len(studies) >= limit:
                # A full page carries a token even when nothing follows (pitfall 1): trust
                # totalCount when the API sent it.
                more = total > limit if total is not None else bool(page.next_token)
                truncated = more or len(studies) > limit
                studies = studies[:limit]
                break
        notes: list[str] = []
        studies = _dedupe(studies, notes, "the API's pages")
        if not truncated and total is not None and total - len(studies) > count_slack(total):
            raise ApiError(
                f"the API counted {total} matching studies but its pages ended after "
                f"{len(studies)}; the result would be short",
                hint="try again later; the API may be failing",
            )
        if not truncated and total is not None and len(studies) != total:
            notes.append(
                f"the API counted {total} matching studies but sent {len(studies)} "
                "(the data may have changed while paging)"
            )
        return Fetched(studies, self.description, True, total, truncated, notes)

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study from /studies/{nctId}; for an alias id, the study it now belongs to
        (its `nct_id` then differs from the one asked for)."""
        raw = self._client.get_study(nct_id, fields, on_retry=hooks.retry)
        return _from_api(raw, f"the record for {check_nct_id(nct_id)}")


def _parsed(data: Any, where: str, *, keep_text: bool) -> list[tuple[dict[str, Any], Study]]:
    """Saved API output -> (raw, Study) pairs: a /studies page, one study, or a list."""
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
    out = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not nct_id_of(item):
            raise SourceError(f"{where}: item {number} is not a study (it has no nctId)")
        try:
            out.append((item, parse_study(item, keep_text=keep_text)))
        except RecordError as exc:
            raise SourceError(f"{where}: {exc}") from None
    return out


def studies_in_json(data: Any, where: str) -> list[dict[str, Any]]:
    """Saved API output -> its raw study objects, each checked to be a study record."""
    return [raw for raw, _ in _parsed(data, where, keep_text=False)]


_OTHER_DATA = frozenset({".zip", ".gz", ".xml", ".ris", ".tsv", ".xlsx", ".ndjson", ".jsonl"})
CSV_DOWNLOAD = (
    "this is the website's CSV download, which lacks the eligibility criteria and sites "
    "trialfinder reads; download JSON instead (Download, then JSON, on clinicaltrials.gov)"
)


def _is_csv_download(path: Path) -> bool:
    if path.suffix.lower() == ".csv":
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip(b"\xef\xbb\xbf").startswith(b"NCT Number,")
    except OSError:
        return False


class LocalSource(_Closing):
    """Studies already in memory or on disk: `fetch` returns them all, `get` finds one."""

    pace = 0.0
    description = ""
    server_filtered = False  # whether the studies already match the query
    notes: list[str]

    def load(self) -> list[Study]:
        """Every study the source holds."""
        raise NotImplementedError

    def where(self) -> str:
        """What a missing study is missing from."""
        raise NotImplementedError

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Fetched:
        """All the studies; unless `server_filtered`, the pipeline applies the query locally."""
        studies = self.load()
        if hooks.progress:
            hooks.progress(len(studies), len(studies))
        total = len(studies) if self.server_filtered else None
        return Fetched(
            list(studies), self.description, self.server_filtered, total, False, list(self.notes)
        )

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study by NCT id (raises StudyNotFound)."""
        nct_id = check_nct_id(nct_id)
        for study in self.load():
            if study.nct_id == nct_id:
                return study
        raise StudyNotFound(f"no study {nct_id} in {self.where()}")


class RecordsSource(LocalSource):
    """Records already fetched, served to the search pipeline as a server-filtered result."""

    server_filtered = True

    def __init__(self, studies: Sequence[Study], description: str) -> None:
        self.studies = list(studies)
        self.description = description
        self.notes = []

    def load(self) -> list[Study]:
        """The records."""
        return self.studies

    def where(self) -> str:
        """The records' description."""
        return self.description


class FileSource(LocalSource):
    """Saved API output: a JSON file, or a directory of them; nothing is filtered on read."""

    def __init__(self, path: str | Path) -> None:
        if not str(path).strip():
            raise SourceError("--source needs a path to a JSON file or a directory of them")
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"--source {self.path}: no such file or directory")
        self._skipped = ""
        self.files = self._files()
        self._studies: list[Study] | None = None
        self.notes: list[str] = [self._skipped] if self._skipped else []
        noun = "file" if len(self.files) == 1 else "files"
        self.description = f"saved data in {self.path} ({len(self.files)} {noun}), not the live API"

    def _files(self) -> list[Path]:
        if self.path.is_file():
            if _is_csv_download(self.path):
                raise SourceError(f"--source {self.path}: {CSV_DOWNLOAD}")
            return [self.path]
        if not os.access(self.path, os.R_OK | os.X_OK):
            raise SourceError(f"--source {self.path}: cannot read the folder (permission denied)")
        try:
            every = sorted(p for p in self.path.rglob("*") if p.is_file())
        except PermissionError as exc:
            raise SourceError(
                f"--source {self.path}: cannot read {exc.filename or 'a folder'} "
                "(permission denied)"
            ) from None
        files = [p for p in every if p.suffix.lower() == ".json"]
        csvs = [p for p in every if p.suffix.lower() == ".csv"]
        # Other exports of the registry's data are counted; notes and scripts beside the data
        # (a README, a generator) are not data and pass without a word.
        others = sum(1 for p in every if p.suffix.lower() in _OTHER_DATA)
        if not files:
            why = f" (it holds {len(csvs)} CSV file(s): {CSV_DOWNLOAD})" if csvs else ""
            raise SourceError(f"--source {self.path}: the directory holds no .json files{why}")
        skipped = []
        if csvs:
            skipped.append(f"{len(csvs)} .csv (the website's CSV download: use its JSON download)")
        if others:
            skipped.append(f"{others} other export(s) trialfinder cannot read (zip, xml, ris, ...)")
        if skipped:
            self._skipped = f"{len(csvs) + others} file(s) in {self.path} skipped: " + ", ".join(
                skipped
            )
        return files

    def _read(self, *, keep_raw: bool) -> list[tuple[dict[str, Any], Study]]:
        """Every (raw, Study) pair in the files, each NCT id once (first one wins); without
        `keep_raw` the raw half is an empty dict, and each file's JSON is freed once read."""
        pairs: list[tuple[dict[str, Any], Study]] = []
        notes: list[str] = []
        for path in self.files:
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError) as exc:
                raise SourceError(f"cannot read {path}: {exc}") from None
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path} is not valid JSON: {exc}") from None
            # Saved data is matched locally, free text included: keep every string.
            parsed = _parsed(data, str(path), keep_text=True)
            pairs.extend((raw if keep_raw else {}, study) for raw, study in parsed)
            del data, parsed
        kept = {id(s) for s in _dedupe((s for _, s in pairs), notes, str(self.path))}
        if self._studies is None:
            self.notes += notes
        return [(raw, s) for raw, s in pairs if id(s) in kept]

    def load(self) -> list[Study]:
        """Every study in the files, each NCT id once (first one wins), in file order.

        Only the parsed records are kept: the raw JSON behind them (several times their
        size) is dropped once they exist.
        """
        if self._studies is None:
            self._studies = [study for _, study in self._read(keep_raw=False)]
        return self._studies

    def load_raw(self) -> list[dict[str, Any]]:
        """The raw study objects behind `load()` (for serving them from a test API); the
        files are read again, since the raw objects are not kept."""
        pairs = self._read(keep_raw=True)
        if self._studies is None:
            self._studies = [study for _, study in pairs]
        return [raw for raw, _ in pairs]

    def where(self) -> str:
        """What a missing study is missing from."""
        return str(self.path)
