"""`python -m trialfinder`: the same as the `trialfinder` command."""

from trialfinder.cli.app import entry

if __name__ == "__main__":
    entry()
