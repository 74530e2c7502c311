"""The typer app, the helpers every command shares, and the single error boundary (`main`).

The only package that imports typer. Heavy modules (pandas, httpx) are imported inside the
commands so that `--help` stays fast.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from trialfinder import __version__
from trialfinder.errors import TrialfinderError, UsageError

if TYPE_CHECKING:
    from trialfinder.ctgov.sources import StudySource

app = typer.Typer(
    name="trialfinder",
    help=(
        "Find CAR T-cell therapy trials, and trials open to people whose CAR-T did not work, "
        "on ClinicalTrials.gov.\n\nThis tool uses publicly available data from the U.S. "
        "National Library of Medicine (NLM); NLM is not responsible for it and does not "
        "endorse it. It is not medical advice: talk to your care team about any trial."
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion (bash, zsh, fish)
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trialfinder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Find CAR-T trials, and trials open after CAR-T, on ClinicalTrials.gov."""
    _tune_malloc()  # every command, not --help or --version (eager: they end before this)


# -- helpers every command shares ----------------------------------------------------------


def note(message: str) -> None:
    """A line for the user on stderr (never mixed into the data on stdout)."""
    typer.echo(message, err=True)


def open_source(
    source: str | None,
    api_url: str | None,
    *,
    no_cache: bool = False,
    refresh: bool = False,
    say: Callable[[str], None] = note,
) -> StudySource:
    """Saved data when --source is given, else the API (settings from the environment), with
    the cache of recent answers unless --no-cache; one that cannot be used is a note."""
    from trialfinder.ctgov.sources import ApiSource, FileSource

    if no_cache and refresh:
        raise UsageError(
            "--no-cache and --refresh cannot be used together (choose --no-cache to keep "
            "nothing, or --refresh to fetch anew and keep the answers)"
        )
    if source is not None:
        return FileSource(source)
    from trialfinder.ctgov.client import CtGovClient
    from trialfinder.ctgov.settings import Settings

    settings = Settings.from_env(base_url=api_url)
    cache = None
    if not no_cache and settings.cache_minutes > 0:
        # hishel and sqlite3 only for a cache (--no-cache, TRIALFINDER_CACHE_MINUTES=0: none)
        from trialfinder.ctgov.cache import CacheUnavailable, open_cache

        try:
            cache = open_cache(settings, refresh=refresh)
        except CacheUnavailable as exc:
            say(f"Note: {exc}")
    return ApiSource(CtGovClient(settings, cache=cache))


def cache_notes(source: StudySource) -> list[str]:
    """What the API cache did during the run (nothing for saved data)."""
    from trialfinder.ctgov.sources import ApiSource

    return source.cache_notes() if isinstance(source, ApiSource) else []


def to_file(output: Path | None) -> bool:
    """Whether the data goes to a file ("-" means stdout)."""
    return output is not None and str(output) != "-"


def width() -> int:
    """$COLUMNS, else the terminal's width (stdout's, or stderr's when stdout is piped to a
    pager or `head`), else 120; never below 40."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(40, int(columns))
    for fd in (1, 2, 0):
        try:
            return max(40, os.get_terminal_size(fd).columns)
        except OSError:
            continue
    return 120


# -- the error boundary ------------------------------------------------------------------
def _fail(message: str, code: int, hint: str | None = None) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    if hint and code != 2:
        typer.echo(f"Tip: {hint}", err=True)
    raise SystemExit(code)


def _click_kind(exc: BaseException) -> set[str]:
    # typer >= 0.20 vendors click as typer._click; older typer uses click itself. Match the
    # exception classes by name so the boundary works with either.
    return {cls.__name__ for cls in type(exc).__mro__}


# A search builds hundreds of thousands of small objects (records, cells) that are never
# cyclic garbage; with the default thresholds the cycle collector walks them all again every
# time the heap grows by a quarter, about a third of a large search's CPU (measured: 20,020
# studies, `benchmarks`). Collections stay on, only rarer (mypy's command line does the same):
# one young collection for every million new containers (what a page of records and its
# rows make) took `--source` of 20,020 studies to CSV from 2.99 to 2.89 s (median of five
# runs each) against 200,000; with the collector off it took 2.90 s.
GC_THRESHOLDS = (1_000_000, 30, 30)


def _tune_gc() -> None:
    """The cycle collector for a short-lived batch program: rarer collections."""
    gc.set_threshold(*GC_THRESHOLDS)


# glibc's malloc serves a block of 128 KiB or more by mmap, and gives it back whole when it
# is freed, but each time such a block is freed it raises that threshold to the block's size
# (up to 32 MiB): after the first page body of a few MB is freed, the next ones come from the
# heap, which they leave full of holes it cannot give back. Fixed at 128 KiB (which also ends
# the raising), a search of 20,020 studies held at once: 316 -> 233 MB as a table, 526 -> 325
# MB as CSV from the API, 246 -> 236 MB from saved files (benchmarks; no time lost).
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD = 128 * 1024


def _tune_malloc() -> None:
    """Large blocks from mmap, always (above); nothing where there is no glibc mallopt."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def entry() -> None:
    """The `trialfinder` command: `main`, then an exit that skips the interpreter's last
    collection, a walk over every object still alive (0.17 s after a 20,000-study search);
    what is left then is memory only, since outputs and stores are closed by the commands.
    Tests call `main`, which leaves the collector as it was."""
    try:
        main()
    finally:
        gc.freeze()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and turn every failure into one clear line."""
    _tune_gc()
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="trialfinder", standalone_mode=False)
    except TrialfinderError as exc:
        _fail(exc.message, exc.exit_code, exc.hint)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        sys.stderr.close()
        raise SystemExit(0) from None
    except OSError as exc:
        # Most often stdout cannot be written (a full disk): a cron job must see a failure.
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 1)
    except Exception as exc:
        kinds = _click_kind(exc)
        if "NoArgsIsHelpError" in kinds:
            ctx = getattr(exc, "ctx", None)
            help_text = ctx.get_help() if ctx is not None else ""
            if help_text:
                typer.echo(help_text)
            raise SystemExit(0) from None
        if "ClickException" in kinds:
            message = " ".join(str(getattr(exc, "format_message", exc.__str__)()).split())
            _fail(message, int(getattr(exc, "exit_code", 2)))
        raise
    if isinstance(code, int) and code:
        raise SystemExit(code)
