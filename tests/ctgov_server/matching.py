"""Whether a study matches a parsed Essie expression."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .essie import _And, _Area, _Missing, _Node, _Not, _Or, _Range, _Search, _Term
from .fields import _collect, _Field, _leaf_strings
from .values import _enum_key, _geo_within, _scalar, _words

# A missing age is no limit (API-NOTES pitfall 7); the spec's example
# `AREA[MinimumAge]RANGE[MIN, 16 years] AND AREA[MaximumAge]RANGE[16 years, MAX]` ("a
# 16-year-old is eligible") only reads right when RANGE sees it that way.
_MISSING_AGE: Final[Mapping[str, list[str]]] = {
    "MinimumAge": ["0 Days"],
    "MaximumAge": ["1000000 Years"],
}


class _StudyView:
    """A study as Essie sees it; under SEARCH[...], one element of a list inside it."""

    def __init__(
        self,
        study: Mapping[str, Any],
        scope: tuple[str, ...] = (),
        element: Mapping[str, Any] | None = None,
        cache: dict[Any, list[Any]] | None = None,
    ) -> None:
        self.study = study
        self.scope = scope
        self.element = element
        self._texts: dict[tuple[str, ...] | None, str] = {}
        # (id(study), path) -> its values, kept across requests (`FakeCtGov.memo`)
        self._cache = cache

    def values(self, target: _Field) -> list[Any]:
        if self.element is not None and target.path[: len(self.scope)] == self.scope:
            return _collect(self.element, target.path[len(self.scope) :])
        if self._cache is None:
            return _collect(self.study, target.path)
        key = (id(self.study), target.path)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = _collect(self.study, target.path)
        return found

    def text(self, area: tuple[_Field, ...] | None) -> str:
        key = None if area is None else tuple(f.piece for f in area)
        if key not in self._texts:
            if area is None:
                root: Any = self.study if self.element is None else self.element
                strings = list(_leaf_strings(root))
            else:
                strings = [s for f in area for s in _leaf_strings(self.values(f))]
            # A NUL between values keeps a phrase from matching across two of them.
            self._texts[key] = " " + " \0 ".join(_words(s).strip() for s in strings) + " "
        return self._texts[key]

    def scoped(self, target: _Field, element: Mapping[str, Any]) -> _StudyView:
        return _StudyView(self.study, target.path, element)


def _matches(node: _Node, view: _StudyView, area: tuple[_Field, ...] | None) -> bool:
    if isinstance(node, _Term):
        if area is not None and len(area) == 1 and area[0].kind == "ENUM":
            wanted = _enum_key(node.raw)
            return any(_enum_key(str(v)) == wanted for v in view.values(area[0]))
        return node.words in view.text(area)
    if isinstance(node, _And):
        return all(_matches(item, view, area) for item in node.items)
    if isinstance(node, _Or):
        return any(_matches(item, view, area) for item in node.items)
    if isinstance(node, _Not):
        return not _matches(node.item, view, area)
    if isinstance(node, _Area):
        return _matches(node.item, view, (node.field,))
    if isinstance(node, _Search):
        return any(
            _matches(node.item, view.scoped(node.field, element), None)
            for element in view.values(node.field)
            if isinstance(element, dict)
        )
    assert area is not None and len(area) == 1, "RANGE, DISTANCE and MISSING follow AREA[...]"
    target = area[0]
    if isinstance(node, _Missing):
        return not view.values(target)
    if isinstance(node, _Range):
        raws = view.values(target) or _MISSING_AGE.get(target.piece, [])
        for raw in raws:
            value = _scalar(target.kind, raw)
            if value is None:
                continue
            above = node.low is None or value >= node.low
            if above and (node.high is None or value <= node.high):
                return True
        return False
    return any(_geo_within(point, node.lat, node.lon, node.km) for point in view.values(target))
