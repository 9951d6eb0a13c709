"""Which municipal topics a comment is about, for analysts' "top topics" (clause 2.2.3).

The vocabulary is data (``topics.yaml``), reviewed by Corporate Communications, not code. Topics are
found in the comment's own words: a comment can raise snow clearing under a post about transit, and
that is what analytics want to see. A comment with no topic word counts under ``other`` so that
topic totals add up to the volume.

A term matches a whole word: a maximal run of word characters and hyphens (``chasse-neige`` is one
word), equal to the term or, for ``plow*``, starting with it. So a comment's words are looked up
once each (and remembered) instead of every topic's pattern scanning the text; terms of several
words (``blue box*``) keep a pattern, tried only when their first word occurs. ``topic_patterns``
is the plain definition of a match, one pattern per topic; the tests hold the two to the same
answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.normalize import fold_accents as fold
from workers.analytics.text import head

TOPICS_FILE = Path(__file__).with_name("topics.yaml")
OTHER = "other"
WORD = re.compile(r"[\w-]+")
MEMO_WORDS = 50_000
"""Words remembered with their topics; hostile text full of random words only refills the memo."""


def _folded_terms() -> list[tuple[str, list[str]]]:
    data = yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{TOPICS_FILE.name}: expected a mapping of topic -> list of terms")
    out = []
    for topic, terms in data.items():
        if not isinstance(terms, list) or not terms:
            raise ValueError(f"{TOPICS_FILE.name}: topic {topic!r} needs a non-empty list of terms")
        out.append((str(topic), [fold(str(t).strip().lower()) for t in terms]))
    return out


def _term_pattern(folded: str) -> str:
    if folded.endswith("*"):
        return re.escape(folded[:-1]) + r"[\w-]*"
    return re.escape(folded)


def _pattern(terms: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((_term_pattern(t) for t in terms), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


@lru_cache(maxsize=1)
def topic_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One pattern per topic, in the file's order: a topic is raised where its pattern matches."""
    return tuple((topic, _pattern(terms)) for topic, terms in _folded_terms())


@dataclass
class TopicMatcher:
    """The topics of folded text by word lookup; same answers as ``topic_patterns``."""

    names: tuple[str, ...]
    exact: dict[str, frozenset[int]]
    prefixes: tuple[tuple[str, int], ...]
    phrases: tuple[tuple[int, str | None, re.Pattern[str]], ...]
    """(topic, its first word or None, pattern) for terms that span several words."""
    memo: dict[str, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def from_file(cls) -> TopicMatcher:
        names: list[str] = []
        exact: dict[str, set[int]] = {}
        prefixes: list[tuple[str, int]] = []
        phrases: list[tuple[int, str | None, re.Pattern[str]]] = []
        for index, (topic, terms) in enumerate(_folded_terms()):
            names.append(topic)
            several = []
            for term in terms:
                stem = term[:-1] if term.endswith("*") else term
                if not WORD.fullmatch(stem):
                    several.append(term)
                elif term.endswith("*"):
                    prefixes.append((stem, index))
                else:
                    exact.setdefault(stem, set()).add(index)
            for term in several:
                first = WORD.match(term)  # a whole word of the text, as the term goes on after it
                phrases.append((index, first.group() if first else None, _pattern([term])))
        return cls(tuple(names), {w: frozenset(t) for w, t in exact.items()}, tuple(prefixes), tuple(phrases))

    def _word_topics(self, word: str) -> frozenset[int]:
        found = set(self.exact.get(word, ()))
        found.update(index for prefix, index in self.prefixes if word.startswith(prefix))
        if len(self.memo) >= MEMO_WORDS:
            self.memo.clear()
        topics = self.memo[word] = frozenset(found)
        return topics

    def topics(self, folded: str) -> tuple[str, ...]:
        words = set(WORD.findall(folded))
        found: set[int] = set()
        memo = self.memo
        for word in words:
            topics = memo.get(word)
            if topics is None:
                topics = self._word_topics(word)
            if topics:
                found |= topics
        for index, first, pattern in self.phrases:
            if index not in found and (first is None or first in words) and pattern.search(folded):
                found.add(index)
        return tuple(self.names[i] for i in sorted(found))


@lru_cache(maxsize=1)
def matcher() -> TopicMatcher:
    return TopicMatcher.from_file()


def topics_of(text: str) -> tuple[str, ...]:
    """The topics a comment raises, in the file's order; ``("other",)`` when none."""
    return matcher().topics(fold(head(text).lower())) or (OTHER,)
