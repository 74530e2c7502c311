"""The command-line interface: the typer app, shared options, thin commands, the error boundary."""

from trialfinder.cli import after, commands, watch  # noqa: F401  (they register their commands)
from trialfinder.cli.app import app, entry, main

__all__ = ["app", "entry", "main"]
