"""Which municipal topics a comment is about, for analysts' "top topics" (clause 2.2.3).

The vocabulary is data (``topics.yaml``), reviewed by Corporate Communications, not code. Topics are
found in the comment's own words: a comment can raise snow clearing under a post about transit, and
that is what analysts want to see. A comment with no topic word counts under ``other`` so that
topic totals add up to the volume.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.normalize import fold_accents

TOPICS_FILE = Path(__file__).with_name("topics.yaml")
OTHER = "other"
MAX_SCANNED_CHARS = 5_000


def _term_pattern(term: str) -> str:
    folded = fold_accents(term.strip().lower())
    if folded.endswith("*"):
        return re.escape(folded[:-1]) + r"[\w-]*"
    return re.escape(folded)


@lru_cache(maxsize=1)
def topic_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    data = yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{TOPICS_FILE.name}: expected a mapping of topic -> list of terms")
    out = []
    for topic, terms in data.items():
        if not isinstance(terms, list) or not terms:
            raise ValueError(f"{TOPICS_FILE.name}: topic {topic!r} needs a non-empty list of terms")
        alternatives = "|".join(sorted((_term_pattern(str(t)) for t in terms), key=len, reverse=True))
        out.append((str(topic), re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")))
    return tuple(out)


def topics_of(text: str) -> tuple[str, ...]:
    """The topics a comment raises, in the file's order; ``("other",)`` when none."""
    folded = fold_accents(text[:MAX_SCANNED_CHARS].lower())
    found = tuple(topic for topic, pattern in topic_patterns() if pattern.search(folded))
    return found or (OTHER,)
