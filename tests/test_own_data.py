"""The project's own sets (training sets in pipelines/models, scored sets in tests/data) are written for
it: none holds a dev row, which may only be read from ../shared, never copied into the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_DEV

OWN_FILES = sorted([*(REPO / "pipelines" / "models").glob("*.jsonl"), *(REPO / "tests" / "data").glob("*.jsonl")])


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def _unique(rows: list[dict[str, object]]) -> bool:
    """Ids and texts both unique: a text written twice weighs twice."""
    return len({r["id"] for r in rows}) == len({_norm(str(r["text"])) for r in rows}) == len(rows)


@pytest.mark.skipif(not SHARED_DEV.is_dir(), reason=f"dev data not found at {SHARED_DEV}")
def test_no_own_set_holds_a_dev_row() -> None:
    dev: dict[str, str] = {}
    for path in sorted(SHARED_DEV.glob("*.jsonl")):
        for row in _rows(path):
            dev.setdefault(_norm(str(row["text"])), path.stem)
    copied = [
        (path.name, str(text)[:60], dev[_norm(text)])
        for path in OWN_FILES
        for row in _rows(path)
        for text in (row.get("text"), row.get("context"))
        if isinstance(text, str) and _norm(text) in dev
    ]
    assert not copied, copied


@pytest.mark.parametrize("path", [p for p in OWN_FILES if p.name.startswith("own_")], ids=lambda p: p.name)
def test_own_training_sets_label_only_their_category_with_unique_ids_and_texts(path: Path) -> None:
    """Positives, and for some heads hard negatives beside them; never a label for another category."""
    rows = _rows(path)
    category = path.stem.removeprefix("own_")
    assert _unique(rows)
    assert all(r["labels"] in ({category: 1}, {category: 0}) and r["lang"] in ("en", "fr") for r in rows)
    assert sum(r["labels"][category] for r in rows) >= 150, "a second source of positives for the head"


def test_counter_speech_is_discrimination_negatives_in_both_languages() -> None:
    """Counter-speech and neutral mentions of groups are 5.7.3 negatives only; French is a third of them."""
    rows = _rows(REPO / "pipelines" / "models" / "counter_speech.jsonl")
    assert _unique(rows)
    assert all(r["labels"] == {"discrimination": 0} for r in rows)
    assert sum(r["lang"] == "fr" for r in rows) > len(rows) / 4


@pytest.mark.parametrize("path", [p for p in OWN_FILES if p.stem.endswith("_neutral")], ids=lambda p: p.name)
def test_neutral_training_sets_are_unlabelled_with_unique_ids_and_texts(path: Path) -> None:
    """A head's own negatives carry no label: a label here would make a positive of a negative."""
    rows = _rows(path)
    assert rows
    assert _unique(rows)
    assert all(r["labels"] == {} and r["lang"] in ("en", "fr") for r in rows)


def test_service_requests_are_unlabelled_negatives_in_both_languages() -> None:
    """Residents' requests are a negative for every head: no row may carry a label."""
    rows = _rows(REPO / "pipelines" / "models" / "service_requests.jsonl")
    assert _unique(rows)
    assert all("labels" not in r and r["lang"] in ("en", "fr") for r in rows)
    assert sum(r["lang"] == "fr" for r in rows) > len(rows) / 10
