"""Request validation: parameters checked as the real API checks them, folded into a `_Plan`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .essie import _EssieParser, _EssieSyntaxError, _Node, _Unsupported
from .fields import _Field, _FieldIndex, _select_paths, _Selection
from .messages import RecordedRequest, _bad, _HttpError
from .spec import (
    _FIELD_RE,
    _GEO_DECAY_RE,
    _GEO_RE,
    _ID_LIST_RE,
    _IDS_SPLIT_RE,
    _LIST_SPLIT_RE,
    _QUERY_AREAS,
    _SORT_RE,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    STATUSES,
    STUDIES_PARAMS,
)
from .studies import normalize_nct_id
from .tokens import _read_token, _signature
from .values import _to_km


@dataclass
class _Plan:
    """A validated /studies request."""

    page_size: int
    count_total: bool
    offset: int
    page_index: int
    signature: bytes
    selection: _Selection | None
    sort: list[tuple[_Field | None, bool]]
    queries: list[tuple[tuple[_Field, ...] | None, _Node]]
    query_ids: list[frozenset[str]]
    statuses: list[frozenset[str]]
    ids: list[frozenset[str]]
    advanced: list[_Node]
    geo: list[tuple[float, float, float]]


def _plan(
    index: _FieldIndex, secret: bytes, params: dict[str, str], record: RecordedRequest
) -> _Plan:
    _check_known(params, STUDIES_PARAMS)
    fmt = params.get("format", "json")
    if fmt not in ("csv", "json"):
        raise _bad(f"`format` must be one of csv, json: {fmt!r}")
    if fmt == "csv":
        raise _HttpError(501, "format csv is not implemented by FakeCtGov")
    _check_markup(params, record)
    page_size = _parse_page_size(params.get("pageSize"))
    count_total = _parse_bool("countTotal", params.get("countTotal"))
    selection = _parse_fields(index, params)
    sort = _parse_sort(index, params.get("sort"))
    signature = _signature(params)
    offset, page_index = 0, 0
    if "pageToken" in params:
        offset, page_index = _read_token(secret, params["pageToken"], signature)

    plan = _Plan(
        page_size=page_size,
        count_total=count_total,
        offset=offset,
        page_index=page_index,
        signature=signature,
        selection=selection,
        sort=sort,
        queries=[],
        query_ids=[],
        statuses=[],
        ids=[],
        advanced=[],
        geo=[],
    )
    for name, area_pieces in _QUERY_AREAS.items():
        value = params.get(name, "").strip()
        if not value:
            continue
        if _ID_LIST_RE.match(value):
            ids = {normalize_nct_id(i) for i in _IDS_SPLIT_RE.split(value) if i}
            plan.query_ids.append(frozenset(i for i in ids if i is not None))
            continue
        area = None if area_pieces is None else tuple(map(index.piece, area_pieces))
        node = _parse_essie(index, name, value, record)
        if node is not None:
            plan.queries.append((area, node))
    for prefix in ("filter", "postFilter"):
        _plan_filters(index, prefix, params, plan, record)
    if "aggFilters" in params:
        record.unapplied["aggFilters"] = "aggregation filters are not implemented"
    if "geoDecay" in params:
        if not _GEO_DECAY_RE.match(params["geoDecay"]):
            raise _bad(f"`geoDecay` does not match {_GEO_DECAY_RE.pattern}")
        record.unapplied["geoDecay"] = "ranking only"
    return plan


def _plan_filters(
    index: _FieldIndex, prefix: str, params: dict[str, str], plan: _Plan, record: RecordedRequest
) -> None:
    name = f"{prefix}.overallStatus"
    if params.get(name, "").strip():
        statuses = {s.strip() for s in _LIST_SPLIT_RE.split(params[name]) if s.strip()}
        unknown = sorted(statuses - STATUSES)
        if unknown:
            raise _bad(
                f"`{name}` has unknown status `{unknown[0]}`; "
                f"allowed: {', '.join(sorted(STATUSES))}"
            )
        plan.statuses.append(frozenset(statuses))
    name = f"{prefix}.ids"
    if params.get(name, "").strip():
        ids: set[str] = set()
        for item in _IDS_SPLIT_RE.split(params[name].strip()):
            nct = normalize_nct_id(item)
            if nct is None:
                raise _bad(f"`{name}` has an invalid NCT number `{item}`")
            ids.add(nct)
        plan.ids.append(frozenset(ids))
    name = f"{prefix}.geo"
    if name in params:
        match = _GEO_RE.match(params[name])
        if not match:
            raise _bad(
                f"`{name}` must be distance(latitude,longitude,distance), "
                f"e.g. distance(39.0035707,-77.1013313,50mi): {params[name]!r}"
            )
        lat, lon, amount, unit = match.groups()
        plan.geo.append((float(lat), float(lon), _to_km(amount, unit)))
    name = f"{prefix}.advanced"
    if params.get(name, "").strip():
        node = _parse_essie(index, name, params[name], record)
        if node is not None:
            plan.advanced.append(node)
    name = f"{prefix}.synonyms"
    if name in params:
        record.unapplied[name] = "synonym filters are not implemented"


def _parse_essie(
    index: _FieldIndex, name: str, value: str, record: RecordedRequest
) -> _Node | None:
    try:
        return _EssieParser(value, index).parse()
    except _EssieSyntaxError as error:
        raise _bad(f"`{name}` is not a valid Essie expression: {error}") from None
    except _Unsupported as error:
        record.unapplied[name] = f"not implemented by FakeCtGov: {error}"
        return None


def _check_markup(params: dict[str, str], record: RecordedRequest) -> None:
    markup = params.get("markupFormat", "markdown")
    if markup not in ("markdown", "legacy"):
        raise _bad(f"`markupFormat` must be one of markdown, legacy: {markup!r}")
    if markup == "legacy":
        record.unapplied["markupFormat"] = "texts stay as stored (markdown)"


def _parse_fields(index: _FieldIndex, params: dict[str, str]) -> _Selection | None:
    if "fields" not in params:
        return None
    items = [i.strip() for i in _LIST_SPLIT_RE.split(params["fields"]) if i.strip()]
    if not items:
        raise _bad("`fields` must be a non-empty list of fields")
    paths: list[tuple[str, ...]] = []
    for item in items:
        if item == "@query":
            return None
        target = index.resolve(item) if _FIELD_RE.match(item) else None
        if target is None:
            raise _bad(f"`fields` has unknown field `{item}`")
        paths.append(target.path)
    return _select_paths(paths)


def _parse_sort(index: _FieldIndex, value: str | None) -> list[tuple[_Field | None, bool]]:
    if value is None:
        return []
    items = [i.strip() for i in _LIST_SPLIT_RE.split(value) if i.strip()]
    if not items or len(items) > 2:
        raise _bad("`sort` takes one or two fields")
    keys: list[tuple[_Field | None, bool]] = []
    for item in items:
        match = _SORT_RE.match(item)
        if not match:
            raise _bad(f"`sort` item `{item}` is not field[:asc|desc]")
        name, direction = match.groups()
        if name == "@relevance":
            keys.append((None, direction != "asc"))
            continue
        target = index.resolve(name)
        if target is None:
            raise _bad(f"`sort` has unknown field `{name}`")
        if target.kind not in ("DATE", "NUMERIC"):
            raise _bad(f"`sort` field `{name}` is not a date or numeric field")
        default_desc = target.kind == "DATE"
        keys.append((target, default_desc if direction is None else direction == "desc"))
    return keys


def _unique_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise _bad(f"`{name}` is given more than once")
        seen[name] = value
    return seen


def _check_known(params: Mapping[str, str], known: frozenset[str]) -> None:
    for name in params:
        if name not in known:
            raise _bad(f"`{name}` is unknown parameter")


def _parse_page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"-?\d+", value.strip()):
        raise _bad(f"`pageSize` must be an integer: {value!r}")
    size = int(value)
    if size < 0:
        raise _bad(f"`pageSize` must not be negative: {value!r}")
    return min(size, MAX_PAGE_SIZE) if size else DEFAULT_PAGE_SIZE


def _parse_bool(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise _bad(f"`{name}` must be true or false: {value!r}")
    return value.lower() == "true"
