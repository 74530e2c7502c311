"""trialfinder's benchmarks: `python -m benchmarks` (issue 11's speed table) and the scripts.

Modules: corpus (distinct real-shaped studies), child (one measured CLI run in a child
process), peer (PyPI's ctgov as the thin peer), stages (the search's stages in-process),
scenarios (what is measured and against which target) and __main__ (the table).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The fake API and the real-record helpers live beside the tests (tests/ctgov_server, ...).
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
