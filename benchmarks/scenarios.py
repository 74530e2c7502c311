"""The benchmark's scenarios (issue 11): each measures, compares with its target, adds rows.

Every end-to-end figure comes from the real CLI in a child process (benchmarks.child) against
the loopback fake API (tests/ctgov_server) serving distinct studies (benchmarks.corpus), or
against the same studies saved on disk; the stage rates come from benchmarks.stages.
"""

from __future__ import annotations

import csv
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ctgov_server import FakeCtGov  # (benchmarks/__init__.py puts tests/ on the path)

from benchmarks import corpus, peer
from benchmarks.child import ChildRun, run_child
from benchmarks.stages import run_stages, search_query, table_fields
from trialfinder.ctgov.client import CtGovClient
from trialfinder.ctgov.cores import usable_cores
from trialfinder.ctgov.query import MAX_PAGE_SIZE
from trialfinder.ctgov.settings import RATE_ENV, Settings

MB = 1e6
SEARCH = ["search", "--status", "any", "--limit", "1000000"]
FAST = {RATE_ENV: "1e6"}  # loopback needs no politeness where the pace is not measured


@dataclass
class Row:
    """One line of the table; empty fields print blank."""

    name: str
    wall: float | None = None
    cpu: float | None = None
    requests: int | None = None
    bytes_per_study: float | None = None
    rate: float | None = None  # studies (or texts) a second
    # The main process's peak plus each worker's (`_peak_mb`); the memory rows': sampled
    peak_mb: float | None = None
    target: str = ""
    result: str = ""  # PASS, FAIL, SKIP, ERROR, SHORT


@dataclass
class Bench:
    """What every scenario shares: sizes, latencies, the server, a scratch folder, the rows."""

    studies: int
    slow_latency: float
    pace_latency: float
    workdir: Path
    server: FakeCtGov | None = None
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    source_peak: dict[int, float] = field(default_factory=dict)  # MB held at once, by count
    source_bound: dict[int, float] = field(default_factory=dict)  # MB, `_peak_mb`, by count

    def verdict(self, ok: bool) -> str:
        """PASS or FAIL."""
        return "PASS" if ok else "FAIL"

    def checked(self, label: str, run: ChildRun, fmt: str, expected: int) -> str:
        """'' when the child ran and wrote every study; else what went wrong (and a note)."""
        if run.code != 0:
            last = run.err.strip().splitlines()[-1:] or ["(no message)"]
            self.problems.append(f"{label}: exit {run.code}: {last[0]}")
            return "ERROR"
        text = run.output.read_text(encoding="utf-8-sig")
        run.output.unlink()
        if fmt == "csv":
            got = sum(1 for _ in csv.reader(text.splitlines(keepends=True))) - 1
        else:
            got = len(set(re.findall(r"NCT9\d{7}", text)))
        if got != expected:
            self.problems.append(f"{label}: wrote {got} of {expected} studies")
            return "SHORT"
        return ""


def _requests_served(server: FakeCtGov, before: int) -> int:
    return len(server.requests) - before


def _peak_mb(run: ChildRun) -> float:
    """Peak memory of a run: the main process's, plus each worker process's peak when it
    forked any (they share the main process's pages, counted again here: an upper bound)."""
    workers = usable_cores() if run.workers_peak_rss else 0
    return (run.peak_rss + workers * run.workers_peak_rss) / MB


def _api_search(bench: Bench, fmt: str) -> list[str]:
    """The benchmark's search against the fake API, as the default table or `fmt`."""
    assert bench.server is not None
    args = [*SEARCH, "--api-url", bench.server.base_url, "--quiet"]
    return args if fmt == "table" else [*args, "--format", fmt]


def _cli(bench: Bench, label: str, env: dict[str, str], fmt: str = "table") -> tuple[Row, float]:
    """The default-table (or `fmt`) search against the server; its row and wall seconds."""
    assert bench.server is not None
    before = len(bench.server.requests)
    run = run_child("child", _api_search(bench, fmt), env, workdir=bench.workdir)
    problem = bench.checked(label, run, fmt, bench.studies)
    row = Row(
        label,
        run.wall,
        run.cpu,
        _requests_served(bench.server, before),
        run.bytes_received / bench.studies,
        bench.studies / run.wall,
        _peak_mb(run),
        result=problem,
    )
    return row, run.wall


def slow_link(bench: Bench) -> None:
    """1 s a page at 300 requests a minute: 0.35 x the latency floor, 4x the thin peer."""
    assert bench.server is not None
    latency = bench.slow_latency
    bench.server.delay = latency
    label = f"slow link {latency:g} s/page, 300/min: table"
    row, wall = _cli(bench, label, {RATE_ENV: "300"})
    # The floor is the sequential search's: its pages one after another (ceil(N/1000), and
    # one more when a full last page forces an empty one). Slices' extra requests do not
    # raise it.
    pages = bench.studies // MAX_PAGE_SIZE + 1
    floor = pages * latency
    row.target = f"wall <= {0.35 * floor:.1f} s (0.35 x floor)"
    row.result = row.result or bench.verdict(wall <= 0.35 * floor)
    bench.rows.append(row)
    bench.rows.append(Row(f"  latency floor: {pages} sequential requests x {latency:g} s", floor))
    if not peer.available():
        bench.rows.append(
            Row("  ctgov 0.1.1 peer", target=f"not installed: {peer.INSTALL}", result="SKIP")
        )
        return
    before = len(bench.server.requests)
    fields = ",".join(table_fields())
    run = run_child("peer", [bench.server.base_url, fields], workdir=bench.workdir)
    got = run.extra.get("distinct", 0)
    result = ""
    if run.code != 0:
        result = "ERROR"
        bench.problems.append(f"ctgov peer: exit {run.code}: {run.err.strip()[-300:]}")
    elif got != bench.studies:
        result = "SHORT"
        bench.problems.append(f"ctgov peer: got {got} of {bench.studies} studies")
    speedup = run.wall / wall
    bench.rows.append(
        Row(
            "  ctgov 0.1.1 peer (same fields, delay 0)",
            run.wall,
            run.cpu,
            _requests_served(bench.server, before),
            None,
            bench.studies / run.wall,
            run.peak_rss / MB,
            f"trialfinder {speedup:.2f}x faster; >= 4x",
            result or bench.verdict(speedup >= 4),
        )
    )


def default_pace(bench: Bench) -> None:
    """The default 50 requests a minute, 300 ms a page: within 1.5 s of the pace floor."""
    assert bench.server is not None
    bench.server.delay = bench.pace_latency
    env = {RATE_ENV: ""}  # unset: the default pace
    label = f"default pace 50/min, {bench.pace_latency:g} s/page: table"
    row, wall = _cli(bench, label, env)
    interval = 60.0 / Settings.from_env({}).requests_per_minute
    floor = max((row.requests or 0) - 1, 0) * interval
    row.target = f"wall <= {floor + 1.5:.1f} s (floor + 1.5 s)"
    row.result = row.result or bench.verdict(wall <= floor + 1.5)
    bench.rows.append(row)
    bench.rows.append(Row(f"  pace floor: ({row.requests} - 1) x {interval:g} s", floor))


def _source_run(bench: Bench, count: int, *, sample: bool) -> tuple[ChildRun, str]:
    """`search --source` over `count` studies saved as pages; with `sample`, an untimed run
    whose memory is sampled (`child._TreeSampler`), its peak kept in `bench.source_peak`."""
    folder = bench.workdir / f"pages-{count}"
    if not folder.exists():
        corpus.write_pages(count, folder)
    args = [*SEARCH, "--source", str(folder), "--format", "csv", "--quiet"]
    run = run_child("child", args, FAST, workdir=bench.workdir, sample_memory=sample)
    problem = bench.checked(f"--source {count}", run, "csv", count)
    if sample:
        bench.source_peak[count] = run.tree_peak / MB if run.tree_peak else _peak_mb(run)
        bench.source_bound[count] = _peak_mb(run)
    return run, problem


def _drop_pages(bench: Bench, count: int) -> None:
    folder = bench.workdir / f"pages-{count}"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def source(bench: Bench) -> None:
    """`search --source DIR --format csv` over the studies saved as pages: < 3 s (its memory
    is the `memory` rows', sampled in a run of its own: sampling costs CPU)."""
    run, problem = _source_run(bench, bench.studies, sample=False)
    pages = -(-bench.studies // corpus.PAGE_SIZE)
    bench.rows.append(
        Row(
            f"--source DIR ({pages} files) --format csv",
            run.wall,
            run.cpu,
            0,
            None,
            bench.studies / run.wall,
            _peak_mb(run),
            "wall < 3 s",
            problem or bench.verdict(run.wall < 3),
        )
    )
    if bench.studies not in bench.source_peak:
        _, problem = _source_run(bench, bench.studies, sample=True)
        if problem:
            bench.rows[-1].result = problem
    _drop_pages(bench, bench.studies)


def memory(bench: Bench) -> None:
    """The most memory the --source csv run holds at once (sampled), at 1/4, 1/2, 1 and 2 x
    the studies: < 300 MB at 1 x, and linear."""
    counts = [bench.studies // 4, bench.studies // 2, bench.studies, bench.studies * 2]
    for count in counts:
        problem = ""
        if count not in bench.source_peak:
            _, problem = _source_run(bench, count, sample=True)
            _drop_pages(bench, count)
        peak = bench.source_peak[count]
        label = f"memory: --source csv, {count:,} studies, held at once"
        row = Row(label, peak_mb=peak, result=problem)
        if count == bench.studies:
            row.target = "peak < 300 MB"
            row.result = problem or bench.verdict(peak < 300)
        if count == counts[-1]:
            quarter, whole, double = (
                bench.source_peak[n] for n in (counts[0], counts[2], counts[3])
            )
            early = (whole - quarter) / (counts[2] - counts[0])  # MB a study, 1/4 to 1 x
            late = (double - whole) / (counts[3] - counts[2])  # MB a study, 1 to 2 x
            row.target = f"linear: {late * 1000:.1f} MB/1k late <= 1.25 x {early * 1000:.1f} early"
            row.result = problem or bench.verdict(late <= 1.25 * max(early, 0.0) + 1e-9)
        bench.rows.append(row)
        if count == bench.studies:
            bench.rows.append(
                Row(
                    "  upper bound: main peak + each worker's peak (shared pages counted in each)",
                    peak_mb=bench.source_bound[count],
                )
            )


def api_memory(bench: Bench) -> None:
    """The most memory a search of the API holds at once (sampled), as the default table and
    as CSV (every column, the sites only counted): < 300 MB at 20,020 studies, like saved
    data. No latency and no pace: the pages come as fast as they are read, the most that can
    pile up in memory."""
    assert bench.server is not None
    bench.server.delay = 0.0
    for fmt in ("table", "csv"):
        args = _api_search(bench, fmt)
        run = run_child("child", args, FAST, workdir=bench.workdir, sample_memory=True)
        label = f"memory: API search, {fmt}, {bench.studies:,} studies, held at once"
        problem = bench.checked(label, run, fmt, bench.studies)
        peak = run.tree_peak / MB if run.tree_peak else _peak_mb(run)
        bench.rows.append(
            Row(
                label,
                peak_mb=peak,
                target="peak < 300 MB",
                result=problem or bench.verdict(peak < 300),
            )
        )


def stages(bench: Bench) -> None:
    """Decode, records, classify, filter and render in this process; the classifier alone."""
    assert bench.server is not None
    bench.server.delay = 0.0
    parts, received, classifier = run_stages(bench.server.base_url)
    for stage in parts:
        per_study = received / stage.items if stage.name == "decode" else None
        bench.rows.append(
            Row(f"stage {stage.name} (1 core)", stage.wall, stage.cpu, None, per_study, stage.rate)
        )
    bench.rows.append(
        Row(
            f"classifier: {classifier.items:,} criteria texts",
            classifier.wall,
            classifier.cpu,
            rate=classifier.rate,
            target="texts/s >= 20,000",
            result=bench.verdict(classifier.rate >= 20_000),
        )
    )


def bytes_share(bench: Bench) -> None:
    """The default table's `fields` against whole records: at most 25% of the bytes."""
    assert bench.server is not None
    bench.server.delay = 0.0
    settings = Settings.from_env(FAST, base_url=bench.server.base_url)
    params = {"default table fields": table_fields(), "whole records": ()}
    sizes: dict[str, int] = {}
    for label, fields in params.items():
        with CtGovClient(settings) as client:
            query = search_query().to_params(fields)
            got = sum(len(page.studies) for page in client.iter_pages(query))
            if got != bench.studies:
                bench.problems.append(f"bytes, {label}: {got} of {bench.studies} studies")
            sizes[label] = client.bytes_received
            bench.rows.append(
                Row(
                    f"bytes: {label}",
                    requests=client.requests_made,
                    bytes_per_study=client.bytes_received / bench.studies,
                )
            )
    share = sizes["default table fields"] / sizes["whole records"]
    bench.rows[-2].target = f"{share:.1%} of whole; <= 25%"
    bench.rows[-2].result = bench.verdict(share <= 0.25)


def help_wall(bench: Bench) -> None:
    """`trialfinder --help` in a fresh process: median of 5, under 0.25 s."""
    script = Path(sys.executable).with_name("trialfinder")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "trialfinder"]
    walls = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], capture_output=True, check=True, env={**os.environ})
        walls.append(time.perf_counter() - start)
    median = statistics.median(walls)
    bench.rows.append(
        Row(
            "trialfinder --help (median of 5)",
            median,
            target="wall < 0.25 s",
            result=bench.verdict(median < 0.25),
        )
    )


SCENARIOS = {
    "slow": slow_link,
    "pace": default_pace,
    "source": source,
    "memory": memory,
    "apimem": api_memory,
    "stages": stages,
    "bytes": bytes_share,
    "help": help_wall,
}
NEEDS_SERVER = frozenset({"slow", "pace", "apimem", "stages", "bytes"})
