"""Making untrusted text from the API safe to show: no control characters, no terminal escapes,
no markdown backslash escapes; and the strings an API value holds."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# ANSI/VT escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), and other
# two-character ESC sequences; also the 8-bit C1 forms of CSI and OSC.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]"
)
# C0 and C1 control characters except tab and newline, plus DEL and Unicode bidi overrides
# (which can make text display differently from what it is).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Every character the two patterns above (and the \r fold) can act on; escapes start with one.
_UNSAFE = re.compile(r"[\r\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The registry stores long text fields (eligibility criteria, descriptions) as markdown and
# escapes ASCII punctuation markdown could read as syntax: "CR\> 12 months", "HLA-A\*02",
# "\[SPEP\]" (CommonMark "backslash escapes"). Undone for display, CSV, JSON and matching.
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def strings_in(value: Any) -> list[str]:
    """The strings in an API value that may be a string or a list (other items are ignored)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def strip_controls(text: str) -> str:
    """Remove terminal escape sequences and control characters (keeps tab and newline)."""
    if text.isprintable():  # no Cc or Cf character: nothing to remove (the common case)
        return text
    if not _UNSAFE.search(text):  # only tabs, newlines and other harmless non-printables
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def unescape_markdown(text: str) -> str:
    """Undo markdown backslash escapes (``\\>`` -> ``>``, ``\\*`` -> ``*``, ``\\\\`` -> ``\\``)."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text) if "\\" in text else text


def clean_line(value: Any) -> str:
    """Any value -> one safe line: controls removed, runs of white space folded to one space."""
    if value is None:
        return ""
    if type(value) is str and value.isprintable():
        # Printable text holds no white space but the ASCII space: already one clean line
        # unless a space leads, trails or comes twice (most names, cities and titles).
        if "  " not in value and value[:1] != " " and value[-1:] != " ":
            return value
        return " ".join(value.split())
    text = strip_controls(value if type(value) is str else str(value))
    return " ".join(text.split())


def clean_block(value: Any) -> str:
    """Any value -> safe multi-line text: controls removed, line breaks kept."""
    if value is None:
        return ""
    lines = [line.rstrip() for line in strip_controls(str(value)).expandtabs(4).split("\n")]
    return "\n".join(lines).strip("\n")


def truncate(text: str, width: int) -> str:
    """Cut text to at most `width` characters, ending with an ellipsis when cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)].rstrip() + "…"


def all_strings(value: Any) -> Iterator[str]:
    """Every string inside a raw API value (dicts and lists walked, in order)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)
