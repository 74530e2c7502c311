"""`compare(old, new)`: pure, field- and site-level, quiet about noise."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from trialfinder.records import Site, Study
from trialfinder.watch.compare import compare, eligibility_change, site_changes
from trialfinder.watch.snapshot import Member, Snapshot, record_from_json, record_json


def everywhere(site: Site) -> tuple[float | None, bool]:
    return None, True


def snap(*members: Member) -> Snapshot:
    return Snapshot({m.study.nct_id: m for m in members}, "2026-01-01T00:00:00", "v1")


texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
sites = st.builds(
    Site,
    facility=texts,
    city=st.sampled_from(["Houston", "Dallas", ""]),
    status=st.sampled_from(["RECRUITING", "COMPLETED", None]),
    lat=st.none() | st.floats(-90, 90),
    lon=st.none() | st.floats(-180, 180),
)
studies = st.builds(
    Study,
    nct_id=st.from_regex(r"NCT9\d{7}", fullmatch=True),
    brief_title=texts,
    status=st.sampled_from(["RECRUITING", "SUSPENDED", None]),
    phases=st.lists(st.sampled_from(["PHASE1", "PHASE2"]), max_size=2).map(tuple),
    enrollment=st.none() | st.integers(0, 1000),
    sites=st.lists(sites, max_size=5).map(tuple),
    eligibility_criteria=st.none() | texts,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(studies, max_size=6, unique_by=lambda s: s.nct_id))
def test_a_snapshot_compared_with_itself_has_no_changes(items: list[Study]) -> None:
    same = snap(*(Member(s, True) for s in items))
    assert compare(same, same, where=everywhere) == []


@settings(max_examples=100, deadline=None)
@given(studies)
def test_records_round_trip_through_their_stored_json(study: Study) -> None:
    assert record_from_json(record_json(study)) == study


def test_the_first_run_lists_every_result_as_new_and_skips_dropped_members() -> None:
    kept, dropped = Study("NCT90000001"), Study("NCT90000002")
    new = snap(Member(kept, True), Member(dropped, False, why_not="x"))
    assert [(c.nct_id, c.kind) for c in compare(None, new, where=everywhere)] == [
        ("NCT90000001", "new")
    ]


def test_sites_are_a_multiset_on_their_key() -> None:
    a = Site(facility="Clinic", city="Houston", status="RECRUITING")
    b = dataclasses.replace(a, status="COMPLETED")
    old = Study("NCT90000001", sites=(a, a))
    assert site_changes(old, Study("NCT90000001", sites=(a, a)), everywhere) == ()
    one_closed = site_changes(old, Study("NCT90000001", sites=(b, a)), everywhere)
    assert [(c.kind, c.old_status, c.new_status) for c in one_closed] == [
        ("status", "RECRUITING", "COMPLETED")
    ]
    added = site_changes(old, Study("NCT90000001", sites=(a, a, a)), everywhere)
    assert [c.kind for c in added] == ["added"]
    moved = site_changes(old, Study("NCT90000001", sites=(a,)), everywhere)
    assert [c.kind for c in moved] == ["removed"]


def test_eligibility_ignores_white_space_and_escapes_and_lists_changed_items() -> None:
    before = "Inclusion:\n* Age \\>= 18\n* ECOG 0-1\n"
    assert eligibility_change(before, "Inclusion:\n\n*   Age >= 18\n* ECOG  0-1") is None
    change = eligibility_change(before, "Inclusion:\n* Age >= 18\n* ECOG 0-2\n")
    assert change is not None and (change.old, change.new) == ("ECOG 0-1", "ECOG 0-2")


def test_material_changes_come_first_and_stance_is_a_field() -> None:
    a = Study("NCT90000001", sponsor="Acme")
    b = Study("NCT90000002", status="RECRUITING")
    old = snap(Member(a, True, "allowed"), Member(b, True))
    new = snap(
        Member(dataclasses.replace(a, sponsor="Other"), True, "allowed"),
        Member(dataclasses.replace(b, status="SUSPENDED"), True, "excluded"),
    )
    out = compare(old, new, where=everywhere)
    assert [c.nct_id for c in out] == ["NCT90000002", "NCT90000001"]
    assert [(f.field, f.old, f.new) for f in out[0].fields] == [
        ("prior_car_t", "unmentioned", "excluded"),
        ("status", "RECRUITING", "SUSPENDED"),
    ]
    assert not out[1].material and out[1].fields[0].field == "sponsor"
