"""One report run of a watch: fetch its snapshot, compare it with the baseline, say what changed.

`run_report` returns a `Report` and a pending run in the store; the caller writes the report and
only then calls `Store.commit_run`, so the baseline moves forward only past a written report.
A file lock keeps one run per watch at a time (`watch_lock`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from trialfinder.ctgov.sources import NO_HOOKS, ApiSource, Hooks, RecordsSource
from trialfinder.errors import TrialfinderError
from trialfinder.records import Site, Study
from trialfinder.schema import PRIOR_CAR_T_LABELS
from trialfinder.spec import Search
from trialfinder.watch.compare import SitePlace, TrialChange, compare
from trialfinder.watch.fetch import candidates, classifier_version, why_left
from trialfinder.watch.snapshot import Member, Snapshot
from trialfinder.watch.store import ChangeTuple, Store
from trialfinder.watch.watchfile import Watch

LOCK_TIMEOUT = 60.0  # seconds a second run of the same watch waits before giving up


@dataclass(frozen=True)
class Report:
    """What one run of a watch found."""

    watch: str
    data_timestamp: str | None
    changes: tuple[TrialChange, ...]
    result_count: int
    first_run: bool = False  # no baseline yet: everything is new
    new_baseline: bool = False  # the watch's definition changed: a fresh start
    data_unchanged: bool = False  # the registry has not loaded new data since the baseline
    classifier_note: str = ""  # the classifier changed and reads some trials differently
    requests: int = 0
    run_id: int | None = None  # the pending run to commit once the report is written

    @property
    def changed(self) -> bool:
        """Whether there is anything to tell."""
        return bool(self.changes)


@contextmanager
def watch_lock(path: Path, name: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the watch's lock; a second run waits `timeout` seconds, then fails clearly."""
    import filelock

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise TrialfinderError(
            f"another report of watch {name!r} is still running (waited {timeout:g} s); "
            "try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def site_place(search: Search) -> SitePlace:
    """How far a site is from the watch's place, and whether it is within the radius.

    The search's own radius rule decides (coordinates within the radius, or for a site
    without them a match of the place by name); without a place every site counts.
    """
    place, radius = search.options.near, search.options.radius
    if place is None:
        return lambda site: (None, True)
    from trialfinder.frames import sites_frame
    from trialfinder.geo.distance import measure, sites_within

    def where(site: Site) -> tuple[float | None, bool]:
        frame = sites_frame([Study("NCT00000000", sites=(site,))])
        within = not sites_within(frame, place, radius, any_status=True).empty
        miles = float(measure(frame, place)["distance_mi"].iloc[0])
        return (None if miles != miles else miles), within

    return where


def _why_dropped(
    studies: list[Study], stances: Mapping[str, str], search: Search
) -> dict[str, str]:
    """Why the watch's own filters dropped each of these studies."""
    from trialfinder.cart.profile import profile_study

    options = search.options
    out: dict[str, str] = {}
    rest: list[Study] = []
    for study in studies:
        stance = stances[study.nct_id]
        profile = profile_study(study) if (options.car_t or options.targets) else None
        if profile is not None and not profile.car_t:
            out[study.nct_id] = "no longer reads as a CAR-T trial"
        elif (
            profile is not None
            and options.targets
            and not set(options.targets) & set(profile.car_targets)
        ):
            out[study.nct_id] = f"no longer targets {' or '.join(options.targets)}"
        elif stance not in (options.prior_car_t or PRIOR_CAR_T_LABELS) or (
            options.after_car_t and stance not in ("required", "allowed")
        ):
            out[study.nct_id] = f"prior-CAR-T stance now {stance}"
        else:
            rest.append(study)
    if rest and options.near is not None:
        from trialfinder.frames import sites_frame
        from trialfinder.geo.distance import sites_within

        near = sites_within(
            sites_frame(rest), options.near, options.radius, any_status=options.any_site_status
        )
        radius = f"{options.radius}" if options.radius is not None else "the radius"
        open_near = set(near["nct_id"])
        for study in rest:
            if study.nct_id not in open_near:
                out[study.nct_id] = f"no open site left within {radius} of {options.near.label}"
    for study in rest:
        out.setdefault(study.nct_id, "no longer kept by the search's filters")
    return out


def _snapshot(
    studies: list[Study], search: Search, data_timestamp: str | None, old: Snapshot | None
) -> Snapshot:
    from trialfinder.cart.profile import profile_study
    from trialfinder.search import run_search

    source = RecordsSource(studies, "the watch's records")
    result = run_search(search.query, source, search.options)
    kept = {s.nct_id for s in result.records}
    version = classifier_version()
    known = old.members if old is not None and old.classifier == version else {}
    # An unchanged record read by the same classifier has the same stance: reuse it.
    stances = {
        s.nct_id: known[s.nct_id].stance
        if s.nct_id in known and known[s.nct_id].study == s
        else profile_study(s).prior_car_t.label
        for s in studies
    }
    dropped = _why_dropped([s for s in studies if s.nct_id not in kept], stances, search)
    members = {
        s.nct_id: Member(s, s.nct_id in kept, stances[s.nct_id], dropped.get(s.nct_id, ""))
        for s in studies
    }
    return Snapshot(members, data_timestamp, version)


def _reclassified(old: Snapshot) -> tuple[Snapshot, int]:
    """The old snapshot read by today's classifier, and how many stances that changes."""
    if old.classifier == classifier_version():
        return old, 0
    from trialfinder.cart.profile import profile_study

    members = {}
    differ = 0
    for nct, member in old.members.items():
        stance = profile_study(member.study).prior_car_t.label
        differ += stance != member.stance and member.in_result
        members[nct] = dataclasses.replace(member, stance=stance)
    return Snapshot(members, old.data_timestamp, classifier_version()), differ


def change_rows(changes: tuple[TrialChange, ...]) -> list[ChangeTuple]:
    """The changes as flat rows (for the store, history and CSV)."""
    rows: list[ChangeTuple] = []
    for change in changes:
        if change.kind in ("new", "left"):
            rows.append((change.nct_id, change.kind, "", "", change.reason, "", None, True))
        for field in change.fields:
            rows.append(
                (
                    change.nct_id,
                    change.kind,
                    field.field,
                    field.old,
                    field.new,
                    "",
                    None,
                    field.material,
                )
            )
        for site in change.sites:
            rows.append(
                (
                    change.nct_id,
                    change.kind,
                    f"site {site.kind}",
                    site.old_status,
                    site.new_status,
                    site.site,
                    site.distance_mi,
                    True,
                )
            )
    return rows


def _full_due(store: Store, watch: Watch) -> bool:
    last = store.last_full(watch.name, watch.definition_hash)
    if last is None:
        return True
    age = dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(last)
    return age >= dt.timedelta(days=watch.full_every_days)


def run_report(
    watch: Watch, store: Store, source: ApiSource, *, full: bool = False, hooks: Hooks = NO_HOOKS
) -> Report:
    """Run one watch: the report, and its snapshot stored as a pending run (see the module)."""
    search = watch.search()
    base = store.baseline(watch.name)
    new_baseline = base is not None and base.definition != watch.definition_hash
    start = source.requests_made
    same_search = base is not None and not new_baseline
    full = full or (same_search and _full_due(store, watch))
    # The one request of a run on a day the registry loaded nothing new:
    if (
        base is not None
        and same_search
        and not full
        and source.data_timestamp(hooks=hooks) == base.data_timestamp
    ):
        return Report(
            watch.name,
            base.data_timestamp,
            (),
            base.result_count,
            data_unchanged=True,
            requests=source.requests_made - start,
        )
    old = store.snapshot(base) if base is not None and same_search else None
    previous = {n: m.study for n, m in old.members.items()} if old is not None else None
    found = candidates(
        source,
        search,
        previous,
        full=full,
        hooks=hooks,
    )
    new = _snapshot(found.studies, search, found.data_timestamp, old)
    note = ""
    if old is not None:
        old, differ = _reclassified(old)
        if differ:
            note = (
                f"trialfinder's CAR-T classifier has changed since the last run and reads "
                f"{differ} trial(s) differently; those are not changes to the trials"
            )
    gone = [n for n in (old.result if old is not None else {}) if n not in new.members]
    reasons = why_left(source, gone, search.query.statuses, hooks)
    changes = tuple(compare(old, new, where=site_place(search), reasons=reasons))
    requests = source.requests_made - start
    run_id = store.save_run(
        watch.name,
        watch.definition_hash,
        new,
        change_rows(changes),
        full=found.full,
        requests=requests,
    )
    return Report(
        watch.name,
        new.data_timestamp,
        changes,
        len(new.result),
        first_run=base is None,
        new_baseline=new_baseline,
        classifier_note=note,
        requests=requests,
        run_id=run_id,
    )
