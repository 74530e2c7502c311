"""Studies already in memory or saved on disk: `fetch` returns them all (the pipeline filters
them unless they already match), `get` finds one.

Saved files are read, parsed and classified on every core (`ctgov.cores`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from trialfinder.ctgov.cores import map_files
from trialfinder.ctgov.hooks import (
    NO_HOOKS,
    Closing,
    Fetched,
    Hooks,
    classify_into,
    dedupe,
    unzipped,
    worked,
)
from trialfinder.ctgov.query import Query, check_nct_id
from trialfinder.ctgov.saved import list_files, parsed_items, read_json, read_studies
from trialfinder.errors import SourceError, StudyNotFound
from trialfinder.records import READ_ALL, Reading, Study


class LocalSource(Closing):
    """Studies already in memory or on disk: `fetch` returns them all, `get` finds one."""

    pace = 0.0
    description = ""
    server_filtered = False  # whether the studies already match the query
    notes: list[str]

    def load(self, reading: Reading = READ_ALL) -> list[Study]:
        """Every study the source holds, with at least the pieces `reading` names (a source
        may leave out the others: `records.Reading`)."""
        raise NotImplementedError

    def where(self) -> str:
        """What a missing study is missing from."""
        raise NotImplementedError

    def fetch(
        self,
        query: Query,
        fields: Sequence[str] = (),
        *,
        limit: int | None = None,
        hooks: Hooks = NO_HOOKS,
        sites: bool = True,
    ) -> Fetched:
        """All the studies; unless `server_filtered`, the pipeline applies the query locally."""
        studies, classified = self.load_classified(self.reading_for(query, sites), hooks)
        if hooks.progress:
            hooks.progress(len(studies), len(studies))
        total = len(studies) if self.server_filtered else None
        notes = list(self.notes)
        return Fetched(
            list(studies), self.description, self.server_filtered, total, False, notes, classified
        )

    def reading_for(self, query: Query, sites: bool) -> Reading:
        """What of each record a search with `query` reads (`sites`: whether it shows them),
        when the query is applied to the records here (filters.area_text): every string only
        for a --term, the sites for a location, the MeSH terms for a condition or
        intervention."""
        areas = set() if self.server_filtered else {area for area, _ in query.text_queries()}
        return Reading(
            text="term" in areas,
            sites=sites or "locn" in areas,
            mesh=bool(areas & {"cond", "intr"}),
        )

    def load_classified(
        self, reading: Reading, hooks: Hooks = NO_HOOKS
    ) -> tuple[list[Study], dict[str, Any]]:
        """`load(reading)` and `hooks.classify` of each study, by NCT id; then `hooks.studies`
        of them (records already in memory keep their long texts: letting them go frees
        nothing; `hooks.idle` is for sources that wait)."""
        studies = self.load(reading)
        classified: dict[str, Any] = {}
        classify_into(classified, hooks.classify, studies)
        if hooks.studies is not None:
            hooks.studies(studies)
        return studies, classified

    def get(self, nct_id: str, fields: Sequence[str] = (), *, hooks: Hooks = NO_HOOKS) -> Study:
        """One study by NCT id (raises StudyNotFound)."""
        nct_id = check_nct_id(nct_id)
        for study in self.load():
            if study.nct_id == nct_id:
                return study
        raise StudyNotFound(f"no study {nct_id} in {self.where()}")


class RecordsSource(LocalSource):
    """Records already fetched, served to the search pipeline as a server-filtered result."""

    server_filtered = True

    def __init__(self, studies: Sequence[Study], description: str) -> None:
        self.studies = list(studies)
        self.description = description
        self.notes = []

    def load(self, reading: Reading = READ_ALL) -> list[Study]:
        """The records, as they were made."""
        return self.studies

    def where(self) -> str:
        """The records' description."""
        return self.description


def _read_file(
    path: Path,
    *,
    reading: Reading,
    classify: Callable[[Study], Any] | None,
    long_texts: bool = True,
) -> tuple[list[Study], list[Any]]:
    """One saved file's studies and `classify` of each (in a worker process, or here), each
    study classified as it is made."""
    work = partial(worked, classify=classify, long_texts=long_texts)
    return unzipped(read_studies(path, work, reading), classify)


class FileSource(LocalSource):
    """Saved API output: a JSON file, or a directory of them; nothing is filtered on read."""

    def __init__(self, path: str | Path) -> None:
        if not str(path).strip():
            raise SourceError("--source needs a path to a JSON file or a directory of them")
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"--source {self.path}: no such file or directory")
        self._skipped = ""
        self.files = self._files()
        self._studies: list[Study] | None = None
        self._reading = Reading()  # what of each record the loaded records hold
        self._long_texts = True  # whether they carry their long texts (Study.need_long_texts)
        self.notes: list[str] = [self._skipped] if self._skipped else []
        noun = "file" if len(self.files) == 1 else "files"
        self.description = f"saved data in {self.path} ({len(self.files)} {noun}), not the live API"

    def _files(self) -> list[Path]:
        files, self._skipped = list_files(self.path)
        return files

    def _read(self, *, keep_raw: bool, text: bool = True) -> list[tuple[dict[str, Any], Study]]:
        """Every (raw, Study) pair in the files, each NCT id once (first one wins), read here;
        without `keep_raw` the raw half is an empty dict, and each file's JSON is freed once
        read."""
        pairs: list[tuple[dict[str, Any], Study]] = []
        notes: list[str] = []
        for path in self.files:
            parsed = parsed_items(read_json(path), str(path), Reading(text=text))
            pairs.extend((raw if keep_raw else {}, study) for raw, study in parsed)
            del parsed
        kept = {id(s) for s in dedupe((s for _, s in pairs), notes, str(self.path))}
        if self._studies is None:
            self.notes += notes
        return [(raw, s) for raw, s in pairs if id(s) in kept]

    def load(self, reading: Reading = READ_ALL) -> list[Study]:
        """Every study in the files, each NCT id once (first one wins), in file order; the raw
        JSON behind them (several times their size) is dropped once they exist."""
        if not self._loaded(reading, True):
            self.load_classified(reading)
        assert self._studies is not None
        return self._studies

    def _loaded(self, reading: Reading, long_texts: bool) -> bool:
        """Whether the records already read have what is asked for."""
        return (
            self._studies is not None
            and self._reading.covers(reading)
            and (self._long_texts or not long_texts)
        )

    def load_classified(
        self, reading: Reading, hooks: Hooks = NO_HOOKS
    ) -> tuple[list[Study], dict[str, Any]]:
        """The studies (as `load`) and `hooks.classify` of each: the files are read, parsed
        and classified on every core (`ctgov/cores.py`), unless already read with what is
        asked; without `hooks.long_texts`, each record lets them go once classified.
        `hooks.studies` has each file's studies as they come (repeats of an NCT id too: the
        first one wins), and `hooks.idle` is called once the workers have files to read."""
        classify, long_texts = hooks.classify, hooks.long_texts
        if self._loaded(reading, long_texts or classify is not None):
            return super().load_classified(reading, hooks)
        studies: list[Study] = []
        classified: dict[str, Any] = {}
        job = partial(_read_file, reading=reading, classify=classify, long_texts=long_texts)
        for batch, results in map_files(job, self.files, waiting=hooks.idle):
            if hooks.studies is not None:
                hooks.studies(batch)
            studies += batch
            for study, result in zip(batch, results, strict=False):
                classified.setdefault(study.nct_id, result)
        notes: list[str] = []
        studies = dedupe(studies, notes, str(self.path))
        if self._studies is None:
            self.notes += notes
        self._studies, self._reading, self._long_texts = studies, reading, long_texts
        return studies, classified

    def load_raw(self) -> list[dict[str, Any]]:
        """The raw study objects behind `load()`, read again (the raw objects are not kept)."""
        pairs = self._read(keep_raw=True)
        if self._studies is None:
            self._studies, self._reading = [study for _, study in pairs], Reading(text=True)
            self._long_texts = True
        return [raw for raw, _ in pairs]

    def where(self) -> str:
        """What a missing study is missing from."""
        return str(self.path)
