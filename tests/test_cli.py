"""The real CLI, end to end: against the loopback API server, and on the bundled sample data.

Each test checks stdout, stderr and the exit code apart.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest
from clirun import Result, run
from ctgov_server import FakeCtGov, make_studies

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = str(ROOT / "fixtures")
FAST = {
    "TRIALFINDER_REQUESTS_PER_MINUTE": "1000000",
    "TRIALFINDER_BACKOFF": "0.01",
    "TRIALFINDER_RETRIES": "3",
    "TRIALFINDER_TIMEOUT": "5",
}


def api_run(server: FakeCtGov, *argv: str, **env: str) -> Result:
    return run(list(argv), {"TRIALFINDER_API_URL": server.base_url, **FAST, **env})


def jsonl_ids(out: str) -> list[str]:
    return [json.loads(line)["nct_id"] for line in out.splitlines() if line.strip()]


def study_requests(server: FakeCtGov) -> list[dict[str, str]]:
    return [r.params for r in server.requests if r.path.endswith("/studies")]


# -- paging against the loopback API -----------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 1001, 2500])
def test_search_returns_exactly_what_the_server_paged(ctgov_server: FakeCtGov, count: int) -> None:
    studies = make_studies(count)
    ctgov_server.add_studies(studies)
    result = api_run(ctgov_server, "search", "--status", "any", "-f", "jsonl")
    assert result.code == 0, result.err
    ids = jsonl_ids(result.out)
    want = [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]
    assert len(ids) == len(set(ids)) == count
    assert set(ids) == set(want)
    requests = study_requests(ctgov_server)
    # One request per 1000 studies, plus the empty page after an exactly full one (pitfall 1).
    assert len(requests) == max(1, math.ceil(count / 1000) + (count % 1000 == 0 and count > 0))
    assert all(r["pageSize"] == "1000" for r in requests)
    assert requests[0].get("countTotal") == "true"
    assert all("countTotal" not in r for r in requests[1:])
    assert "NCTId" in requests[0]["fields"].split(",")
    assert "Data: ClinicalTrials.gov API at http://127.0.0.1" in result.err
    if count == 0:
        assert result.out == "" and "No trials matched." in result.err


def test_field_values_match_the_raw_records(ctgov_server: FakeCtGov) -> None:
    studies = make_studies(25, phases=["PHASE1", "PHASE2"])
    ctgov_server.add_studies(studies)
    result = api_run(ctgov_server, "search", "--status", "any", "-f", "json")
    assert result.code == 0, result.err
    rows = {r["nct_id"]: r for r in json.loads(result.out)}
    for study in studies:
        ps = study["protocolSection"]
        row = rows[ps["identificationModule"]["nctId"]]
        assert row["title"] == ps["identificationModule"]["briefTitle"]
        assert row["status"] == ps["statusModule"]["overallStatus"]
        assert row["phases"] == ps["designModule"]["phases"]
        assert row["enrollment"] == ps["designModule"]["enrollmentInfo"]["count"]
        assert row["last_update"] == ps["statusModule"]["lastUpdatePostDateStruct"]["date"]
        assert row["sites_count"] == len(ps["contactsLocationsModule"]["locations"])


def test_limit_stops_paging_early_and_says_so(ctgov_server: FakeCtGov) -> None:
    ctgov_server.add_studies(make_studies(2500))
    result = api_run(
        ctgov_server,
        "search",
        "--status",
        "any",
        "--limit",
        "5",
        "-f",
        "jsonl",
        "--columns",
        "nct_id,title",
    )
    assert result.code == 0, result.err
    assert len(jsonl_ids(result.out)) == 5
    assert len(study_requests(ctgov_server)) == 1
    assert study_requests(ctgov_server)[0]["pageSize"] == "5"
    assert "more match" in result.err


def test_the_server_receives_spec_parameters_only(ctgov_server: FakeCtGov) -> None:
    ctgov_server.add_studies(make_studies(3))
    result = api_run(
        ctgov_server,
        "search",
        "-c",
        "lymphoma",
        "--phase",
        "2",
        "--age",
        "40",
        "--sex",
        "female",
        "--updated-since",
        "2024-01-01",
        "--study-type",
        "interventional",
        "-f",
        "json",
    )
    assert result.code == 0, result.err
    params = study_requests(ctgov_server)[0]
    assert "filter.phase" not in params
    assert "AREA[Phase]PHASE2" in params["filter.advanced"]
    assert params["query.cond"] == "lymphoma"
    assert len(json.loads(result.out)) == 3


# -- failures ----------------------------------------------------------------------------


def test_429_with_retry_after_then_success(ctgov_server: FakeCtGov) -> None:
    ctgov_server.add_studies(make_studies(3))
    ctgov_server.fail_next(429, times=2, retry_after="0")
    result = api_run(ctgov_server, "search", "--status", "any", "-f", "jsonl")
    assert result.code == 0, result.err
    assert len(jsonl_ids(result.out)) == 3
    assert len(study_requests(ctgov_server)) == 3


def test_dropped_connection_and_500_are_retried(ctgov_server: FakeCtGov) -> None:
    ctgov_server.add_studies(make_studies(3))
    ctgov_server.drop_next(1)
    ctgov_server.fail_next(500, times=1)
    result = api_run(ctgov_server, "search", "--status", "any", "-f", "jsonl")
    assert result.code == 0, result.err
    assert len(jsonl_ids(result.out)) == 3


def test_failure_in_the_middle_of_paging_is_an_error_not_a_short_result(
    ctgov_server: FakeCtGov,
) -> None:
    ctgov_server.add_studies(make_studies(2500))
    ctgov_server.fail_on_page(2, 500, times=10)
    result = api_run(ctgov_server, "search", "--status", "any", "-f", "jsonl")
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines[0].startswith("Error: failed while fetching page 2")


def test_slow_server_times_out_with_a_clear_message(ctgov_server: FakeCtGov) -> None:
    ctgov_server.add_studies(make_studies(1))
    ctgov_server.delay = 1.0
    result = api_run(
        ctgov_server, "search", "-f", "jsonl", TRIALFINDER_TIMEOUT="0.2", TRIALFINDER_RETRIES="1"
    )
    assert result.code == 1
    assert result.out == ""
    assert "could not reach the ClinicalTrials.gov API" in result.err_lines[0]
    assert result.err_lines[-1].startswith("Tip:")


def test_api_400_is_shown_with_its_body(ctgov_server: FakeCtGov) -> None:
    ctgov_server.fail_next(400, body="unbalanced quotes in query.term")
    result = api_run(ctgov_server, "search", "--term", "x", "-f", "jsonl")
    assert result.code == 2
    assert result.err_lines == [result.err_lines[0]]
    assert "unbalanced quotes" in result.err_lines[0]


def test_unreachable_api_exits_1() -> None:
    result = run(
        ["search", "-c", "lymphoma"],
        {"TRIALFINDER_API_URL": "http://127.0.0.1:9/api/v2", **FAST, "TRIALFINDER_RETRIES": "1"},
    )
    assert result.code == 1 and result.out == ""
    assert result.err_lines[0].startswith("Error: could not reach")


# -- show against the API ----------------------------------------------------------------


def test_show_from_the_api(ctgov_server: FakeCtGov) -> None:
    ctgov_server.add_studies(make_studies(2))
    result = api_run(ctgov_server, "show", "NCT90000001")
    assert result.code == 0, result.err
    assert result.out.startswith("NCT90000001  RECRUITING")
    assert (
        "Eligibility criteria" in result.out
        and "https://clinicaltrials.gov/study/NCT90000001" in result.out
    )
    data = json.loads(api_run(ctgov_server, "show", "NCT90000001", "-f", "json").out)
    assert data["nct_id"] == "NCT90000001" and data["sites"]
    two = api_run(ctgov_server, "show", "NCT90000001", "NCT90000002", "-f", "jsonl")
    assert jsonl_ids(two.out) == ["NCT90000001", "NCT90000002"]


def test_show_unknown_and_malformed_ids(ctgov_server: FakeCtGov) -> None:
    unknown = api_run(ctgov_server, "show", "NCT99999999")
    assert unknown.code == 2 and unknown.out == ""
    assert unknown.err_lines == ["Error: no study NCT99999999 on ClinicalTrials.gov"]
    malformed = api_run(ctgov_server, "show", "NCT123")
    assert malformed.code == 2 and len(malformed.err_lines) == 1
    assert "NCT followed by 8 digits" in malformed.err_lines[0]
    assert not [r for r in ctgov_server.requests if "NCT123" in r.path]


# -- the sample data ---------------------------------------------------------------------


def fixture_run(*argv: str) -> Result:
    return run(["search", "--source", FIXTURES, *argv])


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "jsonl", "markdown"])
def test_every_format_on_the_sample_data(fmt: str) -> None:
    result = fixture_run("-c", "lymphoma", "-f", fmt)
    assert result.code == 0, result.err
    assert "NCT90000101" in result.out
    assert "saved data in" in result.err and "not the live API" in result.err


def test_csv_carries_every_column_and_opens_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "trials.csv"
    result = fixture_run("-c", "lymphoma", "-f", "csv", "-o", str(out))
    assert result.code == 0, result.err
    assert result.out == ""
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    for col in (
        "nct_id",
        "title",
        "car_t",
        "car_targets",
        "car_cell_source",
        "therapy_classes",
        "prior_car_t",
        "prior_car_t_evidence",
        "prior_car_t_section",
        "url",
    ):
        assert col in rows[0]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))


def test_after_car_t_on_the_sample_data_shows_stance_and_evidence() -> None:
    result = fixture_run("-c", "lymphoma", "--after-car-t", "-f", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    stances = [r["prior_car_t"] for r in rows]
    assert stances and set(stances) <= {"required", "allowed"}
    assert stances == sorted(stances, key=lambda s: s != "required")
    assert all(r["prior_car_t_evidence"] for r in rows)
    assert "exclude people who already had CAR-T" in result.err
    table = fixture_run("-c", "lymphoma", "--after-car-t")
    assert "prior_car_t_evidence" in table.out and "required" in table.out


def test_output_file_is_not_touched_when_the_run_fails(tmp_path: Path) -> None:
    out = tmp_path / "keep.csv"
    out.write_text("precious", encoding="utf-8")
    result = run(["search", "--source", str(tmp_path / "missing"), "-o", str(out)])
    assert result.code == 2
    assert out.read_text(encoding="utf-8") == "precious"


# -- bad input: exit 2, one line on stderr, nothing on stdout ----------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["search", "--status", "recruting"], ["--status", "valid:", "recruiting"]),
        (["search", "--phase", "7"], ["--phase", "early1"]),
        (["search", "--format", "xml"], ["--format", "csv"]),
        (["search", "--sort", "best"], ["--sort", "last-update"]),
        (["search", "--age", "-3"], ["--age"]),
        (["search", "--age", "old"], ["--age"]),
        (["search", "--limit", "0"], ["--limit"]),
        (["search", "--sex", "x"], ["--sex", "female"]),
        (["search", "--study-type", "rct"], ["--study-type", "interventional"]),
        (["search", "--updated-since", "2026-02-30"], ["--updated-since", "YYYY-MM-DD"]),
        (["search", "--columns", "nct_id,bogus"], ["--columns", "bogus", "title"]),
        (["search", "--prior-car-t", "maybe"], ["--prior-car-t", "required", "excluded"]),
        (["search", "--target", "CD999"], ["--target", "CD19"]),
        (["search", "--radius", "50mi"], ["--radius", "--near"]),
        (["search", "--near", "Houston, TX", "--radius", "far"], ["--radius", "mi", "km"]),
        (["search", "--lat", "95", "--lon", "0"], ["latitude", "90"]),
        (["search", "--nope"], ["--nope"]),
        (["search", "--source", "/nonexistent/dir"], ["--source", "no such file"]),
        (["show"], ["NCT_ID"]),
        (["show", "12345"], ["NCT followed by 8 digits"]),
        (["show", "NCT90000101", "-f", "xml"], ["--format", "table", "json", "csv"]),
        (["frobnicate"], ["frobnicate"]),
        (["search", "--status", ""], ["--status", "recruiting"]),
        (["search", "--phase", " "], ["--phase", "early1"]),
        (["search", "--target", ""], ["--target", "CD19"]),
        (["search", "--source", ""], ["--source"]),
        (["search", "--after-car-t", "--prior-car-t", "excluded"], ["--after-car-t", "excluded"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], words: list[str]) -> None:
    result = run(argv, {"TRIALFINDER_API_URL": "http://127.0.0.1:9/api/v2", **FAST})
    assert result.code == 2, (result.code, result.err)
    assert result.out == ""
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("Error: ")
    assert "Traceback" not in result.err
    for word in words:
        assert word.lower() in line.lower(), (word, line)


def test_help_for_every_command() -> None:
    for argv in (["--help"], ["search", "--help"], ["show", "--help"]):
        result = run(argv)
        assert result.code == 0 and "Usage" in result.out and result.err == ""


def test_version() -> None:
    result = run(["--version"])
    assert result.code == 0 and result.out.startswith("trialfinder ")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from trialfinder.cli import progress as output

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = output.ProgressBar()
    bar(1000, 2500)
    bar(2500, 2500)
    bar.finish()
    drawn = terminal.getvalue()
    assert "1000/2500" in drawn and "2500/2500" in drawn and drawn.endswith("\r\x1b[K")

    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    quiet = output.ProgressBar()
    quiet(1000, 2500)
    quiet.finish()
    assert pipe.getvalue() == ""


def test_csv_numbers_keep_precision_and_are_never_prefixed() -> None:
    result = run(
        [
            "search",
            "--source",
            FIXTURES,
            "-c",
            "lymphoma",
            "--near",
            "77030",
            "--sites",
            "-f",
            "csv",
        ]
    )
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    houston = [r for r in rows if r["city"] == "Houston" and r["lat"]]
    assert houston and houston[0]["lat"] == "29.76328" and houston[0]["lon"] == "-95.36327"
    distances = [float(r["distance_km"]) for r in rows if r["distance_km"]]
    assert distances == sorted(distances)  # --near sorts sites nearest first


def test_output_writes_through_a_symlink_and_keeps_permissions(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    result = fixture_run("-c", "lymphoma", "-f", "csv", "-o", str(link))
    assert result.code == 0, result.err
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8-sig").startswith("nct_id,")
    assert real.stat().st_mode & 0o777 == 0o640


def test_output_dash_means_stdout() -> None:
    result = fixture_run("-c", "lymphoma", "-f", "jsonl", "-o", "-")
    assert result.code == 0 and jsonl_ids(result.out)


def test_a_huge_search_is_announced_with_an_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    from trialfinder.cli import progress as output

    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    bar = output.ProgressBar(seconds_per_page=1.2)
    bar(1000, 60_000)
    bar(2000, 60_000)
    assert pipe.getvalue().count("Note: the API matched 60,000 studies") == 1
    assert "about 72 s" in pipe.getvalue()  # 60 pages, 1.2 s apart
    small = output.ProgressBar()
    pipe.truncate(0)
    small(1000, 9_999)
    assert pipe.getvalue().strip("\x00") == ""


def test_zero_results_still_rewrite_an_output_file(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    old.write_text("OLD DATA", encoding="utf-8")
    result = fixture_run("-c", "zzzzzz", "-o", str(old))
    assert result.code == 0 and "No trials matched." in result.err
    assert "OLD DATA" not in old.read_text(encoding="utf-8")


@pytest.mark.parametrize("url", ["http://[::1", "http://", "ftp://example.org/api"])
def test_bad_api_url_is_one_line_exit_2(url: str) -> None:
    result = run(["search", "-c", "x", "--api-url", url])
    assert result.code == 2 and len(result.err_lines) == 1
    assert result.err_lines[0].startswith("Error: invalid API URL")


def test_stdout_that_is_not_utf8_still_gets_the_data() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "trialfinder",
            "search",
            "--source",
            FIXTURES,
            "-f",
            "csv",
            "--status",
            "any",
            "--columns",
            "nct_id,prior_car_t_evidence",
        ],
        capture_output=True,
        env={**__import__("os").environ, "PYTHONIOENCODING": "cp1252"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8").startswith("nct_id,prior_car_t_evidence")


def test_malformed_saved_study_is_a_source_error(tmp_path: Path) -> None:
    study = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT90000001"},
            "designModule": ["not", "an", "object"],
        }
    }
    (tmp_path / "bad.json").write_text(json.dumps([study]), encoding="utf-8")
    result = run(["search", "--source", str(tmp_path)])
    assert result.code == 2 and len(result.err_lines) == 1
    assert "designModule is not an object" in result.err_lines[0]


def test_retries_are_shown_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from trialfinder.cli import progress as output

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    output.ProgressBar().retrying("ConnectError", 2.0, 1, 5)
    assert "did not answer (ConnectError); retry 1 of 5 in 2.0 s" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    output.ProgressBar().retrying("ConnectError", 2.0, 1, 5)
    assert pipe.getvalue() == ""
