"""Leave-one-source-out: the number that travels to comments from sources the model never saw.

For every (category, source) cell where a source labels a category, the category's head is fitted
without that source (its rows leave the positives and the borrowed negatives alike), and a seeded
sample of that source's rows is scored by the full detector pipeline with that fold's model, beside
alt-profanity-check and better-profanity on the same rows and beside the model shipped before this
work (commit ``BEFORE_COMMIT``), twice: as it shipped, and with its own recipe refitted without the
cell's source, so both sides of the comparison are leave-one-source-out (both scored on the same rows
on every run, under today's rules, and recorded in ``docs/loso_before.json``). A category no other
source labels is scored with its rules alone: there is nothing to learn from.

False alarms come from files that never train: the residents' requests (per category and per
subsource) and the project's ordinary city comments, scored with the model fitted on everything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.heads import HEADS_NAME
from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import MODEL_DIR, MODEL_NAME, LinearModel, load_model, using_model
from pipelines.training.anchors import alt_profanity_check, better_profanity
from pipelines.training.evaluate import Counts, evaluate_rows, read_jsonl
from pipelines.training.train import OWN_DATA, RECIPES, Corpus, data_path, dev_dir, sha256, train_category
from pipelines.types import CommentInput

REPO = Path(__file__).resolve().parents[2]
LOSO_SAMPLE = 2000
BEFORE_COMMIT = "688d0cc"
BEFORE_PATH = REPO / "docs" / "loso_before.json"
CIVIC_FILE = "civic_requests"
ORDINARY_FILE = REPO / "tests" / "data" / "ordinary_city.jsonl"
ANCHOR_FACTORIES: dict[str, Callable[[], Any]] = {
    "alt-profanity-check": alt_profanity_check,
    "better-profanity": better_profanity,
}


def cells() -> list[tuple[str, str]]:
    """Every (category, dev source) pair where the source labels the category, in recipe order; the
    project's own training sets are never scored (written by the same hands, they would flatter)."""
    return [
        (cat, str(name)) for cat, recipe in RECIPES.items() for name, _ in recipe["sources"] if name not in OWN_DATA
    ]


def cell_rows(source: str, category: str, sample: int = LOSO_SAMPLE) -> list[dict[str, Any]]:
    """A seeded sample of the source's rows that label the category (all rows: the fold never saw them)."""
    rows = [r for r in read_jsonl(data_path(source)) if category in r.get("labels", {})]
    if len(rows) > sample:
        rows = random.Random(7).sample(rows, sample)
    return rows


def fold_model(full: LinearModel, corpus: Corpus, source: str, log: Any = print) -> LinearModel:
    """``full`` with every head that learns from ``source`` refitted without it (cached under ``.local/folds``
    by the full model's weights and the source's sha256: the fits are most of leave-one-source-out's time)."""
    digest = hashlib.sha1(np.ascontiguousarray(full.weights).tobytes()).hexdigest()[:16]
    path = REPO / ".local" / "folds" / f"{digest}-{source}-{sha256(source)[:16]}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            weights, bias, platt = full.weights.copy(), data["bias"], data["platt"]
            for k in data["refit"].tolist():
                weights[:, k] = data[f"w{k}"]
    else:
        weights, bias, platt = full.weights.copy(), full.bias.copy(), full.platt.copy()
        refit = []
        for k, category in enumerate(full.categories):
            if source not in {name for name, _ in RECIPES[category]["sources"]}:
                continue
            coef, b, calibration, _ = train_category(category, corpus, log, exclude=frozenset({source}))
            weights[:, k], bias[k], platt[k] = coef, b, calibration
            refit.append(k)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"bias": bias, "platt": platt, "refit": np.array(refit, dtype=int)}
        arrays.update({f"w{k}": weights[:, k] for k in refit})
        np.savez(path, **arrays)
    return replace(full, weights=weights, bias=bias, platt=platt, card={**full.card, "without": source})


def score(
    pipeline: PolicyPipeline, model: LinearModel, rows: list[dict[str, Any]], category: str, cascade: Any = None
) -> Counts:
    """The full pipeline's verdict for ``category`` on ``rows`` with ``model`` (and a cascade, when given)."""
    with using_model(model, cascade):
        report = evaluate_rows(pipeline, rows, "", "")
    return report.categories[category]


def anchor_flags(name: str, source: str, rows: list[dict[str, Any]]) -> list[bool] | None:
    """An anchor's verdict on each row, cached on disk by file sha256 and sample (better-profanity
    takes minutes on a few thousand long comments, and its answer never changes)."""
    path = REPO / ".local" / "anchors" / f"{name}-{source}-{sha256(source)[:16]}-{len(rows)}.json"
    if path.exists():
        flags: list[bool] = json.loads(path.read_text())
        return flags
    predictor = ANCHOR_FACTORIES[name]()
    if predictor is None:
        return None
    flags = [flag for flag, _ in predictor([r["text"] for r in rows])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(flags))
    return flags


def anchor_f1(name: str, source: str, rows: list[dict[str, Any]], category: str) -> float | None:
    flags = anchor_flags(name, source, rows)
    if flags is None:
        return None
    counts = Counts()
    for row, flag in zip(rows, flags, strict=True):
        counts.add(row["labels"][category], flag, float(flag))
    return counts.f1


def before_model(cache: Path = REPO / ".local" / "before") -> LinearModel | None:
    """The model shipped at ``BEFORE_COMMIT``, read from git (None outside a clone)."""
    cache.mkdir(parents=True, exist_ok=True)
    for ext in (".npz", ".json"):
        target = cache / f"{MODEL_NAME}{ext}"
        if target.exists():
            continue
        try:
            blob = subprocess.run(
                ["git", "show", f"{BEFORE_COMMIT}:pipelines/models/{MODEL_NAME}{ext}"],
                cwd=REPO,
                capture_output=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        target.write_bytes(blob)
    return _load_beside_tables(cache)


def _load_beside_tables(directory: Path) -> LinearModel | None:
    """A model written without its embedding table, loaded with a copy of the shipped one beside it (the
    before model's table is the same file: its digest is checked on load)."""
    for table in MODEL_DIR.glob("minilm-static.*"):
        copy = directory / table.name
        if not copy.exists():
            copy.write_bytes(table.read_bytes())
    return load_model(str(directory))


BEFORE_FOLDS_SCRIPT = """
import copy, sys
from pathlib import Path
from pipelines import train

shared = train.Corpus()
train.Corpus = lambda: shared  # one featurisation for every fold
base = copy.deepcopy(train.RECIPES)
for source in sys.argv[2:]:
    recipes = copy.deepcopy(base)
    for r in recipes.values():
        r["sources"] = [s for s in r["sources"] if s[0] != source]
        r["negatives"] = [n for n in r["negatives"] if n != source]
    train.RECIPES.clear()
    train.RECIPES.update(recipes)
    out = Path(sys.argv[1]) / source
    out.mkdir(parents=True, exist_ok=True)
    train.train_all([c for c, r in recipes.items() if r["sources"]], out_dir=out, log=lambda m: None)
"""
"""Run inside a checkout of ``BEFORE_COMMIT`` with that commit's own code: its recipe, refitted once per
source it trained on, without that source (a category left with no source gets no head: rules alone)."""


def before_sources(old: LinearModel) -> list[str]:
    """The dev sources the before model was fitted on (its card names every training file)."""
    scored = {source for _, source in cells()}
    return sorted(name for name in old.card.get("data", {}) if name in scored)


def before_fold_models(
    old: LinearModel, cache: Path = REPO / ".local" / "before-folds", log: Any = print
) -> dict[str, LinearModel]:
    """The before recipe refitted without each source it trained on, by that commit's own code.

    'Before' as shipped saw four fifths of these sources; scored on them, it is an in-source number set
    against our out-of-source one. Its code is taken from git (``git archive``) and run as it was, on the
    same dev files, so the refit is its recipe and not a reimplementation of it.
    """
    sources = before_sources(old)
    todo = [s for s in sources if not (cache / s / f"{MODEL_NAME}.npz").exists()]
    if todo:
        src = cache / "src"
        if not (src / "pipelines").exists():
            src.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "archive", "--format=tar", BEFORE_COMMIT], cwd=REPO, capture_output=True, check=True
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(src, filter="data")
        log(f"refitting the {BEFORE_COMMIT} recipe without each of {', '.join(todo)}")
        env = {**os.environ, "PYTHONPATH": str(src), "CIVICWATCH_SHARED": str(dev_dir().parents[1])}
        subprocess.run([sys.executable, "-c", BEFORE_FOLDS_SCRIPT, str(cache), *todo], cwd=src, env=env, check=True)
    models = {source: _load_beside_tables(cache / source) for source in sources}
    return {source: model for source, model in models.items() if model is not None}


def _counts(c: Counts) -> dict[str, Any]:
    return {
        "precision": round(c.precision, 4),
        "recall": round(c.recall, 4),
        "f1": round(c.f1, 4),
        "support": c.support,
    }


def fold_models(full: LinearModel, corpus: Corpus, log: Any = print) -> dict[str, LinearModel]:
    """For every source that labels a category, ``full`` with that source's heads refitted without it."""
    return {source: fold_model(full, corpus, source, log) for source in dict.fromkeys(s for _, s in cells())}


def load_encoder() -> Any:
    """The frozen encoder, or None when it (or onnxruntime) is not installed: the cascade is then off."""
    try:
        from pipelines.encoder import load_encoder as load  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return load()


class CachedEncoder:
    """The encoder with a memory of texts it has embedded: the folds score the same rows again and again."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.name, self.digest = encoder.name, encoder.digest
        self._seen: dict[str, np.ndarray] = {}
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._seen))
        if todo:
            for text, vector in zip(todo, self.encoder.embed(todo), strict=True):
                self._seen[text] = vector
        self.calls += len(texts)
        return np.stack([self._seen[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def token_states(self, text: str) -> Any:
        return self.encoder.token_states(text)


def run_loso(
    sample: int = LOSO_SAMPLE, log: Any = print, model_dir: Path = MODEL_DIR, heads_out: Path | None = None
) -> dict[str, Any]:
    """Every cell's fold F1 (linear model, and the cascade when the encoder is there), the anchors' and the
    before model's on the same rows, and the false alarms."""
    started = time.time()
    full = load_model(str(model_dir))
    if full is None:
        raise RuntimeError("no shipped model: run `civicwatch train` first")
    pipeline = PolicyPipeline()
    corpus = Corpus()
    before_numbers = json.loads(BEFORE_PATH.read_text()) if BEFORE_PATH.exists() else {}
    old: LinearModel | None = None
    old_folds: dict[str, LinearModel] | None = None
    folds = fold_models(full, corpus, log=lambda _m: None)
    encoder = load_encoder()
    ships = heads_out is not None or (model_dir / f"{HEADS_NAME}.npz").exists()
    cascade: dict[str, tuple[Any, CachedEncoder]] = {}
    shipped_cascade = None
    if encoder is not None:
        from pipelines.training.train_heads import train_heads

        cached = CachedEncoder(encoder)
        heads, fold_heads = train_heads(cached, full, folds, corpus, log)
        if heads_out is not None:  # the heads ``civicwatch train`` ships, from the same folds
            from pipelines.training.train_heads import save_heads

            save_heads(heads, encoder, heads_out)
        cascade = {name: (h, cached) for name, h in fold_heads.items()}
        shipped_cascade = (heads, cached)
    results: list[dict[str, Any]] = []
    for category, source in cells():
        rows = cell_rows(source, category, sample)
        key = f"{category}/{source}/{sha256(source)[:16]}/{len(rows)}"
        # scored again on every run, so 'before' is under today's rules; the file is the record for a copy
        # without git history, where the before model cannot be read
        old = old or before_model()
        if old is not None:
            old_folds = old_folds if old_folds is not None else before_fold_models(old, log=log)
            refit = old_folds.get(source)
            before_numbers[key] = _counts(score(pipeline, old, rows, category))
            # a source the before model never saw: as shipped, it is already out of source
            before_numbers[f"loso:{key}"] = (
                before_numbers[key] if refit is None else _counts(score(pipeline, refit, rows, category))
            )
        before, before_loso = before_numbers.get(key), before_numbers.get(f"loso:{key}")
        cell = {
            "category": category,
            "source": source,
            "rows": len(rows),
            "positives": sum(r["labels"][category] for r in rows),
            "loso": _counts(score(pipeline, folds[source], rows, category)),
            "before": before,
            "before_loso": before_loso,
            "rules_only": bool(all(n == source for n, _ in RECIPES[category]["sources"])),
            "anchors": {name: anchor_f1(name, source, rows, category) for name in ANCHOR_FACTORIES},
        }
        if source in cascade and category in cascade[source][0].categories:
            cell["cascade"] = _counts(score(pipeline, folds[source], rows, category, cascade[source]))
        log(
            f"loso {category}/{source}: {cell['loso']['f1']:.3f} cascade {cell.get('cascade')} (before "
            f"{before and before['f1']}, its recipe out of source {before_loso and before_loso['f1']}) "
            f"{cell['anchors']}"
        )
        results.append(cell)
    if old is not None:
        BEFORE_PATH.write_text(json.dumps(before_numbers, indent=2, sort_keys=True) + "\n")
    # the headline is what ships: the cascade's numbers count only when its heads are in the model directory
    after = [c.get("cascade", c["loso"])["f1"] if ships else c["loso"]["f1"] for c in results]
    linear = [c["loso"]["f1"] for c in results]
    measured = [c.get("cascade", c["loso"])["f1"] for c in results]
    prior = [c["before"]["f1"] for c in results if c["before"] is not None]
    prior_loso = [c["before_loso"]["f1"] for c in results if c["before_loso"] is not None]
    return {
        "sample": sample,
        "cells": results,
        "encoder": None if encoder is None else {"name": encoder.name, "digest": encoder.digest},
        "macro_f1": round(float(np.mean(after)), 4),
        "macro_f1_linear": round(float(np.mean(linear)), 4),
        "macro_f1_cascade": round(float(np.mean(measured)), 4) if encoder is not None else None,
        "cascade_ships": ships and encoder is not None,
        "macro_f1_before": round(float(np.mean(prior)), 4) if len(prior) == len(results) else None,
        "macro_f1_before_loso": round(float(np.mean(prior_loso)), 4) if len(prior_loso) == len(results) else None,
        "false_alarms": false_alarms(pipeline, full, old or before_model(), shipped_cascade if ships else None),
        "seconds": round(time.time() - started, 1),
    }


def false_alarms(
    pipeline: PolicyPipeline, model: LinearModel, old: LinearModel | None, cascade: Any = None
) -> dict[str, Any]:
    """Share of rows flagged per category on sets that never train, for the shipped and the before model,
    and the share of them the encoder saw."""
    civic = list(read_jsonl(data_path(CIVIC_FILE)))
    ordinary = list(read_jsonl(ORDINARY_FILE))
    out: dict[str, Any] = {}
    for label, m, chain in (("after", model, cascade), ("before", old, None)):
        if m is None:
            continue
        with using_model(m, chain):
            pipeline.forget()
            seen_before = chain[1].calls if chain is not None else 0
            civic_flags = [set(r.flags) for r in pipeline.classify_batch([CommentInput(r["text"]) for r in civic])]
            ordinary_flags = [
                set(r.flags)
                for r in pipeline.classify_batch(
                    [CommentInput(r["text"], context=r.get("context"), language=r.get("lang")) for r in ordinary]
                )
            ]
            encoder_rows = (chain[1].calls - seen_before) if chain is not None else None
        subsources = sorted({str(r["orig"]["subsource"]) for r in civic})
        by_sub: dict[str, dict[str, Any]] = {}
        for sub in subsources:
            idx = [i for i, r in enumerate(civic) if r["orig"]["subsource"] == sub]
            by_sub[sub] = {"rows": len(idx), **_shares([civic_flags[i] for i in idx])}
        out[label] = {
            "civic_requests": {"rows": len(civic), **_shares(civic_flags)},
            "civic_requests_by_subsource": by_sub,
            "ordinary_city": {"rows": len(ordinary), **_shares(ordinary_flags)},
            "encoder_share": None if encoder_rows is None else round(encoder_rows / (len(civic) + len(ordinary)), 4),
        }
    return out


def _shares(flags: list[set[str]]) -> dict[str, Any]:
    categories = sorted({c for f in flags for c in f})
    return {"flagged": {c: round(sum(c in f for f in flags) / max(len(flags), 1), 4) for c in categories}}
