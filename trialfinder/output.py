"""Where results go: stdout, or a file written whole (or not at all).

Kept apart from the CLI so that a library user, and the cron reports, write files the same
way: through symlinks, into devices and pipes, keeping the file's permissions, and never
leaving half a file behind.
"""

from __future__ import annotations

import codecs
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
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
    text: str | bytes | Iterable[str],
    output: Path | None,
    *,
    bom: bool = False,
    quiet: bool = False,
) -> None:
    """Data to stdout, or to a file: a regular file is replaced whole or not at all.

    Text may come in pieces (`render.formats.render_chunks`), each written as it is made;
    a piece that fails to come leaves a file as it was. Bytes (a binary format) are written
    as they are: to stdout's binary buffer, or to a file.
    """
    target = check_output(output)
    encoding = "utf-8-sig" if bom else "utf-8"
    if isinstance(text, bytes):
        _write_bytes(text, target, output, quiet)
        return
    pieces = [text] if isinstance(text, str) else text
    if target is None:
        encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
        buffer = getattr(sys.stdout, "buffer", None)
        # The data is UTF-8 whatever the locale says (a cp1252 console or redirect would
        # otherwise fail on the first "≥" in an eligibility sentence).
        raw = buffer if encoding not in ("utf8", "utf8sig") else None
        sys.stdout.flush()
        for piece in pieces:
            if raw is not None:
                raw.write(piece.encode("utf-8"))
            else:
                sys.stdout.write(piece)
        (raw or sys.stdout).flush()
        return
    try:
        if target.exists() and not target.is_file():
            # A device or a pipe (/dev/stdout, a FIFO): write into it, never replace it.
            with open(target, "w", encoding=encoding, newline="") as fh:
                for piece in pieces:
                    fh.write(piece)
        else:
            replace_atomically(target, pieces, encoding)
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


def replace_atomically(
    target: Path, text: str | bytes | Iterable[str], encoding: str = "utf-8"
) -> None:
    """Replace a regular file whole (or not at all), keeping its permissions; synced to disk.

    Text (whole, or in pieces written as they come) is written in `encoding`; bytes as they
    are. Until the last piece is written the file is as it was; an error on the way (from
    the pieces too) leaves it so."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(text, bytes):
                fh.write(text)
            else:
                encoder = codecs.getincrementalencoder(encoding)()  # a BOM once, if any
                for piece in [text] if isinstance(text, str) else text:
                    fh.write(encoder.encode(piece))
                fh.write(encoder.encode("", final=True))
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
