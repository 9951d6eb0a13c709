"""The shipped linear text model: hashed n-grams plus static sentence embeddings, one calibrated head per category.

Features are stateless (hashing) or a fixed table (``pipelines.embeddings``), so the model is just a
weight matrix: it ships as a compressed ``.npz`` (no pickle, nothing executable) with a JSON card
recording the training command, the data files and their sha256, the held-out metrics and the
calibration. Scores for every category are computed once per batch with one sparse product and
cached on each comment, so any detector can read its category's score for free; the comment's
embedding is cached beside them for 5.7.1.

The n-grams learn each source's vocabulary; the embeddings carry meaning across sources (an
insult phrased in words no training row used still lands near other insults). The model reads its
own light view of the text (``model_text``) so that its inputs do not move when the detectors'
normalisation rules change.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from murmurhash import hash_unicode

from pipelines.embeddings import EMBEDDING_NAME, StaticEmbedder, load_static

MODEL_DIR = Path(__file__).with_name("models")
MODEL_NAME = "civicwatch-linear"
CURRENT = f"{MODEL_NAME}.current"
"""Pointer file beside the models: the version the pipeline loads (``civicwatch train decisions`` writes
it on promotion; deleting it, or writing an older version into it, rolls back)."""
BASE_VERSION = "base"
"""The version of the model trained from the dev data (files without a version in their name)."""
N_WORD = 2**17
MAX_CHARS = 1500
"""The model reads the first 1,500 characters: enough for any comment's tone, bounded cost."""
EMBED_SCALE = 1.0
"""Weight of the (unit-length) embedding block beside the (unit-length) n-gram block."""
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"))
_RUNS = re.compile(r"(\w)\1{2,}")


class ModelError(Exception):
    """The shipped model files disagree with each other (e.g. weights trained with a table that is missing)."""


def model_text(text: str) -> str:
    """The model's view of a comment: NFKC, lowercase, invisible characters dropped, letter runs capped."""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2]).translate(_INVISIBLE).lower()
    return _RUNS.sub(r"\1\1", text)[:MAX_CHARS]


TOKEN_PATTERN = r"(?u)\b\w[\w']*\b|[!?]{2,}|[\U0001F300-\U0001FAFF]"
_FEATURE_TOKEN = re.compile(TOKEN_PATTERN)


class WordHasher:
    """Word 1-2grams hashed into ``n_features`` columns, rows scaled to unit length.

    The same matrix as scikit-learn's ``HashingVectorizer(analyzer="word", ngram_range=(1, 2),
    n_features=N_WORD, alternate_sign=False, norm="l2", token_pattern=TOKEN_PATTERN)``, which the
    shipped weights were first trained with: the same tokens, MurmurHash3 (x86, 32 bits, seed 0)
    of each n-gram's UTF-8 bytes through spaCy's own ``murmurhash`` package, column
    ``abs(hash) % n_features``, counts divided by the row's Euclidean norm. Without it the worker
    would import scikit-learn (most of a second) just to hash words. Character n-grams were dropped:
    with the embedding beside them they added no held-out or cross-validated F1 and cost twice the
    rest of the model's time.
    """

    def __init__(self, n_features: int = N_WORD) -> None:
        self.n_features = n_features

    def column(self, feature: str) -> int:
        """The column of one n-gram."""
        return abs(int(hash_unicode(feature))) % self.n_features

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        features: list[str] = []
        lengths: list[int] = []
        for text in texts:
            tokens = _FEATURE_TOKEN.findall(text.lower())
            before = len(features)
            features += tokens
            features += map(" ".join, pairwise(tokens))
            lengths.append(len(features) - before)
        n_rows = len(lengths)
        hashes = np.fromiter(map(hash_unicode, features), dtype=np.int64, count=len(features))
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        # One key per (row, column): sorting the keys sorts each row's columns, and a key's count is
        # how many times the row holds that n-gram (the matrix HashingVectorizer sums duplicates into).
        keys, counts = np.unique(rows * self.n_features + np.abs(hashes) % self.n_features, return_counts=True)
        indptr = np.zeros(n_rows + 1, dtype=np.int32)
        np.cumsum(np.bincount(keys // self.n_features, minlength=n_rows), out=indptr[1:])
        data = counts.astype(np.float64)
        if len(data):
            filled = np.diff(indptr) > 0
            norms = np.sqrt(np.add.reduceat(data * data, indptr[:-1][filled]))
            data /= np.repeat(norms, np.diff(indptr)[filled])
        return sp.csr_matrix((data, (keys % self.n_features).astype(np.int32), indptr), shape=(n_rows, self.n_features))


def featurizer() -> WordHasher:
    """The word n-gram block of the model's features."""
    return WordHasher(N_WORD)


def featurize(texts: Sequence[str], embedder: StaticEmbedder | None = None) -> sp.csr_matrix:
    """Features of texts already in the model's view (``model_text``): word n-grams, then the embedding."""
    return featurize_with(texts, embedder)[0]


def featurize_with(
    texts: Sequence[str], embedder: StaticEmbedder | None = None
) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """Features and, when an embedder is given, the texts' embeddings (reused by 5.7.1)."""
    blocks = [_featurizer().transform(texts)]
    vectors = None
    if embedder is not None:
        vectors = embedder.embed(texts)
        blocks.append(sp.csr_matrix(vectors * EMBED_SCALE))
    return sp.hstack(blocks, format="csr"), vectors


@dataclass(frozen=True)
class LinearModel:
    categories: tuple[str, ...]
    weights: np.ndarray  # (n_features, k) float32
    bias: np.ndarray  # (k,)
    platt: np.ndarray  # (k, 3): p = sigmoid(a * margin + b); pivot t maps to a score of 0.5
    card: dict[str, Any]
    embedder: StaticEmbedder | None = None

    @property
    def version(self) -> str:
        """Named in every tag the model helped decide (``attack@2+linear.<version>``)."""
        return str(self.card.get("version") or BASE_VERSION)

    def margins(self, texts: Sequence[str]) -> np.ndarray:
        """Raw margins (n, k) of raw texts, before Platt scaling: what recalibration works on."""
        views = [model_text(t) for t in texts]
        margin = np.asarray(_featurizer().transform(views) @ self.word_weights)
        if self.embedder is not None:
            margin = margin + (self.embedder.embed(views) * EMBED_SCALE) @ self.weights[N_WORD:]
        result: np.ndarray = margin + self.bias
        return result

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        """Scores in [0, 1] where 0.5 is each category's operating point (the pivot chosen in training).

        Platt scaling gives a probability; the monotone pivot then puts every category's decision
        point at 0.5, so one threshold in the policy file means the same thing for every clause.
        """
        return self.calibrate(np.asarray(X @ self.weights) + self.bias)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Platt scaling, then the monotone pivot map that puts each category's operating point at 0.5."""
        z = margin * self.platt[:, 0] + self.platt[:, 1]
        prob = 1.0 / (1.0 + np.exp(-z))
        pivot = np.clip(self.platt[:, 2], 1e-3, 1 - 1e-3)
        scores: np.ndarray = np.where(prob < pivot, 0.5 * prob / pivot, 0.5 + 0.5 * (prob - pivot) / (1 - pivot))
        return scores

    @cached_property
    def word_weights(self) -> np.ndarray:
        """The n-gram block in float64, the type the sparse product works in: converted once, not
        once per batch (the values and so the products are the same)."""
        return np.ascontiguousarray(self.weights[:N_WORD], dtype=np.float64)

    def predict_texts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores (n, k) and embeddings of raw texts; the same as ``predict(featurize(...))``, without
        building the stacked matrix (the dense block is multiplied on its own)."""
        views = [model_text(t) for t in texts]
        margin = np.asarray(_featurizer().transform(views) @ self.word_weights)
        vectors = None
        if self.embedder is not None:
            vectors = self.embedder.embed(views)
            margin = margin + (vectors * EMBED_SCALE) @ self.weights[N_WORD:]
        return self.calibrate(margin + self.bias), vectors

    def save(self, directory: Path = MODEL_DIR, version: str | None = None) -> None:
        """Write the model; with ``version``, as ``civicwatch-linear.<version>.*`` beside the others."""
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"{MODEL_NAME}.{version}" if version else MODEL_NAME
        np.savez_compressed(
            directory / f"{stem}.npz",
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            platt=self.platt.astype(np.float32),
        )
        card = {**self.card, "categories": list(self.categories)}
        (directory / f"{stem}.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


@lru_cache(maxsize=1)
def _featurizer() -> WordHasher:
    return featurizer()


def table_digest(embedder: StaticEmbedder) -> str:
    """Identifies the embedding table a model was trained with (its weights are meaningless with another)."""
    return hashlib.sha256(np.ascontiguousarray(embedder.table.astype(np.float16)).tobytes()).hexdigest()[:16]


_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def current_version(directory: Path = MODEL_DIR) -> str | None:
    """The version the pointer file names, or None (the base model)."""
    pointer = directory / CURRENT
    if not pointer.exists():
        return None
    version = pointer.read_text().strip()
    if version in ("", BASE_VERSION):
        return None
    if not _VERSION.fullmatch(version):
        raise ModelError(f"{pointer.name}: {version!r} is not a model version")
    return version


@lru_cache(maxsize=4)
def load_model(directory: str = str(MODEL_DIR), version: str | None = "current") -> LinearModel | None:
    """The shipped model, or None when it has not been trained (detectors then use rules only).

    ``version="current"`` follows the pointer file (``civicwatch-linear.current``), None loads the
    base model, any other string that version. Raises ``ModelError`` when the model was trained with
    the embedding table and that table is missing or different (silently scoring with wrong features
    would be worse than failing), or when the version named is missing.
    """
    if version == "current":
        version = current_version(Path(directory))
    stem = f"{MODEL_NAME}.{version}" if version else MODEL_NAME
    path = Path(directory) / f"{stem}.npz"
    card_path = Path(directory) / f"{stem}.json"
    if not path.exists() or not card_path.exists():
        if version:
            raise ModelError(f"model version {version!r} is missing from {directory}")
        return None
    card = json.loads(card_path.read_text())
    embedder = None
    wanted = card.get("features", {}).get("embedding")
    if wanted:
        embedder = load_static(Path(directory))
        if embedder is None and version:
            embedder = load_static()  # a version adapted into another directory reads the shipped table
        if embedder is None:
            raise ModelError(f"{path.name} needs the embedding table {EMBEDDING_NAME}.npz, which is missing")
        if table_digest(embedder) != wanted["digest"]:
            raise ModelError(f"{path.name} was trained with another {EMBEDDING_NAME} table: run `civicwatch train`")
    with np.load(path, allow_pickle=False) as data:
        weights = data["weights"].astype(np.float32)
        bias, platt = data["bias"], data["platt"]
    expected = N_WORD + (embedder.dims if embedder is not None else 0)
    if weights.shape != (expected, len(card["categories"])):
        raise ModelError(f"{path.name}: weights {weights.shape} do not fit these features: run `civicwatch train`")
    return LinearModel(
        categories=tuple(card["categories"]), weights=weights, bias=bias, platt=platt, card=card, embedder=embedder
    )


_ACTIVE: list[tuple[LinearModel, Any]] = []


@contextmanager
def using_model(model: LinearModel, cascade: Any = None) -> Iterator[LinearModel]:
    """Detectors score with ``model`` (and, when given, the cascade ``(heads, encoder)``) inside this block.

    How leave-one-source-out runs the full detector pipeline with each fold's model without writing
    files or touching the cached shipped model. Comments carry their scores, so reuse none across it.
    """
    _ACTIVE.append((model, cascade))
    try:
        yield model
    finally:
        _ACTIVE.pop()


def active_model() -> LinearModel | None:
    """The model detectors score with: the innermost ``using_model``, else the shipped one."""
    return _ACTIVE[-1][0] if _ACTIVE else load_model()


def active_cascade() -> Any:
    """``(heads, encoder)`` of the innermost ``using_model``, else the shipped ones (None: cascade off)."""
    if _ACTIVE:
        return _ACTIVE[-1][1]
    from pipelines.heads import shipped

    return shipped()


def prime(comments: Sequence[Any]) -> None:
    """Score every comment of a batch that has not been scored yet, in one product.

    With the cascade on, the comments the linear model is unsure about are scored again by the
    encoder's heads (``pipelines.heads``); ``_views["encoder"]`` records which ones.
    """
    model = active_model()
    if model is None:
        return
    todo = [c for c in comments if "model" not in c._views]
    if not todo:
        return
    texts = [c.text for c in todo]
    probs, vectors = model.predict_texts(texts)
    cascade = active_cascade()
    seen = np.zeros(len(todo), dtype=bool)
    if cascade is not None:
        heads, encoder = cascade
        probs, seen = heads.apply(model.categories, probs, texts, encoder)
    for i, (comment, row) in enumerate(zip(todo, probs, strict=True)):
        comment._views["model"] = dict(zip(model.categories, row.tolist(), strict=True))
        comment._views["encoder"] = bool(seen[i])
        if vectors is not None:
            comment._views["embedding"] = vectors[i]


def encoder_spans(text: str, category: str) -> list[tuple[int, int]]:
    """Spans the encoder head credits for ``category`` (empty when the cascade is off)."""
    cascade = active_cascade()
    if cascade is None:
        return []
    heads, encoder = cascade
    spans: list[tuple[int, int]] = heads.token_spans(encoder, text, category)
    return spans


def comment_embedding(comment: Any) -> np.ndarray | None:
    """The comment's sentence embedding (computed with its model scores), or None without the table."""
    if "model" not in comment._views:
        prime([comment])
    if "embedding" not in comment._views:
        embedder = load_static()
        comment._views["embedding"] = None if embedder is None else embedder.embed([model_text(comment.text)])[0]
    vector: np.ndarray | None = comment._views["embedding"]
    return vector


def model_score(comment: Any, category: str) -> float | None:
    """Calibrated probability of ``category`` for this comment, or None without a model."""
    if "model" not in comment._views:
        prime([comment])
    scores = comment._views.get("model")
    if not scores:
        return None
    value = scores.get(category)
    return float(value) if value is not None else None


_TOKEN = re.compile(r"(?u)\b\w[\w']*\b")


def top_features(text_norm: str, category: str, limit: int = 3) -> list[str]:
    """The words of a text that push hardest towards ``category`` (n-gram weights only)."""
    model = active_model()
    if model is None or category not in model.categories:
        return []
    k = model.categories.index(category)
    scored = []
    for token in set(_TOKEN.findall(text_norm[:MAX_CHARS])):
        if len(token) < 3:
            continue
        col = _featurizer().column(token)
        scored.append((float(model.weights[col, k]), token))
    scored.sort(reverse=True)
    return [t for w, t in scored[:limit] if w > 0.5]


def model_spans(text: str, category: str, limit: int = 3, model: LinearModel | None = None) -> list[tuple[int, int]]:
    """Character spans of the original ``text`` that carried the model's ``category`` margin.

    The margin is linear in its inputs, so it splits exactly over the words: each n-gram j adds
    ``w_j * x_j`` (its weight times its normalised count), and each word adds its WordPiece rows'
    share of the sentence embedding times the embedding weights (the embedding is the normalised sum
    of those rows). The spans are the words and word pairs that add the most, positive ones first;
    when nothing adds (the bias carried the score) the single strongest word is still named, so a
    flag that comes from the model always points at words.
    """
    model = model or active_model()
    if model is None or category not in model.categories:
        return []
    k = model.categories.index(category)
    matches = [m for m in _FEATURE_TOKEN.finditer(text) if m.start() < MAX_CHARS * 2]
    if not matches:
        stripped = text.strip()
        return [(text.index(stripped), text.index(stripped) + len(stripped))] if stripped else []
    words = [model_text(m.group()) for m in matches]
    row = _featurizer().transform([model_text(text)])
    x: dict[int, float] = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    hasher = _featurizer()
    seen: set[int] = set()

    def ngram(feature: str) -> float:
        col = hasher.column(feature)
        if col in seen:  # a repeated n-gram's contribution goes to its first occurrence
            return 0.0
        seen.add(col)
        return float(model.weights[col, k]) * x.get(col, 0.0)

    candidates: list[tuple[float, int, int]] = []
    word_part = [ngram(w) for w in words]
    if model.embedder is not None:
        emb = model.embedder
        ids = [emb.tokenizer.ids(w) for w in words]
        total = np.linalg.norm(emb.table[[i for group in ids for i in group]].sum(0)) if any(ids) else 0.0
        if total > 0:
            direction = model.weights[N_WORD:, k] * (EMBED_SCALE / total)
            word_part = [
                p + (float(emb.table[list(g)].sum(0) @ direction) if g else 0.0)
                for p, g in zip(word_part, ids, strict=True)
            ]
    for m, part in zip(matches, word_part, strict=True):
        candidates.append((part, m.start(), m.end()))
    for (a, b), (wa, wb) in zip(pairwise(matches), pairwise(words), strict=True):
        candidates.append((ngram(f"{wa} {wb}"), a.start(), b.end()))
    candidates.sort(key=lambda c: -c[0])
    chosen: list[tuple[int, int]] = []
    for value, start, end in candidates:
        if chosen and value <= 0:
            break
        if any(start < e and s < end for s, e in chosen):
            continue
        chosen.append((start, end))
        if len(chosen) == limit:
            break
    return sorted(chosen)
