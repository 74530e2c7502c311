"""The command-line interface: the typer app, shared options, thin commands, the error boundary."""

from trialfinder.cli import commands  # noqa: F401  (registers the commands on the app)
from trialfinder.cli.app import app, main

__all__ = ["app", "main"]
