"""Where results go: stdout, or a file written whole (or not at all).

Kept apart from the CLI so that a library user, and the cron reports, write files the same
way: through symlinks, into devices and pipes, keeping the file's permissions, and never
leaving half a file behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from trialfinder.errors import OutputError, UsageError


def check_output(output: Path | None) -> Path | None:
    """Validate --output before any work is done; '-' means stdout. Returns the real target."""
    if output is None or str(output) == "-":
        return None
    target = Path(os.path.realpath(output.expanduser()))  # write through a symlink
    if target.is_dir():
        raise OutputError(output, "it is a folder; give a file name")
    if not target.parent.is_dir():
        raise OutputError(output, f"the folder {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK) and not (
        target.exists() and os.access(target, os.W_OK)
    ):
        raise OutputError(output, "permission denied")
    return target


def check_binary_output(output: Path | None, fmt: str) -> None:
    """A binary format needs a file, or a stdout that is not a terminal (checked up front)."""
    if check_output(output) is not None:
        return
    if sys.stdout.isatty() or getattr(sys.stdout, "buffer", None) is None:
        raise UsageError(
            f"--format {fmt} writes a binary file, which a terminal cannot show; "
            f"add -o FILE.{fmt} (or redirect stdout to a file)"
        )


def write_output(
    text: str | bytes, output: Path | None, *, bom: bool = False, quiet: bool = False
) -> None:
    """Data to stdout, or to a file: a regular file is replaced whole or not at all.

    Bytes (a binary format) are written as they are: to stdout's binary buffer, or to a file.
    """
    target = check_output(output)
    encoding = "utf-8-sig" if bom else "utf-8"
    if isinstance(text, bytes):
        _write_bytes(text, target, output, quiet)
        return
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
            replace_atomically(target, text, encoding)
    except OSError as exc:
        raise OutputError(output, str(exc.strerror or exc).lower()) from None
    if not quiet:
        sys.stderr.write(f"Wrote {target}\n")


def _write_bytes(data: bytes, target: Path | None, output: Path | None, quiet: bool) -> None:
    if target is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        if target.exists() and not target.is_file():
            with open(target, "wb") as fh:
                fh.write(data)
        else:
            replace_atomically(target, data)
    except OSError as exc:
        raise OutputError(output, str(exc.strerror or exc).lower()) from None
    if not quiet:
        sys.stderr.write(f"Wrote {target}\n")


def replace_atomically(target: Path, text: str | bytes, encoding: str = "utf-8") -> None:
    """Replace a regular file whole (or not at all), keeping its permissions; synced to disk.

    Text is written in `encoding`; bytes as they are."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        data = text if isinstance(text, bytes) else text.encode(encoding)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # a report is on disk before the baseline moves past it
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
