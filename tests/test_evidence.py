"""Every flag the model raises names the words that carried it, as spans of the original text (issue 11, item 7)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import N_WORD, load_model, model_spans, using_model
from tests.conftest import REPO

MODEL_CATEGORIES = ("profane", "discrimination", "attack", "political", "commercial", "safety")


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


def _own_texts() -> list[str]:
    texts = []
    for path in sorted((REPO / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


@pytest.mark.parametrize(
    ("text", "category", "carrier"),
    [
        ("You are a fucking idiot, Dave.", "profane", "fucking"),
        ("CALL NOW to claim your FREE prize, text WIN to 80086", "commercial", "free"),
        ("Vote for our party's candidate, the only one who will cut your taxes", "political", "candidate"),
    ],
)
def test_spans_point_at_the_carrying_words_in_the_original_text(text: str, category: str, carrier: str) -> None:
    spans = model_spans(text, category)
    assert spans, "a model score must always be explained by some words"
    words = [text[s:e].lower() for s, e in spans]
    assert any(carrier in w for w in words), words
    assert all(0 <= s < e <= len(text) for s, e in spans)


def test_spans_survive_a_view_that_changes_the_text() -> None:
    # NFKC, case and capped letter runs change the model's view, never the offsets it reports
    text = "Ｙｏｕ are a FUUUUCKING clown"
    spans = model_spans(text, "profane")
    assert any("FUUUUCKING" in text[s:e] for s, e in spans), [text[s:e] for s, e in spans]


def test_a_score_carried_by_the_bias_still_names_a_word() -> None:
    model = load_model()
    assert model is not None
    k = model.categories.index("profane")
    quiet = model.weights.copy()
    quiet[:N_WORD, k] = -np.abs(quiet[:N_WORD, k]) - 0.1  # every n-gram pushes down: only the bias could flag
    quiet[N_WORD:, k] = 0.0
    with using_model(replace(model, weights=quiet)):
        spans = model_spans("the bus was late", "profane")
    assert len(spans) == 1


def test_every_model_flag_has_evidence_spans(pipeline: PolicyPipeline) -> None:
    texts = _own_texts()
    assert len(texts) > 300
    missing = []
    for result in pipeline.classify_batch(texts):
        for tag in result.tags:
            if tag.category in MODEL_CATEGORIES and tag.category in result.flags and not tag.spans:
                missing.append((tag.category, tag.score))
    assert not missing, f"{len(missing)} model flags without a span: {missing[:5]}"


@pytest.mark.parametrize(
    "text",
    [
        "@USER i really do love you",
        "Happy birthday to my sister Maria, love you!",
        "@USER Nahhh you are!",
        "@USER thanks so much, see you at the game tonight",
        "Congratulations to both of you, what a lovely wedding",
    ],
)
def test_friendly_replies_are_not_profane(pipeline: PolicyPipeline, text: str) -> None:
    assert not set(pipeline.classify(text).flags) & set(MODEL_CATEGORIES)
