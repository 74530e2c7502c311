"""A search that shows none of the records' long texts lets them go once each record is
classified (`Study.without_long_texts`): the same answers, and what would read them refuses."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from clirun import run

from trialfinder import search as search_module
from trialfinder.cart.profile import profile_row, profile_study
from trialfinder.ctgov.cores import WORKERS_ENV
from trialfinder.ctgov.hooks import Hooks
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import FileSource, PageJob, _page_records
from trialfinder.records import UNREAD_TEXT, Intervention, Study
from trialfinder.search import SearchOptions, run_search
from trialfinder.watch.compare import study_changes
from trialfinder.watch.snapshot import record_json

STUDY = Study(
    "NCT90000001",
    brief_title="Anti-CD19 CAR T cells",
    brief_summary="A summary.",
    eligibility_criteria="Exclusion Criteria:\n- Prior CAR T-cell therapy",
    interventions=(Intervention("BIOLOGICAL", "CD19 CAR-T", (), "Autologous T cells"),),
)


def test_a_record_without_its_long_texts_keeps_the_rest_and_says_so() -> None:
    lean = STUDY.without_long_texts()
    assert lean.brief_summary is UNREAD_TEXT and lean.eligibility_criteria is UNREAD_TEXT
    assert lean.interventions[0].description is UNREAD_TEXT
    assert lean.interventions[0].name == "CD19 CAR-T" and lean.title == STUDY.title
    # Worker processes send records back pickled: the marker survives it.
    back = pickle.loads(pickle.dumps(lean))
    assert back.eligibility_criteria is UNREAD_TEXT and back == lean
    STUDY.need_long_texts()
    with pytest.raises(RuntimeError, match="NCT90000001 were let go"):
        back.need_long_texts()


@pytest.mark.parametrize(
    "reads",
    [
        profile_study,
        record_json,
        lambda s: study_changes(STUDY, s, "excluded", "excluded", None),  # type: ignore[arg-type]
    ],
    ids=["classifier", "snapshot", "changes"],
)
def test_what_reads_the_long_texts_refuses_a_record_without_them(reads: Any) -> None:
    with pytest.raises(RuntimeError, match="let go"):
        reads(STUDY.without_long_texts())


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_search_without_long_texts_gives_the_same_result(
    records_dir: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv(WORKERS_ENV, workers)
    query = Query.build(status=["any"], limit=100000)
    options = SearchOptions(cart_columns=True)
    kept = run_search(query, FileSource(records_dir), options, with_sites=False)
    lean = run_search(
        query, FileSource(records_dir), options, with_sites=False, with_long_texts=False
    )
    assert len(lean.studies) > 300
    assert lean.studies.equals(kept.studies)
    assert set(lean.studies["prior_car_t"]) >= {"excluded", "unmentioned"}
    assert [s.nct_id for s in lean.records] == [s.nct_id for s in kept.records]
    assert all(s.eligibility_criteria is UNREAD_TEXT for s in lean.records)
    assert any(s.eligibility_criteria for s in kept.records)


def test_an_api_page_lets_them_go_once_classified(records_dir: Path) -> None:
    from records import real_studies

    raws = real_studies()[:40]
    kept, results = _page_records(PageJob(raws, "on page 1", profile_row, True))
    lean, lean_results = _page_records(PageJob(raws, "on page 1", profile_row, False))
    assert lean_results == results and len(results) == 40
    assert [s.without_long_texts() for s in kept] == lean


def test_a_source_read_without_them_reads_again_for_a_search_that_needs_them(
    records_dir: Path,
) -> None:
    source = FileSource(records_dir)
    lean = source.fetch(Query(), hooks=Hooks(long_texts=False)).studies
    assert lean[0].brief_summary is UNREAD_TEXT
    again = source.fetch(Query(), hooks=Hooks(classify=profile_row)).studies
    assert any(s.eligibility_criteria for s in again)
    assert all(s.brief_summary is not UNREAD_TEXT for s in again)
    assert source.get(again[0].nct_id).brief_summary is not UNREAD_TEXT


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_the_search_command_shows_the_same_with_them_let_go(
    records_dir: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    args = ["search", "--source", str(records_dir), "--status", "any", "--after-car-t"]
    args += ["--limit", "1000", "-f", fmt, "--explain"]
    asked: list[bool] = []
    search = search_module.run_search

    def spy(*a: Any, **k: Any) -> Any:
        asked.append(k["with_long_texts"])
        return search(*a, **k)

    monkeypatch.setattr(search_module, "run_search", spy)
    lean = run(args)
    monkeypatch.setattr(
        search_module,
        "run_search",
        lambda *a, **k: spy(*a, **{**k, "with_long_texts": True}),
    )
    kept = run(args)
    assert lean.code == kept.code == 0, lean.err
    assert lean.out == kept.out and lean.err == kept.err and "NCT" in lean.out
    assert asked == [False, True]
