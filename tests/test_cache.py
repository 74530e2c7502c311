"""The on-disk cache of API answers (issue 11): interactive commands reuse a recent answer for
free, `--refresh` and `--no-cache` do what they say, damage is a miss, the file is bounded, and
the watch reports never read it."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from clirun import Result, run
from ctgov_server import FakeCtGov, load_record_studies, make_studies
from watch_helpers import api, sample, with_status

from trialfinder.ctgov import cache as cache_module
from trialfinder.ctgov.cache import DATABASE, HttpCache, cached_json, open_cache
from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.settings import Settings

FAST = {"TRIALFINDER_REQUESTS_PER_MINUTE": "1e6", "TRIALFINDER_BACKOFF": "0.01"}
SEARCH = ("search", "--status", "any", "-f", "jsonl")


def real_studies(records_dir: Path) -> list[dict[str, Any]]:
    """Every study in the saved API records, each NCT id once."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(records_dir.glob("*.json")):
        try:
            studies = load_record_studies(path)
        except ValueError:
            continue
        for raw in studies:
            nct = raw["protocolSection"]["identificationModule"].get("nctId")
            if nct:
                found.setdefault(nct, raw)
    return list(found.values())


@pytest.fixture
def server(records_dir: Path) -> Iterator[FakeCtGov]:
    with FakeCtGov(real_studies(records_dir)) as fake:
        yield fake


class Runs:
    """The CLI against one server, with one cache folder; counts what each run asked for."""

    def __init__(self, server: FakeCtGov, cache_dir: Path, **env: str) -> None:
        self.server = server
        self.cache_dir = cache_dir
        self.env = {
            "TRIALFINDER_API_URL": server.base_url,
            "TRIALFINDER_CACHE_DIR": str(cache_dir),
            **FAST,
            **env,
        }

    def __call__(self, *argv: str, **env: str) -> tuple[Result, int]:
        before = len(self.server.requests)
        result = run(list(argv), {**self.env, **env})
        assert "Traceback" not in result.err, result.err
        return result, len(self.server.requests) - before

    def entries(self) -> int:
        with sqlite3.connect(self.cache_dir / DATABASE) as db:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def ids(out: str) -> list[str]:
    return [json.loads(line)["nct_id"] for line in out.splitlines() if line.strip()]


def test_the_same_search_twice_costs_no_request_the_second_time(
    server: FakeCtGov, tmp_path: Path
) -> None:
    runs = Runs(server, tmp_path / "cache")
    first, asked = runs(*SEARCH)
    assert first.code == 0 and asked == 1 and len(ids(first.out)) > 20, first.err
    assert "cache" not in first.err
    second, asked_again = runs(*SEARCH)
    assert (second.code, second.out, asked_again) == (0, first.out, 0)
    assert "Note: 1 of 1 API answer(s) came from trialfinder's cache" in second.err
    assert "--refresh" in second.err
    shown, _ = runs("show", ids(first.out)[0])
    again, asked_show = runs("show", ids(first.out)[0])
    assert (again.out, asked_show) == (shown.out, 0)
    listed, _ = runs("options", "--status", "any", "-f", "jsonl")
    listed_again, asked_options = runs("options", "--status", "any", "-f", "jsonl")
    assert (listed_again.out, asked_options) == (listed.out, 0)
    quiet, _ = runs(*SEARCH, "--quiet")
    assert quiet.err == ""


def test_a_different_query_is_a_different_answer(server: FakeCtGov, tmp_path: Path) -> None:
    runs = Runs(server, tmp_path / "cache")
    lymphoma, asked = runs(*SEARCH, "-c", "lymphoma")
    myeloma, asked_other = runs(*SEARCH, "-c", "myeloma")
    assert (asked, asked_other) == (1, 1)
    assert ids(lymphoma.out) != ids(myeloma.out)
    assert runs.entries() == 2
    assert runs(*SEARCH, "-c", "lymphoma")[0].out == lymphoma.out


def test_other_fields_are_another_entry(tmp_path: Path) -> None:
    with FakeCtGov(make_studies(3)) as fake:
        cache = cache_in(tmp_path)
        client = CtGovClient(settings(fake), cache=cache)
        with client:
            whole = client.get_study("NCT90000001")
            ids_only = client.get_study("NCT90000001", ["NCTId"])
            assert client.requests_made == 2 and "statusModule" not in json.dumps(ids_only)
            assert client.get_study("NCT90000001") == whole
            assert client.get_study("NCT90000001", ["NCTId"]) == ids_only
            assert (client.requests_made, cache.hits) == (2, 2)


def test_after_the_freshness_limit_it_fetches_again(server: FakeCtGov, tmp_path: Path) -> None:
    runs = Runs(server, tmp_path / "cache", TRIALFINDER_CACHE_MINUTES="0.002")  # 0.12 s
    assert runs(*SEARCH)[1] == 1
    time.sleep(0.25)
    started = time.time()
    again, asked = runs(*SEARCH)
    assert asked == 1 and "cache" not in again.err
    with sqlite3.connect(runs.cache_dir / DATABASE) as db:  # the new answer was kept
        (ends,) = db.execute("SELECT max(expires_at) FROM entries").fetchone()
    assert started < ends <= time.time() + 0.12


def test_zero_minutes_means_no_cache(server: FakeCtGov, tmp_path: Path) -> None:
    runs = Runs(server, tmp_path / "cache", TRIALFINDER_CACHE_MINUTES="0")
    assert [runs(*SEARCH)[1] for _ in range(2)] == [1, 1]
    assert not (tmp_path / "cache").exists()


def status_of(out: str, nct: str) -> str:
    (row,) = [json.loads(line) for line in out.splitlines() if json.loads(line)["nct_id"] == nct]
    return str(row["status"])


def test_refresh_fetches_and_updates_what_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One request at a time here: rows may go the moment they are unused (the linger is for
    # concurrent writers, test_concurrent_slices_keep_every_answer).
    monkeypatch.setattr(cache_module, "SOFT_DELETE_SECONDS", 0.0)
    studies = sample()
    with FakeCtGov(list(studies.values())) as fake:
        runs = Runs(fake, tmp_path / "cache")
        first, _ = runs(*SEARCH)
        nct = ids(first.out)[0]
        assert status_of(first.out, nct) != "COMPLETED"
        fake.load([with_status(studies[nct], "COMPLETED")])
        stale, asked = runs(*SEARCH)
        assert (stale.out, asked) == (first.out, 0)  # within the limit: the kept answer
        fresh, asked = runs(*SEARCH, "--refresh")
        assert asked == 1 and status_of(fresh.out, nct) == "COMPLETED"
        assert "from trialfinder's cache" not in fresh.err
        kept, asked = runs(*SEARCH)
        assert (kept.out, asked) == (fresh.out, 0)
        assert runs.entries() == 1  # the refreshed answer replaced the old one


def test_no_cache_neither_reads_nor_writes(tmp_path: Path) -> None:
    studies = sample()
    with FakeCtGov(list(studies.values())) as fake:
        runs = Runs(fake, tmp_path / "cache")
        assert [runs(*SEARCH, "--no-cache")[1] for _ in range(2)] == [1, 1]
        assert not (tmp_path / "cache" / DATABASE).exists()
        first, _ = runs(*SEARCH)
        nct = ids(first.out)[0]
        fake.load([with_status(studies[nct], "COMPLETED")])
        bare, asked = runs(*SEARCH, "--no-cache")
        assert asked == 1 and status_of(bare.out, nct) == "COMPLETED"  # not the kept answer
        assert runs.entries() == 1
        shown, asked = runs("show", nct, "--no-cache", "-f", "json")
        assert shown.code == 0 and asked == 1 and runs.entries() == 1


def test_no_cache_with_refresh_is_a_usage_error(server: FakeCtGov, tmp_path: Path) -> None:
    result, asked = Runs(server, tmp_path / "cache")(*SEARCH, "--no-cache", "--refresh")
    assert (result.code, result.out, asked) == (2, "", 0)
    assert result.err_lines == [
        "Error: --no-cache and --refresh cannot be used together (choose --no-cache to keep "
        "nothing, or --refresh to fetch anew and keep the answers)"
    ]


def damage_whole_file(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


def truncate_file(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def cut_the_body(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE streams SET chunk_data = substr(chunk_data, 1, length(chunk_data) / 2)")


def drop_the_body(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("DELETE FROM streams")


def garble_the_entry(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET data = x'c1c1c1'")


@pytest.mark.parametrize(
    "damage", [damage_whole_file, truncate_file, cut_the_body, drop_the_body, garble_the_entry]
)
def test_a_damaged_cache_is_a_miss_and_is_replaced(
    server: FakeCtGov, tmp_path: Path, damage: Any
) -> None:
    runs = Runs(server, tmp_path / "cache")
    first, _ = runs(*SEARCH)
    database = tmp_path / "cache" / DATABASE
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file itself
    damage(database)
    again, asked = runs(*SEARCH)
    assert (again.code, again.out, asked) == (0, first.out, 1), again.err
    assert "Error" not in again.err
    kept, asked = runs(*SEARCH)
    assert (kept.out, asked) == (first.out, 0), kept.err


def test_the_size_bound_evicts_the_oldest_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "SOFT_DELETE_SECONDS", 0.0)  # as in the test above
    with FakeCtGov(make_studies(60)) as fake:
        runs = Runs(fake, tmp_path / "cache", TRIALFINDER_CACHE_MB="0.2")
        limits = [str(n) for n in range(41, 47)]  # six answers of about 60 kB each
        assert [runs(*SEARCH, "--limit", n)[1] for n in limits] == [1] * len(limits)
        with sqlite3.connect(tmp_path / "cache" / DATABASE) as db:
            used = db.execute(
                "SELECT (page_count - freelist_count) * page_size"
                " FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"
            ).fetchone()[0]
        assert used <= 200_000
        assert 2 <= runs.entries() < len(limits)
        assert runs(*SEARCH, "--limit", limits[-1])[1] == 0  # the newest is still there
        assert runs(*SEARCH, "--limit", limits[0])[1] == 1  # the oldest went first


def test_a_cache_folder_that_cannot_be_written_is_a_note(server: FakeCtGov, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    runs = Runs(server, blocker / "http")
    plain, _ = runs(*SEARCH, "--no-cache")
    result, asked = runs(*SEARCH)
    assert (result.code, result.out, asked) == (0, plain.out, 1)
    notes = [line for line in result.err_lines if "cache" in line]
    assert notes == [
        f"Note: the cache in {blocker / 'http'} cannot be used (Not a directory); running "
        "without it"
    ]
    assert runs(*SEARCH, "--quiet")[0].err == ""


def test_failed_and_retried_answers_are_never_kept(server: FakeCtGov, tmp_path: Path) -> None:
    runs = Runs(server, tmp_path / "cache", TRIALFINDER_RETRIES="1")
    server.fail_next(503, times=2)
    failed, asked = runs(*SEARCH)
    assert failed.code != 0 and asked == 2
    server.fail_next(429, retry_after="0")
    ok, asked = runs(*SEARCH)
    assert ok.code == 0 and asked == 2
    assert runs.entries() == 1
    missing, asked = runs("show", "NCT99999999")
    again, asked_again = runs("show", "NCT99999999")
    assert (missing.code, again.code, asked, asked_again) == (2, 2, 1, 1)
    assert "no study NCT99999999" in again.err
    assert runs.entries() == 1


@pytest.mark.timeout(30)
def test_an_answer_cut_off_by_the_deadline_is_not_kept(server: FakeCtGov, tmp_path: Path) -> None:
    runs = Runs(server, tmp_path / "cache", TRIALFINDER_DEADLINE="1.5")
    server.trickle_next(0.5)
    started = time.monotonic()
    slow, asked = runs(*SEARCH)
    assert slow.code == 1 and "sent its answer too slowly" in slow.err and asked == 1
    assert time.monotonic() - started < 5
    assert runs.entries() == 0
    ok, asked = runs(*SEARCH)
    assert ok.code == 0 and asked == 1 and runs.entries() == 1


def test_reports_never_read_or_write_the_cache(tmp_path: Path) -> None:
    studies = sample()
    cache_dir = tmp_path / "cache"
    with api(tmp_path / "home", studies) as a:
        a.env["TRIALFINDER_CACHE_DIR"] = str(cache_dir)
        assert a("watch", "add", "all", "--status", "any").code == 0
        assert a("report", "all", "-f", "json").code == 0
        assert a("search", "--status", "any", "-f", "jsonl").code == 0  # fills the cache
        with sqlite3.connect(cache_dir / DATABASE) as db:
            before = db.execute("SELECT count(*) FROM entries").fetchone()[0]
        nct = next(iter(studies))
        a.server.load([with_status(studies[nct], "COMPLETED", updated="2026-02-01")])
        report, requests = a.requests_during("report", "all", "-f", "json")
        assert report.code == 0 and requests >= 2, report.err
        (found,) = json.loads(report.out)["reports"]
        assert any(c["nct_id"] == nct for c in found["changes"])  # it saw the new data
        with sqlite3.connect(cache_dir / DATABASE) as db:
            assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == before


def test_a_gzipped_answer_is_kept_and_read_back_decoded(tmp_path: Path) -> None:
    body = json.dumps({"studies": [], "totalCount": 0}).encode()
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"}
        )

    cache = cache_in(tmp_path)
    with httpx.Client(transport=cache.transport(httpx.MockTransport(handler))) as http:
        first = http.get("http://api.test/studies")
        second = http.get("http://api.test/studies")
    assert first.content == second.content == body and len(sent) == 1
    assert cached_json(second) == (True, {"studies": [], "totalCount": 0})
    assert cached_json(first)[0] is False


def settings(fake: FakeCtGov) -> Settings:
    return Settings.from_env({"TRIALFINDER_API_URL": fake.base_url, **FAST})


def cache_in(tmp_path: Path) -> HttpCache:
    return open_cache(Settings.from_env({"TRIALFINDER_CACHE_DIR": str(tmp_path / "cache")}))


def test_an_alias_costs_its_redirect_and_reuses_the_record(tmp_path: Path) -> None:
    (record,) = make_studies(1)
    record["protocolSection"]["identificationModule"]["nctIdAliases"] = ["NCT00000042"]
    with FakeCtGov([record]) as fake:
        runs = Runs(fake, tmp_path / "cache")
        first, asked = runs("show", "NCT00000042", "-f", "json")
        assert first.code == 0 and asked == 2  # the 301, then the record
        again, asked = runs("show", "NCT00000042", "-f", "json")
        assert (again.out, asked) == (first.out, 1)  # a 301 is never kept
        assert "Note: 1 of 2 API answer(s) came from trialfinder's cache" in again.err
        assert "is an alias" in again.err


def test_concurrent_slices_keep_every_answer(tmp_path: Path) -> None:
    """Date slices write several answers at once: none is lost to another's clean-up, and
    the same search again costs no request."""
    from test_slices import _spread

    from trialfinder.ctgov.query import Query
    from trialfinder.ctgov.sources import ApiSource

    query = Query.build(status=["any"])
    with FakeCtGov(_spread(4500)) as fake:
        settings = Settings.from_env(
            {**FAST, "TRIALFINDER_CACHE_DIR": str(tmp_path)}, base_url=fake.base_url
        )
        got = []
        for _ in range(2):
            cache = open_cache(settings)
            with ApiSource(CtGovClient(settings, cache=cache), workers=6) as source:
                got.append(sorted(s.nct_id for s in source.fetch(query).studies))
                asked = source.requests_made
            assert cache.failures.count == 0, cache.failures.first
        assert asked == 0
    assert got[0] == got[1] and len(got[0]) == 4500
