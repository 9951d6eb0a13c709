"""The review service's state: a SQLite materialised view of the topics, rebuildable from them.

Why SQLite rather than faust tables: moderators filter and sort the queue (clause, platform, post,
age), join an item to its author's history and its audit trail, and page through results; a
key-value table would need a secondary index for each of those. SQLite answers them with indexes,
in-process, durable on disk, with nothing else to operate.

Why it stays correct: each Kafka record is applied in the same transaction that stores the next
offset of its partition, so after a crash the view resumes exactly where its rows end (no record
applied twice, none skipped). The topics are the source of truth: delete the file (or start with
``--rebuild``) and the view is rebuilt from the earliest retained offsets. Sessions are the only
rows that do not come from Kafka.

Queries are indexed and bounded (pages of 50), so they run on the event loop without a thread.

The view holds personal information (comment text, handles): it is kept on the service's disk
only, comments older than ``CIVICWATCH_REVIEW_HISTORY_DAYS`` are pruned (clause 6.2), and nothing
here is logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from pipelines.normalize import normalize
from review.agreement import Decided
from review.brigading import PostWindow
from schemas import Aggregate, AuditRecord, Decision, Post, PostReviewItem, ReviewItem, TaggedComment
from schemas.events import Platform

SCHEMA = """
CREATE TABLE IF NOT EXISTS offsets (topic TEXT, partition INTEGER, next_offset INTEGER, PRIMARY KEY (topic, partition));
CREATE TABLE IF NOT EXISTS review_items (
    review_id TEXT PRIMARY KEY,
    comment_key TEXT NOT NULL,
    platform TEXT NOT NULL,
    post_key TEXT NOT NULL,
    author_key TEXT NOT NULL,
    queued_at REAL NOT NULL,
    comment_created_at REAL NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decision TEXT, decision_id TEXT, decided_by TEXT, decided_at REAL, reason TEXT,
    action_id TEXT, auto_hidden INTEGER NOT NULL DEFAULT 0, alerted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS review_items_queue ON review_items (status, queued_at);
CREATE INDEX IF NOT EXISTS review_items_comment ON review_items (comment_key);
CREATE TABLE IF NOT EXISTS item_clauses (review_id TEXT, clause TEXT, PRIMARY KEY (review_id, clause));
CREATE INDEX IF NOT EXISTS item_clauses_clause ON item_clauses (clause);
CREATE TABLE IF NOT EXISTS comments (
    comment_key TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    post_key TEXT NOT NULL,
    author_key TEXT NOT NULL,
    created_at REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_author ON comments (author_key, created_at);
CREATE TABLE IF NOT EXISTS decisions (
    decision_id TEXT PRIMARY KEY, review_id TEXT, comment_key TEXT, decision TEXT, moderator TEXT,
    reason TEXT, decided_at REAL
);
CREATE INDEX IF NOT EXISTS decisions_comment ON decisions (comment_key);
CREATE TABLE IF NOT EXISTS audit (
    audit_id TEXT PRIMARY KEY, actor TEXT, verb TEXT, subject TEXT, outcome TEXT, reason TEXT,
    details TEXT, at REAL
);
CREATE INDEX IF NOT EXISTS audit_subject ON audit (subject, at);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS posts (post_key TEXT PRIMARY KEY, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS post_items (
    review_id TEXT PRIMARY KEY, post_key TEXT NOT NULL, queued_at REAL NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX IF NOT EXISTS post_items_queue ON post_items (status, queued_at);
CREATE TABLE IF NOT EXISTS aggregates (
    agg_key TEXT PRIMARY KEY, window TEXT, window_start REAL, dimension TEXT, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aggregates_window ON aggregates (window, window_start);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, role TEXT NOT NULL, csrf TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clause_urgency (clause TEXT PRIMARY KEY, severity INTEGER NOT NULL, target_s REAL);
INSERT OR IGNORE INTO clause_urgency VALUES ('*', 5, NULL);
CREATE TABLE IF NOT EXISTS session_state (
    token_hash TEXT PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
    credential TEXT NOT NULL, seen_at REAL NOT NULL
);
"""
MIGRATIONS: tuple[tuple[str, str, str], ...] = (
    ("review_items", "score", "REAL NOT NULL DEFAULT 0"),
    ("review_items", "text_key", "TEXT"),
    ("decisions", "clauses", "TEXT"),
    ("comments", "flags", "TEXT NOT NULL DEFAULT ''"),
    ("review_items", "severity", "INTEGER"),
    ("review_items", "due_at", "REAL"),
)
"""Columns added after the first release: added to an older view in place, then backfilled."""
DEFAULT_CLAUSE = "*"
_DEFAULT = f"(SELECT {{0}} FROM clause_urgency WHERE clause = '{DEFAULT_CLAUSE}')"
SEVERITY_SQL = (
    "COALESCE((SELECT MIN(COALESCE(u.severity, {d})) FROM item_clauses c LEFT JOIN clause_urgency u USING (clause)"
    " WHERE c.review_id = review_items.review_id), {d})"
).format(d=_DEFAULT.format("severity"))
"""An item's severity: that of its most urgent clause (1 first), from ``clause_urgency``."""
TARGET_SQL = (
    "COALESCE((SELECT MIN(COALESCE(u.target_s, {d})) FROM item_clauses c LEFT JOIN clause_urgency u USING (clause)"
    " WHERE c.review_id = review_items.review_id), {d})"
).format(d=_DEFAULT.format("target_s"))
"""How long an item may wait: the shortest target of its clauses, in seconds."""
SET_URGENCY = f"UPDATE review_items SET severity = {SEVERITY_SQL}, due_at = queued_at + {TARGET_SQL}"
"""Stored with each item (and recomputed from the policy at start) so that the queue's order and
the overdue check read indexed columns instead of joining every pending item's clauses."""
STATUSES = ("pending", "escalated", "decided", "deleted")
VIEW_TABLES = (
    "offsets",
    "review_items",
    "item_clauses",
    "comments",
    "decisions",
    "audit",
    "posts",
    "post_items",
    "aggregates",
)
RETAINED: tuple[tuple[str, str, str], ...] = (
    ("comments", "comments", "created_at"),
    ("review_items", "review_items", "COALESCE(decided_at, queued_at)"),
    ("post_items", "review_items", "queued_at"),
    ("decisions", "decisions", "decided_at"),
    ("audit", "audit", "at"),
)
"""The view's tables that hold records (clause 6.2): table, record type in the policy's retention, and the
time a row's retention runs from. A review item's runs from its decision: one still waiting is kept."""
OPEN_STATUSES = ("pending", "escalated")


def ts(value: datetime) -> float:
    return value.astimezone(UTC).timestamp()


def flagged_score(item: ReviewItem) -> float:
    """The strongest flagged finding: within one severity, the surest flag comes first."""
    return max((t.score for t in item.tags if t.category in item.flags), default=0.0)


def violation_clauses(tagged: TaggedComment) -> str:
    """The clauses of section 5.7 a comment was flagged under, space-separated (for brigading)."""
    return " ".join(
        sorted({t.clause for t in tagged.tags if t.category in tagged.flags and t.clause.startswith("5.7")})
    )


_EDGE_PUNCTUATION = re.compile(r"[^\w\s]+(?=\s|$)|(?:^|(?<=\s))[^\w\s]+")


def text_key(text: str) -> str | None:
    """What makes two comments "identical" for a bulk decision: the same words once normalised
    (case, accents, look-alikes, spacing and punctuation folded), as a spam run pastes them.
    ``None`` for text too short to say anything (an empty or one-word comment matches too much)."""
    # Punctuation at the edges of words goes first: normalising would read "!" or "1" after a
    # word as a disguised letter.
    words = re.findall(r"\w+", normalize(_EDGE_PUNCTUATION.sub(" ", text)).text)
    if len(words) < 2:
        return None
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class QueueFilter:
    """What a moderator narrowed the queue to; ``None`` means any."""

    clause: str | None = None
    platform: str | None = None
    post: str | None = None
    min_age: float | None = None
    max_age: float | None = None
    overdue: bool = False
    """Only items waiting longer than their clauses' target."""
    same_text_as: str | None = None
    """Only items with the same normalised text as this review item (a spam run)."""
    status: str = "pending"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class QueueRow:
    item: ReviewItem
    status: str
    queued_at: float
    decision: str | None
    decided_by: str | None
    decided_at: float | None
    reason: str | None
    action_id: str | None
    auto_hidden: bool
    severity: int | None = None
    target_s: float | None = None

    def overdue(self, now: float) -> bool:
        return self.status == "pending" and self.target_s is not None and now - self.queued_at > self.target_s


@dataclass(frozen=True)
class Overdue:
    """A pending item past its target, as the alert reports it (ids and numbers only)."""

    review_id: str
    queued_at: float
    clauses: tuple[str, ...]
    severity: int
    target_s: float


class Store:
    def __init__(self, path: Path) -> None:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        self.path = path
        # SQLite creates the -wal and -shm files with the database file's mode: make that 0600
        # before it opens, whatever the umask, and correct files left by an older version.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                file.chmod(0o600)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        with self.transaction():
            added: set[str] = set()
            for table, column, kind in MIGRATIONS:
                present = {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    added.add(table)
            if "review_items" in added:
                self._backfill_items()
                self.db.execute(SET_URGENCY)
            if "comments" in added:
                for r in self.db.execute("SELECT comment_key, payload FROM comments").fetchall():
                    flags = violation_clauses(TaggedComment.model_validate_json(r["payload"]))
                    self.db.execute("UPDATE comments SET flags = ? WHERE comment_key = ?", (flags, r[0]))
            self.db.execute("CREATE INDEX IF NOT EXISTS review_items_text ON review_items (text_key, status)")
            self.db.execute(
                "CREATE INDEX IF NOT EXISTS review_items_urgent ON review_items"
                " (status, severity, score DESC, queued_at, review_id)"
            )
            self.db.execute("CREATE INDEX IF NOT EXISTS review_items_due ON review_items (status, due_at)")

    def _backfill_items(self) -> None:
        for r in self.db.execute("SELECT review_id, payload FROM review_items").fetchall():
            item = ReviewItem.model_validate_json(r["payload"])
            self.db.execute(
                "UPDATE review_items SET score = ?, text_key = ? WHERE review_id = ?",
                (flagged_score(item), text_key(item.comment.text), r["review_id"]),
            )

    def set_urgency(
        self,
        severity: dict[str, int],
        default_severity: int,
        default_target: float | None,
        targets: dict[str, float | None] | None = None,
    ) -> None:
        """The policy's urgency per clause (``review`` section): severity rank and target in seconds;
        not part of the view, so it is rewritten at every start from the policy file."""
        targets = targets or {}
        with self.transaction():
            self.db.execute("DELETE FROM clause_urgency")
            self.db.execute(
                "INSERT INTO clause_urgency VALUES (?, ?, ?)", (DEFAULT_CLAUSE, default_severity, default_target)
            )
            self.db.executemany(
                "INSERT INTO clause_urgency VALUES (?, ?, ?)",
                [(clause, severity[clause], targets.get(clause)) for clause in severity],
            )
            self.db.execute(SET_URGENCY)

    def close(self) -> None:
        self.db.close()

    def rebuild(self) -> None:
        """Forget the view (not the sessions): the next consumer start replays the topics."""
        with self.transaction():
            for table in VIEW_TABLES:
                self.db.execute(f"DELETE FROM {table}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def ping(self) -> bool:
        return bool(self.db.execute("SELECT 1").fetchone()[0] == 1)

    # ---- applying records (inside ``transaction``) ----

    def offsets(self) -> dict[tuple[str, int], int]:
        rows = self.db.execute("SELECT topic, partition, next_offset FROM offsets").fetchall()
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    def set_offset(self, topic: str, partition: int, next_offset: int) -> None:
        self.db.execute(
            "INSERT INTO offsets VALUES (?, ?, ?)"
            " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
            (topic, partition, next_offset),
        )

    def put_review_item(self, item: ReviewItem) -> None:
        c = item.comment
        cur = self.db.execute(
            "INSERT OR IGNORE INTO review_items (review_id, comment_key, platform, post_key, author_key, queued_at,"
            " comment_created_at, action, payload, score, text_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.review_id,
                c.key,
                c.platform,
                f"{c.platform}:{c.post_id}",
                f"{c.platform}:{c.author_id}",
                ts(item.created_at),
                ts(c.created_at),
                item.action,
                item.model_dump_json(),
                flagged_score(item),
                text_key(c.text),
            ),
        )
        deleted = self.db.execute(
            "SELECT 1 FROM comments WHERE comment_key = ? AND json_extract(payload, '$.comment.deleted')", (c.key,)
        ).fetchone()
        if deleted:  # the deletion was read first (another topic): the item arrives withdrawn
            self._withdraw(c.key)
        if cur.rowcount:
            self.db.executemany(
                "INSERT OR IGNORE INTO item_clauses VALUES (?, ?)", [(item.review_id, k) for k in item.clauses]
            )
            self.db.execute(SET_URGENCY + " WHERE review_id = ?", (item.review_id,))
            # Decisions or audit records that arrived before the item (other partitions) still apply.
            for d in self.db.execute(
                "SELECT * FROM decisions WHERE review_id = ? ORDER BY decided_at", (item.review_id,)
            ).fetchall():
                self._decide(
                    d["review_id"], d["decision"], d["decision_id"], d["moderator"], d["decided_at"], d["reason"]
                )

    def put_tagged(self, tagged: TaggedComment) -> None:
        c = tagged.comment
        if c.deleted:
            # Gone from the platform: its text leaves the view and its pending item the queue.
            self._withdraw(c.key)
        elif c.hidden is not None and not c.edited:
            return  # a hide or unhide changes no text: the audit record tells it
        self.db.execute(
            "INSERT INTO comments (comment_key, platform, post_key, author_key, created_at, payload, flags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (comment_key) DO UPDATE SET"
            " payload = excluded.payload, created_at = excluded.created_at, flags = excluded.flags",
            (
                c.key,
                c.platform,
                f"{c.platform}:{c.post_id}",
                f"{c.platform}:{c.author_id}",
                ts(c.created_at),
                tagged.model_dump_json(),
                violation_clauses(tagged),
            ),
        )

    def _withdraw(self, comment_key: str) -> None:
        self.db.execute(
            "UPDATE review_items SET status = CASE status WHEN 'pending' THEN 'deleted' ELSE status END,"
            " text_key = NULL, payload = json_set(payload, '$.comment.text', '', '$.comment.deleted', json('true'))"
            " WHERE comment_key = ?",
            (comment_key,),
        )

    def put_post(self, post: Post) -> None:
        self.db.execute(
            "INSERT INTO posts VALUES (?, ?) ON CONFLICT (post_key) DO UPDATE SET payload = excluded.payload",
            (post.key, post.model_dump_json()),
        )

    def put_post_item(self, item: PostReviewItem) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO post_items (review_id, post_key, queued_at, payload) VALUES (?, ?, ?, ?)",
            (item.review_id, item.post.key, ts(item.created_at), item.model_dump_json()),
        )

    def put_decision(self, d: Decision) -> None:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO decisions (decision_id, review_id, comment_key, decision, moderator, reason,"
            " decided_at, clauses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.decision_id,
                d.review_id,
                f"{d.platform}:{d.comment_id}",
                d.decision,
                d.moderator,
                d.reason,
                ts(d.decided_at),
                json.dumps(d.clauses),
            ),
        )
        if cur.rowcount:
            self._decide(d.review_id, d.decision, d.decision_id, d.moderator, ts(d.decided_at), d.reason)

    def _decide(self, review_id: str, decision: str, decision_id: str, by: str, at: float, reason: str) -> None:
        # An escalated item is not done: it waits for Corporate Communications under its own status.
        status = "escalated" if decision == "escalate" else "decided"
        self.db.execute(
            "UPDATE review_items SET status = ?, decision = ?, decision_id = ?, decided_by = ?,"
            " decided_at = ?, reason = ? WHERE review_id = ? AND (decided_at IS NULL OR decided_at <= ?)",
            (status, decision, decision_id, by, at, reason, review_id, at),
        )

    def put_audit(self, record: AuditRecord) -> None:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.audit_id,
                record.actor,
                record.verb,
                record.subject,
                record.outcome,
                record.reason,
                json.dumps(record.details, default=str),
                ts(record.at),
            ),
        )
        review_id = record.details.get("review_id")
        if not cur.rowcount or not isinstance(review_id, str):
            return
        if record.verb == "auto_hide":
            self.db.execute("UPDATE review_items SET auto_hidden = 1 WHERE review_id = ?", (review_id,))
        action_id = record.details.get("action_id")
        if record.verb.startswith("decision.") and isinstance(action_id, str):
            self.db.execute("UPDATE review_items SET action_id = ? WHERE review_id = ?", (action_id, review_id))

    def put_aggregate(self, key: str, aggregate: Aggregate) -> None:
        self.db.execute(
            "INSERT INTO aggregates VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (agg_key) DO UPDATE SET payload = excluded.payload",
            (key, aggregate.window, ts(aggregate.window_start), aggregate.dimension, aggregate.model_dump_json()),
        )

    # ---- queries ----

    def _where(self, f: QueueFilter, now: float) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if f.status in STATUSES:
            clauses.append("i.status = ?")
            args.append(f.status)
        if f.clause:
            clauses.append("i.review_id IN (SELECT review_id FROM item_clauses WHERE clause = ?)")
            args.append(f.clause)
        if f.platform:
            clauses.append("i.platform = ?")
            args.append(f.platform)
        if f.post:
            clauses.append("i.post_key = ?")
            args.append(f.post)
        if f.min_age is not None:
            clauses.append("i.queued_at <= ?")
            args.append(now - f.min_age)
        if f.max_age is not None:
            clauses.append("i.queued_at > ?")
            args.append(now - f.max_age)
        if f.overdue:
            clauses.append("i.due_at < ?")
            args.append(now)
        if f.same_text_as:
            clauses.append("i.text_key = (SELECT text_key FROM review_items WHERE review_id = ?)")
            args.append(f.same_text_as)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    URGENT_ORDER = "i.severity ASC, i.score DESC, i.queued_at ASC, i.review_id"
    """The pending queue's order: the most severe clause first (5.7.8 threats, 5.7.9 private
    information), then the surest flag, then the longest wait."""

    def queue(self, f: QueueFilter, now: float | None = None) -> tuple[list[QueueRow], int]:
        """One page of matching items (most urgent first while pending, else latest decided first)
        and the number of matches."""
        where, args = self._where(f, now if now is not None else time.time())
        total = self.db.execute(f"SELECT COUNT(*) FROM review_items i{where}", args).fetchone()[0]
        order = self.URGENT_ORDER if f.status == "pending" else "i.decided_at DESC, i.review_id"
        rows = self.db.execute(
            f"SELECT i.* FROM review_items i{where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, max(1, min(f.limit, 200)), max(0, f.offset)],
        ).fetchall()
        return [self._row(r) for r in rows], int(total)

    def neighbours(self, review_id: str) -> tuple[str | None, str | None]:
        """The pending items before and after this one in the queue's order, for keyboard navigation;
        for an item no longer pending, no previous and the most urgent pending one as next."""
        row = self.db.execute(
            "SELECT status, severity, score, queued_at FROM review_items WHERE review_id = ?", (review_id,)
        ).fetchone()
        if row is None:
            return None, None
        pending = "SELECT review_id FROM review_items WHERE status = 'pending'"
        if row["status"] != "pending":
            first = self.db.execute(f"{pending} ORDER BY severity, score DESC, queued_at, review_id LIMIT 1").fetchone()
            return None, first[0] if first else None
        # Row values compare in the queue's order; the score is negated because it sorts descending.
        key = "(severity, -score, queued_at, review_id)"
        at = (row["severity"], -row["score"], row["queued_at"], review_id)
        before = self.db.execute(
            f"{pending} AND {key} < (?, ?, ?, ?) ORDER BY severity DESC, score, queued_at DESC, review_id DESC LIMIT 1",
            at,
        ).fetchone()
        after = self.db.execute(
            f"{pending} AND {key} > (?, ?, ?, ?) ORDER BY severity, score DESC, queued_at, review_id LIMIT 1", at
        ).fetchone()
        return (before[0] if before else None), (after[0] if after else None)

    def identical(self, review_id: str, limit: int = 500) -> list[QueueRow]:
        """Other pending items with the same normalised text (``text_key``): a spam run, decided at once."""
        rows = self.db.execute(
            "SELECT i.* FROM review_items i WHERE i.status = 'pending'"
            " AND i.review_id != ? AND i.text_key IS NOT NULL"
            " AND i.text_key = (SELECT text_key FROM review_items WHERE review_id = ?)"
            " ORDER BY i.queued_at, i.review_id LIMIT ?",
            (review_id, review_id, limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    @staticmethod
    def _row(r: sqlite3.Row) -> QueueRow:
        return QueueRow(
            item=ReviewItem.model_validate_json(r["payload"]),
            status=r["status"],
            queued_at=r["queued_at"],
            decision=r["decision"],
            decided_by=r["decided_by"],
            decided_at=r["decided_at"],
            reason=r["reason"],
            action_id=r["action_id"],
            auto_hidden=bool(r["auto_hidden"]),
            severity=r["severity"],
            target_s=r["due_at"] - r["queued_at"] if r["due_at"] is not None else None,
        )

    def item(self, review_id: str) -> QueueRow | None:
        r = self.db.execute("SELECT * FROM review_items WHERE review_id = ?", (review_id,)).fetchone()
        return self._row(r) if r is not None else None

    def post(self, post_key: str) -> Post | None:
        r = self.db.execute("SELECT payload FROM posts WHERE post_key = ?", (post_key,)).fetchone()
        return Post.model_validate_json(r["payload"]) if r is not None else None

    def history(
        self, author_key: str, exclude: str, since: float, limit: int = 20
    ) -> list[tuple[TaggedComment, str | None]]:
        """The author's other recent comments, newest first, each with its latest decision."""
        rows = self.db.execute(
            "SELECT c.payload, (SELECT d.decision FROM decisions d WHERE d.comment_key = c.comment_key"
            " ORDER BY d.decided_at DESC LIMIT 1) AS decision FROM comments c"
            " WHERE c.author_key = ? AND c.comment_key != ? AND c.created_at >= ? ORDER BY c.created_at DESC LIMIT ?",
            (author_key, exclude, since, limit),
        ).fetchall()
        return [(TaggedComment.model_validate_json(r["payload"]), r["decision"]) for r in rows]

    def audit_for(self, subject: str, review_id: str) -> list[AuditRecord]:
        rows = self.db.execute(
            "SELECT * FROM audit WHERE subject = ? OR subject = ? ORDER BY at", (subject, f"review:{review_id}")
        ).fetchall()
        return [self._audit(r) for r in rows]

    def audit_recent(self, limit: int = 200) -> list[AuditRecord]:
        rows = self.db.execute("SELECT * FROM audit ORDER BY at DESC LIMIT ?", (limit,)).fetchall()
        return [self._audit(r) for r in rows]

    @staticmethod
    def _audit(r: sqlite3.Row) -> AuditRecord:
        return AuditRecord(
            audit_id=r["audit_id"],
            actor=r["actor"],
            verb=r["verb"],
            subject=r["subject"],
            outcome=r["outcome"],
            reason=r["reason"],
            details=json.loads(r["details"]),
            at=datetime.fromtimestamp(r["at"], UTC),
        )

    def choices(self) -> dict[str, list[str]]:
        """Values present in the queue, for the filter menus."""
        return {
            "clause": [r[0] for r in self.db.execute("SELECT DISTINCT clause FROM item_clauses ORDER BY clause")],
            "platform": [r[0] for r in self.db.execute("SELECT DISTINCT platform FROM review_items ORDER BY 1")],
            "post": [r[0] for r in self.db.execute("SELECT DISTINCT post_key FROM review_items ORDER BY 1")],
        }

    def aggregates(self, window: str, since: float) -> list[Aggregate]:
        rows = self.db.execute(
            "SELECT payload FROM aggregates WHERE window = ? AND window_start >= ?", (window, since)
        ).fetchall()
        return [Aggregate.model_validate_json(r["payload"]) for r in rows]

    def latest_window(self, window: str) -> float | None:
        r = self.db.execute("SELECT MAX(window_start) FROM aggregates WHERE window = ?", (window,)).fetchone()
        return float(r[0]) if r[0] is not None else None

    def pending_by_clause(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT c.clause, COUNT(*) FROM review_items i JOIN item_clauses c USING (review_id)"
            " WHERE i.status = 'pending' GROUP BY c.clause"
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def pending_stats(self) -> tuple[int, float | None]:
        r = self.db.execute("SELECT COUNT(*), MIN(queued_at) FROM review_items WHERE status = 'pending'").fetchone()
        return int(r[0]), r[1]

    def overdue(self, now: float, fresh: bool = True) -> tuple[dict[int, int], list[Overdue]]:
        """Pending items past their target, counted by severity, and (if ``fresh``) those not alerted yet."""
        counts = self.db.execute(
            "SELECT severity, COUNT(*) FROM review_items WHERE status = 'pending' AND due_at < ? GROUP BY severity",
            (now,),
        ).fetchall()
        if not fresh:
            return {r[0]: int(r[1]) for r in counts}, []
        rows = self.db.execute(
            "SELECT i.review_id, i.queued_at, i.severity, i.due_at, (SELECT GROUP_CONCAT(clause, ' ')"
            " FROM item_clauses c WHERE c.review_id = i.review_id) AS clauses FROM review_items i"
            " WHERE i.status = 'pending' AND i.due_at < ? AND i.alerted = 0",
            (now,),
        ).fetchall()
        late = [
            Overdue(
                r["review_id"],
                r["queued_at"],
                tuple(sorted((r["clauses"] or "").split())),
                r["severity"],
                r["due_at"] - r["queued_at"],
            )
            for r in rows
        ]
        return {r[0]: int(r[1]) for r in counts}, late

    def mark_alerted(self, review_ids: list[str]) -> None:
        self.db.executemany("UPDATE review_items SET alerted = 1 WHERE review_id = ?", [(i,) for i in review_ids])

    def post_windows(self, now: float, window_s: float, baseline_s: float, least: int) -> list[PostWindow]:
        """Per post with at least ``least`` comments in the last ``window_s``: the window's counts and
        the baseline over the ``baseline_s`` before it (from the post's first comment in it)."""
        start, base_start = now - window_s, now - window_s - baseline_s
        rows = self.db.execute(
            "SELECT post_key, SUM(created_at >= ?) AS n, SUM(created_at >= ? AND flags != '') AS f,"
            " SUM(created_at < ?) AS bn, SUM(created_at < ? AND flags != '') AS bf,"
            " MIN(created_at) AS first FROM comments WHERE created_at >= ? AND created_at <= ?"
            " GROUP BY post_key HAVING n >= ?",
            (start, start, start, start, base_start, now, least),
        ).fetchall()
        out: list[PostWindow] = []
        for r in rows:
            clauses: dict[str, int] = {}
            for (flags,) in self.db.execute(
                "SELECT flags FROM comments WHERE post_key = ? AND created_at >= ? AND created_at <= ? AND flags != ''",
                (r["post_key"], start, now),
            ):
                for clause in flags.split():
                    clauses[clause] = clauses.get(clause, 0) + 1
            covered = max(0.0, start - r["first"]) if r["first"] < start else 0.0
            out.append(
                PostWindow(
                    post=r["post_key"],
                    comments=int(r["n"]),
                    flagged=int(r["f"]),
                    clauses=clauses,
                    baseline_comments=int(r["bn"]),
                    baseline_flagged=int(r["bf"]),
                    baseline_windows=covered / window_s,
                )
            )
        return out

    def decided(self, since: float, items: bool = False) -> list[Decided]:
        """Each item's latest decision since ``since``: for agreement, and with ``items`` (the whole
        review item, costlier to read) for training examples."""
        payload = "i.payload" if items else "NULL AS payload"
        rows = self.db.execute(
            f"SELECT {payload}, d.decision, d.clauses, d.decided_at, (SELECT GROUP_CONCAT(clause, ' ')"
            " FROM item_clauses c WHERE c.review_id = i.review_id) AS flagged FROM review_items i JOIN decisions d"
            " ON d.decision_id = i.decision_id WHERE d.decided_at >= ? ORDER BY d.decided_at",
            (since,),
        ).fetchall()
        return [
            Decided(
                flagged=tuple(sorted((r["flagged"] or "").split())),
                decision=r["decision"],
                clauses=tuple(json.loads(r["clauses"])) if r["clauses"] is not None else None,
                decided_at=r["decided_at"],
                item=ReviewItem.model_validate_json(r["payload"]) if items else None,
            )
            for r in rows
        ]

    def prune_comments(self, before: float) -> int:
        return self.db.execute("DELETE FROM comments WHERE created_at < ?", (before,)).rowcount

    def post_items(self, status: str = "pending", limit: int = 50) -> list[PostReviewItem]:
        """Corporate Communications' 5.6 queue: the city's posts with findings, oldest first."""
        rows = self.db.execute(
            "SELECT payload FROM post_items WHERE status = ? ORDER BY queued_at, review_id LIMIT ?",
            (status, max(1, min(limit, 200))),
        ).fetchall()
        return [PostReviewItem.model_validate_json(r["payload"]) for r in rows]

    # ---- records (clauses 6.1, 6.2) ----

    def _open_only(self, table: str) -> str:
        return f" AND status NOT IN {OPEN_STATUSES!r}" if table == "review_items" else ""

    def purge(self, before: dict[str, float]) -> dict[str, int]:
        """Delete the rows older than their record type's retention (``before``: record type -> cutoff).

        Record types not in ``before`` are kept. Call inside ``transaction``. Returns rows deleted per table.
        """
        deleted: dict[str, int] = {}
        for table, record, since in RETAINED:
            cutoff = before.get(record)
            if cutoff is None:
                continue
            where = f"{since} < ?{self._open_only(table)}"
            if table == "review_items":
                self.db.execute(
                    f"DELETE FROM item_clauses WHERE review_id IN (SELECT review_id FROM review_items WHERE {where})",
                    (cutoff,),
                )
            deleted[table] = self.db.execute(f"DELETE FROM {table} WHERE {where}", (cutoff,)).rowcount
        return deleted

    def retained(self) -> list[tuple[str, str, int, float | None]]:
        """Per record table: (table, record type, rows, oldest row's retention start) for the report."""
        out = []
        for table, record, since in RETAINED:
            r = self.db.execute(
                f"SELECT COUNT(*), MIN({since}) FROM {table} WHERE 1{self._open_only(table)}"
            ).fetchone()
            out.append((table, record, int(r[0]), r[1]))
        return out

    @staticmethod
    def author_keys(author_id: str) -> list[str]:
        """``x:123`` names one platform's author; a bare id is looked up on every platform."""
        platforms = get_args(Platform)
        head, _, rest = author_id.partition(":")
        if rest and head in platforms:
            return [author_id]
        return [f"{p}:{author_id}" for p in platforms]

    def records_about(self, author_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every record the view holds about one author (an MFIPPA access request, clause 6.1).

        Comments and review items by author; decisions and audit records by the comments and items
        found, and the audit records of earlier requests about the same author.
        """
        keys = self.author_keys(author_id)
        marks = ",".join("?" * len(keys))
        out: dict[str, list[dict[str, Any]]] = {"comments": [], "review_items": [], "decisions": [], "audit": []}
        comment_keys: set[str] = set()
        review_ids: set[str] = set()
        for r in self.db.execute(
            f"SELECT comment_key, payload FROM comments WHERE author_key IN ({marks}) ORDER BY created_at", keys
        ):
            comment_keys.add(r["comment_key"])
            out["comments"].append(json.loads(r["payload"]))
        for r in self.db.execute(
            f"SELECT * FROM review_items WHERE author_key IN ({marks}) ORDER BY queued_at, review_id", keys
        ):
            comment_keys.add(r["comment_key"])
            review_ids.add(r["review_id"])
            row = {k: r[k] for k in ("status", "decision", "decided_by", "decided_at", "reason", "action_id")}
            out["review_items"].append({"item": json.loads(r["payload"]), **row})
        ck, ri = sorted(comment_keys), sorted(review_ids)
        ck_marks, ri_marks = ",".join("?" * len(ck)), ",".join("?" * len(ri))
        for r in self.db.execute(
            f"SELECT * FROM decisions WHERE comment_key IN ({ck_marks}) OR review_id IN ({ri_marks})"
            " ORDER BY decided_at, decision_id",
            [*ck, *ri],
        ):
            out["decisions"].append(dict(r))
        subjects = [*ck, *(f"review:{i}" for i in ri), *{f"author:{k}" for k in (*keys, author_id)}]
        s_marks = ",".join("?" * len(subjects))
        for r in self.db.execute(
            f"SELECT * FROM audit WHERE subject IN ({s_marks})"
            f" OR json_extract(details, '$.review_id') IN ({ri_marks}) ORDER BY at, audit_id",
            [*subjects, *ri],
        ):
            out["audit"].append(self._audit(r).model_dump(mode="json"))
        return out

    # ---- sessions ----

    def create_session(
        self, token_hash: str, username: str, role: str, csrf: str, expires_at: float, credential: str = ""
    ) -> None:
        """``credential`` fingerprints the password the session was opened with (``User.credential``)."""
        now = time.time()
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)", (token_hash, username, role, csrf, now, expires_at)
        )
        self.db.execute("INSERT INTO session_state VALUES (?, ?, ?)", (token_hash, credential, now))

    def session(self, token_hash: str, now: float, idle_after: float = float("inf")) -> sqlite3.Row | None:
        """The live session (with its ``credential``), unused for less than ``idle_after`` seconds;
        reading it counts as use. A session opened before credentials were recorded has none."""
        row: sqlite3.Row | None = self.db.execute(
            "SELECT s.*, t.credential, t.seen_at FROM sessions s JOIN session_state t USING (token_hash)"
            " WHERE s.token_hash = ? AND s.expires_at > ? AND t.seen_at > ?",
            (token_hash, now, now - idle_after),
        ).fetchone()
        if row is not None:
            self.db.execute("UPDATE session_state SET seen_at = ? WHERE token_hash = ?", (now, token_hash))
        return row

    def delete_session(self, token_hash: str) -> None:
        self.db.execute("DELETE FROM session_state WHERE token_hash = ?", (token_hash,))
        self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def prune_sessions(self, now: float, idle_after: float = float("inf")) -> None:
        self.db.execute(
            "DELETE FROM session_state WHERE seen_at <= ? OR token_hash IN"
            " (SELECT token_hash FROM sessions WHERE expires_at <= ?)",
            (now - idle_after, now),
        )
        self.db.execute(
            "DELETE FROM sessions WHERE expires_at <= ? OR token_hash NOT IN (SELECT token_hash FROM session_state)",
            (now,),
        )
