"""After CAR-T: which kind of treatment a trial offers (its option group), from vocabulary rules.

The groups and their rules are data (`option_groups` in data/cart_vocabulary.json): a trial's
CAR product class (`CAR-T`, `allogeneic CAR-T`, `CAR-NK`, ...), its therapy classes (CD3
bispecific, ADC, checkpoint inhibitor, ...) or words in its title and interventions. A trial
belongs to the first group, in data order, whose rule it meets; `other` takes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from trialfinder.cart.vocab import vocabulary
from trialfinder.errors import InvalidOption

__all__ = ["OptionGroup", "check_option_groups", "option_group", "option_groups"]


@dataclass(frozen=True)
class OptionGroup:
    """One kind of treatment a person after CAR-T might try."""

    name: str  # the --therapy-class value, e.g. "bispecific"
    label: str  # plain words for people, e.g. "Bispecific antibodies"
    car_classes: frozenset[str]
    classes: frozenset[str]
    pattern: re.Pattern[str] | None


@lru_cache(maxsize=1)
def option_groups() -> tuple[OptionGroup, ...]:
    """The option groups, in the order they are tried and shown."""
    groups = []
    for g in vocabulary().data["option_groups"]:
        pattern = re.compile("|".join(g["patterns"]), re.IGNORECASE) if g["patterns"] else None
        groups.append(
            OptionGroup(
                g["name"], g["label"], frozenset(g["car_classes"]), frozenset(g["classes"]), pattern
            )
        )
    return tuple(groups)


def option_group(therapy_classes: Iterable[str], texts: Sequence[str]) -> str:
    """The name of the first group whose rule a trial meets: its therapy classes (CAR classes
    included) or, for word rules, its title and intervention names (`texts`)."""
    classes = set(therapy_classes)
    joined = " | ".join(texts)
    for group in option_groups():
        if classes & group.car_classes or classes & group.classes:
            return group.name
        if group.pattern is not None and group.pattern.search(joined):
            return group.name
    return option_groups()[-1].name


def check_option_groups(values: Iterable[str], option: str = "--therapy-class") -> tuple[str, ...]:
    """Validated group names (lower case); raises InvalidOption naming the valid ones."""
    names = tuple(g.name for g in option_groups())
    out: list[str] = []
    for value in values:
        name = value.strip().lower()
        if name not in names:
            raise InvalidOption(option, value, names)
        if name not in out:
            out.append(name)
    return tuple(out)
