"""The layout's boundaries hold: imports run one way, one library per part, help everywhere.

Every form of import counts: `import a.b`, `from a import b`, relative imports at any depth
(`from . import cli`, `from ..x import y`), imports under `if TYPE_CHECKING:` or inside a
function, and `importlib.import_module("...")` / `__import__("...")` with a literal name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "trialfinder"

# Lowest first. A module may import modules of a lower layer, and, inside its own layer, only
# modules of its own subpackage that come before it here. Peers in one layer (the API, CAR-T
# and geography subpackages) never import each other.
LAYERS: list[list[str]] = [
    ["errors", "text", "values", "unread", "schema"],
    ["records"],
    ["rows", "describe"],
    ["frames"],
    [
        "ctgov.query",
        "ctgov.settings",
        "ctgov.pacing",
        "ctgov.retries",
        "ctgov.transport",
        "ctgov.cache",
        "ctgov.pages",
        "ctgov.client",
        "ctgov.prefetch",
        "ctgov.slices",
        "ctgov.lean",
        "ctgov.saved",
        "ctgov.cores",
        "ctgov.hooks",
        "ctgov.local",
        "ctgov.sources",
        "cart.vocab_file",
        "cart.alternation",
        "cart.scan",
        "cart.vocab",
        "cart.widening",
        "cart.reading",
        "cart.sentences",
        "cart.titles",
        "cart.stance",
        "cart.explain",
        "cart.profile",
        "cart.options",
        "geo.sphere",
        "geo.names",
        "geo.gazetteer",
        "geo.lookup",
        "geo.places",
        "geo.distance",
    ],
    ["spec"],
    ["fields"],
    ["filters"],
    ["nearby"],
    ["search"],
    ["detail"],
    ["output"],
    [
        "watch.home",
        "watch.watchfile",
        "watch.snapshot",
        "watch.store",
        "watch.compare",
        "watch.fetch",
        "watch.runner",
    ],
    [
        "render.cells",
        "render.wrap",
        "render.tables",
        "render.xlsx",
        "render.formats",
        "render.columns",
        "render.study",
        "render.changes",
        "render.report",
    ],
    ["cli.options", "cli.progress", "cli.app", "cli.commands", "cli.watch", "cli.after"],
]
# third-party library -> the parts allowed to import it
OWNERS = {
    "httpx": ("ctgov.",),
    "tabulate": ("render.tables",),
    "wcwidth": ("render.wrap",),
    "openpyxl": ("render.xlsx",),
    "typer": ("cli.",),
    "click": ("cli.",),
    "sqlite3": ("geo.", "watch.", "ctgov.cache"),
    "tomlkit": ("watch.", "cli.watch"),
    "filelock": ("watch.",),
    "jinja2": ("render.report",),
    "platformdirs": ("watch.home", "ctgov.cache"),
    "hishel": ("ctgov.cache",),
    "ahocorasick_rs": ("cart.scan",),
    "msgspec": ("ctgov.pages", "ctgov.lean"),
    "ctgov": (),  # the benchmark's thin peer (the `bench` extra): no package module imports it
}
MAX_LINES = 420
IMPORTERS = ("import_module", "__import__")


def module_name(path: Path) -> str:
    """'trialfinder/geo/places.py' -> 'geo.places'; a package's __init__ -> the package."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_in(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module name the source imports, absolute ('trialfinder.x.y', 'httpx', ...)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["trialfinder", *package][: len(package) + 2 - node.level]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.add(prefix)
            # `from pkg import name` may import the module pkg.name
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (
                    isinstance(node.func, ast.Name)
                    and node.func.id in ("import_module", "__import__")
                )
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            target = node.args[0].value
            if target.startswith("."):
                target = (
                    "trialfinder." + ".".join(package) + target
                    if package
                    else "trialfinder" + target
                )
            names.add(target)
    return names


def modules() -> dict[str, tuple[Path, set[str]]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        out[name] = (
            path,
            imports_in(
                path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py"
            ),
        )
    return out


def ours(names: set[str], known: set[str]) -> set[str]:
    """The package's own modules among imported names (a name may be a module's attribute)."""
    found = set()
    for name in names:
        if name == "trialfinder" or not name.startswith("trialfinder."):
            continue
        short = name.removeprefix("trialfinder.")
        while short and short not in known:
            short = short.rpartition(".")[0]
        if short:
            found.add(short)
    return found


def rank(module: str) -> tuple[int, str, int]:
    for layer, members in enumerate(LAYERS):
        if module in members:
            package = module.rpartition(".")[0]
            return layer, package, members.index(module)
    raise AssertionError(f"{module} is in no layer of LAYERS: place it")


def test_every_module_is_placed_in_a_layer() -> None:
    for name in modules():
        if name not in ("", "__main__") and not (PACKAGE / name.replace(".", "/")).is_dir():
            rank(name)


def imported_inits(known: set[str]) -> dict[str, set[str]]:
    """What each package's __init__ imports of ours (importing a package runs its __init__)."""
    out = {}
    for name in known:
        init = PACKAGE / name.replace(".", "/") / "__init__.py"
        if name and init.is_file():
            source = init.read_text(encoding="utf-8")
            out[name] = ours(imports_in(source, name, is_package=True), known) - {name}
    return out


def expand(names: set[str], inits: dict[str, set[str]]) -> set[str]:
    """Modules, with each package replaced by the modules its __init__ imports."""
    out: set[str] = set()
    for name in names:
        out |= expand(inits[name], inits) if name in inits else {name}
    return out


def violations(imported: dict[str, set[str]], known: set[str]) -> list[str]:
    """'a imports b' for every import of `imported` that does not point strictly lower."""
    problems = []
    for name, names in imported.items():
        if name in ("", "__main__") or (PACKAGE / name.replace(".", "/")).is_dir():
            continue  # the lazy public names, the entry point and package docstrings
        layer, package, position = rank(name)
        for other in expand(ours(names, known), imported_inits(known)):
            if other == name:
                continue
            o_layer, o_package, o_position = rank(other)
            lower = o_layer < layer or (
                o_layer == layer and o_package == package and o_position < position
            )
            if not lower:
                problems.append(f"{name} imports {other}")
    return problems


def test_imports_run_one_way() -> None:
    mods = modules()
    assert not violations({n: names for n, (_, names) in mods.items()}, set(mods))


def test_subpackage_inits_import_only_their_own_modules() -> None:
    mods = modules()
    for name, (path, names) in mods.items():
        if path.name == "__init__.py" and name:
            own = {name} | {n for n in mods if n.startswith(name + ".")}
            assert ours(names, set(mods)) <= own, name


def test_third_party_libraries_stay_in_their_part() -> None:
    for name, (_, names) in modules().items():
        for lib, owners in OWNERS.items():
            if any(n == lib or n.startswith(lib + ".") for n in names):
                assert name.startswith(owners) or name in [o.rstrip(".") for o in owners], (
                    f"{name} imports {lib}"
                )


def test_nothing_outside_the_cli_imports_it() -> None:
    mods = modules()
    for name, (_, names) in mods.items():
        if name.startswith("cli") or name == "__main__":
            continue
        assert not {n for n in ours(names, set(mods)) if n.startswith("cli")}, name


def test_the_leaves_import_nothing_of_ours() -> None:
    mods = modules()
    assert not ours(mods["errors"][1], set(mods))
    assert ours(mods["text"][1], set(mods)) <= {"errors"}
    assert ours(mods["geo.names"][1], set(mods)) <= {"errors"}


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from . import cli", "search", "trialfinder.cli"),
        ("from .. import cli", "render.formats", "trialfinder.cli"),
        ("from ..cli.app import main", "render.formats", "trialfinder.cli.app"),
        ("from .app import note", "cli.commands", "trialfinder.cli.app"),
        ("import trialfinder.cli.app as a", "search", "trialfinder.cli.app"),
        ("from trialfinder import cli", "search", "trialfinder.cli"),
        ("if TYPE_CHECKING:\n    from trialfinder.cli import app", "search", "trialfinder.cli"),
        ("def f():\n    from trialfinder.cli import app", "search", "trialfinder.cli"),
        ("import_module('trialfinder.cli')", "search", "trialfinder.cli"),
        ("importlib.import_module('.cli', 'trialfinder')", "search", "trialfinder.cli"),
        ("__import__('trialfinder.cli')", "search", "trialfinder.cli"),
    ],
)
def test_every_form_of_import_is_seen(source: str, module: str, expected: str) -> None:
    assert expected in imports_in(source, module)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("search", "from . import cli"),
        ("records", "from .search import run_search"),
        ("cart.vocab", "from trialfinder.cart.stance import Stance"),
        ("geo.places", "from trialfinder.cart import vocab"),
        ("render.cells", "from trialfinder.render.study import render_study"),
    ],
)
def test_an_upward_or_sideways_import_fails_the_layer_rule(module: str, source: str) -> None:
    known = set(modules())
    assert violations({module: imports_in(source, module)}, known)


def test_every_module_starts_with_a_docstring_and_stays_short() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{path.name} has no module docstring"
        assert len(text.splitlines()) <= MAX_LINES, f"{path} has more than {MAX_LINES} lines"


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

    from trialfinder.cli import app

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
