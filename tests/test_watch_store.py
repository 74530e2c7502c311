"""Nothing is lost: killed runs, overlapping runs, failed fetches, schema versions, pruning."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from watch_helpers import Api, api, edited, sample, with_status

from trialfinder.errors import UsageError
from trialfinder.watch.store import SCHEMA_VERSION, Store

NEAR = ["-c", "lymphoma", "--near", "77030", "--radius", "250mi"]


def spawn(a: Api, *argv: str) -> subprocess.Popen[bytes]:
    """`trialfinder ...` in a subprocess (so it can be killed), against the loopback API."""
    return subprocess.Popen(
        [sys.executable, "-m", "trialfinder", *argv],
        env={**os.environ, **a.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def changed_ids(result_out: str) -> set[str]:
    (report,) = json.loads(result_out)["reports"]
    return {c["nct_id"] for c in report["changes"]}


def enroll_seven(protocol: dict[str, Any]) -> None:
    protocol["designModule"]["enrollmentInfo"] = {"count": 7}


def _load_two_changes(a: Api) -> None:
    s = sample()
    a.server.load(
        [
            with_status(s["NCT90000106"], "RECRUITING", updated="2026-12-01"),
            edited(s["NCT90000113"], enroll_seven, updated="2026-12-01"),
        ]
    )


@pytest.mark.parametrize("moment", ["sweep", "records", "before-report"])
def test_a_run_killed_at_any_moment_loses_nothing(moment: str, tmp_path: Path) -> None:
    with api(tmp_path / "home") as a:
        assert a("watch", "add", "near", *NEAR).code == 0
        assert a("report", "near").code == 0
        _load_two_changes(a)
        fifo = tmp_path / "report.fifo"
        os.mkfifo(fifo)
        # /version twice, then the sweep (3), then the changed records by id (4); with the
        # report going to a FIFO nobody reads, the run blocks after storing its pending run.
        argv = ["report", "near", "-f", "json", "-o", str(fifo)]
        proc = spawn(a, *argv)
        if moment in ("sweep", "records"):
            a.server.before_request(
                3 if moment == "sweep" else 4, lambda: proc.send_signal(signal.SIGKILL)
            )
        else:
            deadline = time.monotonic() + 30
            while not _pending_run(tmp_path / "home") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _pending_run(tmp_path / "home"), "the run never stored its pending run"
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        after = a("report", "near", "-f", "json")
    assert after.code == 0, after.err
    assert changed_ids(after.out) == {"NCT90000106", "NCT90000113"}


def _pending_run(home: Path) -> bool:
    db = home / "data" / "snapshots.sqlite3"
    if not db.exists():
        return False
    with sqlite3.connect(db) as conn:
        return bool(conn.execute("SELECT count(*) FROM runs WHERE committed = 0").fetchone()[0])


def test_two_runs_of_one_watch_at_once(tmp_path: Path) -> None:
    with api(tmp_path / "home") as a:
        assert a("watch", "add", "near", *NEAR).code == 0
        assert a("report", "near").code == 0
        _load_two_changes(a)
        fifo = tmp_path / "report.fifo"
        os.mkfifo(fifo)
        first = spawn(a, "report", "near", "-f", "json", "-o", str(fifo))
        deadline = time.monotonic() + 30
        while not _pending_run(tmp_path / "home") and time.monotonic() < deadline:
            time.sleep(0.05)
        second = a("report", "near", "--wait", "0.5")
        assert second.code == 1 and second.out == ""
        assert "another report of watch 'near' is still running" in second.err
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
        reader.start()
        first.wait(timeout=30)
        reader.join(timeout=30)
        assert first.returncode == 0
        third = a("report", "near", "--quiet")
    assert changed_ids(got[0]) == {"NCT90000106", "NCT90000113"}
    assert (third.code, third.out) == (0, "")  # the first run's baseline moved forward


def test_a_failed_fetch_stores_nothing_and_reports_nothing_removed(tmp_path: Path) -> None:
    with api(tmp_path) as a:
        assert a("watch", "add", "near", *NEAR).code == 0
        assert a("watch", "add", "all", "-c", "lymphoma").code == 0
        assert a("report", "--all").code == 0
        _load_two_changes(a)
        a.env["TRIALFINDER_RETRIES"] = "0"
        a.server.before_request(3, lambda: a.server.fail_next(503))  # near's sweep fails
        a.server.before_request(5, lambda: a.server.fail_next(503))  # and all's
        failed = a("report", "--all", "--quiet")
        assert failed.code == 1 and failed.out == ""
        assert failed.err.count("Error: watch") == 2, failed.err
        again = a("report", "near", "-f", "json")
    assert changed_ids(again.out) == {"NCT90000106", "NCT90000113"}


def test_with_all_a_failing_watch_does_not_hold_the_others_back(tmp_path: Path) -> None:
    with api(tmp_path) as a:
        assert a("watch", "add", "near", *NEAR).code == 0
        assert a("watch", "add", "all", "-c", "lymphoma").code == 0
        assert a("report", "--all").code == 0
        _load_two_changes(a)
        a.env["TRIALFINDER_RETRIES"] = "0"
        # "near" runs first (file order): /version twice, sweep, records, /version; then the
        # sweep of "all" (its third request) fails.
        a.server.before_request(8, lambda: a.server.fail_next(500))
        mixed = a("report", "--all", "-f", "json")
        assert mixed.code == 1 and "Error: watch 'all'" in mixed.err, mixed.err
        assert [r["watch"] for r in json.loads(mixed.out)["reports"]] == ["near"]
        near = a("report", "near", "--quiet")
        rest = a("report", "all", "-f", "json")
    assert (near.code, near.out) == (0, "")
    assert changed_ids(rest.out) == {"NCT90000106", "NCT90000113"}


def test_a_newer_schema_is_refused_and_never_rewritten(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    with Store.open(db):
        pass
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    with pytest.raises(UsageError, match="newer trialfinder"):
        Store.open(db)
    assert db.read_bytes() == before


def test_records_are_stored_once_and_prune_keeps_history(tmp_path: Path) -> None:
    with api(tmp_path) as a:
        assert a("watch", "add", "all", "-c", "lymphoma").code == 0
        for day in range(4):
            a.server.load([])
            assert a("report", "all", "--full", "--quiet").code == 0, day
        _load_two_changes(a)
        assert a("report", "all", "--quiet").code == 0
        db = tmp_path / "data" / "snapshots.sqlite3"
        with sqlite3.connect(db) as conn:
            records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
            members = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        assert members > records  # five runs share their unchanged records
        history = a("history", "NCT90000113", "-f", "json")
        assert a("watch", "prune", "--keep", "1").code == 0
        assert a("history", "NCT90000113", "-f", "json").out == history.out
        assert '"field": "enrollment"' in history.out
        quiet = a("report", "all", "--quiet")
    assert (quiet.code, quiet.out) == (0, "")


def test_remove_keeps_snapshots_unless_purged(tmp_path: Path) -> None:
    with api(tmp_path) as a:
        assert a("watch", "add", "all", "-c", "lymphoma").code == 0
        assert a("report", "all", "--quiet").code == 0
        assert a("watch", "remove", "all").code == 0
        assert "New in the results" in a("history", "NCT90000110").out
        assert a("watch", "add", "all", "-c", "lymphoma").code == 0
        assert a("watch", "remove", "all", "--purge").code == 0
        assert a("history", "NCT90000110").out == ""
