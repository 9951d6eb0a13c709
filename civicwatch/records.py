"""Clauses 6.1 and 6.2: answering an access request about one author, and keeping records no longer
than the retention by-law says.

It spans processes (the review service's store, every topic, the policy file), so it lives with the
CLI. An access request (MFIPPA) gets every record about the author from the review store and, given a
broker, from the topics read from the beginning (``read_committed``: never an aborted batch), as JSON
Lines plus a readable HTML summary. The export is itself audited, naming the export and counting its
records, never quoting them.
"""

from __future__ import annotations

import html
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.policy import Policy
from review.store import Store
from schemas import (
    AuditRecord,
    Comment,
    CouncilForward,
    DeadLetter,
    Decision,
    ModerationAction,
    ReviewItem,
    SchemaError,
    TaggedComment,
    decode,
)
from schemas.events import Event
from schemas.topics import (
    AUDIT_LOG,
    COMMENTS_DEADLETTER,
    COMMENTS_RAW,
    COMMENTS_TAGGED,
    COUNCIL_FORWARD,
    DAY_MS,
    MODERATION_ACTIONS,
    MODERATION_DECISIONS,
    MODERATION_REVIEW,
    TopicSpec,
)


def retention_ms(policy: Policy) -> dict[str, int]:
    """Record type -> ``retention.ms`` from the policy file (empty when it sets none)."""
    if policy.retention is None:
        return {}
    return {record: rule.days * DAY_MS for record, rule in policy.retention.records.items()}


def purge_cutoffs(policy: Policy, now: float) -> dict[str, float]:
    """Record type -> the time before which a record is past its retention."""
    if policy.retention is None:
        return {}
    return {record: now - rule.seconds for record, rule in policy.retention.records.items()}


# ---- access requests ----


@dataclass
class Export:
    """The records found about one author, by source (``store:comments``, ``kafka:comments.raw``...)."""

    author_id: str
    export_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, source: str, record: dict[str, Any]) -> None:
        self.records.setdefault(source, []).append(record)

    def counts(self) -> dict[str, int]:
        return {source: len(rows) for source, rows in sorted(self.records.items())}


def from_store(export: Export, store: Store) -> None:
    for kind, rows in store.records_about(export.author_id).items():
        for row in rows:
            export.add(f"review_store:{kind}", row)


AUTHORED: tuple[tuple[TopicSpec, type[Event]], ...] = (
    (COMMENTS_RAW, Comment),
    (COMMENTS_TAGGED, TaggedComment),
    (MODERATION_REVIEW, ReviewItem),
    (COUNCIL_FORWARD, CouncilForward),
)
"""Topics whose records name their author; they are read first, to learn the author's comments."""
ABOUT: tuple[tuple[TopicSpec, type[Event]], ...] = (
    (MODERATION_DECISIONS, Decision),
    (MODERATION_ACTIONS, ModerationAction),
    (AUDIT_LOG, AuditRecord),
    (COMMENTS_DEADLETTER, DeadLetter),
)
"""Topics whose records point at a comment, a review item or an author by key."""

Reader = Callable[[str], Iterable[tuple[bytes | None, bytes | None]]]
"""Yields ``(key, value)`` of every committed record of one topic, from the beginning."""


def from_topics(export: Export, read: Reader, prefix: str = "") -> None:
    """Add the topics' records about the author: first those they wrote, then those about them."""
    authors = set(Store.author_keys(export.author_id))
    comment_keys: set[str] = set()
    review_ids: set[str] = set()
    for spec, model in AUTHORED:
        for _, value in read(spec.full_name(prefix)):
            try:
                event = decode(value, model)
            except SchemaError:
                continue  # not readable as its topic's event: the dead letters hold such messages
            comment = event if isinstance(event, Comment) else getattr(event, "comment", None)
            if not isinstance(comment, Comment) or f"{comment.platform}:{comment.author_id}" not in authors:
                continue
            comment_keys.add(comment.key)
            if isinstance(event, ReviewItem):
                review_ids.add(event.review_id)
            export.add(f"kafka:{spec.name}", event.model_dump(mode="json"))
    subjects = comment_keys | {f"review:{r}" for r in review_ids} | {f"author:{a}" for a in authors}
    subjects.add(f"author:{export.author_id}")
    for spec, model in ABOUT:
        for key, value in read(spec.full_name(prefix)):
            try:
                event = decode(value, model)
            except SchemaError:
                continue
            if _about(event, key, comment_keys, review_ids, subjects):
                export.add(f"kafka:{spec.name}", event.model_dump(mode="json"))


def _about(event: Event, key: bytes | None, comments: set[str], reviews: set[str], subjects: set[str]) -> bool:
    if isinstance(event, Decision):
        return f"{event.platform}:{event.comment_id}" in comments or event.review_id in reviews
    if isinstance(event, ModerationAction):
        return f"{event.platform}:{event.comment_id}" in comments
    if isinstance(event, AuditRecord):
        return event.subject in subjects or event.details.get("review_id") in reviews
    if isinstance(event, DeadLetter):
        return event.key in comments or (key is not None and key.decode("utf-8", "replace") in comments)
    return False


def kafka_reader(bootstrap: str, timeout_s: float = 30.0) -> Reader:
    """Read a topic whole, from its earliest retained offset to its last stable one, without a group;
    gives up when ``timeout_s`` pass without a record before the end."""
    from kafka import KafkaConsumer, TopicPartition

    from runtime.settings import kafka_auth

    def read(topic: str) -> Iterator[tuple[bytes | None, bytes | None]]:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            client_id="civicwatch-records",
            bootstrap_timeout_ms=10_000,
            **kafka_auth(),
        )
        try:
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not tps:
                return
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            end = consumer.end_offsets(tps)  # under read_committed: the last stable offset
            deadline = time.monotonic() + timeout_s
            while any(consumer.position(tp) < end[tp] for tp in tps):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{topic}: nothing read for {timeout_s:.0f} s before its end")
                for tp, records in consumer.poll(timeout_ms=500, max_records=1000).items():
                    deadline = time.monotonic() + timeout_s  # a long topic is fine while it moves
                    for record in records:
                        if record.offset < end[tp]:
                            yield record.key, record.value
        finally:
            consumer.close()

    return read


def export_audit(export: Export, actor: str, files: list[Path], request_ref: str = "") -> AuditRecord:
    """The audit record of an export: who ran it, for which request, how many records; no content."""
    return AuditRecord(
        audit_id=f"export-{export.export_id}",
        actor=actor[:128],
        verb="records.export",
        subject=f"author:{export.author_id}"[:256],
        reason="access request (MFIPPA, clause 6.1)",
        details={
            "export_id": export.export_id,
            "request_ref": request_ref,
            "counts": export.counts(),
            "files": [f.name for f in files],
        },
        at=export.created_at,
    )


def write_export(export: Export, out: Path) -> list[Path]:
    """``<id>.jsonl`` (one record a line, with its source) and ``<id>.html`` (a readable summary)."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"access-request-{export.export_id}"
    jsonl, page = out / f"{stem}.jsonl", out / f"{stem}.html"
    with jsonl.open("w", encoding="utf-8") as f:
        for source, rows in sorted(export.records.items()):
            for row in rows:
                f.write(json.dumps({"source": source, "record": row}, ensure_ascii=False, default=str) + "\n")
    page.write_text(render_html(export), encoding="utf-8")
    for path in (jsonl, page):
        path.chmod(0o600)  # personal information: readable by the records officer's account only
    return [jsonl, page]


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return html.escape("" if value is None else str(value))


_TAGGED = ("comment.comment_id", "comment.created_at", "comment.text", "flags", "processed_at")
_AUDIT = ("at", "actor", "verb", "subject", "outcome", "reason")
_DECISION = ("decision_id", "review_id", "decision", "reason", "moderator", "decided_at")
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "review_store:comments": _TAGGED,
    "review_store:review_items": ("item.review_id", "item.comment.text", "item.clauses", "status", "decision"),
    "review_store:decisions": _DECISION,
    "review_store:audit": _AUDIT,
    "kafka:comments.raw": ("platform", "comment_id", "post_id", "created_at", "text"),
    "kafka:comments.tagged": _TAGGED,
    "kafka:moderation.review": ("review_id", "comment.comment_id", "comment.text", "clauses", "action"),
    "kafka:council.forward": ("forward_id", "comment.comment_id", "comment.text", "persons", "created_at"),
    "kafka:moderation.decisions": _DECISION,
    "kafka:moderation.actions": ("action_id", "comment_id", "action", "clauses", "requested_at"),
    "kafka:audit.log": _AUDIT,
    "kafka:comments.deadletter": ("dead_letter_id", "stage", "reason", "key", "at"),
}
"""The columns of each source's table in the summary; the JSON Lines file has every field."""


def _fields(source: str) -> tuple[str, ...]:
    return SUMMARY_FIELDS.get(source, ())


def _get(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def render_html(export: Export) -> str:
    """Every record in a table per source; every value escaped (comment text is the author's own input)."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Access request: records about one author</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}</style></head><body>",
        "<h1>Records about one author</h1>",
        f"<p>Author: <code>{_cell(export.author_id)}</code>. Export <code>{_cell(export.export_id)}</code>, made "
        f"{_cell(export.created_at.isoformat(timespec='seconds'))}. City of Windsor Social Media Policy, clause 6.1 "
        "(MFIPPA). The JSON Lines file beside this page holds every record in full.</p>",
        "<ul>",
        *(f"<li>{_cell(source)}: {n}</li>" for source, n in export.counts().items()),
        "</ul>",
    ]
    if not export.records:
        parts.append("<p>No records were found.</p>")
    for source, rows in sorted(export.records.items()):
        fields = _fields(source)
        parts.append(f"<h2>{_cell(source)} ({len(rows)})</h2><table><tr>")
        parts.extend(f"<th>{_cell(f)}</th>" for f in fields or ("record",))
        parts.append("</tr>")
        for row in rows:
            cells = [_get(row, f) for f in fields] if fields else [row]
            parts.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
