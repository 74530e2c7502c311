"""Tests for trialfinder.cart: the prior-CAR-T classifier, the study profile and the API filter."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pytest
from cart_labels import (
    FIXTURE_KEY,
    FIXTURES_DIR,
    HAND_CASES,
    HELDOUT2_CASES,
    HELDOUT_CASES,
    HELDOUT_STUDY_CASES,
    REAL_CAR_T,
    REAL_PRIOR_LABELS,
    RECORDS_DIR,
    STUDY_CASES,
    Case,
    StudyCase,
    criteria_of,
    load_records,
    profile_study,
    real_prior_cases,
    record,
    score,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from trialfinder.cart.explain import describe_stance, evidence_span
from trialfinder.cart.profile import CART_COLUMNS, row_of
from trialfinder.cart.stance import PRIOR_CAR_T_LABELS, Stance, classify_prior_car_t
from trialfinder.cart.vocab import (
    canonical_target,
    known_targets,
    parse_targets,
    vocabulary,
)
from trialfinder.cart.widening import server_expression
from trialfinder.errors import InvalidOption, RecordError
from trialfinder.records import parse_study


def profile_row(raw: Mapping[str, Any]) -> dict[str, object]:
    """The profile of a raw study object as a flat row."""
    return row_of(profile_study(raw))


needs_records = pytest.mark.skipif(
    not RECORDS_DIR.is_dir(),
    reason=f"real-record part skipped: saved ClinicalTrials.gov records not found at {RECORDS_DIR}",
)


def family(*names: str) -> list[Case]:
    cases = [c for c in (*HAND_CASES, *HELDOUT_CASES, *HELDOUT2_CASES) if c.family in names]
    assert cases, names
    return cases


def check(cases: Iterable[Case]) -> None:
    """Every case gets its label (and section, when given); evidence is verbatim."""
    wrong = []
    for case in cases:
        stance = classify_prior_car_t(case.text)
        if stance.label != case.label or (case.section and stance.section != case.section):
            got = f"{stance.label}/{stance.section or '-'} from {stance.evidence!r}"
            wrong.append(f"{case.name}: expected {case.label}/{case.section or '-'}, got {got}")
        if stance.label == "unmentioned":
            assert stance.evidence == "" and stance.section == "", case.name
        else:
            assert case.text and stance.evidence and stance.evidence in case.text, case.name
    assert not wrong, "\n".join(wrong)


# --- hard targets -------------------------------------------------------------------------------


def assert_prior_targets(pairs: list[tuple[str, str]]) -> None:
    s = score(pairs)
    assert s.precision("excluded") >= 0.95, s.table()
    assert s.precision("required", "allowed") >= 0.95, s.table()
    for label in ("required", "allowed", "excluded"):
        assert s.recall(label) >= 0.90, (label, s.table())


def prior_pairs(cases: Iterable[Case]) -> list[tuple[str, str]]:
    return [(c.label, classify_prior_car_t(c.text).label) for c in cases]


def test_prior_car_t_targets_on_the_hand_written_set() -> None:
    assert len(HAND_CASES) + len(HELDOUT_CASES) + len(HELDOUT2_CASES) >= 80
    assert_prior_targets(prior_pairs((*HAND_CASES, *HELDOUT_CASES, *HELDOUT2_CASES)))


@needs_records
def test_prior_car_t_targets_on_the_combined_set() -> None:
    real = real_prior_cases(load_records())
    assert_prior_targets(prior_pairs((*real, *HAND_CASES, *HELDOUT_CASES, *HELDOUT2_CASES)))


def car_t_pairs(cases: Iterable[StudyCase]) -> list[tuple[str, str]]:
    return [(str(c.car_t), str(profile_study(c.study).car_t)) for c in cases]


def test_car_t_targets_on_the_hand_written_studies() -> None:
    s = score(car_t_pairs((*STUDY_CASES, *HELDOUT_STUDY_CASES)), ("True", "False"))
    assert s.precision("True") >= 0.95 and s.recall("True") >= 0.95, s.table()


@needs_records
def test_car_t_targets_on_the_combined_set() -> None:
    real = [(str(n in REAL_CAR_T), str(profile_study(s).car_t)) for n, s in load_records().items()]
    s = score(real + car_t_pairs((*STUDY_CASES, *HELDOUT_STUDY_CASES)), ("True", "False"))
    assert s.precision("True") >= 0.95 and s.recall("True") >= 0.95, s.table()


@needs_records
def test_every_labelled_record_exists_and_every_mention_is_labelled() -> None:
    records = load_records()
    assert set(REAL_PRIOR_LABELS) <= set(records)
    assert set(records) >= REAL_CAR_T
    mention = re.compile(r"CAR[- ]?T|\bCAR\b|chimeric antigen|cabtagene|tisagenlecleucel", re.I)
    mentioning = {n for n, s in records.items() if mention.search(criteria_of(s) or "")}
    assert mentioning <= set(REAL_PRIOR_LABELS)


# --- one test per pattern family ----------------------------------------------------------------


def test_headers_in_many_spellings() -> None:
    check(family("headers"))


def test_bullets_numbering_and_nesting() -> None:
    check(family("bullets"))


def test_markdown_escapes() -> None:
    check(family("escapes"))


def test_negation_and_exceptions() -> None:
    check(family("negation"))


def test_washout_periods() -> None:
    check(family("washout"))


def test_conditional_allowance() -> None:
    check(family("conditional"))


def test_required_after_car_t() -> None:
    check(family("required"))


def test_cohorts_that_require_prior_car_t() -> None:
    check(family("cohort"))


def test_cytopenia_and_other_care_after_car_t() -> None:
    check(family("cytopenia", "care-after", "consolidation"))


def test_or_alternatives_allow_rather_than_require() -> None:
    check(family("alternatives"))


def test_genetically_modified_cell_therapy() -> None:
    check(family("modified"))


def test_same_target_therapy_including_car_t() -> None:
    check(family("same-target"))


def test_product_names_and_codes() -> None:
    check(family("products"))


def test_spelling_variants() -> None:
    check(family("spellings"))


def test_the_trials_own_product_is_not_prior_therapy() -> None:
    check(family("own-product"))


def test_false_friends_of_car() -> None:
    check(family("false-positive"))


def test_precedence_between_sentences() -> None:
    check(family("precedence"))


def test_nothing_to_say() -> None:
    check(family("unmentioned"))


def test_held_out_batch() -> None:
    check(family("held-out"))


@needs_records
def test_real_records_hand_labelled() -> None:
    check(real_prior_cases(load_records()))


# --- the study profile --------------------------------------------------------------------------


@pytest.mark.parametrize("case", (*STUDY_CASES, *HELDOUT_STUDY_CASES), ids=lambda c: c.name)
def test_study_profile(case: StudyCase) -> None:
    p = profile_study(case.study)
    assert (p.car_t, p.car_targets, p.car_cell_source, p.car_cell_type, p.therapy_classes) == (
        case.car_t,
        case.targets,
        case.source,
        case.cell_type,
        case.classes,
    )


@needs_records
def test_real_car_t_records() -> None:
    records = load_records()
    got = {n for n, s in records.items() if profile_study(s).car_t}
    assert got == set(REAL_CAR_T)
    assert profile_study(records["NCT05507827"]).car_targets == ("CD19", "CD22")
    assert profile_study(records["NCT05164042"]).therapy_classes == ("allogeneic CAR-T",)
    assert profile_study(records["NCT05993949"]).car_targets == ("CD19",)


@needs_records
def test_profile_row_has_the_declared_columns_and_builds_a_frame() -> None:
    rows = [profile_row(c.study) for c in STUDY_CASES]
    assert all(tuple(r) == CART_COLUMNS for r in rows)
    frame = pd.DataFrame(rows, columns=list(CART_COLUMNS))
    assert frame["car_t"].dtype == bool
    assert isinstance(frame.loc[0, "car_targets"], tuple)
    assert set(frame["prior_car_t"]) <= set(PRIOR_CAR_T_LABELS)


def test_missing_modules_and_bad_input() -> None:
    empty = profile_study({})
    assert not empty.car_t and empty.car_cell_source == "" and empty.car_cell_type == ""
    assert empty.prior_car_t == Stance("unmentioned", "", "")
    with pytest.raises(RecordError):
        parse_study([])


def test_prior_car_t_is_read_from_the_eligibility_module() -> None:
    study = {"protocolSection": {"eligibilityModule": {"eligibilityCriteria": HAND_CASES[0].text}}}
    assert profile_study(study).prior_car_t.label == "required"
    assert profile_row(study)["prior_car_t_section"] == "inclusion"


@pytest.mark.skipif(not FIXTURES_DIR.is_dir(), reason=f"sample data not found at {FIXTURES_DIR}")
def test_sample_data_answer_key() -> None:
    studies = load_records(FIXTURES_DIR)
    assert set(studies) == set(FIXTURE_KEY)
    got = {
        n: (profile_study(s).car_t, profile_study(s).prior_car_t.label) for n, s in studies.items()
    }
    assert got == FIXTURE_KEY


# --- stance helpers -----------------------------------------------------------------------------


def test_describe_stance_for_each_label() -> None:
    texts = {lbl: describe_stance(Stance(lbl, "", "")) for lbl in PRIOR_CAR_T_LABELS}
    assert texts["required"].startswith("This trial, or one of its groups, is for people who")
    assert texts["excluded"].startswith("This trial excludes people who already had CAR-T")
    assert "allows" in texts["allowed"]
    assert texts["unmentioned"].startswith("The eligibility criteria do not mention prior CAR-T")
    assert len(set(texts.values())) == 4


def test_stance_rejects_unknown_labels() -> None:
    with pytest.raises(InvalidOption):
        Stance("maybe", "", "")
    with pytest.raises(InvalidOption):
        Stance("allowed", "x", "preamble")


def test_evidence_span_marks_the_evidence() -> None:
    text = HAND_CASES[0].text or ""
    stance = classify_prior_car_t(text)
    span = evidence_span(text, stance.evidence)
    assert span and text[span[0] : span[1]] == stance.evidence
    assert evidence_span("a  b\n c", "a b c") == (0, 7)
    assert evidence_span(text, "") is None and evidence_span(text, "not there") is None


PIECES = [*"CAR-T \n*:.;\\<>", "prior ", "Exclusion Criteria:\n", "within 30 days ", "not allowed "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "after ", "1. ", "axi-cel "]), max_size=30).map("".join))
def test_any_text_gives_a_valid_stance_with_verbatim_evidence(text: str) -> None:
    stance = classify_prior_car_t(text)
    assert stance.label in PRIOR_CAR_T_LABELS
    assert stance.evidence in text
    assert (stance.label == "unmentioned") == (stance.evidence == "")


# --- vocabulary and the API filter --------------------------------------------------------------


def test_vocabulary_is_loaded_once() -> None:
    assert vocabulary() is vocabulary()


def test_targets_lookup() -> None:
    assert "CD19" in known_targets() and "BCMA" in known_targets()
    assert canonical_target("cd19") == "CD19"
    assert canonical_target("claudin 18.2") == "Claudin18.2"
    assert canonical_target("B-cell maturation antigen") == "BCMA"
    assert canonical_target("CD999") is None
    assert parse_targets(["bcma", "BCMA", "gprc5d"]) == ("BCMA", "GPRC5D")
    with pytest.raises(InvalidOption, match="--target"):
        parse_targets(["CD999"])


def test_server_expression() -> None:
    assert server_expression() is None
    car = server_expression(car_t=True)
    assert car and car.startswith("AREA[BasicSearch](")
    for term in ('"CAR-T"', '"chimeric antigen receptor"', "tisagenlecleucel", "Carvykti"):
        assert term in car
    after = server_expression(after_car_t=True)
    assert after and after.startswith("AREA[EligibilityCriteria](") and '"axi-cel"' in after
    both = server_expression(car_t=True, after_car_t=True, targets=["cd19", "BCMA"])
    assert both and both.count(" AND ") == 2 and "idecabtagene" in both and "CAR19" in both
    assert "\\-" not in both  # API-NOTES pitfall 5
    # Fits in a URL: common servers accept 8 KB request lines; keep well below.
    from urllib.parse import urlencode

    assert len(urlencode({"filter.advanced": both})) < 5000
    assert both.count("(") == both.count(")")
    with pytest.raises(InvalidOption):
        server_expression(targets=["CD999"])


def test_targets_named_after_a_prior_therapy_phrase_are_not_the_products() -> None:
    def study(title: str, intervention: str) -> dict[str, Any]:
        return {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT90009999", "briefTitle": title},
                "armsInterventionsModule": {
                    "interventions": [{"type": "BIOLOGICAL", "name": intervention}]
                },
            }
        }

    gprc5d = profile_study(study("GPRC5D CAR T Cells in Myeloma After BCMA Therapy", "GX-5D"))
    assert gprc5d.car_t and gprc5d.car_targets == ("GPRC5D",)
    cd22 = profile_study(study("CD22 CAR-T for Relapse Following CD19 CAR-T", "LB-22 CAR T cells"))
    assert cd22.car_targets == ("CD22",)
    tandem = profile_study(study("Lymphoma", "Tandem CD20/CD19 CAR T cells"))
    assert tandem.car_targets == ("CD20", "CD19")


# --- the server query never drops what the classifier would keep ---------------------------------


def _area_terms(expression: str, area: str) -> str:
    """The OR-group after AREA[area] in a server expression, as a simplified Essie string."""
    match = re.search(rf"AREA\[{area}\]\((.*?)\)(?: AND |$)", expression)
    assert match, (area, expression)
    return match.group(1)


def test_every_decided_criteria_case_matches_the_eligibility_widening() -> None:
    from trialfinder.filters import text_matches

    terms = _area_terms(server_expression(after_car_t=True) or "", "EligibilityCriteria")
    cases = [*HAND_CASES, *HELDOUT_CASES, *HELDOUT2_CASES]
    decided = [c for c in cases if c.text and classify_prior_car_t(c.text).label != "unmentioned"]
    assert len(decided) > 50
    missed = [c.name for c in decided if not text_matches(c.text or "", terms)]
    assert not missed


def test_every_car_t_study_case_matches_the_study_widening() -> None:
    from trialfinder.filters import area_text, text_matches

    terms = _area_terms(server_expression(car_t=True) or "", "BasicSearch")
    studies = [c.study for c in (*STUDY_CASES, *HELDOUT_STUDY_CASES)]
    car_t = [s for s in studies if profile_study(s).car_t]
    assert len(car_t) > 10
    missed: list[str] = []
    for study in car_t:
        text = (
            " ".join(area_text(record(study), a) for a in ("cond", "intr"))
            + " "
            + str(study["protocolSection"]["identificationModule"].get("briefTitle", ""))
        )
        if not text_matches(text, terms):
            missed.append(study["protocolSection"]["identificationModule"]["briefTitle"])
    assert not missed


def test_real_records_the_classifier_keeps_match_the_server_widening() -> None:
    from trialfinder.filters import area_text, text_matches

    if not RECORDS_DIR.is_dir():
        pytest.skip(f"real API records not available at {RECORDS_DIR}")
    records = load_records()
    eligibility = _area_terms(server_expression(after_car_t=True) or "", "EligibilityCriteria")
    study_terms = _area_terms(server_expression(car_t=True) or "", "BasicSearch")
    missed = []
    for nct, study in records.items():
        profile = profile_study(study)
        decided = profile.prior_car_t.label != "unmentioned"
        if decided and not text_matches(criteria_of(study) or "", eligibility):
            missed.append(f"{nct} eligibility")
        if profile.car_t:
            text = " ".join(area_text(record(study), a) for a in ("cond", "intr", "term"))
            if not text_matches(text, study_terms):
                missed.append(f"{nct} car_t")
    assert not missed
