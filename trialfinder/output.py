"""Where results go: stdout or a file written whole (or not at all), and a progress bar.

Kept apart from the CLI so that a library user, and later the cron reports, write files the
same way: through symlinks, into devices and pipes, keeping the file's permissions, and never
leaving half a file behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from trialfinder.errors import TrialfinderError, UsageError


def check_output(output: Path | None) -> Path | None:
    """Validate --output before any work is done; '-' means stdout. Returns the real target."""
    if output is None or str(output) == "-":
        return None
    target = Path(os.path.realpath(output.expanduser()))  # write through a symlink
    if target.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"--output {output}: the folder {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK) and not (
        target.exists() and os.access(target, os.W_OK)
    ):
        raise UsageError(f"--output {output}: no permission to write there")
    return target


def write_output(text: str, output: Path | None, *, bom: bool = False) -> None:
    """Data to stdout, or to a file: a regular file is replaced whole or not at all."""
    target = check_output(output)
    encoding = "utf-8-sig" if bom else "utf-8"
    if target is None:
        encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
        buffer = getattr(sys.stdout, "buffer", None)
        if encoding not in ("utf8", "utf8sig") and buffer is not None:
            # The data is UTF-8 whatever the locale says (a cp1252 console or redirect would
            # otherwise fail on the first "≥" in an eligibility sentence).
            sys.stdout.flush()
            buffer.write(text.encode("utf-8"))
            buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return
    try:
        if target.exists() and not target.is_file():
            # A device or a pipe (/dev/stdout, a FIFO): write into it, never replace it.
            with open(target, "w", encoding=encoding, newline="") as fh:
                fh.write(text)
        else:
            _replace_atomically(target, text, encoding)
    except OSError as exc:
        raise TrialfinderError(f"cannot write {output}: {exc.strerror or exc}") from None
    sys.stderr.write(f"Wrote {target}\n")


def _replace_atomically(target: Path, text: str, encoding: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
        if target.exists():
            shutil.copymode(target, tmp)  # keep the permissions the user gave the file
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
