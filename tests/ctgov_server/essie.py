"""The Essie subset's syntax: tokenizer, recursive-descent parser and the tree it builds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from .fields import _Field, _FieldIndex
from .values import _scalar, _to_km, _words


class _EssieSyntaxError(ValueError):
    """An expression the real API would reject."""


class _Unsupported(Exception):
    """Valid Essie, perhaps, but outside the subset this fake implements."""


@dataclass(frozen=True)
class _Term:
    raw: str
    words: str  # normalized: " w1 w2 "


@dataclass(frozen=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not:
    item: _Node


@dataclass(frozen=True)
class _Area:
    field: _Field
    item: _Node


@dataclass(frozen=True)
class _Search:
    field: _Field
    item: _Node


@dataclass(frozen=True)
class _Range:
    low: Any  # None for MIN
    high: Any  # None for MAX


@dataclass(frozen=True)
class _Distance:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True)
class _Missing:
    pass


_Node: TypeAlias = "_Term | _And | _Or | _Not | _Area | _Search | _Range | _Distance | _Missing"


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", AND, OR, NOT, OP (value=name, arg), TERM
    value: str = ""
    arg: str = ""


_OPERATOR_RE: Final = re.compile(r"([A-Z]+)\[")
_AREA_OPERANDS: Final = ("RANGE", "DISTANCE", "MISSING")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char))
            i += 1
        elif char == '"':
            out: list[str] = []
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise _EssieSyntaxError("unterminated quoted phrase")
            tokens.append(_Token("TERM", "".join(out)))
            i += 1
        elif match := _OPERATOR_RE.match(text, i):
            end = text.find("]", match.end())
            if end < 0:
                raise _EssieSyntaxError(f"missing ] after {match.group(1)}[")
            tokens.append(_Token("OP", match.group(1), text[match.end() : end]))
            i = end + 1
        else:
            out = []
            while i < n and not text[i].isspace() and text[i] not in '()"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            word = "".join(out)
            if word in ("AND", "OR", "NOT"):
                tokens.append(_Token(word))
            elif word == "MISSING":
                tokens.append(_Token("OP", "MISSING"))
            else:
                tokens.append(_Token("TERM", word))
    return tokens


class _EssieParser:
    """Recursive descent over Essie: OR < AND (explicit or implied) < NOT, AREA, SEARCH."""

    def __init__(self, text: str, index: _FieldIndex) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.index = index

    def parse(self) -> _Node:
        if not self.tokens:
            raise _EssieSyntaxError("empty expression")
        node = self._or()
        if self.pos < len(self.tokens):
            raise _EssieSyntaxError(f"unexpected {self.tokens[self.pos].kind}")
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _EssieSyntaxError("unexpected end of expression")
        self.pos += 1
        return token

    def _or(self) -> _Node:
        items = [self._and()]
        while (token := self._peek()) is not None and token.kind == "OR":
            self.pos += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else _Or(tuple(items))

    def _and(self) -> _Node:
        items = [self._unary()]
        while (token := self._peek()) is not None:
            if token.kind == "AND":
                self.pos += 1
            elif token.kind not in ("TERM", "(", "NOT", "OP"):
                break
            items.append(self._unary())
        return items[0] if len(items) == 1 else _And(tuple(items))

    def _unary(self) -> _Node:
        token = self._next()
        if token.kind == "NOT":
            return _Not(self._unary())
        if token.kind == "(":
            node = self._or()
            if self._next().kind != ")":
                raise _EssieSyntaxError("missing )")
            return node
        if token.kind == "TERM":
            return self._term(token.value)
        if token.kind == "OP" and token.value == "AREA":
            return self._area(token.arg.strip())
        if token.kind == "OP" and token.value == "SEARCH":
            target = self.index.resolve(token.arg.strip())
            if target is None or target.kind != "STRUCT" or not target.is_list:
                raise _Unsupported(f"SEARCH[{token.arg}] (only lists of objects, e.g. Location)")
            return _Search(target, self._unary())
        if token.kind == "OP":
            raise _Unsupported(f"the {token.value}[...] operator")
        raise _EssieSyntaxError(f"unexpected {token.kind}")

    def _term(self, raw: str) -> _Term:
        if any(c in raw for c in "*?"):
            raise _Unsupported(f"wildcards ({raw!r})")
        words = _words(raw)
        if not words.strip():
            raise _Unsupported(f"a term without letters or digits ({raw!r})")
        return _Term(raw, words)

    def _area(self, name: str) -> _Node:
        target = self.index.resolve(name)
        if target is None:
            raise _Unsupported(f"AREA[{name}] (search areas and unknown pieces)")
        token = self._peek()
        if token is not None and token.kind == "OP" and token.value in _AREA_OPERANDS:
            self.pos += 1
            if token.value == "MISSING":
                return _Area(target, _Missing())
            if token.value == "RANGE":
                return _Area(target, self._range(target, token.arg))
            return _Area(target, self._distance(target, token.arg))
        return _Area(target, self._unary())

    def _range(self, target: _Field, arg: str) -> _Range:
        if target.kind not in ("DATE", "NUMERIC", "TIME"):
            raise _Unsupported(f"RANGE on {target.piece} ({target.kind})")
        parts = [p.strip() for p in arg.split(",")]
        if len(parts) != 2:
            raise _EssieSyntaxError(f"RANGE[{arg}] needs two bounds")
        bounds: list[str | float | None] = []
        for part, open_end in zip(parts, ("MIN", "MAX"), strict=True):
            if part.upper() == open_end:
                bounds.append(None)
                continue
            value = _scalar(target.kind, part)
            if value is None:
                raise _Unsupported(f"RANGE bound {part!r} for {target.piece}")
            bounds.append(value)
        return _Range(bounds[0], bounds[1])

    def _distance(self, target: _Field, arg: str) -> _Distance:
        if target.kind != "GEO":
            raise _Unsupported(f"DISTANCE on {target.piece}")
        match = re.match(
            r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*(mi|km)?\s*$",
            arg,
        )
        if not match:
            raise _EssieSyntaxError(f"DISTANCE[{arg}] is not lat,lon,distance")
        lat, lon, amount, unit = match.groups()
        return _Distance(float(lat), float(lon), _to_km(amount, unit))
