"""Quality cannot silently regress: F1 on the dev files stays within 0.02 of the recorded baseline.

The baseline (``docs/quality_baseline.json``) is written by ``civicwatch quality`` on exactly the rows
scored here: the held-out fold of each file the model was trained on, a seeded sample of at most
3,000 rows, and the project's own sets in ``tests/data``. The dev data is read from ``../shared`` at
test time and never copied into the repository.
"""

from __future__ import annotations

import json

import pytest

from pipelines.pipeline import PolicyPipeline
from pipelines.training.evaluate import evaluate_rows, select_rows
from pipelines.training.quality import OWN_SETS, SAMPLE
from tests.conftest import REPO, SHARED_DEV

BASELINE = json.loads((REPO / "docs" / "quality_baseline.json").read_text())
TOLERANCE = 0.02

pytestmark = [
    pytest.mark.quality,
    pytest.mark.skipif(not SHARED_DEV.is_dir(), reason=f"dev data not found at {SHARED_DEV}"),
]


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


@pytest.mark.parametrize("file_name", sorted(BASELINE))
def test_f1_does_not_drop_below_the_recorded_baseline(pipeline: PolicyPipeline, file_name: str) -> None:
    path = SHARED_DEV / file_name if (SHARED_DEV / file_name).exists() else OWN_SETS / file_name
    assert path.exists(), f"{file_name}: recorded in the baseline but not found"
    rows, used = select_rows(path, "heldout", SAMPLE)
    report = evaluate_rows(pipeline, rows, str(path), used)
    drops = {
        category: (round(report.categories[category].f1, 4), recorded)
        for category, recorded in BASELINE[file_name].items()
        if category not in report.categories or report.categories[category].f1 < recorded - TOLERANCE
    }
    assert not drops, f"{file_name}: F1 (now, recorded) fell more than {TOLERANCE}: {drops}"


def test_baseline_covers_every_dev_file() -> None:
    assert {p.name for p in SHARED_DEV.glob("*.jsonl")} <= set(BASELINE)
