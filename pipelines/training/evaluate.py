"""Precision, recall and F1 per category on labeled JSON Lines, and span recall for 5.7.9.

The labeled format is the one of ``shared/data/README.md``: ``labels`` holds only the categories a
source annotated, so a file is scored on its own keys and a missing key is never read as 0.
Rows the shipped model was fitted on are excluded by default (``rows="heldout"``): numbers on
training rows would flatter the model. A row the pipeline cannot judge (off-topic without the post
it answers) is counted as not judged, never as a negative prediction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pipelines.pipeline import Classification, PolicyPipeline
from pipelines.textmodel import load_model
from pipelines.training.train import is_holdout
from pipelines.types import CommentInput

# Presidio's span types in the synthetic data -> what counts as private information (5.7.9).
PRIVATE_SPAN_TYPES = {
    "STREET_ADDRESS",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "US_DRIVER_LICENSE",
    "ZIP_CODE",
}
PLACE_SPAN_TYPES = frozenset({"STREET_ADDRESS", "ZIP_CODE"})
"""Places, not identifiers: 5.7.9 is about people, so an address is flagged only when it is tied to a
person ("he lives at ..."); the synthetic rows rarely say whose address it is. Reported apart."""


def roc_auc(gold: list[int], scores: list[float]) -> float | None:
    """Probability that a random positive outscores a random negative (ties count half); None if one class."""
    pos = sum(1 for g in gold if g)
    neg = len(gold) - pos
    if not pos or not neg:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, g in zip(ranks, gold, strict=True) if g)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    not_judged: int = 0
    gold: list[int] = field(default_factory=list, repr=False)
    scores: list[float] = field(default_factory=list, repr=False)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def auc(self) -> float | None:
        return roc_auc(self.gold, self.scores)

    def add(self, gold: int, predicted: bool, score: float) -> None:
        self.gold.append(1 if gold else 0)
        self.scores.append(score)
        if gold and predicted:
            self.tp += 1
        elif gold:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    def as_dict(self) -> dict[str, Any]:
        auc = self.auc
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "roc_auc": None if auc is None else round(auc, 4),
            "not_judged": self.not_judged,
        }


NEEDS_CONTEXT = frozenset({"offtopic"})
"""Categories the pipeline only judges against the post a comment answers (5.7.1)."""


@dataclass
class FileReport:
    path: str
    rows: int
    rows_used: str
    categories: dict[str, Counts] = field(default_factory=dict)
    worst_fp: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)
    worst_fn: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)
    span_recall: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per gold span type: (overlapped by a span of a *flagged* 5.7.9 tag, total)."""
    span_seen: dict[str, int] = field(default_factory=dict)
    """Per gold span type: overlapped by a span of any 5.7.9 tag, flagged or below its threshold."""
    clean_precision: float | None = None

    def identifier_recall(self) -> tuple[int, int]:
        """(found, total) over the span types that identify a person on their own (not places)."""
        pairs = [v for t, v in self.span_recall.items() if t not in PLACE_SPAN_TYPES]
        return sum(f for f, _ in pairs), sum(n for _, n in pairs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "rows": self.rows,
            "rows_used": self.rows_used,
            "categories": {c: k.as_dict() for c, k in sorted(self.categories.items())},
            "span_recall": {
                t: {"found": f, "total": n, "recall": round(f / n, 4) if n else None, "seen": self.span_seen.get(t, 0)}
                for t, (f, n) in sorted(self.span_recall.items())
            },
            "precision_on_clean_rows": None if self.clean_precision is None else round(self.clean_precision, 4),
            "worst_false_positives": {c: [{"score": s, "id": i} for s, i, _ in v] for c, v in self.worst_fp.items()},
            "worst_false_negatives": {c: [{"score": s, "id": i} for s, i, _ in v] for c, v in self.worst_fn.items()},
        }


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def trained_on(path: Path) -> bool:
    model = load_model()
    return model is not None and path.stem in model.card.get("data", {})


def select_rows(path: Path, rows: str, sample: int | None) -> tuple[list[dict[str, Any]], str]:
    data = list(read_jsonl(path))
    used = "all"
    if rows == "heldout" and trained_on(path):
        data = [r for r in data if is_holdout(str(r.get("id", "")))]
        used = "held-out fold (1 in 5, by id)"
    if sample is not None and len(data) > sample:
        import random

        data = random.Random(7).sample(data, sample)
        used += f", seeded sample of {sample}"
    return data, used


def evaluate_rows(
    pipeline: PolicyPipeline, rows: list[dict[str, Any]], path: str, rows_used: str, worst: int = 5
) -> FileReport:
    pipeline.forget()  # each pass over a file starts as a new worker would: no row is yet "repeated"
    report = FileReport(path=path, rows=len(rows), rows_used=rows_used)
    inputs = [CommentInput(r["text"], context=r.get("context"), language=r.get("lang")) for r in rows]
    results = pipeline.classify_batch(inputs)
    fps: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    fns: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    clean_total = clean_ok = 0
    for row, result in zip(rows, results, strict=True):
        best = best_scores(result)
        for category, gold in row.get("labels", {}).items():
            counts = report.categories.setdefault(category, Counts())
            if category in NEEDS_CONTEXT and not row.get("context"):
                counts.not_judged += 1
                continue
            predicted = category in result.flags
            score = best.get(category, 0.0)
            counts.add(gold, predicted, score)
            if gold and not predicted:
                fns[category].append((round(score, 3), str(row.get("id")), row["text"]))
            elif predicted and not gold:
                fps[category].append((round(score, 3), str(row.get("id")), row["text"]))
        if "spans" in row:
            private = [t for t in result.tags if t.category == "private_info"]
            found = [s for t in private if t.category in result.flags for s in t.spans]
            seen = [s for t in private for s in t.spans]
            for gold_span in row["spans"]:
                kind = gold_span["type"]
                if kind not in PRIVATE_SPAN_TYPES:
                    continue
                hit = any(s.start < gold_span["end"] and gold_span["start"] < s.end for s in found)
                f, n = report.span_recall.get(kind, (0, 0))
                report.span_recall[kind] = (f + hit, n + 1)
                if any(s.start < gold_span["end"] and gold_span["start"] < s.end for s in seen):
                    report.span_seen[kind] = report.span_seen.get(kind, 0) + 1
            if row.get("labels", {}).get("private_info") == 0:
                clean_total += 1
                clean_ok += "private_info" not in result.flags
    if clean_total:
        report.clean_precision = clean_ok / clean_total
    report.worst_fp = {c: sorted(v, reverse=True)[:worst] for c, v in fps.items()}
    report.worst_fn = {c: sorted(v)[:worst] for c, v in fns.items()}
    return report


def best_scores(result: Classification) -> dict[str, float]:
    best: dict[str, float] = {}
    for tag in result.tags:
        best[tag.category] = max(best.get(tag.category, 0.0), tag.score)
    return best


def evaluate_file(
    pipeline: PolicyPipeline, path: Path, rows: str = "heldout", sample: int | None = None, worst: int = 5
) -> FileReport:
    data, used = select_rows(path, rows, sample)
    return evaluate_rows(pipeline, data, str(path), used, worst)


def summarize(reports: Iterable[FileReport]) -> list[dict[str, Any]]:
    return [r.as_dict() for r in reports]
