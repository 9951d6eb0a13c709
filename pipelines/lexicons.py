"""Loading the word lists shipped beside the detectors (``pipelines/detectors/data``).

Lists are data, not code: Corporate Communications can review them, and the policy file can add or
remove terms without touching a detector.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class LanguageTerms:
    """A labelled list whose entries may be bound to one language: ``con@fr`` is an insult only
    in French, ``retard@en`` a slur only outside French ("en retard" means late)."""

    terms: dict[str, str]
    only: dict[str, str]

    def counts(self, term: str, language: str | None) -> bool:
        """Whether a hit on ``term`` counts in a comment identified as ``language``."""
        bound = self.only.get(term)
        if bound is None:
            return True
        return (language == "fr") if bound == "fr" else (language != "fr")


@lru_cache(maxsize=16)
def read_terms(name: str) -> LanguageTerms:
    """``read_labeled`` with ``@fr``/``@en`` suffixes split off into ``LanguageTerms.only``."""
    terms: dict[str, str] = {}
    only: dict[str, str] = {}
    for raw, label in read_labeled(name):
        term, lang = raw, ""
        for suffix in ("@fr", "@en"):
            if raw.endswith(suffix):
                term, lang = raw[: -len(suffix)], suffix[1:]
        terms[term] = label
        if lang:
            only[term] = lang
    return LanguageTerms(terms, only)
