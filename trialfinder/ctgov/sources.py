"""Where studies come from: the live API (filtered by the server) or saved API output on disk.

Both return `Study` records, parsed once (`trialfinder.records`). A source takes explicit hooks
for progress and retries, says how long one request takes at its pace, and is closed by
whoever opened it; nobody reaches inside it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trialfinder.ctgov.prefetch import ahead
from trialfinder.ctgov.query import MAX_PAGE_SIZE, Query, check_nct_id
from trialfinder.ctgov.saved import list_files, parsed_items
from trialfinder.ctgov.slices import Slices, sliced_pages, workers_for
from trialfinder.errors import ApiError, RecordError, SourceError, StudyNotFound
from trialfinder.records import Study, describe_raw, nct_id_of, parse_study

if TYPE_CHECKING:
    from types import TracebackType

    from trialfinder.ctgov.client import CtGovClient, Page

Progress = Callable[[int, "int | None"], None]
# (problem, seconds to wait, retry number, retries allowed), called before each retry's wait.
RetryHook = Callable[[str, float, int, int], None]


@dataclass(frozen=True)
class Hooks:
    """What a caller wants to hear while a source works; the source itself never prints."""

    progress: Progress | None = None  # (studies so far, total when known)
    retry: RetryHook | None = None
    # Each batch of new records as it comes, to work on while the next page travels.
    studies: Callable[[Sequence[Study]], None] | None = None


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

    def __init__(self, client: CtGovClient, *, workers: int | None = None) -> None:
        self._client = client
        # Date slices fetched at once on a slow link; None: decided from the first page's
        # time and the pace, 1: always page by page.
        self.workers = workers
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

        def take(raws: list[dict[str, Any]], where: str) -> None:
            batch = [_from_api(s, f"item {i} {where}") for i, s in enumerate(raws, 1)]
            studies.extend(batch)
            if hooks.studies:
                hooks.studies(batch)
            if hooks.progress:
                hooks.progress(len(studies), total)

        def reached(next_token: str | None) -> bool:
            nonlocal studies, truncated
            if limit is None or len(studies) < limit:
                return False
            # A full page carries a token even when nothing follows (pitfall 1): trust
            # totalCount when the API sent it.
            more = total > limit if total is not None else bool(next_token)
            truncated = more or len(studies) > limit
            studies = studies[:limit]
            return True

        started = time.monotonic()
        pages = self._client.iter_pages(params, page_size=page_size, on_retry=hooks.retry)
        first = next(pages)
        seconds = time.monotonic() - started
        total = first.total
        # When nothing will cut the search short, every page is needed: fetch them ahead
        # while this one is worked on, or, on a slow link, in concurrent date slices.
        every = bool(first.next_token) and (limit is None or (total or limit + 1) <= limit)
        rest = self._slices(params, first, seconds, hooks) if every else None
        later = ahead(pages) if every and rest is None else pages  # started before the work
        try:
            take(first.studies, "on page 1")
        except BaseException:
            (rest or later).close()
            raise
        next_token = first.next_token
        del first  # the raw page goes once its records exist
        if rest is not None:
            pages.close()  # the slices bring the rest
            # Slices meet on a boundary day and start over the first page's newest
            # studies: a study that comes twice that way is no news, kept once.
            seen = {s.nct_id for s in studies}
            for raws in rest:
                fresh = []
                for raw in raws:
                    nct = nct_id_of(raw)
                    if nct not in seen:  # a raw with no id is kept: parsing then says why
                        fresh.append(raw)
                        seen.add(nct or "")
                take(fresh, "on a page of a date slice")
        elif not reached(next_token):
            for page in later:
                if page.total is not None:
                    total = page.total
                take(page.studies, f"on page {page.number}")
                next_token = page.next_token
                del page
                if reached(next_token):
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

    def _slices(
        self, params: dict[str, str], first: Page, seconds: float, hooks: Hooks
    ) -> Slices | None:
        """The rest of the search in concurrent date slices, when the link is what limits
        (ctgov/slices.py); None to go on page by page."""
        pages_left = -(-((first.total or 0) - len(first.studies)) // MAX_PAGE_SIZE)
        if self.workers is not None:
            workers = min(self.workers, max(1, pages_left))
        else:
            workers = workers_for(seconds, self.pace, pages_left)
        if workers < 2:
            return None
        return sliced_pages(self._client, params, first, workers, on_retry=hooks.retry)

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study from /studies/{nctId}; for an alias id, the study it now belongs to
        (its `nct_id` then differs from the one asked for)."""
        raw = self._client.get_study(nct_id, fields, on_retry=hooks.retry)
        return _from_api(raw, f"the record for {check_nct_id(nct_id)}")


class LocalSource(_Closing):
    """Studies already in memory or on disk: `fetch` returns them all, `get` finds one."""

    pace = 0.0
    description = ""
    server_filtered = False  # whether the studies already match the query
    notes: list[str]

    def load(self, *, text: bool = False) -> list[Study]:
        """Every study the source holds (`text`: with every string in `Study.text`)."""
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
        # Only a --term matches every string of a record (filters.area_text): keep them then.
        studies = self.load(text=query.term is not None and not self.server_filtered)
        if hooks.studies:
            hooks.studies(studies)
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

    def load(self, *, text: bool = False) -> list[Study]:
        """The records, as they were made."""
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
        self._text = False  # whether the loaded records carry Study.text
        self.notes: list[str] = [self._skipped] if self._skipped else []
        noun = "file" if len(self.files) == 1 else "files"
        self.description = f"saved data in {self.path} ({len(self.files)} {noun}), not the live API"

    def _files(self) -> list[Path]:
        files, self._skipped = list_files(self.path)
        return files

    def _read(self, *, keep_raw: bool, text: bool = True) -> list[tuple[dict[str, Any], Study]]:
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
            parsed = parsed_items(data, str(path), keep_text=text)
            pairs.extend((raw if keep_raw else {}, study) for raw, study in parsed)
            del data, parsed
        kept = {id(s) for s in _dedupe((s for _, s in pairs), notes, str(self.path))}
        if self._studies is None:
            self.notes += notes
        return [(raw, s) for raw, s in pairs if id(s) in kept]

    def load(self, *, text: bool = False) -> list[Study]:
        """Every study in the files, each NCT id once (first one wins), in file order; the raw
        JSON behind them (several times their size) is dropped once they exist."""
        if self._studies is None or (text and not self._text):
            self._studies = [study for _, study in self._read(keep_raw=False, text=text)]
            self._text = text
        return self._studies

    def load_raw(self) -> list[dict[str, Any]]:
        """The raw study objects behind `load()`, read again (the raw objects are not kept)."""
        pairs = self._read(keep_raw=True)
        if self._studies is None:
            self._studies, self._text = [study for _, study in pairs], True
        return [raw for raw, _ in pairs]

    def where(self) -> str:
        """What a missing study is missing from."""
        return str(self.path)
