"""The study field tree (from the metadata file or the embedded copy), and `fields` pruning."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias

from .embedded import _EMBEDDED_FIELDS

# Read when a FakeCtGov is made: a test that patches it patches it here, in ctgov_server.fields.
DEFAULT_METADATA_PATH: Final = (
    Path(__file__).resolve().parents[3] / "shared" / "ctgov" / "spec" / "studies-metadata.json"
)


@dataclass(frozen=True)
class _Field:
    """One node of the study field tree."""

    path: tuple[str, ...]
    piece: str
    kind: str  # STRUCT, TEXT, MARKUP, ENUM, DATE, NUMERIC, TIME, BOOLEAN, GEO or FUNC
    is_list: bool

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _fields_from_metadata(
    tree: Sequence[Mapping[str, Any]], prefix: tuple[str, ...] = ()
) -> Iterator[_Field]:
    for node in tree:
        path = (*prefix, str(node["name"]))
        source = str(node.get("sourceType", ""))
        type_name = str(node.get("type", ""))
        if source.startswith("FUNC"):
            kind = {"GeoPoint": "GEO", "boolean": "BOOLEAN"}.get(type_name, "FUNC")
        elif node.get("isEnum"):
            kind = "ENUM"
        else:
            kind = source or "TEXT"
        yield _Field(path, str(node["piece"]), kind, type_name.endswith("[]"))
        yield from _fields_from_metadata(node.get("children", ()), path)


def _fields_from_table(table: str) -> Iterator[_Field]:
    stack: list[str] = []
    for line in table.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name, piece, kind = line.split()
        del stack[depth:]
        stack.append(name)
        yield _Field(tuple(stack), piece, kind.removesuffix("[]"), kind.endswith("[]"))


def _tree_from_fields(fields: Iterable[_Field]) -> list[dict[str, Any]]:
    """A minimal /studies/metadata answer built from the embedded table."""
    roots: list[dict[str, Any]] = []
    by_path: dict[tuple[str, ...], dict[str, Any]] = {}
    for f in fields:
        node: dict[str, Any] = {"name": f.path[-1], "piece": f.piece, "sourceType": f.kind}
        if f.is_list:
            node["isList"] = True
        by_path[f.path] = node
        parent = by_path.get(f.path[:-1])
        (parent.setdefault("children", []) if parent else roots).append(node)
    return roots


class _FieldIndex:
    """Piece names and dotted paths of the study field tree."""

    def __init__(self, fields: Iterable[_Field], tree: list[Any]) -> None:
        self.fields = list(fields)
        self.tree = tree
        self.by_piece = {f.piece: f for f in self.fields}
        self.by_path = {f.dotted: f for f in self.fields}

    @classmethod
    def load(cls, path: Path | None) -> tuple[_FieldIndex, Path | None]:
        """The tree from `path`, else from the default file, else the embedded table."""
        candidate = path if path is not None else DEFAULT_METADATA_PATH
        if path is not None or candidate.is_file():
            tree = json.loads(candidate.read_text(encoding="utf-8"))
            return cls(_fields_from_metadata(tree), tree), candidate
        fields = list(_fields_from_table(_EMBEDDED_FIELDS))
        return cls(fields, _tree_from_fields(fields)), None

    def resolve(self, name: str) -> _Field | None:
        """A piece name or a dotted JSON path."""
        return self.by_piece.get(name) or self.by_path.get(name)

    def piece(self, name: str) -> _Field:
        found = self.by_piece.get(name)
        if found is None:
            raise KeyError(f"piece {name!r} is not in the field tree")
        return found


def _collect(value: Any, path: Sequence[str]) -> list[Any]:
    """The values at `path` under `value`, walking through lists; a final list is flattened."""
    if isinstance(value, list):
        return [v for item in value for v in _collect(item, path)]
    if not path:
        return [value]
    if isinstance(value, dict) and path[0] in value:
        return _collect(value[path[0]], path[1:])
    return []


def _leaf_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaf_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaf_strings(v)
    elif value is not None:
        yield str(value)


# --------------------------------------------------------------------------------------------
# Field selection (`fields`)

_Selection: TypeAlias = "dict[str, _Selection | None]"  # None: keep the whole subtree


def _select_paths(paths: Iterable[tuple[str, ...]]) -> _Selection:
    root: _Selection = {}
    for path in paths:
        node: _Selection | None = root
        for i, name in enumerate(path):
            assert node is not None
            if i == len(path) - 1:
                node[name] = None
            elif name in node and node[name] is None:
                break  # an ancestor is already selected whole
            else:
                node = node.setdefault(name, {})
    return root


def _prune(value: Any, selection: _Selection) -> Any:
    """`value` reduced to `selection`; None when nothing is left."""
    if isinstance(value, list):
        items = [_prune(item, selection) for item in value]
        kept = [item for item in items if item is not None]
        return kept or None
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    for key, sub in selection.items():
        if key not in value:
            continue
        pruned = value[key] if sub is None else _prune(value[key], sub)
        if pruned is not None:
            out[key] = pruned
    return out or None


def _prune_study(study: Mapping[str, Any], selection: _Selection | None) -> Any:
    if selection is None:
        return study
    return _prune(study, selection) or {}
