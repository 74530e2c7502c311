"""The README's commands stay true: CI runs its test command, and every example runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from clirun import run
from ctgov_server import FakeCtGov

from trialfinder.ctgov.sources import FileSource

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)]


def examples() -> list[list[str]]:
    """Every `trialfinder ...` command in the README's shell blocks, as argv lists."""
    commands = []
    for block in shell_blocks():
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#") or "trialfinder " not in line:
                continue
            words = shlex.split(line.split("&&")[-1].strip())
            start = next(i for i, w in enumerate(words) if w.endswith("trialfinder"))
            commands.append(words[start + 1 :])
    return commands


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    install_and_test = quick_start()[1]
    assert "pytest" in install_and_test and ".[test]" in install_and_test
    assert install_and_test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_quick_start_search_runs_on_the_sample_data() -> None:
    first = quick_start()[0]
    assert "pip install" in first and "--source fixtures/" in first
    argv = shlex.split(first.split("&&")[-1])[1:]
    argv = [str(ROOT / "fixtures") if a == "fixtures/" else a for a in argv]
    result = run(argv)
    assert result.code == 0, result.err
    assert "NCT9" in result.out and "saved data in" in result.err


@pytest.fixture(scope="module")
def watch_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One home for the README's watch examples, which follow each other (add, list, ...)."""
    return tmp_path_factory.mktemp("readme-watches")


@pytest.mark.parametrize("argv", examples(), ids=lambda a: " ".join(a)[:60])
def test_every_readme_example_runs(argv: list[str], tmp_path: Path, watch_home: Path) -> None:
    argv = [str(ROOT / "fixtures") if a == "fixtures/" else a for a in argv]
    argv = [str(tmp_path / a) if a.endswith(".csv") else a for a in argv]
    env = {"TRIALFINDER_HOME": str(watch_home)}
    if "--source" in argv:
        result = run(argv, env)
    else:  # a live-API example: run it against the loopback API holding the sample data
        with FakeCtGov(FileSource(ROOT / "fixtures").load_raw()) as server:
            env |= {
                "TRIALFINDER_API_URL": server.base_url,
                "TRIALFINDER_REQUESTS_PER_MINUTE": "1e6",
            }
            result = run(argv, env)
    assert result.code == 0, (argv, result.err)
    assert "Error" not in result.err


def test_every_pitfall_the_code_cites_is_written_in_the_repo() -> None:
    doc = (ROOT / "docs" / "ctgov-api.md").read_text(encoding="utf-8")
    written = {int(n) for n in re.findall(r"^\*\*(\d+)\. ", doc, flags=re.MULTILINE)}
    cited: set[int] = set()
    for path in [*(ROOT / "trialfinder").rglob("*.py"), *(ROOT / "trialfinder").rglob("*.json")]:
        text = path.read_text(encoding="utf-8")
        cited |= {int(n) for n in re.findall(r"[Pp]itfall (\d+)", text)}
        assert "API-NOTES" not in text, f"{path} cites a file outside the repo"
    assert cited and cited <= written, sorted(cited - written)


def test_the_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    assert blocks
    with FakeCtGov(FileSource(ROOT / "fixtures").load_raw()) as server:
        monkeypatch.setenv("TRIALFINDER_API_URL", server.base_url)
        monkeypatch.setenv("TRIALFINDER_REQUESTS_PER_MINUTE", "1e6")
        scope: dict[str, object] = {}
        exec(compile(blocks[0], "README.md", "exec"), scope)
    result = scope["result"]
    assert set(result.studies["prior_car_t"]) <= {"required", "allowed"}  # type: ignore[attr-defined]
    assert len(result.studies) > 0  # type: ignore[attr-defined]
