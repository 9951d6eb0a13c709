"""Trains the shipped linear model from the labeled dev data: ``civicwatch train``.

Reproducible: fixed seeds, a fixed held-out fold chosen by hashing each row's id (one row in five),
and the data files' sha256 recorded in the model card. The held-out fold is never used for fitting
or calibration, so the numbers in the card and in docs/QUALITY.md are honest estimates; calibration
and the decision pivot come from cross-validation on the training folds.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import StratifiedKFold

from pipelines.normalize import normalize
from pipelines.textmodel import MODEL_DIR, LinearModel, featurize

REPO_ROOT = Path(__file__).resolve().parents[1]

# category -> (file, label) pairs it learns from, and files whose rows are taken as negatives.
RECIPES: dict[str, dict[str, Any]] = {
    "profane": {"sources": [("c3_globeandmail", "profane"), ("davidson", "profane")], "negatives": []},
    "discrimination": {
        "sources": [("ethos", "discrimination"), ("davidson", "discrimination")],
        "negatives": [],
    },
    "attack": {"sources": [("c3_globeandmail", "attack")], "negatives": []},
    "political": {"sources": [("politician_posts", "political")], "negatives": []},
    "commercial": {
        "sources": [("sms_spam", "commercial")],
        "negatives": ["c3_globeandmail", "ethos", "politician_posts"],
    },
    "safety": {"sources": [("ethos", "safety")], "negatives": []},
}
SEED = 13
C = 4.0


def dev_dir() -> Path:
    return Path(os.environ.get("CIVICWATCH_SHARED", REPO_ROOT.parent / "shared")) / "data" / "dev"


def is_holdout(row_id: str) -> bool:
    """One row in five, chosen by id, is held out from every fit and calibration."""
    return hashlib.sha1(row_id.encode()).digest()[0] % 5 == 0


def read_rows(name: str) -> Iterator[dict[str, Any]]:
    with (dev_dir() / f"{name}.jsonl").open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def sha256(name: str) -> str:
    return hashlib.sha256((dev_dir() / f"{name}.jsonl").read_bytes()).hexdigest()


def _dataset(recipe: dict[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    texts: list[str] = []
    labels: list[int] = []
    weights: list[float] = []
    held: list[bool] = []
    groups: list[tuple[str, str | None]] = [(f, lab) for f, lab in recipe["sources"]]
    groups += [(f, None) for f in recipe["negatives"]]
    for name, label in groups:
        rows = list(read_rows(name))
        w = 10_000 / max(len(rows), 1)  # each source counts the same, whatever its size
        for row in rows:
            texts.append(normalize(row["text"]).text)
            labels.append(int(row["labels"].get(label, 0)) if label else 0)
            weights.append(w if label else w * 0.5)
            held.append(is_holdout(row["id"]))
    return texts, np.array(labels), np.array(weights), np.array(held)


def _platt(margins: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=1e6, solver="lbfgs")
    lr.fit(margins.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def train_category(
    category: str, log: Any = print
) -> tuple[np.ndarray, float, tuple[float, float, float], dict[str, Any]]:
    recipe = RECIPES[category]
    texts, y, w, held = _dataset(recipe)
    X = featurize(texts)
    train = ~held
    Xt, yt, wt = X[train], y[train], w[train]
    margins = np.zeros(int(train.sum()))
    for fit_idx, val_idx in StratifiedKFold(3, shuffle=True, random_state=SEED).split(np.zeros(len(yt)), yt):
        clf = LogisticRegression(C=C, solver="liblinear", max_iter=2000)
        clf.fit(Xt[fit_idx], yt[fit_idx], sample_weight=wt[fit_idx])
        margins[val_idx] = clf.decision_function(Xt[val_idx])
    a, b = _platt(margins, yt)
    probs = 1 / (1 + np.exp(-(a * margins + b)))
    grid = np.linspace(0.05, 0.95, 91)
    f1s = [f1_score(yt, probs >= t, zero_division=0) for t in grid]
    pivot = float(grid[int(np.argmax(f1s))])
    clf = LogisticRegression(C=C, solver="liblinear", max_iter=2000)
    clf.fit(Xt, yt, sample_weight=wt)
    metrics: dict[str, Any] = {"pivot": round(pivot, 3), "cv_f1_train": round(float(max(f1s)), 4)}
    for name, label in recipe["sources"]:
        rows = [r for r in read_rows(name) if is_holdout(r["id"])]
        if not rows:
            continue
        Xh = featurize([normalize(r["text"]).text for r in rows])
        yh = np.array([int(r["labels"].get(label, 0)) for r in rows])
        ph = 1 / (1 + np.exp(-(a * clf.decision_function(Xh) + b)))
        pred = ph >= pivot
        metrics[f"holdout:{name}"] = {
            "precision": round(float(precision_score(yh, pred, zero_division=0)), 4),
            "recall": round(float(recall_score(yh, pred, zero_division=0)), 4),
            "f1": round(float(f1_score(yh, pred, zero_division=0)), 4),
            "support": int(yh.sum()),
            "rows": len(rows),
        }
    log(f"{category}: {metrics}")
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), (a, b, pivot), metrics


def train_all(categories: list[str] | None = None, out_dir: Path = MODEL_DIR) -> LinearModel:
    cats = categories or list(RECIPES)
    started = time.time()
    columns, biases, platts, cards = [], [], [], {}
    for cat in cats:
        coef, bias, platt, metrics = train_category(cat)
        columns.append(coef)
        biases.append(bias)
        platts.append(platt)
        cards[cat] = metrics
    files = sorted(
        {f for c in cats for f, _ in RECIPES[c]["sources"]} | {f for c in cats for f in RECIPES[c]["negatives"]}
    )
    card = {
        "model": "hashed word 1-2grams + char_wb 2-4grams (2x131072), logistic regression per category",
        "command": "civicwatch train",
        "seed": SEED,
        "C": C,
        "holdout": "rows whose sha1(id) first byte % 5 == 0 are never used for fitting or calibration",
        "data": {f: {"sha256": sha256(f), "path": f"shared/data/dev/{f}.jsonl"} for f in files},
        "recipes": {c: RECIPES[c] for c in cats},
        "metrics": cards,
        "python": sys.version.split()[0],
        "seconds": round(time.time() - started, 1),
    }
    model = LinearModel(
        categories=tuple(cats),
        weights=np.stack(columns, axis=1),
        bias=np.array(biases, dtype=np.float32),
        platt=np.array(platts, dtype=np.float32),
        card=card,
    )
    model.save(out_dir)
    return model
