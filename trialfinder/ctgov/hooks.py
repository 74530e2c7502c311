"""What every study source shares: the hooks a caller passes, what a fetch returns, the
`StudySource` protocol, and the first-record-wins rule for an NCT id that comes twice.

The sources themselves live in `ctgov.sources` (the API) and `ctgov.local` (files, records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from trialfinder.ctgov.query import Query
from trialfinder.records import Study

if TYPE_CHECKING:
    from types import TracebackType

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
    # Work to do on each record where it is read (in worker processes when a source reads
    # with several: then a module-level function); the results come back in
    # `Fetched.classified`. It must not depend on the order records come in.
    classify: Callable[[Study], Any] | None = None
    # False: the caller shows none of the records' long texts, so they go once `classify`
    # has read each record, where it is read (`Study.without_long_texts`).
    long_texts: bool = True
    # Called once when the source has sent for more pages and has nothing to do but wait for
    # them: a caller imports there what it needs only afterwards (pandas, for the frames).
    idle: Callable[[], None] | None = None


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
    # hooks.classify of each study, by NCT id (empty without that hook).
    classified: dict[str, Any] = field(default_factory=dict)


def classify_batch(
    batch: list[Study], classify: Callable[[Study], Any] | None, long_texts: bool
) -> tuple[list[Study], list[Any]]:
    """A batch of new records and `classify` of each, where they were read; without
    `long_texts`, the records then let their long texts go."""
    return unzipped([worked(s, classify, long_texts) for s in batch], classify)


def unzipped(
    done: list[tuple[Study, Any]], classify: Callable[[Study], Any] | None
) -> tuple[list[Study], list[Any]]:
    """`worked` pairs -> the records, and their results ([] without `classify`)."""
    return [s for s, _ in done], [r for _, r in done] if classify is not None else []


def worked(
    study: Study, classify: Callable[[Study], Any] | None, long_texts: bool
) -> tuple[Study, Any]:
    """One new record, and `classify` of it (None without); without `long_texts`, the record
    then lets its long texts go."""
    result = classify(study) if classify is not None else None
    return (study if long_texts else study.without_long_texts()), result


def classify_into(
    classified: dict[str, Any], classify: Callable[[Study], Any] | None, batch: Iterable[Study]
) -> None:
    """hooks.classify of each record not yet classified (the first record of an id wins)."""
    if classify is not None:
        for study in batch:
            if study.nct_id not in classified:
                classified[study.nct_id] = classify(study)


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
        sites: bool = True,
    ) -> Fetched:
        """Studies matching the query (servers) or all studies (files; filtered later).
        Without `sites`, a source may count each study's sites instead of reading them
        (`records.UnreadSites`): the search shows their number only."""
        ...

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study by NCT id; raises StudyNotFound."""
        ...

    def close(self) -> None:
        """Release what the source holds (connections)."""
        ...


class Closing:
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


def dedupe(studies: Iterable[Study], notes: list[str], where: str) -> list[Study]:
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
