"""`python -m trialfinder`: the same as the `trialfinder` command."""

from trialfinder.cli.app import main

if __name__ == "__main__":
    main()
