"""The one exception tree of trialfinder; the core raises these and never prints or exits.

    TrialfinderError                  exit 1 unless a subclass says otherwise
    ├── UsageError                    exit 2: the user's input is wrong
    │   ├── InvalidOption             a bad option value (names the valid choices)
    │   ├── InvalidNctId              not of the form NCT + 8 digits
    │   ├── PlaceError                a place that cannot be resolved
    │   │   ├── UnknownPlace          nothing matches
    │   │   └── AmbiguousPlace        several places match; carries the candidates
    │   └── SourceError               a --source path that is missing or not API output
    ├── OutputError                   exit 1: --output cannot be written (one wording)
    ├── StudyNotFound                 exit 2: the API (or the source) has no such NCT id
    ├── RecordError                   a JSON object that is not a usable study record
    └── ApiError                      exit 1: the ClinicalTrials.gov API failed
        ├── ApiUnavailable            connection failures or timeouts after all retries
        └── ApiResponseError          an HTTP error status (kept with its text/plain body)

`cli.py` is the single boundary that turns these into one `Error: ...` line (plus an optional
`Tip:` line) on stderr and the exit code in `exit_code`.
"""

from __future__ import annotations

from collections.abc import Sequence


class TrialfinderError(Exception):
    """Base of every error trialfinder raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(TrialfinderError):
    """The user's input is wrong; exit code 2."""

    exit_code = 2


class InvalidOption(UsageError):
    """An option value outside its valid choices."""

    def __init__(
        self, option: str, value: object, choices: Sequence[str] | str | None = None
    ) -> None:
        msg = f"invalid value for {option}: {value!r}"
        if choices:
            valid = choices if isinstance(choices, str) else ", ".join(choices)
            msg += f" (valid: {valid})"
        super().__init__(msg)
        self.option = option
        self.value = value


class InvalidNctId(UsageError):
    """An NCT id that is not 'NCT' followed by eight digits."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"invalid NCT id {value!r} (expected NCT followed by 8 digits, e.g. NCT01234567)"
        )


class PlaceError(UsageError):
    """A place name that cannot be turned into coordinates."""


class UnknownPlace(PlaceError):
    """No gazetteer entry matches the place."""


class AmbiguousPlace(PlaceError):
    """Several gazetteer entries match the place; `candidates` lists the best ones."""

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class SourceError(UsageError):
    """A --source path that does not exist or does not hold ClinicalTrials.gov API output."""


class OutputError(TrialfinderError):
    """--output cannot be written (a folder, a missing folder, no permission, a full disk):
    exit 1, one wording ("cannot write --output FILE: why"), checked before any work."""

    def __init__(self, output: object, reason: str) -> None:
        super().__init__(f"cannot write --output {output}: {reason}")


class StudyNotFound(TrialfinderError):
    """No study has this NCT id."""

    exit_code = 2


class RecordError(TrialfinderError):
    """A JSON object that is not a study record (no NCT id, or modules that are not objects).

    Sources turn it into a SourceError (saved files) or an ApiError (the API's answer).
    """


class ApiError(TrialfinderError):
    """The ClinicalTrials.gov API could not give an answer."""


class ApiUnavailable(ApiError):
    """The API could not be reached (connection errors or timeouts after every retry)."""


class ApiResponseError(ApiError):
    """The API answered with an HTTP error status."""

    def __init__(self, status: int, body: str, url: str) -> None:
        text = _short_body(body)
        # The query string of a widened CAR-T search runs to kilobytes: the path says enough.
        where = url.split("?", 1)[0] + ("?…" if "?" in url else "")
        where = where if len(where) <= 100 else where[:99] + "…"
        super().__init__(f"the API answered HTTP {status}: {text} (request: {where})")
        self.status = status
        self.body = body
        self.url = url


def _short_body(body: str, limit: int = 160) -> str:
    """An error body as a short line: an HTML page by its title (or its text), cut at `limit`."""
    import html
    import re

    text = body
    if re.search(r"<(!doctype|html|head|body|title)\b", body, re.IGNORECASE):
        title = re.search(r"<title[^>]*>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
        inner = title.group(1) if title else re.sub(r"(?s)<(script|style).*?</\1>", " ", body)
        text = html.unescape(re.sub(r"<[^>]+>", " ", inner))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or "(empty body)"
