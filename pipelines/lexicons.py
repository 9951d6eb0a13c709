"""Loading the word lists shipped beside the detectors (``pipelines/detectors/data``).

Lists are data, not code: Corporate Communications can review them, and the policy file can add or
remove terms without touching a detector.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("detectors") / "data"


@lru_cache(maxsize=64)
def read_list(name: str) -> tuple[str, ...]:
    """Non-comment, non-blank lines of ``data/<name>``, stripped."""
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return tuple(s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#"))


@lru_cache(maxsize=64)
def read_labeled(name: str) -> tuple[tuple[str, str], ...]:
    """``term<TAB>label`` lines of ``data/<name>``; a line without a label gets ``""``."""
    out = []
    for line in read_list(name):
        term, _, label = line.partition("\t")
        out.append((term.strip(), label.strip()))
    return tuple(out)
