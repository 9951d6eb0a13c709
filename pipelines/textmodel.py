"""The shipped linear text model: hashed n-gram features, one calibrated logistic head per category.

Features are stateless (hashing), so the model is just a weight matrix: it ships as a compressed
``.npz`` (no pickle, nothing executable) with a JSON card recording the training command, the data
files and their sha256, the held-out metrics and the calibration. Scores for every category are
computed once per batch with one sparse product and cached on each comment, so any detector can
read its category's probability for free.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from pipelines.normalize import normalize

MODEL_DIR = Path(__file__).with_name("models")
MODEL_NAME = "civicwatch-linear"
N_WORD = 2**17
N_CHAR = 2**17
MAX_CHARS = 1500
"""The model reads the first 1,500 characters: enough for any comment's tone, bounded cost."""


def featurizers() -> tuple[HashingVectorizer, HashingVectorizer]:
    word = HashingVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        n_features=N_WORD,
        alternate_sign=False,
        norm="l2",
        token_pattern=r"(?u)\b\w[\w']*\b|[!?]{2,}|[\U0001F300-\U0001FAFF]",
    )
    char = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=N_CHAR, alternate_sign=False, norm="l2")
    return word, char


def featurize(texts: Sequence[str]) -> sp.csr_matrix:
    """Features of already-normalised texts (see ``pipelines.normalize``)."""
    word, char = _featurizers()
    return sp.hstack([word.transform(texts), char.transform(texts)], format="csr")


@dataclass(frozen=True)
class LinearModel:
    categories: tuple[str, ...]
    weights: np.ndarray  # (n_features, k) float32
    bias: np.ndarray  # (k,)
    platt: np.ndarray  # (k, 3): p = sigmoid(a * margin + b); pivot t maps to a score of 0.5
    card: dict[str, Any]

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        """Scores in [0, 1] where 0.5 is each category's F1-optimal boundary found in training.

        Platt scaling gives a probability; the monotone pivot then puts every category's decision
        point at 0.5, so one threshold in the policy file means the same thing for every clause.
        """
        margin = np.asarray(X @ self.weights) + self.bias
        z = margin * self.platt[:, 0] + self.platt[:, 1]
        prob = 1.0 / (1.0 + np.exp(-z))
        pivot = np.clip(self.platt[:, 2], 1e-3, 1 - 1e-3)
        scores: np.ndarray = np.where(prob < pivot, 0.5 * prob / pivot, 0.5 + 0.5 * (prob - pivot) / (1 - pivot))
        return scores

    def save(self, directory: Path = MODEL_DIR) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / f"{MODEL_NAME}.npz",
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            platt=self.platt.astype(np.float32),
        )
        card = {**self.card, "categories": list(self.categories)}
        (directory / f"{MODEL_NAME}.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


@lru_cache(maxsize=1)
def _featurizers() -> tuple[HashingVectorizer, HashingVectorizer]:
    return featurizers()


@lru_cache(maxsize=1)
def load_model(directory: str = str(MODEL_DIR)) -> LinearModel | None:
    """The shipped model, or None when it has not been trained (detectors then use rules only)."""
    path = Path(directory) / f"{MODEL_NAME}.npz"
    card_path = Path(directory) / f"{MODEL_NAME}.json"
    if not path.exists() or not card_path.exists():
        return None
    card = json.loads(card_path.read_text())
    with np.load(path, allow_pickle=False) as data:
        return LinearModel(
            categories=tuple(card["categories"]),
            weights=data["weights"].astype(np.float32),
            bias=data["bias"],
            platt=data["platt"],
            card=card,
        )


def prime(comments: Sequence[Any]) -> None:
    """Score every comment of a batch that has not been scored yet, in one product."""
    model = load_model()
    if model is None:
        return
    todo = [c for c in comments if "model" not in c._views]
    if not todo:
        return
    texts = [c.view("norm", normalize).text[:MAX_CHARS] for c in todo]
    probs = model.predict(featurize(texts))
    for comment, row in zip(todo, probs, strict=True):
        comment._views["model"] = dict(zip(model.categories, row.tolist(), strict=True))


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
    """The words of a text that push hardest towards ``category`` (used as evidence)."""
    model = load_model()
    if model is None or category not in model.categories:
        return []
    k = model.categories.index(category)
    scored = []
    for token in set(_TOKEN.findall(text_norm[:MAX_CHARS])):
        if len(token) < 3:
            continue
        col = abs(murmurhash3_32(token, seed=0)) % N_WORD
        scored.append((float(model.weights[col, k]), token))
    scored.sort(reverse=True)
    return [t for w, t in scored[:limit] if w > 0.5]
