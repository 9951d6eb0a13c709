"""What the fine-tuned encoder's folds learn from (``pipelines.training.finetune``; the fitting needs torch,
the data assembly does not): a fold never sees its source nor any in-source held-out row, and a category
a comment was not drawn for is masked rather than counted as a negative."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.training.finetune import CATEGORIES, Tuned, cache_key, training_rows
from pipelines.training.train import is_holdout, read_rows
from tests.conftest import SHARED_DEV

pytestmark = pytest.mark.skipif(not SHARED_DEV.is_dir(), reason=f"dev data not found at {SHARED_DEV}")


@pytest.fixture(scope="module")
def without_ethos() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    return training_rows("ethos", rows_per_file=200)


def test_a_fold_never_sees_its_source_nor_held_out_rows(
    without_ethos: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
) -> None:
    texts = {text for text, *_ in without_ethos}
    ethos = {r["text"] for r in read_rows("ethos")} - {r["text"] for r in read_rows("ghc")}
    assert not texts & ethos
    held = {r["text"] for r in read_rows("sms_spam") if is_holdout(str(r["id"]))}
    kept = {r["text"] for r in read_rows("sms_spam") if not is_holdout(str(r["id"]))}
    assert not texts & (held - kept)
    assert texts & kept  # sms_spam does train commercial (and lends negatives) in this fold


def test_labels_are_masked_where_a_comment_was_not_drawn(
    without_ethos: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
) -> None:
    labels = np.stack([y for _, y, _, _ in without_ethos])
    mask = np.stack([m for _, _, m, _ in without_ethos])
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert not (labels * (1 - mask)).any()  # a positive is always a drawn label
    promotion = {r["text"] for r in read_rows("own_commercial") if r["labels"]["commercial"]}
    drawn = [(y, m) for text, y, m, _ in without_ethos if text in promotion]
    c = CATEGORIES.index("commercial")
    assert drawn and all(y[c] == 1 and m[c] == 1 for y, m in drawn)
    positives = (labels * mask).sum(0)
    assert all(positives > 0), dict(zip(CATEGORIES, positives, strict=True))


def test_the_cache_key_changes_with_the_fold_and_the_weights() -> None:
    keys = {cache_key("ethos", "a"), cache_key("ghc", "a"), cache_key("ethos", "b"), cache_key("", "a")}
    assert len(keys) == 4


def test_the_overlay_replaces_only_the_learned_layers() -> None:
    base = {"encoder.layer.5.output.dense.bias": np.zeros(3), "embeddings.word_embeddings.weight": np.ones(2)}
    tuned = Tuned({"encoder.layer.5.output.dense.bias": np.full(3, 2.0)}, np.zeros((6, 3)), np.zeros(6))
    merged = tuned.tensors(base)
    assert merged["encoder.layer.5.output.dense.bias"].tolist() == [2.0, 2.0, 2.0]
    assert merged["embeddings.word_embeddings.weight"] is base["embeddings.word_embeddings.weight"]
