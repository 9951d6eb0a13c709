"""Contextual heads on the frozen sentence encoder, and the cascade that decides when to run it.

The linear model (``pipelines.textmodel``) scores every comment for almost nothing; the encoder
(``pipelines.encoder``, MiniLM through onnxruntime) costs far more, so it only sees comments whose
cheap score for a category falls in that category's uncertain band. For those, the final score is a
calibrated logistic on the two logits (the linear model's and the encoder head's), fitted on
out-of-source scores: each source's rows scored by a linear model and a head fitted without that
source, which is what the cascade will face on comments from strangers. The band's lower edge is
set on text that never trains (residents' requests, the project's civic sets) so the encoder sees a
bounded share of ordinary comments.

The encoder stays frozen; only the heads (one logistic per category on its sentence embedding) are
trained, with scikit-learn, by ``civicwatch train``. Without the encoder or its heads the cascade is
off and the linear model's scores stand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_DIR = Path(__file__).with_name("models")
HEADS_NAME = "civicwatch-heads"
ENCODER_SHARE = 0.20
"""At most this share of ordinary comments goes to the encoder (the band's lower edge is set for it)."""


class SentenceEncoder(Protocol):
    name: str
    digest: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    out: np.ndarray = np.log(p / (1 - p))
    return out


def pivot_map(prob: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    """Probability to score with each category's operating point at 0.5 (as ``LinearModel.calibrate``)."""
    pivot = np.clip(pivot, 1e-3, 1 - 1e-3)
    out: np.ndarray = np.where(prob < pivot, 0.5 * prob / pivot, 0.5 + 0.5 * (prob - pivot) / (1 - pivot))
    return out


@dataclass(frozen=True)
class Heads:
    """Per cascade category: encoder head (w, b), combiner (a_lin, a_enc, c), pivot, band [low, high)."""

    categories: tuple[str, ...]
    weights: np.ndarray  # (dims, k)
    bias: np.ndarray  # (k,)
    combine: np.ndarray  # (k, 3)
    pivot: np.ndarray  # (k,)
    band: np.ndarray  # (k, 2)
    card: dict[str, Any] = field(default_factory=dict)

    def combined(self, cheap: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Final scores (n, k) from the linear model's scores for these categories and the embeddings."""
        z_enc = vectors @ self.weights + self.bias
        z = self.combine[:, 0] * _logit(cheap) + self.combine[:, 1] * z_enc + self.combine[:, 2]
        return pivot_map(1 / (1 + np.exp(-z)), self.pivot)

    def in_band(self, cheap: np.ndarray) -> np.ndarray:
        """(n, k) mask: which categories of which comments the linear model leaves to the encoder."""
        out: np.ndarray = (cheap >= self.band[:, 0]) & (cheap < self.band[:, 1])
        return out

    def apply(
        self, categories: Sequence[str], scores: np.ndarray, texts: Sequence[str], encoder: SentenceEncoder
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores with the encoder's verdict where the band asks for it, and which rows it saw."""
        cols = [categories.index(c) for c in self.categories]
        cheap = scores[:, cols]
        band = self.in_band(cheap)
        rows = np.flatnonzero(band.any(1))
        out = scores.copy()
        if len(rows):
            vectors = encoder.embed([texts[int(i)] for i in rows])
            final = self.combined(cheap[rows], vectors)
            for j, col in enumerate(cols):
                hit = band[rows, j]
                out[rows[hit], col] = final[hit, j]
        seen = np.zeros(len(texts), dtype=bool)
        seen[rows] = True
        return out, seen

    def token_spans(self, encoder: Any, text: str, category: str, limit: int = 3) -> list[tuple[int, int]]:
        """Words of ``text`` whose encoder states push the head towards ``category`` (w . h_i per token).

        The sentence embedding is the normalised mean of the token states, so the head's logit is a
        positive multiple of the sum of ``w . h_i``: each token's share. Sub-word pieces are widened
        to the whole word they belong to in the original text.
        """
        if category not in self.categories or not hasattr(encoder, "token_states"):
            return []
        k = self.categories.index(category)
        states, offsets = encoder.token_states(text)
        if not len(offsets):
            return []
        sign = 1.0 if self.combine[k, 1] >= 0 else -1.0
        contributions = sign * (np.asarray(states, dtype=np.float32) @ self.weights[:, k])
        chosen: list[tuple[int, int]] = []
        for i in np.argsort(-contributions):
            start, end = offsets[int(i)]
            if contributions[i] <= 0 or end <= start:
                continue
            while start > 0 and text[start - 1].isalnum():
                start -= 1
            while end < len(text) and text[end].isalnum():
                end += 1
            if any(start < e and s < end for s, e in chosen):
                continue
            chosen.append((start, end))
            if len(chosen) == limit:
                break
        return sorted(chosen)

    def save(self, directory: Path = MODEL_DIR) -> None:
        np.savez_compressed(
            directory / f"{HEADS_NAME}.npz",
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            combine=self.combine.astype(np.float32),
            pivot=self.pivot.astype(np.float32),
            band=self.band.astype(np.float32),
        )
        card = {**self.card, "categories": list(self.categories)}
        (directory / f"{HEADS_NAME}.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


def read_heads(directory: Path = MODEL_DIR) -> Heads | None:
    path, card_path = directory / f"{HEADS_NAME}.npz", directory / f"{HEADS_NAME}.json"
    if not path.exists() or not card_path.exists():
        return None
    card = json.loads(card_path.read_text())
    with np.load(path, allow_pickle=False) as data:
        return Heads(
            categories=tuple(card["categories"]),
            weights=data["weights"],
            bias=data["bias"],
            combine=data["combine"],
            pivot=data["pivot"],
            band=data["band"],
            card=card,
        )


@lru_cache(maxsize=1)
def shipped() -> tuple[Heads, SentenceEncoder] | None:
    """The shipped heads with the encoder they were trained on, or None (cascade off).

    Off when the encoder cannot load (no onnxruntime, no weights) or is not the one the heads were
    trained on: heads read with another encoder's embeddings would score noise.
    """
    heads = read_heads()
    if heads is None:
        return None
    try:
        from pipelines.encoder import load_encoder  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    encoder = load_encoder()
    if encoder is None or encoder.digest != heads.card.get("encoder", {}).get("digest"):
        return None
    return heads, encoder


def encoder_share(seen: np.ndarray) -> float:
    return float(seen.mean()) if len(seen) else 0.0
