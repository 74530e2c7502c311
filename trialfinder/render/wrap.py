"""Cell text for terminals: display width (wide characters count two) and wrapping a cell onto
several lines without cutting what must stay whole (a phone number, a stance, an NCT id).

Widths are measured with `wcwidth`, the package tabulate also uses, so Chinese, Japanese and
emoji text line up; a character it cannot measure (a control, already removed) counts as 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wcwidth import wcswidth, wcwidth

# Columns shown whole, never wrapped: identifiers, numbers, dates and labels a reader scans.
WHOLE_COLUMNS = frozenset(
    {
        "nct_id",
        "prior_car_t",
        "prior_car_t_section",
        "car_t",
        "car_cell_source",
        "distance_mi",
        "distance_km",
        "sites_count",
        "enrollment",
        "start_date",
        "last_update",
        "min_age",
        "max_age",
        "min_age_years",
        "max_age_years",
        "sex",
        "lat",
        "lon",
        "zip",
    }
)
# Columns holding "name; phone; email": each part starts a line, and a phone number is whole.
CONTACT_COLUMNS = frozenset({"contact", "nearest_site_contact", "central_contact"})
# Enum columns: wrapped only at their underscores (NOT_YET_ / RECRUITING).
ENUM_COLUMNS = frozenset({"status", "site_status", "study_type", "phases"})
# The narrowest a wrapped column may become (a few words a line); smaller values stay whole.
FLOORS: dict[str, int] = {
    "title": 14,
    "prior_car_t_evidence": 24,
    "conditions": 12,
    "interventions": 14,
    "nearest_site": 14,
    "nearest_site_city": 10,
    "facility": 12,
    "city": 8,
    "location": 10,
    "sponsor": 12,
    "therapy_classes": 12,
    "url": 20,
}
# Free text shown in a table stops after this many lines, ending in "…" (`show` has it all).
LINE_LIMITS: dict[str, int] = {
    "title": 3,
    "prior_car_t_evidence": 4,
    "conditions": 2,
    "interventions": 2,
    "nearest_site": 2,
    "facility": 2,
    "sponsor": 2,
    "therapy_classes": 2,
}
DEFAULT_FLOOR = 10
CONTACT_FLOOR = 12
# A phone number, optionally followed by " ext ...": the number itself is never split.
_PHONE = re.compile(r"^(?P<number>\+?[\d(][\d\s().\-/]{5,}\d)(?P<ext> ext .+)?$")
_BREAKS = re.compile(r"(?<=[ _/@])")
# Within a contact word too wide for its line (an email's domain), break after a dot before
# cutting mid-word: "mdanderson." / "org", not "mdanderson.or" / "g".
_DOTS = re.compile(r"(?<=\.)")
# Within any other word too wide for its line, break after a hyphen before cutting mid-word:
# "Reduced-" / "Intensity", not "Reduced-Intens" / "ity".
_HYPHENS = re.compile(r"(?<=-)")


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal (East Asian wide characters and emoji count two)."""
    if text.isascii() and text.isprintable():  # one column a character (the common case)
        return len(text)
    width = wcswidth(text)
    if width >= 0:
        return int(width)
    return sum(max(0, wcwidth(ch)) for ch in text)


def pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` display columns."""
    if text.isascii() and text.isprintable():
        return text.ljust(width)
    return text + " " * max(0, width - display_width(text))


def _hard_split(piece: str, width: int) -> list[str]:
    lines, line = [], ""
    for ch in piece:
        if line and display_width(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def wrap_text(text: str, width: int, within: re.Pattern[str] | None = None) -> list[str]:
    """Greedy wrap at spaces, underscores, slashes and @; a word wider than `width` is
    wrapped at `within` when given, and split where that is not enough."""
    return _wrap_words(text, width) or _wrap(text, width, _BREAKS, within)


def _wrap_words(text: str, width: int) -> list[str] | None:
    """`_wrap` for the common cell (ASCII words and single spaces, no other break, no word
    wider than `width`), a line at a time; None for any other text."""
    if not (text.isascii() and text.isprintable()) or "  " in text or width < 1:
        return None
    if text[:1] == " " or text[-1:] == " " or "_" in text or "/" in text or "@" in text:
        return None
    lines = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)  # the line: every word that ends within width
        if cut <= 0:
            return None  # a word wider than the line: `_wrap` splits it
        lines.append(text[:cut])
        text = text[cut + 1 :]
    lines.append(text)
    return lines


def _wrap(
    text: str, width: int, breaks: re.Pattern[str], within: re.Pattern[str] | None
) -> list[str]:
    # One column a character for ASCII text, and so for each of its pieces (most cells).
    measure = len if text.isascii() and text.isprintable() else display_width
    if measure(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    used = 0  # display width of `line`, trailing spaces included
    for piece in breaks.split(text):
        if not piece:
            continue
        bare = piece.rstrip()
        bare_width = measure(bare)
        # `line + piece` without its trailing spaces: all of `line`, then the bare piece
        if not bare or used + bare_width <= width:
            line += piece
            used += bare_width + len(piece) - len(bare)
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        if bare_width > width:
            if within:  # the space after the word stays after its last part
                *whole, line = _wrap(bare, width, within, None)
                line += piece[len(bare) :]
            else:
                *whole, line = _hard_split(piece, width) or [""]
            lines.extend(whole)
        else:
            line = piece.lstrip()
        used = measure(line)
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def wrap_cell(text: str, width: int, column: str) -> list[str]:
    """A cell's lines at `width`: contacts one part a line, enums at underscores, else words."""
    if column in WHOLE_COLUMNS or display_width(text) <= width:
        return [text]
    if column in CONTACT_COLUMNS:
        lines: list[str] = []
        for part in text.split("; "):
            phone = _PHONE.match(part)
            if phone and phone["ext"] and display_width(part) > width:
                lines += [phone["number"], *wrap_text(phone["ext"].strip(), width)]
            elif phone and display_width(part) > width:
                lines.append(part)  # wider than the column only if the floor allowed it
            else:
                lines += wrap_text(part, width, _DOTS)
        return lines
    if column in ENUM_COLUMNS:
        return wrap_text(text.replace("; ", " "), width)
    lines = wrap_text(text, width, _HYPHENS)
    limit = LINE_LIMITS.get(column)
    if limit is not None and len(lines) > limit:
        last = lines[limit - 1]
        while last and display_width(last) > width - 1:
            last = last[:-1]
        lines = [*lines[: limit - 1], last.rstrip() + "…"]
    return lines


def min_width(column: str, cells: Iterable[str]) -> int:
    """The narrowest the column may be: whole columns and phone numbers never cut."""
    cells = list(cells)
    natural = max(map(display_width, cells), default=0)
    if column in WHOLE_COLUMNS:
        return natural
    if column in ENUM_COLUMNS:
        words = (w for c in cells for w in re.split(r"[_ ;]+", c))
        return max((display_width(w) + 1 for w in words if w), default=0)
    if column in CONTACT_COLUMNS:
        phones = [m["number"] for c in cells for p in c.split("; ") if (m := _PHONE.match(p))]
        longest = max((display_width(p) for p in phones), default=0)
        return min(natural, max(CONTACT_FLOOR, longest))
    return min(natural, FLOORS.get(column, DEFAULT_FLOOR))


def header_lines(column: str, width: int) -> list[str]:
    """A column name wrapped at its underscores to fit `width`, in lines of even length
    ("prior_" / "car_t", not "prior_car_" / "t")."""
    lines = wrap_text(column, width)
    for narrower in range(header_min(column), width):
        balanced = wrap_text(column, narrower)
        if len(balanced) == len(lines):
            return balanced
    return lines


def header_min(column: str) -> int:
    """The longest underscore-separated part of a column name (it wraps at underscores)."""
    return max(display_width(p) for p in _BREAKS.split(column) if p)
