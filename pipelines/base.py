"""The detector extension point: one ``ClauseDetector`` subclass per module, registered as a spaCy factory.

Adding a detector takes three things: its module under ``pipelines/detectors/`` (its clause,
category and typed settings), its test, and one rule in the policy file. ``register`` turns the
class into the spaCy factory ``civicwatch_<name>`` so the pipeline is assembled from configuration,
never from imports scattered through the code.

Every component reads a shared per-document ``Comment`` (``doc._.cw``) that caches normalised views,
so ten detectors do not normalise the same text ten times.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict
from spacy.language import Language
from spacy.tokens import Doc

from pipelines.types import Tag

DETECTORS: dict[str, type[ClauseDetector]] = {}
FACTORY_PREFIX = "civicwatch_"


class Comment:
    """One comment under analysis: original text, optional post context, language, cached views.

    ``expose`` says whether tags are also written to the doc's ``cats`` and ``spans`` (see
    ``expose``); a doc that only carries a comment through the pipeline and is dropped afterwards
    (``PolicyPipeline.iter_classify``) skips that work.
    """

    __slots__ = ("_views", "context", "doc", "expose", "language", "source_id", "text")

    def __init__(
        self,
        doc: Doc,
        context: str | None = None,
        language: str | None = None,
        text: str | None = None,
        expose: bool = True,
        source_id: str | None = None,
    ) -> None:
        self.doc = doc
        self.text: str = doc.text if text is None else text  # Doc.text re-joins every token
        self.context = context
        self.language = language
        self.source_id = source_id
        self.expose = expose
        self._views: dict[str, Any] = {}

    def view(self, key: str, build: Callable[[str], Any]) -> Any:
        """Memoise a derived view of the text (normalised text, lowercase, ...) across detectors."""
        try:
            return self._views[key]
        except KeyError:
            value = build(self.text)
            self._views[key] = value
            return value


if not Doc.has_extension("cw"):
    Doc.set_extension("cw", default=None)
if not Doc.has_extension("cw_tags"):
    Doc.set_extension("cw_tags", default=None)


_CW = ("._.", "cw", None, None)
_CW_TAGS = ("._.", "cw_tags", None, None)
"""Where spaCy keeps ``doc._.cw`` and ``doc._.cw_tags``: read directly, since every component
touches them for every comment and the ``doc._`` accessor costs more than the lookup itself."""


def _user_data(doc: Doc) -> dict[Any, Any]:
    data: dict[Any, Any] = doc.user_data  # spaCy keys its extensions by tuples
    return data


def comment_of(doc: Doc) -> Comment:
    """The ``Comment`` attached to ``doc``, created on first use for docs made from bare text."""
    data = _user_data(doc)
    comment = data.get(_CW)
    if comment is None:
        comment = Comment(doc)
        data[_CW] = comment
    if data.get(_CW_TAGS) is None:
        data[_CW_TAGS] = []
    assert isinstance(comment, Comment)
    return comment


def attach(doc: Doc, comment: Comment) -> None:
    """Attach a comment under analysis to its doc, with no tags yet."""
    data = _user_data(doc)
    data[_CW] = comment
    data[_CW_TAGS] = []


def detach(doc: Doc) -> tuple[Comment, list[Tag]]:
    """Take the comment and its tags off a doc that is done with.

    A doc and its comment point at each other, so without this they (and every view and tag they
    hold) wait for Python's cycle collector, which then spends about a tenth of a classification run
    tracing them; detached, they are freed as soon as the caller drops them."""
    comment = comment_of(doc)
    tags = tags_of(doc)
    data = _user_data(doc)
    del data[_CW], data[_CW_TAGS]
    return comment, tags


def tags_of(doc: Doc) -> list[Tag]:
    """The tags found so far for ``doc`` (``doc._.cw_tags``)."""
    data = _user_data(doc)
    tags = data.get(_CW_TAGS)
    if tags is None:
        tags = data[_CW_TAGS] = []
    assert isinstance(tags, list)
    return tags


class DetectorSettings(BaseModel):
    """A detector's ``settings`` from the policy file, typed: a misspelt key or a value of the wrong type
    stops start-up (naming the file and line, see ``pipelines.policy``) instead of being ignored.

    A detector with settings subclasses this and names it in ``settings_model``; one without takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


SettingsIn = Mapping[str, Any] | DetectorSettings | None
"""What a detector is built from: the rule's ``settings`` as the policy file gives them, or already typed."""


class ClauseDetector(abc.ABC):
    """Finds evidence that a comment falls under one clause of the policy.

    Subclasses set the class attributes and implement ``detect``. Scores are calibrated so one
    threshold per clause in the policy file means the same thing across clauses: roughly the
    probability that a moderator would agree with the tag.

    ``clause`` and ``category`` are stated here and nowhere else: the policy's rule for the detector
    takes them from the class. A detector the policy binds to several clauses (the term lists of
    5.7.10-5.7.12) sets ``per_rule`` and leaves them empty; each of its rules then states them.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    clause: ClassVar[str]
    category: ClassVar[str]
    per_rule: ClassVar[bool] = False
    settings_model: ClassVar[type[DetectorSettings]] = DetectorSettings

    def __init__(
        self,
        settings: SettingsIn = None,
        *,
        clause: str = "",
        category: str = "",
    ) -> None:
        model = self.settings_model
        self.settings: DetectorSettings = (
            settings if isinstance(settings, model) else model.model_validate(dict(settings or {}))
        )
        self.rule_clause: str = clause or type(self).clause
        self.rule_category: str = category or type(self).category
        if not (self.rule_clause and self.rule_category):
            raise ValueError(f"detector {self.name!r} serves several clauses: give the rule's clause and category")

    @abc.abstractmethod
    def detect(self, comment: Comment) -> list[Tag]:
        """Return zero or more tags for one comment; must never raise on any input text."""

    def detect_batch(self, comments: list[Comment]) -> list[list[Tag]]:
        """Batch entry point; statistical detectors override it to vectorise once per batch."""
        return [self.detect(c) for c in comments]

    def forget(self) -> None:
        """Drop what the detector remembers across comments; most remember nothing."""
        return None

    def tag(self, score: float, spans: Iterable[Any], detail: str = "", model: str = "", **extra: Any) -> Tag:
        """Build a tag stamped with this detector's clause, category, name and version; ``model``, the
        version of the text model that scored it, joins the version (``attack@2+linear.base``) so a
        moderator sees which model decided."""
        return Tag(
            clause=self.rule_clause,
            category=self.rule_category,
            score=max(0.0, min(1.0, float(score))),
            spans=tuple(spans),
            detector=self.name,
            version=f"{self.version}+linear.{model}" if model else self.version,
            detail=detail,
            extra=dict(extra),
        )


def expose(doc: Doc, tags: list[Tag]) -> None:
    """Record tags the spaCy way too: ``doc.cats[category]`` holds the best score and
    ``doc.spans[category]`` the evidence, so spaCy tooling (displacy, span scorers) can read them."""
    if not tags:
        return
    tags_of(doc).extend(tags)
    for tag in tags:
        if tag.score > doc.cats.get(tag.category, 0.0) or tag.category not in doc.cats:
            doc.cats[tag.category] = tag.score
        if not tag.spans:
            continue
        spans = list(doc.spans[tag.category]) if tag.category in doc.spans else []
        for ev in tag.spans:
            span = doc.char_span(ev.start, ev.end, label=ev.label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans[tag.category] = spans


class DetectorPipe:
    """spaCy component wrapping a ``ClauseDetector``; its tags go to ``doc._.cw_tags``,
    ``doc.cats`` and ``doc.spans`` (see ``expose``)."""

    def __init__(self, detector: ClauseDetector, name: str) -> None:
        self.detector = detector
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        comment = comment_of(doc)
        tags = self.detector.detect(comment)
        if comment.expose:
            expose(doc, tags)
        elif tags:
            tags_of(doc).extend(tags)
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in stream:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, docs: list[Doc]) -> list[Doc]:
        comments = [comment_of(d) for d in docs]
        for doc, comment, tags in zip(docs, comments, self.detector.detect_batch(comments), strict=True):
            if comment.expose:
                expose(doc, tags)
            elif tags:
                tags_of(doc).extend(tags)
        return docs


D = TypeVar("D", bound=type[ClauseDetector])


def register(cls: D) -> D:
    """Register a detector class as the spaCy factory ``civicwatch_<name>``."""
    DETECTORS[cls.name] = cls

    def factory(nlp: Language, name: str, settings: dict[str, Any], clause: str, category: str) -> DetectorPipe:
        return DetectorPipe(cls(settings, clause=clause, category=category), name)

    factory_name = FACTORY_PREFIX + cls.name
    if not Language.has_factory(factory_name):
        Language.factory(factory_name, default_config={"settings": {}, "clause": "", "category": ""}, func=factory)
    return cls
