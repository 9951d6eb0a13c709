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
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

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
CREATE TABLE IF NOT EXISTS session_state (
    token_hash TEXT PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
    credential TEXT NOT NULL, seen_at REAL NOT NULL
);
"""
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


@dataclass(frozen=True)
class QueueFilter:
    """What a moderator narrowed the queue to; ``None`` means any."""

    clause: str | None = None
    platform: str | None = None
    post: str | None = None
    min_age: float | None = None
    max_age: float | None = None
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
            " comment_created_at, action, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            "INSERT INTO comments VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (comment_key) DO UPDATE SET"
            " payload = excluded.payload, created_at = excluded.created_at",
            (
                c.key,
                c.platform,
                f"{c.platform}:{c.post_id}",
                f"{c.platform}:{c.author_id}",
                ts(c.created_at),
                tagged.model_dump_json(),
            ),
        )

    def _withdraw(self, comment_key: str) -> None:
        self.db.execute(
            "UPDATE review_items SET status = CASE status WHEN 'pending' THEN 'deleted' ELSE status END,"
            " payload = json_set(payload, '$.comment.text', '', '$.comment.deleted', json('true'))"
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
            "INSERT OR IGNORE INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                d.decision_id,
                d.review_id,
                f"{d.platform}:{d.comment_id}",
                d.decision,
                d.moderator,
                d.reason,
                ts(d.decided_at),
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
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def queue(self, f: QueueFilter, now: float | None = None) -> tuple[list[QueueRow], int]:
        """One page of matching items (oldest waiting first) and the number of matches."""
        where, args = self._where(f, now if now is not None else time.time())
        total = self.db.execute(f"SELECT COUNT(*) FROM review_items i{where}", args).fetchone()[0]
        order = "i.queued_at ASC" if f.status == "pending" else "i.decided_at DESC"
        rows = self.db.execute(
            f"SELECT * FROM review_items i{where} ORDER BY {order}, i.review_id LIMIT ? OFFSET ?",
            [*args, max(1, min(f.limit, 200)), max(0, f.offset)],
        ).fetchall()
        return [self._row(r) for r in rows], int(total)

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

    def overdue(self, before: float) -> tuple[int, list[tuple[str, float]]]:
        """All pending items queued before ``before``, and those not alerted yet (id, queued_at)."""
        total = self.db.execute(
            "SELECT COUNT(*) FROM review_items WHERE status = 'pending' AND queued_at < ?", (before,)
        ).fetchone()[0]
        fresh = self.db.execute(
            "SELECT review_id, queued_at FROM review_items WHERE status = 'pending' AND queued_at < ? AND alerted = 0",
            (before,),
        ).fetchall()
        return int(total), [(r[0], r[1]) for r in fresh]

    def mark_alerted(self, review_ids: list[str]) -> None:
        self.db.executemany("UPDATE review_items SET alerted = 1 WHERE review_id = ?", [(i,) for i in review_ids])

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
