"""What an unexpected raw JSON value is, in a few words, for an error about an API answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialfinder.records import nct_id_of
from trialfinder.text import clean_line

__all__ = ["describe_raw"]


def describe_raw(value: Any) -> str:
    """What a JSON value is, in a few words, for an error about an unexpected API answer.

    `{"hello": "world"}` -> "an object with hello (text)"; `{"studies": null}` -> "an object
    with studies (null)"; a study -> "study NCT01234567"; `[1, 2]` -> "a list of 2 item(s)".
    """
    kinds = {str: "text", bool: "true/false", int: "number", float: "number", list: "list"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        nct = nct_id_of(value)
        if nct:
            return f"study {clean_line(nct)[:20]}"
        if not value:
            return "an empty object"
        parts = [
            f"{clean_line(str(key))[:30]} "
            f"({'null' if item is None else kinds.get(type(item), 'object')})"
            for key, item in list(value.items())[:5]
        ]
        more = f" and {len(value) - 5} more" if len(value) > 5 else ""
        return "an object with " + ", ".join(parts) + more
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, str):
        text = clean_line(value)
        return f"the text {text[:40] + ('…' if len(text) > 40 else '')!r}"
    return f"the {kinds.get(type(value), type(value).__name__)} {value!r}"
