"""The benchmark's machine reference (benchmarks/machine.py): a fixed workload, so references
printed by different commits compare."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from benchmarks import machine


def test_the_reference_workload_never_changes() -> None:
    # Pinned: a change to the workload makes earlier runs' references meaningless.
    assert machine.workload() == 15_899_994


def test_the_reference_runs_none_of_trialfinder() -> None:
    tree = ast.parse(Path(machine.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert imported <= {"__future__", "json", "re", "time"}


def test_the_reference_is_the_best_of_its_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 5.0, 5.0, 7.0, 7.0, 8.0])  # runs of 5, 2 and 1 CPU seconds
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        return 0

    monkeypatch.setattr(time, "process_time", lambda: next(clock))
    monkeypatch.setattr(machine, "workload", work)
    assert machine.reference_seconds(repeats=3) == 1.0
    assert len(runs) == 3
