"""A snapshot of one watch's search: its member trials as typed records, stored by content hash.

`record_json` / `record_from_json` turn a `Study` into canonical JSON and back (the store keeps
each distinct record once, under the hash of that JSON). A `Member` is a trial the server
returned for the watch's query, with whether the watch's own filters kept it and, if not, why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trialfinder.records import Contact, Intervention, Official, Site, Study

# Record fields holding nested records; every other list is a tuple of plain values.
_NESTED: dict[str, type] = {
    "sites": Site,
    "contacts": Contact,
    "central_contacts": Contact,
    "officials": Official,
    "interventions": Intervention,
}


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            continue  # a field an older or newer trialfinder wrote: ignored, not an error
        if key in _NESTED and isinstance(value, list):
            values[key] = tuple(_build(_NESTED[key], v) for v in value if isinstance(v, Mapping))
        elif isinstance(value, list):
            values[key] = tuple(value)
        else:
            values[key] = value
    return cls(**values)


def record_json(study: Study) -> str:
    """A study as canonical JSON (sorted keys, no free text kept for local matching)."""
    study.need_long_texts()  # a snapshot without them would report them all as changed
    plain = dataclasses.asdict(dataclasses.replace(study, text=""))
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def record_from_json(text: str) -> Study:
    """A study back from `record_json`."""
    study: Study = _build(Study, json.loads(text))
    return study


def record_hash(text: str) -> str:
    """The content hash a record is stored under."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Member:
    """A trial the server returned for a watch's query, in one snapshot."""

    study: Study
    in_result: bool  # kept by the watch's own filters (CAR-T, near me, ...)
    stance: str = "unmentioned"  # the prior-CAR-T stance label, by the classifier of the run
    why_not: str = ""  # why the filters dropped it (when not in_result)


@dataclass(frozen=True)
class Snapshot:
    """Every member of one run of a watch, with what the run was made from."""

    members: Mapping[str, Member]
    data_timestamp: str | None
    classifier: str

    @property
    def result(self) -> dict[str, Member]:
        """The members the watch reports: those its filters kept."""
        return {n: m for n, m in self.members.items() if m.in_result}
