"""Run the real CLI entry point in-process, capturing stdout, stderr and the exit code apart."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from trialfinder.cli.app import main


@dataclass
class Result:
    """What one CLI run produced."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@contextlib.contextmanager
def _env(extra: Mapping[str, str | None]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra}
    try:
        for key, value in extra.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(argv: Sequence[str], env: Mapping[str, str | None] | None = None) -> Result:
    """Call trialfinder.cli.main(argv) and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    # The same table width whatever terminal the suite runs in, unless a test sets its own.
    env = {"COLUMNS": "120", **(env or {})}
    with _env(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())
