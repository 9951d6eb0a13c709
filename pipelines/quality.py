"""Builds docs/QUALITY.md: every labeled file, every category, the anchors on the same rows, the targets.

Dev files are read from ``../shared/data/dev`` at run time (never copied into the repository);
the project's own labeled sets live in ``tests/data``. Rows the shipped model was fitted on are
left out, so each number is a held-out estimate. The F1s written to ``docs/quality_baseline.json``
are what ``tests/test_quality.py`` holds the detectors to.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pipelines.anchors import ANCHORS
from pipelines.evaluate import Counts, FileReport, best_scores, evaluate_rows, roc_auc, select_rows
from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import load_model
from pipelines.train import dev_dir, offtopic_pairs
from pipelines.types import CommentInput

REPO = Path(__file__).resolve().parents[1]
OWN_SETS = REPO / "tests" / "data"
SAMPLE = 3000
F1_TARGETS: dict[tuple[str, str], float] = {
    ("ethos", "discrimination"): 0.80,
    ("sms_spam", "commercial"): 0.80,
    ("politician_posts", "political"): 0.80,
    ("c3_globeandmail", "attack"): 0.80,
}
OFFTOPIC_AUC_TARGET = 0.85
CRITICISM_TARGET = 0.95
ANCHOR_EXEMPT = {"davidson"}
"""alt-profanity-check was trained on davidson: beating it there is not asked for."""

WHY_NOT: dict[str, str] = {
    "ethos/discrimination": "ETHOS is 998 short comments whose hate/non-hate line is subtle (irony, quotes, "
    "generalisations without slurs); a linear head over n-grams and static embeddings reaches about 0.65-0.70. "
    "Measured while building: sentence embeddings from the full 6-layer MiniLM (not static) add about 0.04 F1 "
    "in 5-fold CV on ETHOS but cost ~15 ms per comment in numpy, far beyond the 2,000 comments/s budget. "
    "Reaching 0.80 takes a fine-tuned transformer (published ETHOS results: BERT about 0.80) served on a "
    "separate, slower path, or much more labelled hate speech from several sources.",
    "politician_posts/political": "The label is the crowd's 'partisan vs neutral' judgement of posts that are all "
    "written by politicians, so 'neutral' posts are full of political vocabulary (weak negatives); held-out "
    "ROC AUC is about 0.78 whatever the features. It would take a labelled set of comments (not politicians' "
    "posts) with campaign/partisan content versus ordinary civic talk.",
    "c3_globeandmail/attack": "C3's personal_attack label marks sharp criticism of named politicians in long "
    "opinion comments (3% of rows, low agreement between crowd workers); no feature set tried reaches a "
    "held-out ROC AUC above 0.65, and the detector deliberately keeps criticism of institutions below the "
    "threshold (5.7.7 criticism target). It would take a larger attack corpus with clearer labels (e.g. "
    "Wikipedia talk-page personal attacks, ~100k comments) and a contextual model.",
    "offtopic": "On Globe and Mail pairs the 'post' is a stand-in made of eight other comments under the same "
    "article, and different articles are mostly on the same subject (federal politics), so own-article and "
    "other-article pairs overlap in meaning; the crowd's own off-topic labels are not separable from "
    "on-topic comments by similarity at all (AUC about 0.5). On city-style posts (the hand-written pairs) "
    "the same detector separates well. It would take real post texts (SOCC's article file) or real city "
    "posts with comments.",
}


def _cell(c: Counts | str) -> str:
    return c if isinstance(c, str) else f"{c.precision:.3f} / {c.recall:.3f} / **{c.f1:.3f}**"


def anchor_counts(factory: Any, rows: list[dict[str, Any]], category: str) -> Counts | str:
    predictor = factory()
    if predictor is None:
        return "not installed"
    counts = Counts()
    labelled = [r for r in rows if category in r.get("labels", {})]
    for row, (flag, _spans) in zip(labelled, predictor([r["text"] for r in labelled]), strict=True):
        counts.add(row["labels"][category], flag, float(flag))
    return counts


def offtopic_pair_auc(pipeline: PolicyPipeline) -> dict[str, Any]:
    """ROC AUC of the whole 5.7.1 detector on held-out comment/post pairs (see ``train.offtopic_pairs``)."""
    pairs = offtopic_pairs("heldout")
    results = pipeline.classify_batch([CommentInput(text, context=post) for text, post, _, _ in pairs])
    scores = [best_scores(r).get("offtopic", 0.0) for r in results]
    gold = [p[2] for p in pairs]
    own = [i for i, p in enumerate(pairs) if p[3] == "own"]
    return {
        "pairs": len(pairs),
        "auc": roc_auc(gold, scores),
        "own_pairs": len(own),
        "own_positives": sum(gold[i] for i in own),
        "own_auc": roc_auc([gold[i] for i in own], [scores[i] for i in own]),
    }


def criticism_clean_share(pipeline: PolicyPipeline) -> tuple[float, int]:
    """Share of ordinary criticism of the city left without a 5.7.7 flag (attack or political)."""
    rows, _ = select_rows(OWN_SETS / "criticism.jsonl", "all", None)
    results = pipeline.classify_batch([CommentInput(r["text"], language=r.get("lang")) for r in rows])
    clean = sum(1 for r in results if not {"attack", "political"} & set(r.flags))
    return clean / len(rows), len(rows)


def write_quality(out: Path, baseline_path: Path, sample: int = SAMPLE) -> dict[str, Any]:
    pipeline = PolicyPipeline()
    model = load_model()
    files = sorted(dev_dir().glob("*.jsonl")) + sorted(OWN_SETS.glob("*.jsonl"))
    baseline: dict[str, dict[str, float]] = {}
    # criticism.jsonl has no positives: it is held by tests/test_detectors.py (share left unflagged)
    sections: list[str] = []
    target_rows: list[str] = []
    reports: dict[str, FileReport] = {}
    for path in files:
        started = time.time()
        rows, used = select_rows(path, "heldout", sample)
        report = evaluate_rows(pipeline, rows, str(path), used)
        reports[path.stem] = report
        anchor_names = sorted({a for c in report.categories for a in ANCHORS.get(c, {})})
        sections += [f"### {path.name}", "", f"{report.rows} rows: {used}.", ""]
        header = "| category | clause | support | civicwatch P / R / **F1** | ROC AUC | " + " | ".join(anchor_names)
        header = header.rstrip(" |") + " |"
        sections += [header, "|" + "---|" * (header.count("|") - 1)]
        baseline[path.name] = {}
        for category, counts in sorted(report.categories.items()):
            rule = pipeline.policy.rule_for(category)
            clause = rule.clause if rule else ""
            if counts.not_judged and not counts.gold:
                blanks = " |" * len(anchor_names)
                sections.append(f"| {category} | {clause} | - | not judged: no post text in this file | - |{blanks}")
                continue
            auc = counts.auc
            cells = [_cell(counts), "-" if auc is None else f"{auc:.3f}"]
            for name in anchor_names:
                factory = ANCHORS.get(category, {}).get(name)
                if factory is None:
                    cells.append("")
                    continue
                anchor = anchor_counts(factory, rows, category)
                cells.append(_cell(anchor))
                if path.parent == dev_dir() and path.stem not in ANCHOR_EXEMPT and isinstance(anchor, Counts):
                    met = counts.f1 > anchor.f1
                    target_rows.append(
                        f"| beat {name} on {path.stem} / {category} | {counts.f1:.3f} vs {anchor.f1:.3f} | "
                        f"{'met' if met else 'not met'} |"
                    )
            sections.append(f"| {category} | {clause} | {counts.support} | " + " | ".join(cells) + " |")
            if counts.support:  # with no positives F1 is 0 whatever happens: nothing to hold
                baseline[path.name][category] = round(counts.f1, 4)
            goal = F1_TARGETS.get((path.stem, category))
            if goal is not None:
                met = counts.f1 >= goal
                target_rows.insert(
                    0,
                    f"| F1 >= {goal:.2f}, {path.stem} / {category} | {counts.f1:.3f} | "
                    + ("met" if met else f"not met: {WHY_NOT.get(f'{path.stem}/{category}', '')}")
                    + " |",
                )
        if report.span_recall:
            sections += ["", "5.7.9 span recall (a gold span counts as found when a flagged span overlaps it):", ""]
            sections += ["| span type | found / total | recall |", "|---|---|---|"]
            for t, (found, total) in sorted(report.span_recall.items()):
                sections.append(f"| {t} | {found} / {total} | {found / total:.3f} |")
            if report.clean_precision is not None:
                sections += ["", f"Rows without private information left unflagged: {report.clean_precision:.3f}."]
        sections += ["", f"_{time.time() - started:.0f} s_", ""]

    pairs = offtopic_pair_auc(pipeline)
    hand = reports.get("offtopic_pairs")
    hand_auc = hand.categories["offtopic"].auc if hand and "offtopic" in hand.categories else None
    share, n_crit = criticism_clean_share(pipeline)
    pair_auc = pairs["auc"] or 0.0
    target_rows.insert(
        0,
        f"| 5.7.1 ROC AUC >= {OFFTOPIC_AUC_TARGET}, held-out Globe and Mail pairs ({pairs['pairs']}) | "
        f"{pair_auc:.3f} | " + ("met" if pair_auc >= OFFTOPIC_AUC_TARGET else f"not met: {WHY_NOT['offtopic']}") + " |",
    )
    if hand_auc is not None:
        target_rows.insert(
            1,
            f"| 5.7.1 ROC AUC >= {OFFTOPIC_AUC_TARGET}, hand-written city post/comment pairs | {hand_auc:.3f} | "
            + ("met" if hand_auc >= OFFTOPIC_AUC_TARGET else "not met")
            + " |",
        )
    target_rows.insert(
        0,
        f"| 5.7.7 precision >= {CRITICISM_TARGET} on criticism of the city ({n_crit} rows, share left unflagged) | "
        f"{share:.3f} | {'met' if share >= CRITICISM_TARGET else 'not met'} |",
    )

    lines = [
        "# Detector quality",
        "",
        "Regenerate with `make quality` (installs the optional `bench` anchors, then runs `civicwatch quality`).",
        "Cells are precision / recall / **F1** at the policy's thresholds (0.5 for every clause). Dev files are",
        "read from `../shared/data/dev`; on files the shipped model was trained on only the held-out fold (one",
        f"row in five, chosen by a hash of the id, never used for fitting or calibration) is scored; files with more "
        f"rows use a seeded sample of {sample}, and the anchors run on exactly the same rows. Files under",
        "`tests/data` are the project's own hand-written sets for what the dev data does not cover (sexual",
        "content, illegal activity, council references, French, criticism of the city, city post/comment pairs).",
        "",
        "## Targets",
        "",
        "| target | measured | status |",
        "|---|---|---|",
        *target_rows,
        "",
    ]
    lines += model_section(model)
    lines += [
        "## 5.7.1 off-topic on comment/post pairs",
        "",
        "The dev data has no post texts, so pairs are built from the Globe and Mail comments: each held-out",
        "comment is paired with a stand-in for its own article (eight other comments posted under it; label:",
        "the crowd's `offtopic`) and with a stand-in for a random other article (label 1). The whole detector",
        "is scored (`civicwatch quality`; pairs from `pipelines.train.offtopic_pairs`).",
        "",
        "| pairs | ROC AUC |",
        "|---|---|",
        f"| all held-out pairs ({pairs['pairs']}) | {pair_auc:.3f} |",
        f"| own-article pairs only ({pairs['own_pairs']}, {pairs['own_positives']} labelled off-topic) | "
        f"{(pairs['own_auc'] or 0.0):.3f} |",
        f"| hand-written city pairs (`tests/data/offtopic_pairs.jsonl`) | "
        f"{'-' if hand_auc is None else f'{hand_auc:.3f}'} |",
        "",
        "## Every file",
        "",
        *sections,
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    baseline_path.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return baseline


def model_section(model: Any) -> list[str]:
    """The shipped model's own held-out and cross-source numbers, from its card."""
    if model is None:
        return ["## The text model", "", "No model is shipped: detectors run on rules alone.", ""]
    card = model.card
    lines = [
        "## The text model (held-out fold, model alone at its calibrated operating point)",
        "",
        f"{card['model']}; {card['features'].get('ngrams', '')}. Trained by `{card['command']}` (seed "
        f"{card['seed']}); data sha256 in `pipelines/models/civicwatch-linear.json`.",
        "",
        "| category | source | P | R | F1 | ROC AUC |",
        "|---|---|---|---|---|---|",
    ]
    transfer: list[str] = []
    for category, metrics in card["metrics"].items():
        for key, m in metrics.items():
            if key.startswith("holdout:"):
                lines.append(
                    f"| {category} | {key.split(':', 1)[1]} | {m['precision']:.3f} | {m['recall']:.3f} | "
                    f"{m['f1']:.3f} | {m.get('roc_auc', 0.0):.3f} |"
                )
        for pair, m in metrics.get("transfer", {}).items():
            transfer.append(
                f"| {category} | {pair.replace('->', ' → ')} | {m['f1']:.3f} | {m.get('roc_auc', 0.0):.3f} |"
            )
    if transfer:
        lines += [
            "",
            "Cross-source transfer (fit on one source's training rows only, score another source's held-out rows):",
            "the deployment data comes from none of these sources, so this is the number to be modest about.",
            "",
            "| category | trained on → scored on | F1 | ROC AUC |",
            "|---|---|---|---|",
            *transfer,
        ]
    return [*lines, ""]
