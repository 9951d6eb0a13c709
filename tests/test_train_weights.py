"""How a head's training rows are weighed (``pipelines.training.train._dataset``): every labelled source
carries the same total whatever its size, a borrowed-negative file a share of that which a recipe may
set (5.7.3 sets 0.6), and the project's civic negatives their own share."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from pipelines.training.train import (
    NEGATIVE_WEIGHT,
    OWN_NEGATIVE_WEIGHT,
    SOURCE_WEIGHT,
    FileData,
    _dataset,
)


class _Corpus:
    """Files of given sizes, every row in the training fold; ``ethos`` labels every third row."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.files = {
            name: FileData(
                sp.csr_matrix(np.ones((n, 2))),
                {"discrimination": (np.arange(n) % 3 == 0).astype(int), "attack": np.zeros(n, dtype=int)},
                np.zeros(n, dtype=bool),
                [f"{name}:{i}" for i in range(n)],
            )
            for name, n in sizes.items()
        }

    def get(self, name: str) -> FileData:
        return self.files[name]


@pytest.mark.parametrize("negative_weight", [NEGATIVE_WEIGHT, 0.6])
def test_each_file_weighs_its_share_whatever_its_size(negative_weight: float) -> None:
    corpus = _Corpus({"ethos": 90, "hatexplain": 900, "sms_spam": 40, "civic_negatives": 300})
    X, y, w, groups = _dataset(
        corpus,  # type: ignore[arg-type]
        [("ethos", "discrimination"), ("hatexplain", "discrimination")],
        ["sms_spam", "civic_negatives"],
        negative_weight=negative_weight,
    )
    assert X.shape[0] == len(y) == len(w) == 90 + 900 + 40 + 300
    ethos, hatexplain = w[:90].sum(), w[90:990].sum()
    assert ethos == pytest.approx(SOURCE_WEIGHT) and hatexplain == pytest.approx(SOURCE_WEIGHT)
    assert w[990:1030].sum() == pytest.approx(SOURCE_WEIGHT * negative_weight)
    assert w[1030:].sum() == pytest.approx(SOURCE_WEIGHT * OWN_NEGATIVE_WEIGHT)
    assert not y[990:].any() and (groups[990:] == -1).all()


def test_a_borrowed_file_keeps_only_rows_its_labels_call_clean() -> None:
    corpus = _Corpus({"ethos": 30, "c3_globeandmail": 30})
    _, y, _, groups = _dataset(
        corpus,  # type: ignore[arg-type]
        [("ethos", "discrimination")],
        ["c3_globeandmail:discrimination"],
    )
    assert (groups == -1).sum() == 20  # a third of the file is labelled discrimination and left out
    assert not y[groups == -1].any()
