"""A one-line progress bar on stderr for a person at a terminal, and notes on long waits.

Cron output stays quiet: nothing is drawn when stderr is not a terminal.
"""

from __future__ import annotations

import sys

LARGE_SEARCH = 10_000  # studies; above this, say up front how long fetching will take


class ProgressBar:
    """A one-line progress bar on stderr when it is a terminal, and a warning for huge searches.

    `seconds_per_page` is the client's pace, for the estimate in the warning.
    """

    def __init__(self, seconds_per_page: float = 1.2, page_size: int = 1000) -> None:
        self.active = sys.stderr.isatty()
        self.drawn = False
        self.warned = False
        self.seconds_per_page = seconds_per_page
        self.page_size = page_size

    def __call__(self, done: int, total: int | None) -> None:
        if total and total >= LARGE_SEARCH and not self.warned and done < total:
            self.warned = True
            seconds = -(-total // self.page_size) * self.seconds_per_page
            took = f"{round(seconds)} s" if seconds < 90 else f"{round(seconds / 60)} min"
            self._line(
                f"Note: the API matched {total:,} studies; fetching them all takes about "
                f"{took} at the polite pace (narrow the search or use --limit)"
            )
        if not self.active:
            return
        if total:
            filled = int(30 * min(done, total) / total)
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(f"\rFetching [{bar}] {done}/{total} studies")
        else:
            sys.stderr.write(f"\rFetching... {done} studies")
        sys.stderr.flush()
        self.drawn = True

    def retrying(self, problem: str, delay: float, attempt: int, retries: int) -> None:
        """Tell a person at a terminal why the fetch is waiting (cron output stays quiet)."""
        if self.active:
            self._line(
                f"The API did not answer ({problem}); retry {attempt} of {retries} in {delay:.1f} s"
            )

    def _line(self, text: str) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
