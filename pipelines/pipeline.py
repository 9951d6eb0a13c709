"""Assembles the policy's detectors into one spaCy pipeline and turns tags into decisions.

The pipeline is a blank spaCy tokenizer plus one component per enabled rule: cheap lexical stages
run on every comment, and statistical detectors batch their work in ``detect_batch``. Nothing here
touches Kafka, so the worker, ``civicwatch classify`` and the tests share exactly this code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipelines.base import FACTORY_PREFIX, Comment, DetectorPipe, attach, detach
from pipelines.language import detect_language
from pipelines.policy import ACTION_RANK, Policy, load_policy
from pipelines.types import CommentInput, Tag

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_TEXT_CHARS = 20_000
"""Longer comments are analysed on their first 20,000 characters; platforms cap far below this."""


@dataclass(frozen=True, slots=True)
class Classification:
    """Everything the pipeline concluded about one comment."""

    language: str
    tags: tuple[Tag, ...]
    flags: tuple[str, ...]
    action: str | None
    truncated: bool = False

    @property
    def flagged(self) -> bool:
        """True when at least one removal clause (5.7.x) is over its threshold."""
        return any(t.clause.startswith("5.7") and t.category in self.flags for t in self.tags)

    @property
    def council(self) -> bool:
        """True when the comment refers to the Mayor or Council (5.5)."""
        return "council" in self.flags

    def as_dict(self) -> dict[str, Any]:
        return {"tags": [t.as_dict() for t in self.tags], "flags": list(self.flags)}


class PolicyPipeline:
    """A loaded policy and its spaCy pipeline; build once per process, reuse for every batch."""

    def __init__(self, policy: Policy | str | Path | None = None, batch_size: int = 256) -> None:
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        self.batch_size = batch_size
        self.nlp = build_nlp(self.policy)
        self._thresholds = {r.category: r.threshold for r in self.policy.enabled_rules}
        self._rules = {r.category: r for r in self.policy.enabled_rules}

    def forget(self) -> None:
        """Start again as a freshly started worker: the 5.7.6 repeat memory is emptied. An evaluation that
        scores the same rows in several passes calls it before each, or its later passes see every row as
        already posted (a campaign) and score them differently from the first."""
        for _, component in self.nlp.pipeline:
            if isinstance(component, DetectorPipe):
                component.detector.forget()

    def classify(self, item: CommentInput | str) -> Classification:
        return self.classify_batch([item])[0]

    def classify_batch(self, items: Sequence[CommentInput | str]) -> list[Classification]:
        return list(self.iter_classify(items))

    def iter_classify(self, items: Iterable[CommentInput | str]) -> Iterator[Classification]:
        """Classify a stream lazily, ``batch_size`` comments at a time."""
        truncated: list[bool] = []

        def docs() -> Iterator[Any]:
            for item in items:
                ci = CommentInput(item) if isinstance(item, str) else item
                text = ci.text if isinstance(ci.text, str) else ""
                cut = len(text) > MAX_TEXT_CHARS
                truncated.append(cut)
                if cut:
                    text = text[:MAX_TEXT_CHARS]
                if _SURROGATE.search(text):
                    text = _SURROGATE.sub("\ufffd", text)  # same length: offsets still hold
                # The doc only carries the comment through the components and is dropped after its
                # tags are read: no detector reads tokens, so it is not tokenised (an eighth of the
                # per-comment time) and tags skip doc.cats and doc.spans. ``nlp(text)`` still gives
                # the full doc, for spaCy tooling.
                doc = Doc(self.nlp.vocab)
                language = ci.language or detect_language(text)
                comment = Comment(
                    doc, context=ci.context, language=language, text=text, expose=False, source_id=ci.source_id
                )
                attach(doc, comment)
                yield doc

        for i, doc in enumerate(self.nlp.pipe(docs(), batch_size=self.batch_size)):
            comment, tags = detach(doc)
            yield self.decide(comment.language or "und", tags, truncated[i])

    def decide(self, language: str, tags: list[Tag], truncated: bool = False) -> Classification:
        """Keep each category's strongest tag; flag those meeting the policy threshold.

        The action is the strongest among the tags over their threshold, each taking its rule's action
        for the tag's kind (``ClauseRule.action_for``), so one clause can hide some findings at once and
        send others to a moderator."""
        best: dict[str, Tag] = {}
        for tag in tags:
            if tag.category not in best or tag.score > best[tag.category].score:
                best[tag.category] = tag
        ordered = tuple(sorted(tags, key=lambda t: (t.clause, t.category, -t.score)))
        flags = tuple(sorted(c for c, t in best.items() if t.score >= self._thresholds.get(c, 1.01)))
        actions = (
            self._rules[t.category].action_for(tag_kind(t))
            for t in tags
            if t.category in flags and t.score >= self._thresholds[t.category]
        )
        action = max(actions, key=ACTION_RANK.__getitem__, default=None)
        return Classification(language, ordered, flags, action, truncated)


def tag_kind(tag: Tag) -> str | None:
    """The kind a detector gave a tag (``tag.extra["kind"]``), which the policy may map to its own action."""
    kind = tag.extra.get("kind")
    return kind if isinstance(kind, str) else None


def build_nlp(policy: Policy) -> Language:
    """A blank multilingual tokenizer with one component per enabled rule, in policy order."""
    nlp = spacy.blank("xx")
    nlp.vocab.lex_attr_getters = {}  # type: ignore[attr-defined]  # no detector reads lexical attributes
    for rule in policy.enabled_rules:
        nlp.add_pipe(
            FACTORY_PREFIX + rule.detector,
            name=f"{rule.category}",
            config={"settings": rule.settings, "clause": rule.clause, "category": rule.category},
        )
    return nlp
