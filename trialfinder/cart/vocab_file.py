"""The CAR-T vocabulary file (data/cart_vocabulary.json) as plain data, read once per process.

`trialfinder.cart.vocab` compiles it; the option-group names are read here straight from the
data, without compiling anything, because the `options` command's help names them at start-up.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from trialfinder.errors import TrialfinderError

__all__ = ["option_group_names", "vocabulary_data"]


@lru_cache(maxsize=1)
def vocabulary_data() -> dict[str, Any]:
    """The vocabulary file's JSON, as it is (callers must not change it)."""
    try:
        ref = resources.files("trialfinder").joinpath("data/cart_vocabulary.json")
        data = json.loads(ref.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # a packaging bug, not user input
        raise TrialfinderError(f"the CAR-T vocabulary could not be loaded: {exc}") from exc
    if not isinstance(data, dict):
        raise TrialfinderError("the CAR-T vocabulary could not be loaded: not a JSON object")
    return data


def option_group_names() -> tuple[str, ...]:
    """The option groups' names (the --therapy-class values), in data order."""
    try:
        return tuple(str(g["name"]) for g in vocabulary_data()["option_groups"])
    except (KeyError, TypeError) as exc:
        raise TrialfinderError(f"the CAR-T vocabulary could not be loaded: {exc}") from exc
