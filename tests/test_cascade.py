"""The cascade: the encoder only sees comments in the band, its verdict replaces the cheap one there, and its
evidence points at words of the original text."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from pipelines.heads import Heads, pivot_map
from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import load_model, using_model

DIMS = 4


class FakeEncoder:
    """One dimension per word it knows; a text's embedding is its words' mean, token states are the words."""

    name = "fake"
    digest = "fake"
    WORDS = ("awful", "rotten", "vile")

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _vector(self, word: str) -> np.ndarray:
        v = np.zeros(DIMS, dtype=np.float32)
        v[self.WORDS.index(word) if word in self.WORDS else DIMS - 1] = 1.0
        return v

    def token_states(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        found = list(re.finditer(r"\w+", text))
        states = [self._vector(m.group().lower()) for m in found]
        return np.array(states).reshape(-1, DIMS), [m.span() for m in found]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += texts
        out = [self.token_states(t)[0].mean(0) if re.search(r"\w", t) else np.zeros(DIMS) for t in texts]
        return np.array(out, dtype=np.float32).reshape(-1, DIMS)


def _heads(low: float, high: float = 1.01) -> Heads:
    weights = np.array([[3.0], [3.0], [3.0], [-1.0]], dtype=np.float32)  # the three words push towards profane
    return Heads(
        categories=("profane",),
        weights=weights,
        bias=np.array([-1.0], dtype=np.float32),
        combine=np.array([[0.0, 1.0, 0.0]], dtype=np.float32),  # the encoder head alone decides in the band
        pivot=np.array([0.5], dtype=np.float32),
        band=np.array([[low, high]], dtype=np.float32),
    )


def test_only_comments_in_the_band_reach_the_encoder() -> None:
    encoder = FakeEncoder()
    scores = np.array([[0.01, 0.3], [0.2, 0.1], [0.9, 0.0]])
    out, seen = _heads(0.1, 0.8).apply(("profane", "attack"), scores, ["a", "awful rotten", "c"], encoder)
    assert seen.tolist() == [False, True, False]
    assert encoder.seen == ["awful rotten"]
    assert out[0].tolist() == scores[0].tolist() and out[2].tolist() == scores[2].tolist()
    assert out[1, 0] > 0.5 and out[1, 1] == 0.1  # only the category in its band is re-scored


def test_pivot_map_puts_the_operating_point_at_one_half() -> None:
    assert np.allclose(pivot_map(np.array([0.0, 0.3, 1.0]), np.array([0.3])), [0.0, 0.5, 1.0])


def test_encoder_evidence_is_the_words_its_head_credits() -> None:
    text = "The vile smell on Elm St, awful."
    spans = _heads(0.0).token_spans(FakeEncoder(), text, "profane")
    assert [text[s:e] for s, e in spans] == ["vile", "awful"]


def test_cascade_in_the_pipeline_flags_with_encoder_evidence() -> None:
    model = load_model()
    assert model is not None
    encoder = FakeEncoder()
    pipeline = PolicyPipeline()
    with using_model(model, (_heads(0.0), encoder)):
        flagged, plain = pipeline.classify_batch(["Vile, rotten!", "The bus was late today."])
    assert "profane" in flagged.flags and "profane" not in plain.flags
    tag = next(t for t in flagged.tags if t.category == "profane")
    assert {"Vile, rotten!"[s.start : s.end] for s in tag.spans} >= {"Vile", "rotten"}


def test_heads_learn_from_the_first_rows_leave_one_source_out_scores() -> None:
    import random

    from pipelines.training.train_heads import sample_index

    rows = [{"id": i} for i in range(5000)]
    scored = random.Random(7).sample(rows, 2000)  # what loso.cell_rows draws
    assert [r["id"] for r in scored[:1000]] == sample_index(5000, 1000)
    assert sample_index(300, 1000) == list(range(300))


def test_every_labelled_source_is_a_leave_one_source_out_cell() -> None:
    from pipelines.training.loso import cells
    from pipelines.training.train import OWN_DATA, RECIPES

    assert set(cells()) == {(c, s) for c, r in RECIPES.items() for s, _ in r["sources"] if s not in OWN_DATA}
    assert not {s for _, s in cells()} & set(OWN_DATA), "the project's own sets train, never score"
    assert ("safety", "germeval_vio") not in cells()  # tried, did not help English LOSO: left out
