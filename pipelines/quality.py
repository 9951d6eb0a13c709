"""Builds docs/QUALITY.md: every labeled file, every category, the anchors on the same rows.

Dev files are read from ``../shared/data/dev`` at run time (never copied into the repository);
the project's own labeled sets live in ``tests/data``. Rows the shipped model was fitted on are
left out, so each number is a held-out estimate.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pipelines.anchors import ANCHORS
from pipelines.evaluate import Counts, evaluate_rows, select_rows
from pipelines.pipeline import PolicyPipeline
from pipelines.train import dev_dir

REPO = Path(__file__).resolve().parents[1]
OWN_SETS = REPO / "tests" / "data"
TARGETS: dict[tuple[str, str], tuple[str, float]] = {
    ("ethos", "discrimination"): ("F1 >= 0.80", 0.80),
    ("sms_spam", "commercial"): ("F1 >= 0.80", 0.80),
    ("politician_posts", "political"): ("F1 >= 0.80", 0.80),
    ("c3_globeandmail", "attack"): ("F1 >= 0.80", 0.80),
}


def _anchor_counts(name: str, factory: Any, rows: list[dict[str, Any]], category: str) -> Counts | str:
    predictor = factory()
    if predictor is None:
        return "not installed"
    counts = Counts()
    predictions = predictor([r["text"] for r in rows])
    for row, (flag, _spans) in zip(rows, predictions, strict=True):
        gold = row["labels"][category]
        if gold and flag:
            counts.tp += 1
        elif gold:
            counts.fn += 1
        elif flag:
            counts.fp += 1
        else:
            counts.tn += 1
    return counts


def _cell(c: Counts | str) -> str:
    return c if isinstance(c, str) else f"{c.precision:.3f} / {c.recall:.3f} / **{c.f1:.3f}**"


def write_quality(out: Path, baseline_path: Path, sample: int) -> dict[str, Any]:
    pipeline = PolicyPipeline()
    files = sorted(dev_dir().glob("*.jsonl")) + sorted(OWN_SETS.glob("*.jsonl"))
    lines = [
        "# Detector quality",
        "",
        "Regenerate with `make quality` (runs `civicwatch quality`; the anchors are the optional `bench`",
        "dependencies). Cells are precision / recall / **F1**. Dev files are read from",
        "`../shared/data/dev`; on files the shipped model was trained on only the held-out fold (one",
        f"row in five, chosen by id) is scored; large files use a seeded sample of at most {sample} rows,",
        "and the anchors run on exactly the same rows. Files under `tests/data` are the project's own",
        "hand-written sets for what the dev data does not cover (sexual content, illegal activity,",
        "council references, French, criticism of the city).",
        "",
    ]
    baseline: dict[str, dict[str, float]] = {}
    for path in files:
        started = time.time()
        rows, used = select_rows(path, "heldout", sample)
        report = evaluate_rows(pipeline, rows, str(path), used)
        anchor_names = sorted({a for c in report.categories for a in ANCHORS.get(c, {})})
        lines += [f"## {path.name}", "", f"{report.rows} rows: {used}.", ""]
        header = "| category | clause | support | civicwatch | " + " | ".join(anchor_names) + " | target |"
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        baseline[path.name] = {}
        for category, counts in sorted(report.categories.items()):
            rule = pipeline.policy.rule_for(category)
            anchors = []
            for name in anchor_names:
                factory = ANCHORS.get(category, {}).get(name)
                anchors.append(_cell(_anchor_counts(name, factory, rows, category)) if factory else "")
            target = TARGETS.get((path.stem, category))
            met = "" if target is None else f"{target[0]}: {'met' if counts.f1 >= target[1] else 'not met'}"
            lines.append(
                f"| {category} | {rule.clause if rule else ''} | {counts.support} | {_cell(counts)} | "
                + " | ".join(anchors)
                + f" | {met} |"
            )
            baseline[path.name][category] = round(counts.f1, 4)
        if report.span_recall:
            lines += [
                "",
                "5.7.9 span recall (a gold span counts as found when a flagged span overlaps it):",
                "",
            ]
            lines += ["| span type | found / total | recall |", "|---|---|---|"]
            for t, (found, total) in sorted(report.span_recall.items()):
                lines.append(f"| {t} | {found} / {total} | {found / total:.3f} |")
            if report.clean_precision is not None:
                lines.append("")
                lines.append(f"Rows without private information left unflagged: {report.clean_precision:.3f}.")
        lines += ["", f"_{time.time() - started:.0f} s_", ""]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    baseline_path.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return baseline
