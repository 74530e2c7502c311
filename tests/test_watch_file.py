"""Saved searches: `watch add|list|show|edit|remove`, the TOML file, and its mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import run
from watch_helpers import FIXTURES

from trialfinder.watch.home import Home
from trialfinder.watch.watchfile import WatchFile


def cli(home: Path, *argv: str) -> tuple[int, str, str]:
    result = run(
        list(argv),
        {"TRIALFINDER_HOME": str(home), "TRIALFINDER_API_URL": "http://127.0.0.1:9/api/v2"},
    )
    return result.code, result.out, result.err


def test_a_watch_saves_every_search_option_and_its_place(tmp_path: Path) -> None:
    code, _, err = cli(
        tmp_path,
        "watch",
        "add",
        "myeloma-home",
        "-c",
        "multiple myeloma",
        "--car-t",
        "--after-car-t",
        "--target",
        "BCMA",
        "--prior-car-t",
        "required",
        "--near",
        "Houston, TX",
        "--radius",
        "100mi",
        "--status",
        "open",
        "--phase",
        "2",
        "--age",
        "60",
    )
    assert code == 0 and "Added watch 'myeloma-home' near Houston, TX" in err
    (watch,) = WatchFile(Home.find(tmp_path).watch_file).watches()
    assert watch.spec.after_car_t and watch.spec.car_t and watch.spec.target == ("BCMA",)
    assert watch.spec.near == "Houston, TX" and watch.spec.radius == "100mi"
    assert watch.place is not None and round(watch.place.lat, 2) == 29.76
    text = (tmp_path / "config" / "watches.toml").read_text(encoding="utf-8")
    assert "[watches.myeloma-home]" in text and "after-car-t = true" in text
    search = watch.search()
    assert search.options.near == watch.place and search.query.age == 60


@pytest.mark.parametrize(
    "argv",
    [
        ["--radius", "50mi"],
        ["--near", "Xyzzyville, Nowhere"],
        ["--after-car-t", "--prior-car-t", "excluded"],
        ["--status", "recruting"],
        ["--target", "CD999"],
    ],
)
def test_a_bad_option_is_refused_when_added_with_the_message_search_gives(
    argv: list[str], tmp_path: Path
) -> None:
    searched = run(["search", "--source", str(FIXTURES), *argv])
    code, _, err = cli(tmp_path, "watch", "add", "w", *argv)
    assert code == 2 == searched.code
    assert err.strip().splitlines()[-1] == searched.err_lines[-1]
    assert not (tmp_path / "config" / "watches.toml").exists()


def test_names_are_checked_and_unique(tmp_path: Path) -> None:
    assert cli(tmp_path, "watch", "add", "../x", "-c", "lymphoma")[0] == 2
    assert cli(tmp_path, "watch", "add", "a", "-c", "lymphoma")[0] == 0
    code, _, err = cli(tmp_path, "watch", "add", "a", "-c", "myeloma")
    assert code == 2 and "exists" in err
    code, _, err = cli(tmp_path, "watch", "show", "b")
    assert code == 2 and "no watch named 'b' (watches: a)" in err


def test_edit_keeps_comments_and_other_watches_and_starts_a_new_baseline(tmp_path: Path) -> None:
    assert cli(tmp_path, "watch", "add", "a", "-c", "lymphoma", "--after-car-t")[0] == 0
    assert cli(tmp_path, "watch", "add", "b", "-c", "myeloma")[0] == 0
    path = tmp_path / "config" / "watches.toml"
    path.write_text("# my own note\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = cli(tmp_path, "watch", "edit", "a", "--near", "77030", "--clear", "after-car-t")
    assert code == 0 and "new baseline" in err
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my own note") and "[watches.b]" in text
    a = WatchFile(path).get("a")
    assert a.spec.condition == "lymphoma" and not a.spec.after_car_t and a.spec.near == "77030"
    assert a.place is not None
    assert cli(tmp_path, "watch", "edit", "a", "--clear", "nope")[0] == 2


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[watches.x]\ncondtion = "lymphoma"\n', ["watches.toml", "watch 'x'", "condtion"]),
        ("[watches.x]\nafter-car-t = 1\n", ["watch 'x'", "after-car-t", "true or false"]),
        ('[watches.x]\nnear = "77030"\n', ["watch 'x'", "place is missing"]),
        ("[watches.x\n", ["watches.toml", "not valid TOML"]),
        (
            '[watches.x]\nradius = "far"\n'
            '[watches.x.place]\nlabel="a"\nlat=1\nlon=2\nkind="city"\n',
            ["--radius"],
        ),
    ],
)
def test_a_hand_edited_mistake_names_the_file_the_watch_and_the_key(
    table: str, words: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "config" / "watches.toml"
    path.parent.mkdir(parents=True)
    path.write_text(table, encoding="utf-8")
    code, out, err = cli(tmp_path, "report", "--all")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err


def test_list_show_and_remove(tmp_path: Path) -> None:
    assert cli(tmp_path, "watch", "list")[2].startswith("No watches yet")
    cli(tmp_path, "watch", "add", "a", "-c", "lymphoma")
    code, out, _ = cli(tmp_path, "watch", "list")
    assert code == 0 and out.startswith("a  [never run]  --condition 'lymphoma'")
    code, out, _ = cli(tmp_path, "watch", "show", "a")
    assert code == 0 and 'condition = "lymphoma"' in out and "0 run(s)" in out
    code, _, err = cli(tmp_path, "watch", "remove", "a")
    assert code == 0 and "snapshots are kept" in err
    assert WatchFile(Home.find(tmp_path).watch_file).watches() == []


def test_home_comes_from_the_option_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIALFINDER_HOME", str(tmp_path / "env"))
    assert Home.find().watch_file == tmp_path / "env" / "config" / "watches.toml"
    assert Home.find(tmp_path / "opt").database == tmp_path / "opt" / "data" / "snapshots.sqlite3"
    monkeypatch.delenv("TRIALFINDER_HOME")
    assert "trialfinder" in str(Home.find().watch_file)


def test_search_and_watch_take_every_search_option() -> None:
    import dataclasses

    import typer.main

    from trialfinder.cli import app
    from trialfinder.spec import SearchSpec

    fields = {f.name for f in dataclasses.fields(SearchSpec)} - {"ids"}
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    watch = commands["watch"].commands
    for command in (commands["search"], watch["add"], watch["edit"]):
        assert fields <= {p.name for p in command.params}, command.name
