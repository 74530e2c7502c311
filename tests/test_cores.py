"""Saved files read on every core (`ctgov/cores.py`): the same answer as reading them here, in
the same order; a worker's error comes back by name, and a worker that dies fails the read."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from clirun import run
from ctgov_server import FakeCtGov, make_studies

from trialfinder.cart.profile import profile_row
from trialfinder.ctgov.cores import WORKERS_ENV, map_files, worker_count
from trialfinder.ctgov.hooks import Hooks
from trialfinder.ctgov.query import Query
from trialfinder.ctgov.settings import BASE_URL_ENV, CACHE_MINUTES_ENV, RATE_ENV
from trialfinder.ctgov.sources import FileSource
from trialfinder.errors import SourceError, TrialfinderError, UsageError

ROOT = Path(__file__).resolve().parents[1]


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def _fails_on_three(n: int) -> int:
    if n == 3:
        raise SourceError(f"item {n} is not readable")
    return n


def _dies_on_two(n: int) -> int:
    if n == 2:
        os._exit(1)  # as a worker killed for memory would
    return n


def _slow_pid_and_square(n: int) -> tuple[int, int]:
    time.sleep(0.05)  # long enough that a worker still starting on a loaded machine gets some
    return _pid_and_square(n)


def test_work_is_shared_out_and_comes_back_in_order() -> None:
    results = list(map_files(_slow_pid_and_square, list(range(12)), workers=2))
    assert [square for _, square in results] == [n * n for n in range(12)]
    assert os.getpid() not in {pid for pid, _ in results}  # done in worker processes
    assert len({pid for pid, _ in results}) == 2


def test_one_worker_or_one_item_is_read_here() -> None:
    assert {pid for pid, _ in map_files(_pid_and_square, [1, 2, 3], workers=1)} == {os.getpid()}
    assert {pid for pid, _ in map_files(_pid_and_square, [5], workers=4)} == {os.getpid()}


@pytest.mark.parametrize(("workers", "items"), [(2, 12), (2, 3), (1, 5)])
def test_waiting_is_called_once_when_there_is_nothing_to_do_but_wait(
    workers: int, items: int
) -> None:
    """With workers: once they have every item they may queue (or all of them), before the
    first result; without: before the first item is read here."""
    events: list[object] = []
    for result in map_files(
        _pid_and_square, list(range(items)), workers=workers, waiting=lambda: events.append("w")
    ):
        events.append(result[1])
    assert events == ["w", *[n * n for n in range(items)]]


def _collector_enabled(n: int) -> bool:
    if n == 3:
        raise SourceError("item 3 is not readable")
    return gc.isenabled()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_cycle_collector_is_off_while_an_item_is_read_and_back_after(workers: int) -> None:
    """Reading a page makes a million containers: collections over the growing heap are put
    off until the item is done, here and in a worker, and the collector comes back after an
    error too. Where it was off already, it stays off."""
    assert gc.isenabled()
    assert list(map_files(_collector_enabled, [1, 2], workers=workers)) == [False, False]
    assert gc.isenabled()
    with pytest.raises(SourceError):
        list(map_files(_collector_enabled, [1, 3], workers=workers))
    assert gc.isenabled()
    gc.disable()
    try:
        list(map_files(_collector_enabled, [1], workers=1))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_with_other_threads_running_nothing_is_forked() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        pids = {pid for pid, _ in map_files(_pid_and_square, [1, 2, 3], workers=2)}
    finally:
        stop.set()
        other.join()
    assert pids == {os.getpid()}


def test_a_workers_error_comes_back_with_its_text() -> None:
    with pytest.raises(SourceError, match="item 3 is not readable"):
        list(map_files(_fails_on_three, list(range(6)), workers=2))


def test_a_worker_that_dies_fails_the_read_instead_of_hanging() -> None:
    with pytest.raises(TrialfinderError, match=f"a worker process died.*{WORKERS_ENV}=1"):
        list(map_files(_dies_on_two, list(range(6)), workers=2))


def test_the_worker_count_setting() -> None:
    assert worker_count({WORKERS_ENV: "3"}) == 3
    assert worker_count({}) >= 1
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(UsageError, match=f"invalid {WORKERS_ENV}=.*whole number, 1 or more"):
            worker_count({WORKERS_ENV: bad})


def test_a_bad_worker_count_is_a_one_line_usage_error() -> None:
    result = run(
        ["search", "--source", str(ROOT / "fixtures"), "--status", "any"], env={WORKERS_ENV: "x"}
    )
    assert result.code == 2
    assert result.err_lines == [
        f"Error: invalid {WORKERS_ENV}='x' (expected a whole number, 1 or more)"
    ]


def test_saved_records_read_on_two_cores_equal_those_read_here(
    records_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = Hooks(classify=profile_row)
    answers = []
    for workers in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, workers)
        fetched = FileSource(records_dir).fetch(Query.build(status=["any"]), hooks=hooks)
        answers.append(fetched)
    here, shared = answers
    assert len(here.studies) > 300
    assert shared.studies == here.studies  # every field of every record, in file order
    assert shared.classified == here.classified
    assert set(shared.classified) == {s.nct_id for s in here.studies}
    assert shared.notes == here.notes


# Runs the CLI and says, on its last stderr line, whether each search's pages were read in
# worker processes.
_WRAPPER = """
import json, sys
from trialfinder.ctgov import cores, sources
forked = []
class Watched(cores.Workers):
    def __init__(self, work, count):
        super().__init__(work, count)
        forked.append(self.forked)
sources.Workers = Watched
from trialfinder.cli.app import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "forked": forked}), file=sys.stderr)
"""


def test_an_api_search_read_on_two_cores_equals_one_read_here() -> None:
    """The CLI against the fake API, in a process of its own (the fake's threads would keep
    this one from forking): pages read by worker processes give the same CSV."""
    argv = ["search", "--status", "any", "--limit", "100000", "--format", "csv", "--quiet"]
    outputs, forked = [], []
    with FakeCtGov(make_studies(2500)) as server:
        for workers in ("1", "2"):
            env = {
                **os.environ,
                BASE_URL_ENV: server.base_url,
                RATE_ENV: "1e6",
                CACHE_MINUTES_ENV: "0",
                WORKERS_ENV: workers,
            }
            done = subprocess.run(
                [sys.executable, "-c", _WRAPPER, *argv],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=env,
                timeout=120,
                check=False,
            )
            report = json.loads(done.stderr.strip().splitlines()[-1])
            assert report["code"] in (0, None), done.stderr
            outputs.append(done.stdout)
            forked.append(report["forked"])
    assert forked == [[False], [True]]
    assert outputs[0].count("\n") == 2501  # the header and every study
    assert outputs[1] == outputs[0]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_saved_files_come_to_the_studies_hook_a_file_at_a_time(
    records_dir: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """Each file's records reach `Hooks.studies` as that file is read (repeats too: the
    first record of an id wins), and `Hooks.idle` is called once, before the first."""
    monkeypatch.setenv(WORKERS_ENV, workers)
    events: list[Any] = []
    hooks = Hooks(studies=events.append, idle=lambda: events.append("idle"))
    source = FileSource(records_dir)
    fetched = source.fetch(Query.build(status=["any"]), hooks=hooks)
    assert events[0] == "idle" and "idle" not in events[1:]
    batches = events[1:]
    assert len(batches) == len([f for f in source.files if f.suffix == ".json"]) > 5
    firsts: dict[str, Any] = {}
    for study in (s for batch in batches for s in batch):
        firsts.setdefault(study.nct_id, study)
    assert list(firsts.values()) == fetched.studies
