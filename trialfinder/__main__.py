"""`python -m trialfinder`: the same as the `trialfinder` command."""

from .cli import main

if __name__ == "__main__":
    main()
