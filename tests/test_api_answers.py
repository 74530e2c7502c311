"""Answers checked before they are believed (issue 10): a 200 that is not a study page, a study
without an NCT id, another study than the one asked for, a result shorter than totalCount."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_fakes import make_client, study
from clirun import run
from ctgov_server import FakeCtGov
from records import real_studies

from trialfinder.ctgov.query import Query
from trialfinder.ctgov.sources import ApiSource, count_slack
from trialfinder.errors import ApiError

FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6", "TRIALFINDER_BACKOFF": "0.01"}


def real(nct: str) -> dict[str, Any]:
    return copy.deepcopy(
        next(
            s
            for s in real_studies()
            if s["protocolSection"]["identificationModule"]["nctId"] == nct
        )
    )


def cli(server: FakeCtGov, *argv: str) -> Any:
    return run(list(argv), {"TRIALFINDER_API_URL": server.base_url, **FAST})


def one_error_line(result: Any) -> str:
    assert result.code == 1, (result.code, result.out, result.err)
    assert result.out == ""
    assert len(result.err_lines) == 1 or result.err_lines[1].startswith("Tip: ")
    assert "Traceback" not in result.err
    line: str = result.err_lines[0]
    assert line.startswith("Error: ")
    return line


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"hello": "world"}, "an object with hello (text)"),
        ({"studies": None}, "an object with studies (null)"),
        ([], "a list of 0 item(s)"),
        ("maintenance", "the text 'maintenance'"),
    ],
)
def test_show_refuses_an_answer_that_is_not_a_study(body: object, named: str) -> None:
    with FakeCtGov() as server:
        server.fail_next(200, body=json.dumps(body))
        line = one_error_line(cli(server, "show", "NCT00000001"))
    assert line == f"Error: the API's answer for NCT00000001 is not a study record: it sent {named}"


@pytest.mark.parametrize("body", [{"hello": "world"}, {"studies": None}, {"studies": "x"}])
def test_search_refuses_a_200_that_is_not_a_studies_page(body: object) -> None:
    with FakeCtGov() as server:
        server.fail_next(200, body=json.dumps(body))
        line = one_error_line(cli(server, "search", "-c", "lymphoma"))
    assert line.startswith(
        "Error: page 1 of the search is not a /studies page: the API sent an object"
    )


def test_a_study_without_an_nct_id_on_a_page_is_an_error() -> None:
    page = {"studies": [study(1), {"protocolSection": {"statusModule": {}}}], "totalCount": 2}
    with FakeCtGov() as server:
        server.fail_next(200, body=json.dumps(page))
        line = one_error_line(cli(server, "search", "-c", "lymphoma"))
    assert line == (
        "Error: the API sent item 2 on page 1 that is not a study (it has no nctId): "
        "an object with protocolSection (object)"
    )


def test_another_study_than_the_one_asked_for_is_an_error(records_dir: Path) -> None:
    other = real("NCT05827016")
    with FakeCtGov() as server:
        server.fail_next(200, body=json.dumps(other))
        line = one_error_line(cli(server, "show", "NCT00000001"))
    assert line == "Error: asked the API for NCT00000001 but it sent study NCT05827016"


def test_an_alias_redirect_is_followed_and_said(records_dir: Path) -> None:
    record = real("NCT05827016")
    record["protocolSection"]["identificationModule"]["nctIdAliases"] = ["NCT00000042"]
    with FakeCtGov([record]) as server:
        result = cli(server, "show", "NCT00000042", "NCT05827016", "-f", "json")
        statuses = [r.status for r in server.requests]
    assert result.code == 0, result.err
    assert 301 in statuses
    assert (
        "Note: NCT00000042 is an alias; ClinicalTrials.gov now lists it as NCT05827016"
        in result.err
    )
    assert json.loads(result.out)["nct_id"] == "NCT05827016"  # one record, not the same twice


def test_a_result_far_shorter_than_total_count_is_an_error() -> None:
    page = {"studies": [study(1)], "totalCount": 5000}
    with FakeCtGov() as server:
        server.fail_next(200, body=json.dumps(page))
        result = cli(server, "search", "-c", "lymphoma")
    line = one_error_line(result)
    assert line == (
        "Error: the API counted 5000 matching studies but its pages ended after 1; "
        "the result would be short"
    )


def fetch_with(total: int, sent: int) -> list[str]:
    body = {"studies": [study(n) for n in range(1, sent + 1)], "totalCount": total}
    source = ApiSource(make_client(lambda request: httpx.Response(200, json=body)))
    return source.fetch(Query()).notes


@pytest.mark.parametrize("total", [1, 5, 300, 1000, 4321])
def test_the_count_slack_is_a_note_up_to_it_and_an_error_past_it(total: int) -> None:
    slack = count_slack(total)
    assert slack == max(3, total // 100)
    ok = max(0, total - slack)
    assert fetch_with(total, ok) == (
        []
        if ok == total
        else [
            f"the API counted {total} matching studies but sent {ok} "
            "(the data may have changed while paging)"
        ]
    )
    if total - slack - 1 >= 0:
        with pytest.raises(ApiError, match=f"counted {total} matching studies but its pages"):
            fetch_with(total, total - slack - 1)


def test_more_studies_than_counted_is_only_a_note() -> None:
    assert fetch_with(2, 3) == [
        "the API counted 2 matching studies but sent 3 (the data may have changed while paging)"
    ]
