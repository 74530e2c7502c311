"""After CAR-T: which kind of treatment a trial offers (its option group), from vocabulary rules.

The groups and their rules are data (`option_groups` in data/cart_vocabulary.json): a trial's
CAR product class (`CAR-T`, `allogeneic CAR-T`, `CAR-NK`, ...), its therapy classes (CD3
bispecific, ADC, checkpoint inhibitor, ...) or words in its title and interventions. A trial
belongs to the first group, in data order, whose rule it meets; `other` takes the rest.
`study_groups` applies the rule to a frame of studies (the `options` view and `search
--therapy-class` share it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from trialfinder.cart.vocab import vocabulary
from trialfinder.errors import InvalidOption

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OptionGroup",
    "car_groups_only",
    "check_option_groups",
    "group_reason",
    "option_group",
    "option_groups",
    "study_groups",
]


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


def study_groups(studies: pd.DataFrame) -> list[str]:
    """Each study's group, from its `therapy_classes`, `title` and `interventions` columns."""
    return [
        option_group(list(classes or []), [str(title), *(str(i) for i in (interventions or []))])
        for classes, title, interventions in zip(
            studies["therapy_classes"], studies["title"], studies["interventions"], strict=True
        )
    ]


def group_reason(row: pd.Series[Any], wanted: Sequence[str]) -> str:
    """Why --therapy-class left a study out: its group (the `therapy_group` column), the
    classes behind it, and the groups asked for."""
    classes = ", ".join(row["therapy_classes"])
    said = f" ({classes})" if classes else ""
    return f"therapy class {row['therapy_group']}{said}, not {' or '.join(wanted)}"


def car_groups_only(names: Iterable[str]) -> bool:
    """Whether every named group holds CAR products only (met by a CAR class and nothing else),
    so a trial in one of them is a CAR trial: the server query may then ask for CAR terms."""
    by_name = {g.name: g for g in option_groups()}
    wanted = [by_name[n] for n in names]
    return bool(wanted) and all(
        g.car_classes and not g.classes and g.pattern is None for g in wanted
    )
