"""5.7.1 Comments not topically related to the post or article being commented on.

The score is how unrelated a comment is to its post, from two kinds of evidence: meaning (cosine
of the comment's and the post's static MiniLM sentence embeddings, which sees that "the plow buried
my driveway" answers a post about snow clearing without a shared word) and words (content-word
overlap after light stemming, character-trigram similarity, a municipal vocabulary and generic
reactions that fit under any post). A logistic head over these, fitted by ``civicwatch train`` on
comment/post pairs and shipped in ``pipelines/models/civicwatch-offtopic.json``, turns them into
a calibrated score; without that file a fixed hand-set blend is used. Short replies ("Thanks!",
"When?") are on topic by nature. With no post to compare against the detector says so ("no post
context: not judged") instead of guessing.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import ClauseDetector, Comment, register
from pipelines.embeddings import StaticEmbedder, load_static
from pipelines.lexicons import read_list
from pipelines.normalize import normalize
from pipelines.textmodel import MODEL_DIR, comment_embedding, model_text
from pipelines.types import Evidence, Tag

OFFTOPIC_HEAD = "civicwatch-offtopic.json"
FEATURES = ("overlap", "civic", "generic", "trigram", "semantic")
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


@dataclass(frozen=True)
class OffTopicHead:
    """``P(unrelated) = sigmoid(w . features + b)`` over ``FEATURES``, fitted on comment/post pairs."""

    weights: tuple[float, ...]
    bias: float
    card: dict[str, Any]
    center: np.ndarray | None = None
    direction: np.ndarray | None = None

    def score(self, features: np.ndarray) -> float:
        z = float(np.dot(self.weights, features) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


HAND_SET = OffTopicHead(weights=(-16.0, -4.0, -7.2, -8.0, 0.0), bias=3.6, card={"fitted": False})
"""The blend used before any head was fitted: relatedness = 2 overlap + .5 civic + .9 generic + trigram."""


def load_head(directory: Path = MODEL_DIR) -> OffTopicHead:
    return _load_head(str(directory))


@lru_cache(maxsize=2)
def _load_head(directory: str) -> OffTopicHead:
    path = Path(directory) / OFFTOPIC_HEAD
    if not path.exists():
        return HAND_SET
    card = json.loads(path.read_text())
    if tuple(card["features"]) != FEATURES:
        return HAND_SET
    center = np.array(card["center"], dtype=np.float32) if card.get("center") else None
    direction = np.array(card["direction"], dtype=np.float32) if card.get("direction") else None
    return OffTopicHead(
        weights=tuple(card["weights"]), bias=float(card["bias"]), card=card, center=center, direction=direction
    )


class Relatedness:
    """Computes the features of a comment/post pair; posts are cached because many comments share one.

    Before the cosine, embeddings lose what all texts share (the mean of ordinary comments and their
    main direction of variation, SIF's common-component removal): without that, any two opinionated
    comments look alike and topic differences drown.
    """

    def __init__(
        self,
        embedder: StaticEmbedder | None = None,
        center: np.ndarray | None = None,
        direction: np.ndarray | None = None,
    ) -> None:
        self.center = center
        self.direction = direction
        self.stop = frozenset(read_list("stopwords_en_fr.txt"))
        self.civic = frozenset(stem(w)[:5] for w in read_list("civic_topics.txt"))
        self.generic = frozenset(stem(w)[:5] for w in read_list("generic_reactions.txt"))
        self.embedder = embedder
        self._post_cache: dict[str, tuple[set[str], Counter[str], np.ndarray | None]] = {}

    def post(self, context: str) -> tuple[set[str], Counter[str], np.ndarray | None]:
        cached = self._post_cache.get(context)
        if cached is None:
            norm = normalize(context[:5000]).text
            vector = None if self.embedder is None else self.embedder.embed([model_text(context)])[0]
            cached = (set(content_words(norm, self.stop)), trigrams(norm), vector)
            if len(self._post_cache) > 2048:
                self._post_cache.clear()
            self._post_cache[context] = cached
        return cached

    def features(self, norm_text: str, words: list[str], vector: np.ndarray | None, context: str) -> np.ndarray:
        post_words, post_grams, post_vector = self.post(context)
        n = max(len(words), 1)
        overlap = sum(1 for w in words if w in post_words) / n
        civic = sum(1 for w in words if w in self.civic) / n
        generic = sum(1 for w in words if w in self.generic and w not in post_words) / n
        sim = cosine(trigrams(norm_text), post_grams)
        semantic = 0.0 if vector is None or post_vector is None else self.semantic(vector, post_vector)
        return np.array([overlap, civic, generic, sim, semantic])

    def _debias(self, v: np.ndarray) -> np.ndarray:
        if self.center is not None:
            v = v - self.center
        if self.direction is not None:
            v = v - float(np.dot(v, self.direction)) * self.direction
        return v

    def semantic(self, a: np.ndarray, b: np.ndarray) -> float:
        """Cosine of two sentence embeddings after common-component removal."""
        a, b = self._debias(a), self._debias(b)
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(np.dot(a, b)) / norm if norm > 1e-12 else 0.0

    def pair(self, text: str, context: str) -> np.ndarray:
        """Features of a raw comment/post pair (training and tests)."""
        norm = normalize(text).text
        vector = None if self.embedder is None else self.embedder.embed([model_text(text)])[0]
        return self.features(norm, content_words(norm, self.stop), vector, context)


@register
class OffTopicDetector(ClauseDetector):
    name = "offtopic"
    version = "2"
    clause = "5.7.1"
    category = "offtopic"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.head = load_head()
        embedder = load_static() if self.head.weights[-1] else None
        self.relatedness = Relatedness(embedder, self.head.center, self.head.direction)

    def detect(self, comment: Comment) -> list[Tag]:
        if not comment.context:
            return [self.tag(0.0, [], detail="no post context: not judged")]
        text = comment.view("norm", normalize).text
        words = content_words(text, self.relatedness.stop)
        if len(words) < 2 or (_SHORT_REPLY.match(text) and len(words) < 4):
            return []
        vector = comment_embedding(comment) if self.relatedness.embedder is not None else None
        features = self.relatedness.features(text, words, vector, comment.context)
        score = self.head.score(features)
        if score < 0.05:
            return []
        detail = f"overlap {features[0]:.2f}, meaning {features[4]:.2f}"
        return [self.tag(score, [Evidence(0, len(comment.text), "unrelated")], detail=detail)]
