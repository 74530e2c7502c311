"""Saved searches on the command line: `watch add|list|show|edit|remove|prune`, `report`, `history`.

Thin like the other commands: the watch file, the store and the runner are in
`trialfinder.watch`; reports are rendered by `trialfinder.render.report`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from trialfinder.cli.app import app, note
from trialfinder.cli.options import ApiUrlOpt, OutputOpt, listed, with_search_options
from trialfinder.errors import TrialfinderError, UsageError
from trialfinder.render.formats import REPORT_FORMATS
from trialfinder.spec import SearchSpec

if TYPE_CHECKING:
    from trialfinder.watch.watchfile import WatchFile

watch_app = typer.Typer(
    help="Saved searches: add one, then run `trialfinder report` from cron to hear what "
    "changed.\n\nExample: trialfinder watch add myeloma-home -c myeloma --after-car-t --near 77030",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")

HomeOpt = Annotated[
    str | None,
    typer.Option(
        "--home",
        metavar="DIR",
        help="Keep watches and snapshots under DIR (default: $TRIALFINDER_HOME, else the "
        "user's config and data folders).",
    ),
]
NameArg = Annotated[str, typer.Argument(help="The watch's name.", metavar="NAME")]
ReportFormatOpt = Annotated[
    str,
    typer.Option("--format", "-f", metavar="FORMAT", help=f"{listed(REPORT_FORMATS)}."),
]


def _file(home: str | None) -> WatchFile:
    from trialfinder.watch.home import Home
    from trialfinder.watch.watchfile import WatchFile

    return WatchFile(Home.find(home).watch_file)


@watch_app.command("add")
@with_search_options
def watch_add(
    name: NameArg,
    spec: SearchSpec,
    home: HomeOpt = None,
) -> None:
    """Save a search under NAME; it is checked now, exactly as `search` checks it.

    Example: trialfinder watch add myeloma-home -c "multiple myeloma" --after-car-t --near 77030
    """
    from trialfinder.watch.watchfile import check_name, new_watch

    check_name(name)
    watch = new_watch(name, spec)
    _file(home).put(watch, replace=False)
    where = f" near {watch.place.label}" if watch.place is not None else ""
    note(f"Added watch {name!r}{where}. Run `trialfinder report {name}` to take its baseline.")


@watch_app.command("edit")
@with_search_options
def watch_edit(
    name: NameArg,
    spec: SearchSpec,
    clear: Annotated[
        list[str] | None,
        typer.Option("--clear", metavar="OPTION", help="Remove an option, e.g. --clear radius."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Change options of a saved search (the next report starts a new baseline).

    Example: trialfinder watch edit myeloma-home --radius 50mi --clear after-car-t
    """
    import dataclasses

    from trialfinder.watch.watchfile import new_watch

    wf = _file(home)
    old = wf.get(name)
    data = old.spec.to_dict() | spec.to_dict()  # the options given replace the saved ones
    for option in clear or []:
        key = option.strip().lower().replace("_", "-").removeprefix("--")
        if key not in {f.name.replace("_", "-") for f in dataclasses.fields(SearchSpec)}:
            raise UsageError(f"--clear {option}: not a search option")
        data.pop(key, None)
    edited = SearchSpec.from_dict(data, where=f"watch {name!r}")
    watch = dataclasses.replace(new_watch(name, edited), added=old.added)
    wf.put(watch, replace=True)
    if watch.definition_hash != old.definition_hash:
        note(f"Changed watch {name!r}: the next report starts a new baseline.")
    else:
        note(f"Watch {name!r} is unchanged.")


@watch_app.command("list")
def watch_list(home: HomeOpt = None) -> None:
    """List the saved searches with their last run and result count.

    Example: trialfinder watch list
    """
    from trialfinder.watch.home import Home
    from trialfinder.watch.store import Store
    from trialfinder.watch.watchfile import WatchFile

    where = Home.find(home)
    watches = WatchFile(where.watch_file).watches()
    if not watches:
        note(f"No watches yet in {where.watch_file}; add one with `trialfinder watch add`.")
        return
    with Store.open(where.database) as store:
        for watch in watches:
            base = store.baseline(watch.name)
            last = f"last run {base.started}, {base.result_count} trial(s)" if base else "never run"
            options = " ".join(
                f"--{k} {v!r}" if v is not True else f"--{k}"
                for k, v in watch.spec.to_dict().items()
            )
            typer.echo(f"{watch.name}  [{last}]  {options}")


@watch_app.command("show")
def watch_show(name: NameArg, home: HomeOpt = None) -> None:
    """Show one saved search: its options, its place, and its runs.

    Example: trialfinder watch show myeloma-home
    """
    import tomlkit

    from trialfinder.watch.home import Home
    from trialfinder.watch.store import Store

    where = Home.find(home)
    watch = _file(home).get(name)
    typer.echo(tomlkit.dumps({"watches": {name: watch.to_table()}}).rstrip())
    with Store.open(where.database) as store:
        runs = store.runs(name)
    typer.echo(f"# {len(runs)} run(s); definition {watch.definition_hash}")
    for run in runs[-5:]:
        typer.echo(f"#   {run.started}  data {run.data_timestamp}  {run.result_count} trial(s)")


@watch_app.command("remove")
def watch_remove(
    name: NameArg,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete its snapshots.")] = False,
    home: HomeOpt = None,
) -> None:
    """Remove a saved search; its snapshots stay for `history` unless --purge is given.

    Example: trialfinder watch remove myeloma-home
    """
    from trialfinder.watch.home import Home
    from trialfinder.watch.store import Store

    _file(home).remove(name)
    if purge:
        with Store.open(Home.find(home).database) as store:
            store.forget(name)
    note(
        f"Removed watch {name!r}"
        + (" and its snapshots." if purge else "; its snapshots are kept.")
    )


@watch_app.command("prune")
def watch_prune(
    keep: Annotated[
        int, typer.Option("--keep", metavar="N", help="Runs to keep in full per watch.")
    ] = 30,
    home: HomeOpt = None,
) -> None:
    """Drop the records of old runs (their changes stay, so `history` is never broken).

    Example: trialfinder watch prune --keep 30
    """
    from trialfinder.watch.home import Home
    from trialfinder.watch.store import Store

    if keep < 1:
        raise UsageError(f"invalid value for --keep: {keep} (valid: a whole number of 1 or more)")
    with Store.open(Home.find(home).database) as store:
        dropped = store.prune(keep)
    note(f"Pruned {dropped} stored member record(s).")


@app.command()
def report(
    names: Annotated[
        list[str] | None, typer.Argument(help="Watches to run.", metavar="NAME...")
    ] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every watch.")] = False,
    fmt: ReportFormatOpt = "markdown",
    output: OutputOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing when nothing changed.")
    ] = False,
    fail_on_change: Annotated[
        bool, typer.Option("--fail-on-change", help="Exit 3 when something changed.")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="Fetch every record again.")] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", metavar="SECONDS", help="How long to wait for a run of the same watch."
        ),
    ] = 60.0,
    mail_to: Annotated[
        str | None, typer.Option("--mail-to", metavar="ADDRESS", help="To: of --format email.")
    ] = None,
    api_url: ApiUrlOpt = None,
    home: HomeOpt = None,
) -> None:
    """Run saved searches and report what is new or changed since the last run.

    Exit codes: 0 done, 1 a watch failed (the others still moved forward), 2 bad usage, 3 with
    --fail-on-change when something changed.

    Example: trialfinder report --all --quiet --format email --mail-to me@example.org
    """
    from trialfinder.ctgov.client import CtGovClient
    from trialfinder.ctgov.settings import Settings
    from trialfinder.ctgov.sources import ApiSource
    from trialfinder.output import check_output, write_output
    from trialfinder.render.formats import check_report_format
    from trialfinder.render.report import render_report
    from trialfinder.watch.home import Home
    from trialfinder.watch.runner import run_report, watch_lock
    from trialfinder.watch.store import Store
    from trialfinder.watch.watchfile import WatchFile

    fmt = check_report_format(fmt)
    check_output(output)
    if not wait >= 0:
        raise UsageError(f"invalid value for --wait: {wait:g} (valid: seconds, 0 or more)")
    if bool(names) == run_all:
        raise UsageError("name the watches to report, or give --all (not both)")
    where = Home.find(home)
    wf = WatchFile(where.watch_file)
    watches = wf.watches() if run_all else [wf.get(n) for n in dict.fromkeys(names or [])]
    if run_all and not watches:
        raise UsageError(f"no watches in {where.watch_file}; add one with `trialfinder watch add`")
    reports, failed = [], 0
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(Store.open(where.database))
        source = stack.enter_context(ApiSource(CtGovClient(Settings.from_env(base_url=api_url))))
        for watch in watches:
            try:
                # Each lock is held until its run is committed, after the report is written.
                stack.enter_context(watch_lock(where.lock_file(watch.name), watch.name, wait))
                reports.append(run_report(watch, store, source, full=full))
            except TrialfinderError as exc:
                failed += 1
                note(f"Error: watch {watch.name!r}: {exc.message}")
        changed = any(r.changed for r in reports)
        if reports and (changed or not quiet):
            write_output(render_report(reports, fmt, mail_to=mail_to), output)
        for result in reports:
            if result.run_id is not None:
                store.commit_run(result.watch, result.run_id)
    if failed:
        raise SystemExit(1)
    if fail_on_change and changed:
        raise SystemExit(3)


@app.command()
def history(
    nct_ids: Annotated[list[str], typer.Argument(help="NCT ids.", metavar="NCT_ID...")],
    fmt: ReportFormatOpt = "markdown",
    home: HomeOpt = None,
) -> None:
    """Every change recorded for a trial, across the runs of every watch, oldest first.

    Example: trialfinder history NCT01234567
    """
    from trialfinder.ctgov.query import check_nct_id
    from trialfinder.render.changes import render_history
    from trialfinder.watch.home import Home
    from trialfinder.watch.store import Store

    ids = [check_nct_id(i) for i in nct_ids]
    with Store.open(Home.find(home).database) as store:
        rows = [row for nct in ids for row in store.history(nct)]
    if not rows:
        note("No changes recorded for " + ", ".join(ids) + ".")
    typer.echo(render_history(rows, fmt), nl=False)
