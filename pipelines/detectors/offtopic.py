"""5.7.1 Comments not topically related to the particular site or article being commented on.

The clause names two things a comment may relate to: the post it answers, and the site, which for a
city account is the city's own business. "When is my street getting plowed?" under a post about the
splash pad is on topic for the site; "Go Leafs go!" or "selling my couch, DM me" is on topic for
neither. So the score combines two kinds of evidence, each only ever lowering it:

- relatedness to the post: content-word overlap after light stemming, and the cosine of the two
  static MiniLM sentence embeddings (which sees that "the plow buried my driveway" answers a post
  about snow clearing without a shared word);
- relatedness to the site: municipal vocabulary (``data/civic_topics.txt``, English and French) and
  a small learned "about the city" model over the comment's embedding and words. Site evidence is
  weighted by how much the post itself is about the city, so under a post that is not (or in a
  news-comment corpus) only relatedness to the post counts.

A news article of a thousand words is a different shape from a two-line city post: it holds most
common words, so any comment shares a tenth of its words with it by chance, and one embedding reads
only its first paragraphs. Under posts of article length (``LONG_FEATURES``) overlap counts only
what exceeds chance (each comment word's background frequency against the post's length), weighted
by the square root of the comment's length (a long comment that shares nothing says more than a short
one), and the cosine is taken with the mean of the post's passages. Those posts have their own weights
(fitted on stand-in articles) and calibration (``LongPostCalibration``, fitted on comments under real
news articles), blended in between 40 and 120 content words of post; city posts are read as before.

Generic reactions ("thanks", "what a disgrace", "d'accord") fit under any post and count as related.
A logistic head over these features, fitted by ``civicwatch train offtopic`` and shipped in
``pipelines/models/civicwatch-offtopic.json``, turns them into P(off topic) at a stated prior share
of off-topic comments; every weight is constrained to be <= 0, so more related never scores higher.
Short replies ("Thanks!", "When?") are on topic by nature. With no post to compare against, the
detector says so ("no post context: not judged") instead of guessing.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import ClauseDetector, Comment, SettingsIn, register
from pipelines.embeddings import StaticEmbedder, load_static
from pipelines.lexicons import read_list
from pipelines.normalize import normalize
from pipelines.textmodel import MODEL_DIR, ModelError, comment_embedding, model_text, prime
from pipelines.types import Evidence, Tag

OFFTOPIC_HEAD = "civicwatch-offtopic.json"
FEATURES = ("overlap", "semantic", "generic", "civic_words", "site")
"""Every feature is evidence that the comment is related (to the post, or to the city's site): a head
must give each a weight <= 0."""
LONG_FEATURES = ("overlap_evidence", "passage_semantic", "generic", "civic_words", "site")
"""The same evidence as read under an article-length post: overlap beyond chance, weighted by the
comment's length, and the cosine with the mean of the post's passages."""
REPORT_FLOOR = 0.01
"""Scores below this are not reported. The score is calibrated at a prior of one off-topic comment
in ten, so most on-topic comments score under 0.05: a floor there would tie them all at zero and hide
how they rank."""
SITE_CLIP = 4.0
EVIDENCE_WORDS = 8
"""Overlap beyond chance is weighted by sqrt(comment words / 8), capped at ``EVIDENCE_CAP`` words: an
eight-word comment keeps the plain fraction."""
EVIDENCE_CAP = 64
PASSAGE_WORDS = 60
"""A post is cut into passages of about this many words (paragraphs, then sentences), about the size of
a city post, and its embedding is their mean: the embedder reads only the first 1,500 characters of a
text, and a long article's later paragraphs are what many comments answer."""
MAX_POST_CHARS = 20000
LONG_POST_START = 40
LONG_POST_FULL = 120
"""Article weights are blended in from 40 content words of post (a city post has about a dozen) and
apply fully from 120 (about 700 characters)."""
_PARAGRAPH = re.compile(r"\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
"""The "about the city" logit is clipped to +-4: beyond that it is confidence, not more evidence."""
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


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class SiteModel:
    """How much a text is about the city's own business (services, places, decisions, its events)
    rather than personal life, sport, other politics or sales: a logistic score over the text's
    embedding and its L2-normalised content-word counts."""

    vector: np.ndarray
    words: dict[str, float]
    bias: float

    def logit(self, vector: np.ndarray | None, words: list[str]) -> float:
        z = self.bias
        if vector is not None and vector.any():
            z += float(np.dot(vector, self.vector))
        if words:
            counts = Counter(words)
            norm = math.sqrt(sum(c * c for c in counts.values()))
            z += sum(self.words.get(w, 0.0) * c for w, c in counts.items()) / norm
        return z


@dataclass(frozen=True)
class LongPostCalibration:
    """Platt slope and intercept of the article weights' logit, fitted on comments under real news
    articles: the head's own rows for long posts are stand-ins (other comments of an article)."""

    slope: float = 1.0
    intercept: float = 0.0

    def logit(self, z: float) -> float:
        return self.slope * z + self.intercept


@dataclass(frozen=True)
class OffTopicHead:
    """``P(off topic) = sigmoid(w . features + bias)`` over ``FEATURES``; ``bias`` includes the prior.

    Under a post of article length the evidence reads differently (any comment shares words with a
    thousand-word article, and one embedding of a whole article is blurrier than a two-line post's),
    so such posts have their own features (``LONG_FEATURES``), weights (``long_weights``, intercept
    ``long_offset`` from the city posts') and calibration (``long_post``), blended in linearly from
    ``long_start`` to ``long_full`` content words of post: a city post (a dozen words) is scored by
    ``weights`` alone, as before. ``background`` gives each content word's share of ordinary text,
    for the overlap a post's length gives by chance.
    """

    weights: tuple[float, ...]
    bias: float
    card: dict[str, Any]
    center: np.ndarray | None = None
    directions: np.ndarray | None = None
    site: SiteModel | None = field(default=None, repr=False)
    background: dict[str, float] = field(default_factory=dict, repr=False)
    background_floor: float = 0.0
    long_weights: tuple[float, ...] | None = None
    long_offset: float = 0.0
    long_start: int = LONG_POST_START
    long_full: int = LONG_POST_FULL
    long_post: LongPostCalibration | None = None
    prior_logit: float = 0.0
    """``bias`` minus the balanced intercept: what moves a balanced logit to the stated prior."""

    def long_share(self, post_words: int) -> float:
        """How far a post of ``post_words`` content words is read as an article (0 without article weights)."""
        if self.long_weights is None:
            return 0.0
        return min(1.0, max(0.0, (post_words - self.long_start) / max(self.long_full - self.long_start, 1)))

    def long_logit(self, long_features: np.ndarray) -> float:
        """Balanced logit (no prior, no calibration) of the article weights."""
        weights = self.long_weights or self.weights
        return float(np.dot(weights, long_features)) + self.bias - self.prior_logit + self.long_offset

    def score(
        self,
        features: np.ndarray | None,
        long_features: np.ndarray | None = None,
        share: float = 0.0,
        long_post: LongPostCalibration | None = None,
    ) -> float:
        """P(off topic) at the head's prior; ``long_post`` overrides the shipped calibration (evaluation)."""
        z = 0.0
        if share < 1.0 and features is not None:
            z += (1.0 - share) * (float(np.dot(self.weights, features)) + self.bias - self.prior_logit)
        if share > 0.0 and long_features is not None:
            calibration = long_post or self.long_post or LongPostCalibration()
            z += share * calibration.logit(self.long_logit(long_features))
        return sigmoid(z + self.prior_logit)

    def chance(self, word: str, post_words: int) -> float:
        """Probability that a post of ``post_words`` content words contains ``word`` by chance."""
        p = self.background.get(word, self.background_floor)
        return 1.0 - (1.0 - p) ** post_words


HAND_SET = OffTopicHead(weights=(-4.0, -4.0, -1.5, -4.0, 0.0), bias=1.0, card={"fitted": False})
"""Used only when no head has been fitted: a fixed, uncalibrated blend of the post and vocabulary
evidence (no site model, no prior); a comment sharing a quarter of its words with the post sits at 0.5."""


def load_head(directory: Path = MODEL_DIR) -> OffTopicHead:
    return _load_head(str(directory))


@lru_cache(maxsize=2)
def _load_head(directory: str) -> OffTopicHead:
    """The shipped head, or ``HAND_SET`` when none was fitted.

    Raises ``ModelError`` for a head this detector cannot use as it stands (other features, or a
    positive weight, which would mean "more related, more off topic").
    """
    path = Path(directory) / OFFTOPIC_HEAD
    if not path.exists():
        return HAND_SET
    card = json.loads(path.read_text())
    long_features = tuple(card.get("long_features", LONG_FEATURES))
    if tuple(card.get("features", ())) != FEATURES or long_features != LONG_FEATURES:
        raise ModelError(
            f"{path.name}: features {card.get('features')} / {card.get('long_features')} are not {list(FEATURES)} / "
            f"{list(LONG_FEATURES)}: run `civicwatch train offtopic`"
        )
    weights = tuple(float(w) for w in card["weights"])
    if any(w > 0 for w in weights):
        raise ModelError(f"{path.name}: a positive weight would score related comments as more off topic")
    site = None
    long_post = None
    if card.get("long_post"):
        long_post = LongPostCalibration(float(card["long_post"]["slope"]), float(card["long_post"]["intercept"]))
    long_weights = tuple(float(w) for w in card["long_weights"]) if card.get("long_weights") else None
    if long_weights is not None and (len(long_weights) != len(FEATURES) or any(w > 0 for w in long_weights)):
        raise ModelError(f"{path.name}: the article weights must be {len(FEATURES)} weights <= 0")
    background = card.get("background") or {}
    total = float(background.get("total", 0)) or 1.0
    if card.get("site"):
        site = SiteModel(
            vector=np.array(card["site"]["vector"], dtype=np.float32),
            words={str(k): float(v) for k, v in card["site"]["words"].items()},
            bias=float(card["site"]["bias"]),
        )
    return OffTopicHead(
        weights=weights,
        bias=float(card["bias"]),
        card=card,
        center=np.array(card["center"], dtype=np.float32) if card.get("center") else None,
        directions=np.array(card["directions"], dtype=np.float32) if card.get("directions") else None,
        site=site,
        background={str(k): float(v) / total for k, v in background.get("counts", {}).items()},
        background_floor=float(background.get("floor", 0)) / total,
        long_weights=long_weights,
        long_offset=float(card.get("long_offset", 0.0)),
        long_start=int(card.get("long_start", LONG_POST_START)),
        long_full=int(card.get("long_full", LONG_POST_FULL)),
        long_post=long_post,
        prior_logit=float(card["bias"]) - float(card.get("bias_balanced", card["bias"])),
    )


@dataclass(frozen=True)
class PostView:
    words: frozenset[str]
    vector: np.ndarray | None
    passage_vector: np.ndarray | None
    """Mean of the post's passage embeddings, computed for article-length posts only."""
    civic: float
    """How much the post is about the city (0..1): the weight site evidence gets under it."""
    length: int
    """Content words in the post: what chance overlap and the long-post calibration depend on."""


def passages(text: str, size: int = PASSAGE_WORDS) -> list[str]:
    """Paragraphs, with long ones cut after the sentence that reaches ``size`` words."""
    out: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        current: list[str] = []
        words = 0
        for sentence in _SENTENCE_END.split(paragraph.strip()):
            current.append(sentence)
            words += len(sentence.split())
            if words >= size:
                out.append(" ".join(current))
                current, words = [], 0
        if current and words:
            out.append(" ".join(current))
    return out or [text]


class Relatedness:
    """Computes the features of a comment/post pair; posts are cached because many comments share one.

    Before the cosine, embeddings lose what all texts share (the mean of ordinary comments and their
    main directions of variation, SIF's common-component removal): without that, any two opinionated
    comments, or any two French texts, look alike and topic differences drown.
    """

    def __init__(self, head: OffTopicHead = HAND_SET, embedder: StaticEmbedder | None = None) -> None:
        self.head = head
        self.stop = frozenset(read_list("stopwords_en_fr.txt"))
        self.civic = frozenset(stem(w)[:5] for w in read_list("civic_topics.txt"))
        self.generic = frozenset(stem(w)[:5] for w in read_list("generic_reactions.txt"))
        self.embedder = embedder
        self._post_cache: dict[str, PostView] = {}

    def words(self, text: str) -> list[str]:
        """Content words of a raw text, as the detector sees a comment."""
        return content_words(normalize(text[:5000]).text, self.stop)

    def embed(self, text: str) -> np.ndarray | None:
        return None if self.embedder is None else self.embedder.embed([model_text(text)])[0]

    def embed_passages(self, context: str) -> np.ndarray | None:
        if self.embedder is None:
            return None
        vectors = self.embedder.embed([model_text(p) for p in passages(context[:MAX_POST_CHARS])])
        mean: np.ndarray = vectors.mean(0)
        return mean / max(float(np.linalg.norm(mean)), 1e-9)

    def post(self, context: str) -> PostView:
        cached = self._post_cache.get(context)
        if cached is None:
            words = content_words(normalize(context[:MAX_POST_CHARS]).text, self.stop)
            vector = self.embed(context)
            site = self.head.site
            civic = 0.0 if site is None else sigmoid(site.logit(vector, words))
            long = self.head.long_share(len(words)) > 0
            passage_vector = self.embed_passages(context) if long else None
            cached = PostView(frozenset(words), vector, passage_vector, civic, len(words))
            if len(self._post_cache) > 2048:
                self._post_cache.clear()
            self._post_cache[context] = cached
        return cached

    def site_logit(self, words: list[str], vector: np.ndarray | None) -> float:
        site = self.head.site
        return 0.0 if site is None else max(-SITE_CLIP, min(SITE_CLIP, site.logit(vector, words)))

    def features(self, words: list[str], vector: np.ndarray | None, context: str, long: bool = False) -> np.ndarray:
        """``FEATURES``, or with ``long`` the ``LONG_FEATURES`` an article-length post is read with."""
        post = self.post(context)
        n = max(len(words), 1)
        overlap = sum(1 for w in words if w in post.words) / n
        post_vector = post.vector
        if long:
            chance = sum(self.head.chance(w, post.length) for w in words) / n
            evidence = math.sqrt(min(n, EVIDENCE_CAP) / EVIDENCE_WORDS)
            overlap = (overlap - chance) / max(1.0 - chance, 0.05) * evidence
            post_vector = post.passage_vector if post.passage_vector is not None else post.vector
        generic = sum(1 for w in words if w in self.generic and w not in post.words) / n
        civic_words = sum(1 for w in words if w in self.civic) / n
        semantic = 0.0 if vector is None or post_vector is None else self.semantic(vector, post_vector)
        site = self.site_logit(words, vector)
        return np.array([overlap, semantic, generic, civic_words * post.civic, site * post.civic])

    def score(
        self, words: list[str], vector: np.ndarray | None, context: str, long_post: LongPostCalibration | None = None
    ) -> tuple[float, np.ndarray]:
        """P(off topic), and the features it mostly rests on (the article ones under an article)."""
        share = self.head.long_share(self.post(context).length)
        short = self.features(words, vector, context) if share < 1.0 else None
        long = self.features(words, vector, context, long=True) if share > 0.0 else None
        shown = long if long is not None and (short is None or share >= 0.5) else short
        return self.head.score(short, long, share, long_post), shown if shown is not None else np.zeros(len(FEATURES))

    def _debias(self, v: np.ndarray) -> np.ndarray:
        if self.head.center is not None:
            v = v - self.head.center
        if self.head.directions is not None:
            v = v - self.head.directions.T @ (self.head.directions @ v)
        return v

    def semantic(self, a: np.ndarray, b: np.ndarray) -> float:
        """Cosine of two sentence embeddings after common-component removal."""
        a, b = self._debias(a), self._debias(b)
        norm = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(np.dot(a, b)) / norm if norm > 1e-12 else 0.0

    def pair(self, text: str, context: str, long: bool = False) -> np.ndarray:
        """Features of a raw comment/post pair (training and tests)."""
        return self.features(self.words(text), self.embed(text), context, long)

    def pair_score(self, text: str, context: str, long_post: LongPostCalibration | None = None) -> float:
        return self.score(self.words(text), self.embed(text), context, long_post)[0]

    def post_length(self, context: str) -> int:
        return self.post(context).length


def too_short_to_judge(text_norm: str, words: list[str]) -> bool:
    """Short replies ("Thanks!", "When?") are on topic by nature."""
    return len(words) < 2 or (_SHORT_REPLY.match(text_norm) is not None and len(words) < 4)


@register
class OffTopicDetector(ClauseDetector):
    name = "offtopic"
    version = "4"
    clause = "5.7.1"
    category = "offtopic"

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        self.head = load_head()
        embedder = load_static() if self.head.weights[1] or self.head.site is not None else None
        self.relatedness = Relatedness(self.head, embedder)

    def detect_batch(self, comments: list[Comment]) -> list[list[Tag]]:
        if self.relatedness.embedder is not None:
            prime([c for c in comments if c.context])  # embeddings in one product, shared with the text model
        return [self.detect(c) for c in comments]

    def detect(self, comment: Comment) -> list[Tag]:
        if not comment.context:
            return [self.tag(0.0, [], detail="no post context: not judged")]
        text = comment.view("norm", normalize).text
        words = content_words(text, self.relatedness.stop)
        if too_short_to_judge(text, words):
            return []
        vector = comment_embedding(comment) if self.relatedness.embedder is not None else None
        score, features = self.relatedness.score(words, vector, comment.context)
        if score < REPORT_FLOOR:
            return []
        about_city = sigmoid(self.relatedness.site_logit(words, vector))
        detail = f"overlap {features[0]:.2f}, meaning {features[1]:.2f}, about the city {about_city:.2f}"
        return [self.tag(score, [Evidence(0, len(comment.text), "unrelated")], detail=detail)]
