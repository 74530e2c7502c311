"""Text as the registry writes it: no markdown escape reaches any output; older layouts read."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cart_labels import RECORDS_DIR, load_records
from clirun import run

from trialfinder.cart.stance import classify_prior_car_t
from trialfinder.render.formats import FORMATS
from trialfinder.text import unescape_markdown

# A backslash before ASCII punctuation is a markdown escape ("CR\> 12", "\[SPEP\]").
_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")

needs_records = pytest.mark.skipif(
    not RECORDS_DIR.is_dir(), reason=f"shared records folder {RECORDS_DIR} not found"
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _escapes(fmt: str, out: str) -> list[str]:
    if fmt in ("json", "jsonl"):
        lines = [out] if fmt == "json" else out.splitlines()
        texts = [s for line in lines if line.strip() for s in _strings(json.loads(line))]
    else:
        texts = [out]
    found = [m.group() for t in texts for m in _ESCAPE.finditer(t)]
    # A markdown table escapes the pipes inside its cells on purpose.
    return [e for e in found if not (fmt == "markdown" and e == "\\|")]


def test_unescape_markdown() -> None:
    assert unescape_markdown(r"CR\> 12 months, HLA-A\*02, \[SPEP\], 1\. a, a\\b") == (
        r"CR> 12 months, HLA-A*02, [SPEP], 1. a, a\b"
    )
    assert unescape_markdown("no escapes: C:\\path\\x and \\n") == "no escapes: C:\\path\\x and \\n"


@needs_records
def test_the_real_records_hold_markdown_escapes() -> None:
    raw = [
        s.get("protocolSection", {}).get("eligibilityModule", {}).get("eligibilityCriteria", "")
        for s in load_records().values()
    ]
    assert sum(bool(_ESCAPE.search(t or "")) for t in raw) > 50


@needs_records
@pytest.mark.parametrize("fmt", [*FORMATS, "text"])
def test_no_markdown_escape_reaches_any_output_of_the_real_records(fmt: str) -> None:
    ids = sorted(load_records())
    found = run(["search", "--source", str(RECORDS_DIR), "--status", "any", "-f", fmt])
    shown = run(["show", *ids, "--source", str(RECORDS_DIR), "-f", fmt])
    assert found.code == 0 and shown.code == 0, (found.err[-500:], shown.err[-500:])
    assert "NCT" in found.out and all(i in shown.out for i in ids[:3])
    assert _escapes(fmt, found.out) == [] and _escapes(fmt, shown.out) == []


def test_escaped_text_is_classified_unescaped() -> None:
    text = "Inclusion Criteria:\n\n\\* Age \\>= 18\n\nExclusion Criteria:\n\n\\* CAR-T \\< 30 days"
    stance = classify_prior_car_t(unescape_markdown(text))
    assert (stance.label, stance.evidence) == ("allowed", "CAR-T < 30 days")
