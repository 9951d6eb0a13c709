"""The leave-one-source-out headline compares like with like: the before model's recipe, fitted without
the scored source, not the before model that trained on four fifths of it."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from pipelines.training.loso import BEFORE_PATH, before_sources, cells
from pipelines.training.quality import loso_section
from pipelines.training.train import sha256


def _cell(category: str, source: str, f1: float, shipped: float, out_of_source: float) -> dict[str, Any]:
    counts = {"precision": f1, "recall": f1, "f1": f1, "support": 10}
    return {
        "category": category,
        "source": source,
        "rows": 100,
        "positives": 10,
        "loso": counts,
        "before": {**counts, "f1": shipped},
        "before_loso": {**counts, "f1": out_of_source},
        "rules_only": False,
        "anchors": {"alt-profanity-check": 0.1, "better-profanity": 0.1},
    }


def _report(cells_: list[dict[str, Any]]) -> dict[str, Any]:
    mean = lambda key: sum(c[key]["f1"] for c in cells_) / len(cells_)  # noqa: E731
    return {
        "sample": 100,
        "cells": cells_,
        "encoder": None,
        "macro_f1": mean("loso"),
        "macro_f1_linear": mean("loso"),
        "macro_f1_before": mean("before"),
        "macro_f1_before_loso": mean("before_loso"),
        "false_alarms": {},
    }


def test_the_target_counts_the_before_recipe_out_of_source() -> None:
    report = _report([_cell("profane", "a", 0.60, shipped=0.90, out_of_source=0.40)])
    lines = loso_section(report)
    target = next(line for line in lines if line.startswith("| macro-F1 at least 0.15"))
    shipped = next(line for line in lines if line.startswith("| (the same against the before model as shipped"))
    assert "0.600 vs 0.400 (+0.200) | met |" in target
    assert "0.600 vs 0.900 (-0.300) | not met |" in shipped
    row = next(line for line in lines if line.startswith("| profane | a |"))
    assert "| 0.400 | 0.900 |" in row  # out of source, then as shipped


def test_a_gain_short_of_the_target_is_not_met() -> None:
    report = _report([_cell("profane", "a", 0.50, shipped=0.90, out_of_source=0.40)])
    target = next(line for line in loso_section(report) if line.startswith("| macro-F1 at least 0.15"))
    assert target.endswith("(+0.100) | not met |")


def test_before_sources_are_the_dev_files_its_card_names() -> None:
    card = {"data": {"davidson": {}, "civic_negatives": {}, "sms_spam": {}, "not_a_cell_source": {}}}
    assert before_sources(SimpleNamespace(card=card)) == ["davidson", "sms_spam"]  # type: ignore[arg-type]


def test_the_recorded_before_numbers_cover_every_cell_both_ways() -> None:
    recorded = json.loads(BEFORE_PATH.read_text())
    for category, source in cells():
        prefix = f"{category}/{source}/{sha256(source)[:16]}/"
        shipped = [k for k in recorded if k.startswith(prefix)]
        assert shipped, f"{category}/{source}: no before score for today's file"
        assert all(f"loso:{k}" in recorded for k in shipped), f"{category}/{source}: no out-of-source before score"


def test_the_fine_tuned_measurement_names_its_cells_and_leaves_the_unmeasured_blank(tmp_path: Any) -> None:
    from pipelines.training.quality import finetune_section

    assert finetune_section(tmp_path / "absent.json") == []
    report = {
        "settings": {"frozen": 4, "rows_per_file": 1000},
        "macro_f1_cascade_categories": {"linear": 0.5, "finetuned_alone": 0.45, "finetuned_cascade": 0.52},
        "false_alarms": {
            "civic_requests": {"rows": 10, "flagged": {"profane": 0.001, "safety": 0.004}},
            "ordinary_city": {"rows": 3, "flagged": {}},
            "encoder_share": 0.12,
        },
        "cells": [
            {"category": "profane", "source": "ghc", "linear_f1": 0.55, "finetuned_alone_f1": 0.4,
             "cascade": {"precision": 0.5, "recall": 0.6, "f1": 0.545}},
            {"category": "political", "source": "politician_posts", "linear_f1": 0.4},
        ],
    }  # fmt: skip
    path = tmp_path / "finetune_loso.json"
    path.write_text(json.dumps(report))
    text = "\n".join(finetune_section(path))
    assert "| profane | ghc | 0.550 | 0.400 | 0.500 / 0.600 / **0.545** |" in text
    assert "| political | politician_posts | 0.400 | - | - |" in text
    assert "fine-tuned cascade 0.520" in text and "at most 0.4% (safety)" in text
