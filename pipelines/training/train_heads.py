"""Trains the encoder heads and the cascade's combiner (``civicwatch train``, after the linear model).

Each file contributes a seeded sample of ``ENCODER_ROWS`` rows (the same rows leave-one-source-out
scores), embedded once by the frozen encoder and cached on disk by file sha256 and encoder digest.
Only categories that at least two sources label get a head: the combiner is fitted on out-of-source
scores (each source scored by a linear model and a head fitted without it), and with one source
there is no such score to fit on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from pipelines.heads import ENCODER_SHARE, HEADS_NAME, Heads, SentenceEncoder, _logit, pivot_map
from pipelines.textmodel import LinearModel
from pipelines.training.train import OWN_DATA, PIVOT_GRID, RECIPES, SEED, Corpus, card_path, read_rows, sha256

REPO = Path(__file__).resolve().parents[2]
ENCODER_ROWS = 1000
"""Rows per file the heads learn from: the first of the rows leave-one-source-out scores (2,000), so
the encoder embeds them once for both. The encoder runs at a few hundred comments a second on one core."""
LOSO_ROWS = 2000
HEAD_C = 1.0
HIGH = 1.01
"""Upper edge of the band: every comment above the lower edge goes to the encoder (a confident cheap
score is checked too; on ordinary comments those are the false alarms)."""
CALIBRATION_SETS = ("civic_requests", "civic_negatives")


def cascade_categories() -> list[str]:
    """Categories that two dev sources label (the project's own sets do not count: the heads' cascade
    is judged by leave-one-source-out on strangers' text)."""
    return [c for c, r in RECIPES.items() if len([n for n, _ in r["sources"] if n not in OWN_DATA]) >= 2]


def sample_index(n: int, k: int = ENCODER_ROWS) -> list[int]:
    """The first ``k`` rows of the seeded sample ``loso.cell_rows`` draws (``random.sample`` picks
    positions from n and its size alone)."""
    return (list(range(n)) if n <= LOSO_ROWS else random.Random(7).sample(range(n), LOSO_ROWS))[:k]


class Embeddings:
    """Encoder embeddings of each file's sampled rows, cached under ``.local/encoder``."""

    def __init__(self, encoder: SentenceEncoder, log: Callable[[str], Any] = print) -> None:
        self.encoder = encoder
        self.log = log
        self._files: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(row indices into the file, embeddings)."""
        if name not in self._files:
            rows = list(read_rows(name))
            idx = np.array(sample_index(len(rows)))
            path = REPO / ".local" / "encoder" / f"{name}-{sha256(name)[:16]}-{self.encoder.digest[:16]}-{len(idx)}.npy"
            if path.exists():
                vectors = np.load(path)
            else:
                started = time.time()
                vectors = self.encoder.embed([rows[i]["text"] for i in idx]).astype(np.float32)
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vectors)
                self.log(f"embedded {name}: {len(idx)} rows in {time.time() - started:.0f} s")
            self._files[name] = (idx, vectors)
        return self._files[name]


def _rows(
    corpus: Corpus, emb: Embeddings, category: str, exclude: frozenset[str] = frozenset()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings, labels and weights of a category's recipe (labelled sources weigh 1 each)."""
    recipe = RECIPES[category]
    xs, ys, ws = [], [], []
    specs: list[tuple[str, str | None]] = [*recipe["sources"], *((n, None) for n in recipe["negatives"])]
    for spec, label in specs:
        name, _, clean = spec.partition(":")
        if name in exclude:
            continue
        idx, vectors = emb.get(name)
        data = corpus.get(name)
        keep = np.ones(len(idx), dtype=bool)
        for lab in filter(None, clean.split("+")):
            keep &= data.labels[lab][idx] == 0
        y = data.labels[label][idx][keep] if label else np.zeros(int(keep.sum()), dtype=int)
        share = 1.0 if label else 0.5 if name in OWN_DATA else 0.3
        xs.append(vectors[keep])
        ys.append(y)
        ws.append(np.full(len(y), share / max(len(y), 1)))
    w = np.concatenate(ws)
    return np.vstack(xs), np.concatenate(ys), w * len(w) / w.sum()


def fit_head(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    clf = LogisticRegression(C=HEAD_C, max_iter=2000)
    clf.fit(X, y, sample_weight=w)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def _linear_scores(model: LinearModel, corpus: Corpus, name: str, idx: np.ndarray, category: str) -> np.ndarray:
    k = model.categories.index(category)
    out: np.ndarray = model.predict(corpus.get(name).X[idx])[:, k]
    return out


def _combiner(z: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic on the two logits, each source weighing the same; pivot = best mean per-source F1."""
    w = np.zeros(len(y))
    for g in np.unique(groups):
        w[groups == g] = 1.0 / (groups == g).sum()
    clf = LogisticRegression(C=1e4, max_iter=1000)
    clf.fit(z, y, sample_weight=w * len(w) / w.sum())
    coef = np.r_[clf.coef_[0], clf.intercept_[0]]
    prob = 1 / (1 + np.exp(-(z @ coef[:2] + coef[2])))
    f1s = [np.mean([f1_score(y[groups == g], prob[groups == g] >= t) for g in np.unique(groups)]) for t in PIVOT_GRID]
    return coef, float(PIVOT_GRID[int(np.argmax(f1s))])


def band_edges(model: LinearModel, texts: list[str], categories: list[str], share: float = ENCODER_SHARE) -> np.ndarray:
    """Per category, the lowest cheap score the encoder rechecks, set so that at most ``share`` of
    ordinary comments (residents' requests, the project's civic comments) reach it for any category."""
    scores, _ = model.predict_texts(texts)
    cols = [model.categories.index(c) for c in categories]
    s = scores[:, cols]
    low, high = 0.0, share
    for _ in range(30):  # bisection on the per-category tail share q: the union share grows with q
        q = (low + high) / 2
        edges = np.quantile(s, 1 - q, axis=0)
        if (s >= edges).any(1).mean() <= share:
            low = q
        else:
            high = q
    edges = np.quantile(s, 1 - low, axis=0)
    out: np.ndarray = np.c_[edges, np.full(len(cols), HIGH)]
    return out


def train_heads(
    encoder: SentenceEncoder,
    model: LinearModel,
    folds: dict[str, LinearModel],
    corpus: Corpus,
    log: Callable[[str], Any] = print,
) -> tuple[Heads, dict[str, Heads]]:
    """The shipped heads, and for every source a fold's heads fitted without it (for leave-one-source-out)."""
    started = time.time()
    emb = Embeddings(encoder, log)
    cats = cascade_categories()
    ordinary = [r["text"] for name in CALIBRATION_SETS for r in read_rows(name)]
    band = band_edges(model, ordinary, cats)
    sources = sorted({n for c in cats for n, _ in RECIPES[c]["sources"]})
    # out-of-source logits: per category, per labelled source
    oos: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {c: {} for c in cats}
    fold_w: dict[str, dict[str, tuple[np.ndarray, float]]] = {s: {} for s in sources}
    for c in cats:
        for name, label in RECIPES[c]["sources"]:
            w_c, b_c = fit_head(*_rows(corpus, emb, c, exclude=frozenset({name})))
            fold_w[name][c] = (w_c, b_c)
            idx, vectors = emb.get(name)
            z_lin = _logit(_linear_scores(folds.get(name, model), corpus, name, idx, c))
            z_enc = vectors @ w_c + b_c
            oos[c][name] = (np.c_[z_lin, z_enc], corpus.get(name).labels[label][idx])

    def combine(exclude: str | None) -> tuple[np.ndarray, np.ndarray]:
        coefs, pivots = [], []
        for c in cats:
            parts = [(n, v) for n, v in oos[c].items() if n != exclude]
            z = np.vstack([v[0] for _, v in parts])
            y = np.concatenate([v[1] for _, v in parts])
            groups = np.concatenate([np.full(len(v[1]), i) for i, (_, v) in enumerate(parts)])
            coef, pivot = _combiner(z, y, groups)
            coefs.append(coef)
            pivots.append(pivot)
        return np.array(coefs), np.array(pivots)

    full_w = [fit_head(*_rows(corpus, emb, c)) for c in cats]
    combine_all, pivot_all = combine(None)
    fold_combine = {name: combine(name) for name in sources}
    metrics: dict[str, Any] = {}
    for i, c in enumerate(cats):
        for name, (z, y) in oos[c].items():
            coefs, pivots = fold_combine[name]
            prob = 1 / (1 + np.exp(-(z @ coefs[i, :2] + coefs[i, 2])))
            metrics[f"{c}/{name}"] = {
                "rows": len(y),
                "linear_f1": round(float(f1_score(y, z[:, 0] >= 0)), 4),
                "cascade_f1_every_row": round(float(f1_score(y, pivot_map(prob, pivots[i]) >= 0.5)), 4),
            }
    card = {
        "what": "frozen sentence encoder + one logistic head per category on its embedding; the cascade re-scores "
        "comments whose linear score is in the band with a logistic on (linear logit, head logit)",
        "command": "civicwatch train",
        "encoder": {"name": encoder.name, "digest": encoder.digest},
        "rows_per_file": ENCODER_ROWS,
        "C": HEAD_C,
        "seed": SEED,
        "band": {c: [round(float(lo), 4), round(float(hi), 4)] for c, (lo, hi) in zip(cats, band, strict=True)},
        "band_rule": f"lower edge: at most {ENCODER_SHARE:.0%} of {', '.join(CALIBRATION_SETS)} rows reach the encoder",
        "combiner": "logistic on (linear logit, head logit) fitted on out-of-source scores, each source equal weight",
        "data": {n: {"sha256": sha256(n), "path": card_path(n)} for n in sorted({*sources, *CALIBRATION_SETS})},
        "leave_one_source_out": metrics,
        "leave_one_source_out_note": "model alone on each source's sampled rows, fitted without that source "
        "(linear model and head; the combiner too); the cascade applied to every row, not only the band. The "
        "full-pipeline numbers are in docs/QUALITY.md",
        "seconds": round(time.time() - started, 1),
    }
    dims = full_w[0][0].shape[0]
    heads = Heads(
        categories=tuple(cats),
        weights=np.stack([w for w, _ in full_w], axis=1).reshape(dims, len(cats)),
        bias=np.array([b for _, b in full_w], dtype=np.float32),
        combine=combine_all,
        pivot=pivot_all,
        band=band,
        card=card,
    )
    fold_heads: dict[str, Heads] = {}
    for name in sources:
        coefs, pivots = fold_combine[name]
        weights, bias = heads.weights.copy(), heads.bias.copy()
        for i, c in enumerate(cats):
            if c in fold_w[name]:
                weights[:, i], bias[i] = fold_w[name][c]
        fold_heads[name] = Heads(tuple(cats), weights, bias, coefs, pivots, band, {"without": name})
    log(f"heads: {metrics}")
    return heads, fold_heads


def train_cascade(model: LinearModel, out_dir: Path | None = None, log: Callable[[str], Any] = print) -> Heads | None:
    """Fit and save the encoder heads for ``model``; None (nothing written) when the encoder is not installed."""
    from pipelines.heads import MODEL_DIR, shipped
    from pipelines.training.loso import CachedEncoder, fold_models, load_encoder

    encoder = load_encoder()
    if encoder is None:
        log("encoder not installed (pipelines.encoder / onnxruntime): cascade heads not trained")
        return None
    corpus = Corpus()
    heads, _ = train_heads(CachedEncoder(encoder), model, fold_models(model, corpus, log), corpus, log)
    save_heads(heads, encoder, out_dir or MODEL_DIR)
    shipped.cache_clear()
    return heads


def save_heads(heads: Heads, encoder: Any, directory: Path) -> None:
    heads.save(directory)
    directory.joinpath(f"{HEADS_NAME}.md").write_text(model_card(heads, encoder), encoding="utf-8")


def model_card(heads: Heads, encoder: Any) -> str:
    """The human-readable card beside the heads: what they sit on, what they learned from, how they transfer."""
    card = heads.card
    info = getattr(encoder, "card", None) or {}
    lines = [
        f"# {HEADS_NAME}: encoder heads and the cascade",
        "",
        f"- Base encoder: `{encoder.name}` (digest `{encoder.digest}`), frozen; "
        f"licence: {info.get('licence') or info.get('license') or 'see pipelines/encoder.py and its card'}.",
        "- Heads: one logistic regression per category on the encoder's sentence embedding "
        f"(C={card['C']}, {card['rows_per_file']} seeded rows per file); categories: {', '.join(heads.categories)}.",
        f"- Cascade: {card['band_rule']}; band per category {card['band']}. Combiner: {card['combiner']}.",
        f"- Command: `{card['command']}` (seed {card['seed']}).",
        "",
        "## Data (sha256)",
        "",
        "| file | sha256 |",
        "|---|---|",
        *[f"| `{d['path']}` | `{d['sha256']}` |" for _, d in sorted(card["data"].items())],
        "",
        "## Leave-one-source-out (model alone, each source scored by heads fitted without it)",
        "",
        card["leave_one_source_out_note"],
        "",
        "| category / source | rows | linear F1 | cascade F1 |",
        "|---|---|---|---|",
        *[
            f"| {cell} | {m['rows']} | {m['linear_f1']:.3f} | {m['cascade_f1_every_row']:.3f} |"
            for cell, m in card["leave_one_source_out"].items()
        ],
        "",
    ]
    return "\n".join(lines)
