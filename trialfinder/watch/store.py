"""The snapshot store: SQLite in WAL mode, every write in `BEGIN IMMEDIATE`, versioned schema.

A run is written in two steps so that nothing is ever lost: `save_run` stores the snapshot and
its changes as *pending*; only after the report has been written does `commit_run` make it
the watch's baseline. A run killed in between leaves a pending run that nothing reads, and the
next run compares against the old baseline again (changes may be reported twice, never lost).
Each distinct record is stored once, under its content hash.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialfinder.errors import TrialfinderError, UsageError
from trialfinder.watch.snapshot import Member, Snapshot, record_from_json, record_hash, record_json

SCHEMA_VERSION = 1
# (nct_id, kind, field, old, new, site, distance_mi, material): one row of a run's changes
ChangeTuple = tuple[str, str, str, str, str, str, "float | None", bool]
BUSY_TIMEOUT_MS = 10_000
# Migrations: index i takes a database from user_version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE records (hash TEXT PRIMARY KEY, nct_id TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        watch TEXT NOT NULL,
        definition TEXT NOT NULL,
        data_timestamp TEXT,
        classifier TEXT NOT NULL,
        started TEXT NOT NULL,
        full INTEGER NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        result_count INTEGER NOT NULL,
        committed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_watch ON runs (watch, committed, id);
    CREATE TABLE members (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        nct_id TEXT NOT NULL,
        record TEXT NOT NULL REFERENCES records (hash),
        in_result INTEGER NOT NULL,
        stance TEXT NOT NULL,
        why_not TEXT NOT NULL,
        PRIMARY KEY (run_id, nct_id)
    );
    CREATE TABLE changes (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        nct_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        field TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        site TEXT NOT NULL,
        distance_mi REAL,
        material INTEGER NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    CREATE INDEX changes_by_trial ON changes (nct_id);
    CREATE TABLE baselines (watch TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id));
    """,
)


@dataclass(frozen=True)
class RunInfo:
    """A committed run of a watch."""

    id: int
    watch: str
    definition: str
    data_timestamp: str | None
    classifier: str
    started: str
    full: bool
    requests: int
    result_count: int


@dataclass(frozen=True)
class ChangeRow:
    """One recorded change, for `history` and the CSV report."""

    run_id: int
    watch: str
    started: str
    data_timestamp: str | None
    nct_id: str
    kind: str
    field: str
    old: str
    new: str
    site: str
    distance_mi: float | None
    material: bool


def _run_info(r: tuple[Any, ...]) -> RunInfo:
    return RunInfo(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8])


class Store:
    """One SQLite database of snapshots; open it with `Store.open(path)` and close it after."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (and create or migrate) the store; a newer schema is refused, never rewritten."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise TrialfinderError(f"cannot open the snapshot store {path}: {exc}") from None
        store = cls(db, path)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            store._migrate()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise TrialfinderError(f"{path} is not a usable snapshot store: {exc}") from None
        except BaseException:
            db.close()
            raise
        return store

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise UsageError(
                    f"{self.path} was written by a newer trialfinder (schema {version}; this one "
                    f"knows {SCHEMA_VERSION}); upgrade trialfinder, or use another --home"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")

    # -- runs ----------------------------------------------------------------------------------

    def baseline(self, watch: str) -> RunInfo | None:
        """The watch's baseline: its last committed run, or None before the first."""
        row = self.db.execute(
            "SELECT r.id, r.watch, r.definition, r.data_timestamp, r.classifier, r.started, "
            "r.full, r.requests, r.result_count FROM baselines b JOIN runs r ON r.id = b.run_id "
            "WHERE b.watch = ?",
            (watch,),
        ).fetchone()
        return _run_info(row) if row else None

    def last_full(self, watch: str, definition: str) -> str | None:
        """When the last committed full refresh of this definition started."""
        row = self.db.execute(
            "SELECT max(started) FROM runs WHERE watch = ? AND definition = ? AND committed = 1 "
            "AND full = 1",
            (watch, definition),
        ).fetchone()
        return str(row[0]) if row and row[0] else None

    def snapshot(self, run: RunInfo) -> Snapshot:
        """The members of a run, as records."""
        rows = self.db.execute(
            "SELECT m.nct_id, r.body, m.in_result, m.stance, m.why_not FROM members m "
            "JOIN records r ON r.hash = m.record WHERE m.run_id = ? ORDER BY m.nct_id",
            (run.id,),
        )
        members = {
            nct: Member(record_from_json(body), bool(kept), stance, why)
            for nct, body, kept, stance, why in rows
        }
        return Snapshot(members, run.data_timestamp, run.classifier)

    def save_run(
        self,
        watch: str,
        definition: str,
        snapshot: Snapshot,
        changes: Iterable[ChangeTuple],
        *,
        full: bool,
        requests: int,
    ) -> int:
        """Store a run as pending: its records, members and changes. Returns the run id."""
        started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (watch, definition, data_timestamp, classifier, started, full, "
                "requests, result_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    watch,
                    definition,
                    snapshot.data_timestamp,
                    snapshot.classifier,
                    started,
                    int(full),
                    requests,
                    len(snapshot.result),
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            for nct, member in snapshot.members.items():
                body = record_json(member.study)
                digest = record_hash(body)
                db.execute(
                    "INSERT OR IGNORE INTO records (hash, nct_id, body) VALUES (?, ?, ?)",
                    (digest, nct, body),
                )
                db.execute(
                    "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?)",
                    (run_id, nct, digest, int(member.in_result), member.stance, member.why_not),
                )
            db.executemany(
                "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, i, *c[:7], int(c[7])) for i, c in enumerate(changes)],
            )
        return run_id

    def commit_run(self, watch: str, run_id: int) -> None:
        """Make a pending run the watch's baseline (after its report was written)."""
        with self._write() as db:
            db.execute("UPDATE runs SET committed = 1 WHERE id = ?", (run_id,))
            db.execute(
                "INSERT INTO baselines (watch, run_id) VALUES (?, ?) "
                "ON CONFLICT (watch) DO UPDATE SET run_id = excluded.run_id",
                (watch, run_id),
            )
            # Pending runs of this watch that never committed (killed runs) are garbage now.
            db.execute("DELETE FROM runs WHERE watch = ? AND committed = 0", (watch,))

    def history(self, nct_id: str) -> list[ChangeRow]:
        """Every change recorded for one trial, in committed runs of every watch, oldest first."""
        rows = self.db.execute(
            "SELECT c.run_id, r.watch, r.started, r.data_timestamp, c.nct_id, c.kind, c.field, "
            "c.old, c.new, c.site, c.distance_mi, c.material FROM changes c "
            "JOIN runs r ON r.id = c.run_id "
            "WHERE c.nct_id = ? AND r.committed = 1 ORDER BY c.run_id, c.position",
            (nct_id,),
        )
        return [
            ChangeRow(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], bool(r[11])
            )
            for r in rows
        ]

    def runs(self, watch: str) -> list[RunInfo]:
        """The committed runs of a watch, oldest first."""
        rows = self.db.execute(
            "SELECT id, watch, definition, data_timestamp, classifier, started, full, requests, "
            "result_count FROM runs WHERE watch = ? AND committed = 1 ORDER BY id",
            (watch,),
        )
        return [_run_info(row) for row in rows]

    def forget(self, watch: str) -> None:
        """Delete every run of a watch (`watch remove --purge`); shared records stay if used."""
        with self._write() as db:
            db.execute("DELETE FROM baselines WHERE watch = ?", (watch,))
            db.execute("DELETE FROM runs WHERE watch = ?", (watch,))
            self._drop_unused_records(db)

    def prune(self, keep: int) -> int:
        """Keep the last `keep` committed runs of each watch (their changes stay for history).

        Members of older runs are dropped, and records no run uses any more; the runs themselves
        and their changes are kept, so `history` is never broken. Returns the members dropped.
        """
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM members WHERE run_id IN (SELECT id FROM runs r WHERE committed = 1 "
                "AND id NOT IN (SELECT id FROM runs WHERE watch = r.watch AND committed = 1 "
                "ORDER BY id DESC LIMIT ?) AND id NOT IN (SELECT run_id FROM baselines))",
                (keep,),
            )
            dropped = cursor.rowcount
            self._drop_unused_records(db)
        return dropped

    @staticmethod
    def _drop_unused_records(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM records WHERE hash NOT IN (SELECT record FROM members)")
