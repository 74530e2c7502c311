"""The layout's boundaries hold: one-way imports, one library per module, help for every command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "trialfinder"
# third-party library -> the only module allowed to import it
OWNERS = {"httpx": {"api"}, "tabulate": {"render"}, "typer": {"cli"}, "click": {"cli"}}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("trialfinder." + (node.module or ""))
            elif node.module:
                names.add(node.module)
    return names


def modules() -> dict[str, set[str]]:
    return {p.stem: imports_of(p) for p in PACKAGE.glob("*.py")}


def test_third_party_libraries_stay_in_their_module() -> None:
    for module, names in modules().items():
        for lib, owners in OWNERS.items():
            if any(n == lib or n.startswith(lib + ".") for n in names):
                assert module in owners, f"{module}.py imports {lib}"


def test_nothing_imports_the_cli() -> None:
    for module, names in modules().items():
        if module not in ("cli", "__main__"):
            assert "trialfinder.cli" not in names, f"{module}.py imports cli"


def test_errors_imports_nothing_of_ours() -> None:
    assert not [n for n in modules()["errors"] if n.startswith("trialfinder")]


def test_every_module_starts_with_a_docstring() -> None:
    for path in PACKAGE.glob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc, f"{path.name} has no module docstring"


def test_help_does_not_import_pandas_or_httpx() -> None:
    code = (
        "import sys\n"
        "from trialfinder.cli import main\n"
        "try:\n    main(['search', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules, 'httpx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_every_command_has_help_text_with_an_example() -> None:
    import typer.main

    from trialfinder.cli.app import app

    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert set(commands) >= {"search", "show"}
    for name, command in commands.items():
        assert command.help and "Example:" in command.help, name


def test_public_names_resolve_lazily() -> None:
    code = (
        "import sys, trialfinder\n"
        "assert 'pandas' not in sys.modules and 'httpx' not in sys.modules\n"
        "for name in trialfinder.__all__:\n    getattr(trialfinder, name)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_one_way_dependencies_between_place_modules() -> None:
    mods = modules()
    assert not [n for n in mods["gazetteer"] if n.startswith("trialfinder")]
    assert "trialfinder.geo" not in mods["places"] and "trialfinder.search" not in mods["geo"]
