"""What changed between two snapshots of a watch: a pure `compare(old, new)`, no I/O.

Per trial: new in the results, left them (with the reason when known), or changed, with each
changed field's old and new value. Sites have no id, so they are matched on facility, city,
state, country and ZIP as a multiset (that key repeats within some trials). Fields that move
on every data load (the last-update date, derived MeSH terms) are not compared; lists whose
order means nothing are compared as sets; text ignores white space and markdown escapes.
Changes to status, sites, eligibility, the prior-CAR-T stance, phase and enrollment are
*material* and listed first; the rest are administrative.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trialfinder.records import Site, Study
from trialfinder.watch.snapshot import Snapshot

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value, as text."""

    field: str
    old: str
    new: str
    material: bool


@dataclass(frozen=True)
class SiteChange:
    """A site added, removed, or changing its recruitment status."""

    kind: str  # "added" | "removed" | "status"
    site: str  # "facility, city, state, country"
    old_status: str
    new_status: str
    distance_mi: float | None  # from the watch's place (None without a place or coordinates)
    within: bool  # within the watch's radius (always True without a place)


@dataclass(frozen=True)
class TrialChange:
    """Everything that changed for one trial."""

    nct_id: str
    title: str
    kind: str  # "new" | "left" | "changed"
    reason: str = ""  # why a trial left the results, when known
    fields: tuple[FieldChange, ...] = ()
    sites: tuple[SiteChange, ...] = ()

    @property
    def material(self) -> bool:
        """Whether anything that decides if the trial fits a patient changed."""
        return self.kind != "changed" or bool(self.sites) or any(f.material for f in self.fields)

    @property
    def url(self) -> str:
        """The trial's page."""
        return f"https://clinicaltrials.gov/study/{self.nct_id}"


# Where a site is: decides what "within the radius" means for the watch's place.
SitePlace = Callable[[Site], "tuple[float | None, bool]"]


def _text(value: str | None) -> str:
    return " ".join(_ESCAPE.sub(r"\1", value or "").split())


def _items(values: Any) -> str:
    return "; ".join(sorted(str(v) for v in values if v))


# (field, how to read it as comparable text, material)
_FIELDS: tuple[tuple[str, Callable[[Study], str], bool], ...] = (
    ("status", lambda s: s.status or "", True),
    ("phases", lambda s: _items(s.phases), True),
    ("enrollment", lambda s: "" if s.enrollment is None else str(s.enrollment), True),
    ("title", lambda s: _text(s.brief_title), False),
    ("official_title", lambda s: _text(s.official_title), False),
    ("study_type", lambda s: s.study_type or "", False),
    ("conditions", lambda s: _items(s.conditions), False),
    (
        "interventions",
        lambda s: _items(f"{i.type or 'OTHER'}: {i.name}" for i in s.interventions),
        False,
    ),
    ("sponsor", lambda s: s.sponsor or "", False),
    ("collaborators", lambda s: _items(s.collaborators), False),
    ("start_date", lambda s: s.start_date or "", False),
    ("min_age", lambda s: s.min_age or "", False),
    ("max_age", lambda s: s.max_age or "", False),
    ("sex", lambda s: s.sex or "", False),
    ("central_contacts", lambda s: _items(c.line() for c in s.central_contacts), False),
    ("officials", lambda s: _items(o.line() for o in s.officials), False),
    ("summary", lambda s: _text(s.brief_summary), False),
)


def _criteria_items(text: str | None) -> list[str]:
    """Eligibility text as its items, normalised (white space and escapes do not count)."""
    return [
        t for line in (text or "").splitlines() if (t := _text(line.lstrip("*-•0123456789.) ")))
    ]


def eligibility_change(old: str | None, new: str | None) -> FieldChange | None:
    """The eligibility items removed and added, or None when the text is the same."""
    before, after = _criteria_items(old), _criteria_items(new)
    if before == after:
        return None
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    removed, added = [], []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "equal":
            removed += before[a1:a2]
            added += after[b1:b2]
    return FieldChange("eligibility", "\n".join(removed), "\n".join(added), True)


def _site_key(site: Site) -> tuple[str, ...]:
    return tuple(
        " ".join(p.casefold().split())
        for p in (site.facility, site.city, site.state, site.country, site.zip)
    )


def _site_label(site: Site) -> str:
    return ", ".join(p for p in (site.facility, site.city, site.state, site.country) if p)


def site_changes(old: Study, new: Study, where: SitePlace) -> tuple[SiteChange, ...]:
    """Sites added, removed or changing status; within the radius first, then nearest first."""
    before: dict[tuple[str, ...], list[Site]] = defaultdict(list)
    after: dict[tuple[str, ...], list[Site]] = defaultdict(list)
    for site in old.sites:
        before[_site_key(site)].append(site)
    for site in new.sites:
        after[_site_key(site)].append(site)
    out: list[SiteChange] = []
    for key in dict.fromkeys([*before, *after]):
        olds, news = before.get(key, []), after.get(key, [])
        # Sites of one key with the same status pair off as unchanged; what is left pairs up
        # as status changes, and the rest was added or removed.
        unpaired_new = list(news)
        unpaired_old = []
        for site in olds:
            same = next(
                (i for i, n in enumerate(unpaired_new) if (n.status or "") == (site.status or "")),
                None,
            )
            if same is None:
                unpaired_old.append(site)
            else:
                unpaired_new.pop(same)
        for o, n in zip(unpaired_old, unpaired_new, strict=False):
            distance, within = where(n)
            out.append(
                SiteChange(
                    "status", _site_label(n), o.status or "", n.status or "", distance, within
                )
            )
        for o in unpaired_old[len(unpaired_new) :]:
            distance, within = where(o)
            out.append(SiteChange("removed", _site_label(o), o.status or "", "", distance, within))
        for n in unpaired_new[len(unpaired_old) :]:
            distance, within = where(n)
            out.append(SiteChange("added", _site_label(n), "", n.status or "", distance, within))
    inf = float("inf")
    return tuple(
        sorted(out, key=lambda c: (not c.within, inf if c.distance_mi is None else c.distance_mi))
    )


def study_changes(
    old: Study, new: Study, old_stance: str, new_stance: str, where: SitePlace
) -> tuple[tuple[FieldChange, ...], tuple[SiteChange, ...]]:
    """The field and site changes between two records of one trial."""
    old.need_long_texts()
    new.need_long_texts()
    fields: list[FieldChange] = []
    if old_stance != new_stance:
        fields.append(FieldChange("prior_car_t", old_stance, new_stance, True))
    criteria = eligibility_change(old.eligibility_criteria, new.eligibility_criteria)
    if criteria is not None:
        fields.append(criteria)
    for name, read, material in _FIELDS:
        before, after = read(old), read(new)
        if before != after:
            fields.append(FieldChange(name, before, after, material))
    fields.sort(key=lambda f: not f.material)
    return tuple(fields), site_changes(old, new, where)


def compare(
    old: Snapshot | None,
    new: Snapshot,
    *,
    where: SitePlace,
    reasons: Mapping[str, str] | None = None,
) -> list[TrialChange]:
    """What changed from `old` to `new` (None: the first run, whose results are all new).

    `reasons` says why a trial that left the results did (for trials no longer returned by
    the search, found out by the caller); trials the watch's own filters dropped carry their
    reason in the snapshot. Unchanged trials are not listed. Trials with material changes
    come first, then by NCT id.
    """
    before = old.result if old is not None else {}
    after = new.result
    out: list[TrialChange] = []
    for nct, member in after.items():
        if nct not in before:
            out.append(TrialChange(nct, member.study.title, "new"))
            continue
        fields, sites = study_changes(
            before[nct].study, member.study, before[nct].stance, member.stance, where
        )
        if fields or sites:
            out.append(TrialChange(nct, member.study.title, "changed", "", fields, sites))
    for nct, member in before.items():
        if nct in after:
            continue
        still = new.members.get(nct)
        reason = still.why_not if still is not None else (reasons or {}).get(nct, "")
        out.append(
            TrialChange(
                nct, member.study.title, "left", reason or "no longer returned by the search"
            )
        )
    order = {"new": 0, "left": 1, "changed": 2}
    out.sort(key=lambda c: (not c.material, order[c.kind], c.nct_id))
    return out
