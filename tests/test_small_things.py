"""Smaller things a user trips over (issue 10): blank text options, columns that need --near,
--sites contacts, and how `show` takes its ids."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from clirun import run

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = str(ROOT / "fixtures")


@pytest.mark.parametrize("option", ["-c", "--condition", "--term", "--intervention", "--sponsor"])
@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_a_blank_text_option_is_refused(option: str, value: str) -> None:
    result = run(["search", "--source", FIXTURES, option, value])
    assert result.code == 2 and result.out == ""
    assert len(result.err_lines) == 1
    name = "--condition" if option == "-c" else option
    assert result.err_lines[0].startswith(f"Error: invalid value for {name}: {value!r} (valid: one")


def test_columns_that_need_near_say_so() -> None:
    result = run(["search", "--source", FIXTURES, "--columns", "nct_id,distance_mi"])
    assert result.code == 2
    assert result.err_lines == [
        "Error: --columns distance_mi needs --near (or --lat and --lon): a place to measure from"
    ]
    ok = run(["search", "--source", FIXTURES, "--near", "77030", "--columns", "nct_id,distance_mi"])
    assert ok.code == 0, ok.err


def test_sites_fall_back_to_the_central_contact(records_dir: Path) -> None:
    argv = ["search", "--source", str(records_dir), "--status", "any", "--sites", "-f", "json"]
    sites = json.loads(run(argv).out)
    trials = {
        t["nct_id"]: t["central_contact"] for t in json.loads(run([*argv[:-3], "-f", "json"]).out)
    }
    borrowed = [s for s in sites if s["contact"] == trials[s["nct_id"]] and trials[s["nct_id"]]]
    assert borrowed, "some real sites list no contact and take the trial's"
    assert all(s["contact"] for s in sites if trials[s["nct_id"]])


@pytest.mark.parametrize(
    "args",
    [["NCT90000101,NCT90000203"], ["NCT90000101 NCT90000203"], ["NCT90000101", "NCT90000203"]],
)
def test_show_takes_ids_with_commas_or_spaces(args: list[str]) -> None:
    result = run(["show", *args, "--source", FIXTURES, "-f", "jsonl"])
    assert result.code == 0, result.err
    assert [json.loads(line)["nct_id"] for line in result.out.splitlines()] == [
        "NCT90000101",
        "NCT90000203",
    ]


def test_show_reads_ids_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("NCT90000101\nNCT90000203, NCT90000101\n"))
    result = run(["show", "-", "--source", FIXTURES, "-f", "jsonl"])
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    empty = run(["show", "-", "--source", FIXTURES])
    assert empty.code == 2 and empty.err_lines[0].startswith(
        "Error: show needs at least one NCT id"
    )


def test_shell_completion_is_on() -> None:
    helped = run(["--help"])
    assert helped.code == 0 and "--install-completion" in helped.out
    assert "--show-completion" in helped.out


def test_the_command_line_makes_cycle_collections_rarer() -> None:
    import gc

    from trialfinder.cli.app import GC_THRESHOLDS

    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        assert run(["--version"]).code == 0
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.isenabled()  # rarer, never off: cyclic garbage is still collected
    finally:
        gc.set_threshold(*saved)


def test_the_command_line_keeps_large_blocks_on_mmap(monkeypatch: pytest.MonkeyPatch) -> None:
    """glibc's threshold fixed at 128 KiB (mallopt M_MMAP_THRESHOLD, -3 in malloc.h), so page
    bodies are given back when freed; a C library without mallopt is left as it is."""
    import ctypes
    import sys

    from trialfinder.cli.app import _tune_malloc

    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    assert run(["--version"]).code == 0
    assert calls == []  # nothing at start-up for --version or --help
    assert run(["search", "--help"]).code == 0
    assert calls == [(-3, 128 * 1024)]

    def missing(name: object) -> object:
        raise OSError("no C library")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    _tune_malloc()  # no error
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    _tune_malloc()
    assert calls == [(-3, 128 * 1024)]  # not called elsewhere
