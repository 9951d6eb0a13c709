"""5.7.1 Comments not topically related to the post or article being commented on.

The score is how unrelated a comment is to its post: content-word overlap after light stemming,
character-trigram similarity, and a municipal vocabulary (a comment about roads under a post about
snow clearing is on topic). Short replies ("Thanks!", "When?") and questions to the city are on
topic by nature. With no post to compare against the detector says so ("no post context: not
judged") instead of guessing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from pipelines.base import ClauseDetector, Comment, register
from pipelines.lexicons import read_list
from pipelines.normalize import normalize
from pipelines.types import Evidence, Tag

_WORD = re.compile(r"[a-zà-ÿ]{3,}")
_SHORT_REPLY = re.compile(
    r"^\W*(thanks?|thank you|thx|merci|great|awesome|nice|cool|wow|yes|no|agreed|same|finally|why|when|where|"
    r"how|what|ok|okay|lol|bravo|super|enfin|pourquoi|quand|où|oui|non|👍|❤️)\b"
)


def stem(word: str) -> str:
    for suffix in (
        "ations",
        "ation",
        "ments",
        "ment",
        "ings",
        "ing",
        "ies",
        "ied",
        "ers",
        "er",
        "es",
        "ed",
        "s",
        "e",
    ):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str, stop: frozenset[str]) -> list[str]:
    """Stems cut to five letters, so "plowed"/"plowing" and "patinoire"/"patinage" meet."""
    return [stem(w)[:5] for w in _WORD.findall(text) if w not in stop]


def trigrams(text: str) -> Counter[str]:
    t = re.sub(r"\s+", " ", text)
    return Counter(t[i : i + 3] for i in range(max(0, len(t) - 2)))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


@register
class OffTopicDetector(ClauseDetector):
    name = "offtopic"
    version = "1"
    clause = "5.7.1"
    category = "offtopic"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.stop = frozenset(read_list("stopwords_en_fr.txt"))
        self.civic = frozenset(stem(w)[:5] for w in read_list("civic_topics.txt"))
        self.generic = frozenset(stem(w)[:5] for w in read_list("generic_reactions.txt"))
        self._post_cache: dict[str, tuple[set[str], Counter[str]]] = {}

    def _post(self, context: str) -> tuple[set[str], Counter[str]]:
        cached = self._post_cache.get(context)
        if cached is None:
            norm = normalize(context[:5000]).text
            cached = (set(content_words(norm, self.stop)), trigrams(norm))
            if len(self._post_cache) > 2048:
                self._post_cache.clear()
            self._post_cache[context] = cached
        return cached

    def detect(self, comment: Comment) -> list[Tag]:
        if not comment.context:
            return [self.tag(0.0, [], detail="no post context: not judged")]
        text = comment.view("norm", normalize).text
        words = content_words(text, self.stop)
        if len(words) < 2 or (_SHORT_REPLY.match(text) and len(words) < 4):
            return []
        post_words, post_grams = self._post(comment.context)
        overlap = sum(1 for w in words if w in post_words) / len(words)
        civic = sum(1 for w in words if w in self.civic) / len(words)
        generic = sum(1 for w in words if w in self.generic and w not in post_words) / len(words)
        sim = cosine(trigrams(text), post_grams)
        relatedness = 2.0 * overlap + 0.5 * civic + 0.9 * generic + 1.0 * sim
        score = 1 / (1 + math.exp(8 * (relatedness - 0.45)))
        if score < 0.05:
            return []
        return [self.tag(score, [Evidence(0, len(comment.text), "unrelated")], detail=f"overlap {overlap:.2f}")]
