"""Every event on the wire, one versioned pydantic model each.

The same classes are used by the kafka-python producers (connectors) and the faust agents (workers):
JSON on the wire, a ``schema_version`` in every message, unknown fields rejected so that a producer
that drifts from the contract is caught at the first message instead of corrupting analytics. JSON
Schema files for analysts are generated from these models into ``schemas/json/``.

Records here may hold personal information (clause 6.1, MFIPPA): they travel only on protected
topics. ``Aggregate`` is the exception by design and must never carry text, handles or ids of people.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Platform = Literal["x", "facebook", "instagram", "replay"]
MAX_TEXT_CHARS = 100_000
"""Hard ceiling on comment text; X caps at 25,000 and Facebook at 8,000, so beyond is hostile input."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of all events: strict, immutable, versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT_CHARS)
    SCHEMA_NAME: ClassVar[str] = "event"
    SCHEMA_VERSION: ClassVar[int] = 1
    READS: ClassVar[frozenset[int]] = frozenset({1})
    """Versions ``decode`` accepts: the current one and older ones whose records stay readable."""


class Attachment(BaseModel):
    """What a comment shows besides its text (a photo, GIF, sticker or video): a comment may be only that."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str = Field(min_length=1, max_length=64)
    url: str | None = Field(default=None, max_length=4096)


class Comment(Event):
    """A resident's public comment (or reply) as read from a platform, or a later state of it.

    Version 2 added ``instagram``, ``attachment`` and ``hidden``; version 1 records read as version 2
    with neither. The same key carries a comment's versions in order: ``edited`` (new text),
    ``deleted`` (gone from the platform: text empty, nothing left to act on) and ``hidden`` (hidden or
    shown again on the platform, text unchanged; ``None`` when the platform did not say).
    """

    SCHEMA_NAME: ClassVar[str] = "comment"
    SCHEMA_VERSION: ClassVar[int] = 2
    READS: ClassVar[frozenset[int]] = frozenset({1, 2})
    schema_version: Literal[1, 2] = 2
    platform: Platform
    comment_id: str = Field(min_length=1, max_length=128)
    post_id: str = Field(min_length=1, max_length=128)
    parent_id: str | None = Field(default=None, max_length=128)
    author_id: str = Field(min_length=1, max_length=128)
    author_handle: str | None = Field(default=None, max_length=256)
    text: str
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime
    received_at: datetime = Field(default_factory=utcnow)
    url: str | None = Field(default=None, max_length=2048)
    edited: bool = False
    deleted: bool = False
    attachment: Attachment | None = None
    hidden: bool | None = None

    @property
    def key(self) -> str:
        """Partition key: a comment's updates stay ordered on one partition."""
        return f"{self.platform}:{self.comment_id}"


class Post(Event):
    """One of the city's own posts: the context the off-topic detector (5.7.1) compares against."""

    SCHEMA_NAME: ClassVar[str] = "post"
    schema_version: Literal[1] = 1
    platform: Platform
    post_id: str = Field(min_length=1, max_length=128)
    account: str = Field(min_length=1, max_length=256)
    text: str
    created_at: datetime
    received_at: datetime = Field(default_factory=utcnow)
    url: str | None = Field(default=None, max_length=2048)

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.post_id}"


class SpanModel(BaseModel):
    """Evidence span: code-point offsets into the comment's original text, end exclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: str


class TagModel(BaseModel):
    """A detector's finding: the policy clause, a calibrated score and the evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    clause: str
    category: str
    score: float = Field(ge=0.0, le=1.0)
    spans: list[SpanModel]
    detector: str
    detail: str = ""


Route = Literal["review", "council", "tagged"]


class TaggedComment(Event):
    """The worker's verdict on one comment; everything goes to ``comments.tagged``."""

    SCHEMA_NAME: ClassVar[str] = "tagged_comment"
    schema_version: Literal[1] = 1
    comment: Comment
    language: str
    tags: list[TagModel]
    flags: list[str]
    action: str | None
    routes: list[Route]
    policy: str
    truncated: bool = False
    processed_at: datetime = Field(default_factory=utcnow)


class ReviewItem(Event):
    """A flagged comment waiting for a moderator (``moderation.review``)."""

    SCHEMA_NAME: ClassVar[str] = "review_item"
    schema_version: Literal[1] = 1
    review_id: str
    comment: Comment
    post_text: str | None = None
    tags: list[TagModel]
    flags: list[str]
    clauses: list[str]
    action: str
    created_at: datetime = Field(default_factory=utcnow)


class PostReviewItem(Event):
    """One of the city's own posts with confidential or private information, for Corporate
    Communications (clause 5.6, ``posts.review``): a review item of its own kind, since a post has
    no resident author and its remedy is an edit by staff, not a moderator's hide."""

    SCHEMA_NAME: ClassVar[str] = "post_review_item"
    schema_version: Literal[1] = 1
    review_id: str
    post: Post
    findings: list[TagModel] = Field(description="one tag per clause (5.6, 5.7.9), spans into post.text")
    clauses: list[str]
    created_at: datetime = Field(default_factory=utcnow)


class CouncilForward(Event):
    """A comment about the Mayor or Council, to acknowledge and forward (clause 5.5)."""

    SCHEMA_NAME: ClassVar[str] = "council_forward"
    schema_version: Literal[1] = 1
    forward_id: str
    comment: Comment
    persons: list[str]
    tags: list[TagModel]
    created_at: datetime = Field(default_factory=utcnow)


DecisionKind = Literal["keep", "hide", "delete", "forward", "escalate"]


class Decision(Event):
    """A moderator's decision on a review item (``moderation.decisions``)."""

    SCHEMA_NAME: ClassVar[str] = "decision"
    schema_version: Literal[1] = 1
    decision_id: str
    review_id: str
    platform: Platform
    comment_id: str
    post_id: str
    decision: DecisionKind
    clauses: list[str] = Field(default_factory=list)
    reason: str = Field(max_length=2000)
    moderator: str = Field(min_length=1, max_length=128)
    decided_at: datetime = Field(default_factory=utcnow)
    hidden: bool = Field(
        default=False,
        description="the comment is hidden on the platform already (policy auto_hide), so keep must unhide it",
    )


ActionKind = Literal["hide", "unhide", "delete", "reply"]
MAX_REPLY_CHARS = 2000
"""Facebook's and Instagram's comment limits are far above this; X's 280 is checked by X itself."""


class ModerationAction(Event):
    """An action for a connector to carry out on the platform (``moderation.actions``).

    Version 2 added ``reply`` (an acknowledgement under the comment, clause 5.5) with its ``text``;
    version 1 records read as version 2 with no text. ``decision_id`` names what asked for the action:
    a moderator's decision, or for a reply the council forward it acknowledges.
    """

    SCHEMA_NAME: ClassVar[str] = "moderation_action"
    SCHEMA_VERSION: ClassVar[int] = 2
    READS: ClassVar[frozenset[int]] = frozenset({1, 2})
    schema_version: Literal[1, 2] = 2
    action_id: str
    decision_id: str
    platform: Platform
    comment_id: str
    post_id: str
    action: ActionKind
    clauses: list[str] = Field(default_factory=list)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_REPLY_CHARS)
    requested_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _reply_has_text(self) -> ModerationAction:
        if (self.action == "reply") != (self.text is not None):
            raise ValueError("a reply carries text, and only a reply does")
        return self


class AuditRecord(Event):
    """Who did what, when and why (``audit.log``; kept per the retention by-law, clause 6.2)."""

    SCHEMA_NAME: ClassVar[str] = "audit_record"
    schema_version: Literal[1] = 1
    audit_id: str
    actor: str
    verb: str
    subject: str
    outcome: Literal["ok", "failed", "not_permitted", "skipped"] = "ok"
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)


class Aggregate(Event):
    """Windowed counts for analysts (clauses 2.2.3, 2.2.8). No personal information, by construction.

    Each record is the running total of one (window, dimension, key) as counted by one input
    partition (``shard``); the latest record per Kafka key wins, and a window's total is the sum over
    shards. ``positive``/``negative``/``neutral`` count comments by perception (clause 2.2.3).

    v2 adds the ``agreement`` dimension, published by the review service per clause (``key``) and
    ``week``: of the flags moderators judged, how many they ``confirmed`` (hid or deleted with the
    clause ticked) and how many were ``false_alarms`` (kept, or the clause unticked), and how often
    they ``added`` the clause the detector missed; ``flagged`` is confirmed + false alarms and
    ``comments`` every judged comment that carries the clause. v1 records still decode.
    """

    SCHEMA_NAME: ClassVar[str] = "aggregate"
    SCHEMA_VERSION: ClassVar[int] = 2
    READS: ClassVar[frozenset[int]] = frozenset({1, 2})
    schema_version: Literal[1, 2] = 2
    window: Literal["hour", "day", "week"]
    window_start: datetime
    window_end: datetime
    dimension: Literal["platform", "clause", "post", "language", "topic", "all", "agreement"]
    key: str = Field(max_length=256)
    comments: int = Field(ge=0)
    flagged: int = Field(ge=0)
    by_clause: dict[str, int] = Field(default_factory=dict, description="flagged comments per clause id (5.7.2...)")
    sentiment_mean: float | None = Field(default=None, ge=-1.0, le=1.0)
    sentiment_count: int = Field(default=0, ge=0, description="comments scored; weights sentiment_mean across shards")
    positive: int = Field(default=0, ge=0)
    negative: int = Field(default=0, ge=0)
    neutral: int = Field(default=0, ge=0)
    confirmed: int = Field(default=0, ge=0, description="agreement: flags moderators confirmed")
    false_alarms: int = Field(default=0, ge=0, description="agreement: flags moderators kept or unticked")
    added: int = Field(default=0, ge=0, description="agreement: times moderators added the clause")
    shard: int = Field(default=0, ge=0, description="input partition counted; sum shards for a window's total")
    emitted_at: datetime = Field(default_factory=utcnow)


class PostAlert(Event):
    """A sudden rise of comments or flags on one of the city's posts (brigading), for analysts.

    Names the post, the window and the clauses flagged in it, never a comment or an author; the
    review service raises it against the post's own recent past (``review.brigading``).
    """

    SCHEMA_NAME: ClassVar[str] = "post_alert"
    schema_version: Literal[1] = 1
    alert_id: str
    kind: Literal["brigading"] = "brigading"
    post_key: str = Field(max_length=256, description="platform:post_id of the city's post")
    signal: Literal["comments", "flags", "both"]
    window_start: datetime
    window_end: datetime
    comments: int = Field(ge=0)
    flagged: int = Field(ge=0)
    clauses: list[str] = Field(default_factory=list, description="flagged clauses, most frequent first")
    baseline_comments: float = Field(ge=0, description="the post's usual comments per window")
    baseline_flagged: float = Field(ge=0)
    raised_at: datetime = Field(default_factory=utcnow)


class DeadLetter(Event):
    """A message that could not be processed, kept whole with the reason (nothing is dropped).

    ``reason`` is written by the code, never copied from the payload, so it holds no personal data;
    the payload itself is kept so the message can be replayed once fixed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=None)
    SCHEMA_NAME: ClassVar[str] = "dead_letter"
    schema_version: Literal[1] = 1
    dead_letter_id: str
    stage: str
    error: str
    reason: str = Field(max_length=2000)
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    key: str | None = None
    payload_b64: str
    payload_size: int = Field(ge=0)
    payload_truncated: bool = Field(
        default=False,
        description="payload larger than MAX_DEAD_LETTER_PAYLOAD: only its head is kept; the whole message "
        "stays at source_topic/source_partition/source_offset",
    )
    at: datetime = Field(default_factory=utcnow)


class Checkpoint(Event):
    """A connector's resume point (``connector.state``, compacted, keyed by connector:scope)."""

    SCHEMA_NAME: ClassVar[str] = "checkpoint"
    schema_version: Literal[1] = 1
    connector: str
    scope: str
    cursor: str | None
    updated_at: datetime = Field(default_factory=utcnow)
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.connector}:{self.scope}"


ALL_EVENTS: tuple[type[Event], ...] = (
    Comment,
    Post,
    TaggedComment,
    ReviewItem,
    PostReviewItem,
    CouncilForward,
    Decision,
    ModerationAction,
    AuditRecord,
    Aggregate,
    PostAlert,
    DeadLetter,
    Checkpoint,
)
