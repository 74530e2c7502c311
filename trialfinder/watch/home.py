"""Where saved searches and their snapshots live: the config and data folders (platformdirs).

`TRIALFINDER_HOME` (or `--home`) moves both under one folder, for tests and for several
profiles: `<home>/config/watches.toml` and `<home>/data/snapshots.sqlite3`. Without it the
user's own folders are used (`~/.config/trialfinder` and `~/.local/share/trialfinder` on Linux).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "TRIALFINDER_HOME"


@dataclass(frozen=True)
class Home:
    """The folders and files of one profile."""

    config_dir: Path
    data_dir: Path

    @property
    def watch_file(self) -> Path:
        """The TOML file of saved searches."""
        return self.config_dir / "watches.toml"

    @property
    def database(self) -> Path:
        """The SQLite store of snapshots."""
        return self.data_dir / "snapshots.sqlite3"

    def lock_file(self, watch: str) -> Path:
        """The lock that keeps one report run per watch at a time."""
        return self.data_dir / "locks" / f"{watch}.lock"

    @classmethod
    def find(cls, explicit: str | Path | None = None) -> Home:
        """--home, else $TRIALFINDER_HOME, else the platform's folders for trialfinder."""
        root = explicit or os.environ.get(HOME_ENV)
        if root:
            base = Path(root).expanduser()
            return cls(base / "config", base / "data")
        import platformdirs

        return cls(
            Path(platformdirs.user_config_dir("trialfinder", appauthor=False)),
            Path(platformdirs.user_data_dir("trialfinder", appauthor=False)),
        )
