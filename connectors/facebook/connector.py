"""Polls a Facebook Page: its posts, and the comments and replies on those of the last few days.

Scopes, each with a checkpoint in ``connector.state`` (``facebook:<scope>``):

- ``posts:<page id>``: ``/{page-id}/posts`` since the last sweep -> ``posts`` (compacted, so a post
  sent twice after a restart mid-sweep is one upsert, not a duplicate); each post within
  ``lookback_days`` opens a comments scope.
- ``comments:<post id>``: ``/{post-id}/comments?filter=stream&order=chronological`` gives comments
  and replies in one ascending list, paged by ``after`` cursors (the edge has no ``since``). The
  checkpoint holds the ``after`` cursor of the last page read, so the next poll asks only for what
  came after it, and a watermark (the latest ``created_time`` produced and the ids produced at that
  second) that drops anything already produced. A cursor dies with the comment it names (Graph:
  "invalidated if the item is deleted"): a refused cursor restarts the list from the top, and the
  watermark keeps that from repeating anything.
- Every ``CIVICWATCH_FACEBOOK_RECHECK_INTERVAL`` a comments scope re-reads its list from the top and
  compares each comment with the digest of its text kept in the checkpoint: a changed text is
  produced as ``edited``, a comment no longer listed as ``deleted``. This catches what the webhook
  missed (a delivery lost, the webhook not set up); deliveries and re-reads meet on one key.

The Page's own comments (staff replies) are not residents' comments and are never produced. A
comment that is only a photo, GIF or sticker has no ``message``: its ``attachment`` comes with it.
Comments on posts older than the lookback arrive by webhook only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from connectors.core import Batch, Clock, ConnectorError, CredentialError, NotFound, Retry, TransientError, utc
from connectors.facebook.graph import GraphClient, next_request
from connectors.facebook.mapping import UNKNOWN_AUTHOR, graph_comment, graph_post
from connectors.runner import checkpoint, close_scopes, next_due, poll_scope, restore_scopes
from runtime.settings import FacebookSettings
from schemas import Checkpoint, Comment, dead_letter
from schemas.codec import InvalidEvent
from schemas.ids import text_digest

log = structlog.get_logger("civicwatch.facebook")

NAME = "facebook"
POST_FIELDS = "id,message,created_time,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,attachment{type,url,media}"


@dataclass
class PageScope:
    kind: str
    target: str
    watermark: float | None = None
    boundary: set[str] = field(default_factory=set)
    post_created: float | None = None
    next_page: tuple[str, dict[str, str]] | None = None
    sweep_newest: float | None = None
    sweep_boundary: set[str] = field(default_factory=set)
    after: str | None = None
    """The ``after`` cursor of the last comments page read: the next poll starts there."""
    digests: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Comment id -> (digest of its text, created time) of what was produced: re-reads compare with it."""
    recheck_at: float = 0.0
    rechecking: bool = False
    found: set[str] = field(default_factory=set)
    due: float = 0.0
    closed: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"

    def already_sent(self, item_id: str, created: float) -> bool:
        """Older than the watermark, or at its second and listed: produced before the checkpoint."""
        mark = self.watermark
        return mark is not None and (created < mark or (created == mark and item_id in self.boundary))

    def to_checkpoint(self, now: float) -> Checkpoint:
        return checkpoint(
            NAME,
            self.key,
            None if self.watermark is None else str(int(self.watermark)),
            now,
            kind=self.kind,
            boundary=sorted(self.boundary),
            post_created=self.post_created,
            after=self.after,
            digests={k: list(v) for k, v in sorted(self.digests.items())},
            recheck_at=self.recheck_at,
            closed=self.closed,
        )

    @classmethod
    def from_checkpoint(cls, cp: Checkpoint) -> PageScope:
        d = cp.details
        return cls(
            kind=str(d.get("kind")),
            target=cp.scope.split(":", 1)[1],
            watermark=float(cp.cursor) if cp.cursor else None,
            boundary=set(d.get("boundary") or []),
            post_created=d.get("post_created"),
            after=d.get("after"),
            digests={k: (str(v[0]), float(v[1])) for k, v in (d.get("digests") or {}).items()},
            recheck_at=float(d.get("recheck_at") or 0.0),
            closed=bool(d.get("closed")),
        )


@dataclass
class FacebookConnector:
    """See the module docstring. ``page_id`` is the city's Page; its token must be a Page token."""

    graph: GraphClient
    settings: FacebookSettings
    clock: Clock
    name: str = NAME
    scopes: dict[str, PageScope] = field(default_factory=dict)
    checked: bool = False

    def start(self, state: Mapping[str, Checkpoint]) -> None:
        if not self.settings.page_id:
            raise ConnectorError("CIVICWATCH_FACEBOOK_PAGE_ID is empty: name the city's Page id")
        if not self.checked:
            # Proves the token (190 -> CredentialError naming it) and the Page id at start-up.
            self.graph.request(f"{self.graph.version}/{self.settings.page_id}", {"fields": "id,name"})
            self.checked = True
        root = PageScope("posts", self.settings.page_id)
        self.scopes = restore_scopes(state, PageScope.from_checkpoint, root, self.clock.time())

    def poll(self) -> Batch:
        now = self.clock.time()
        horizon = now - self.settings.lookback_days * 86400
        expired = [s for s in self.scopes.values() if s.kind == "comments" and (s.post_created or now) < horizon]
        if expired:
            return close_scopes(self.scopes, expired, now)
        scope = next_due(self.scopes.values(), now, {"posts": 0, "comments": 1})

        def refused() -> None:
            scope.next_page = None
            scope.due = now + self.settings.poll_interval

        if scope.kind == "posts":
            return poll_scope(NAME, self.scopes, scope, now, lambda: self._poll_posts(scope, now, horizon), refused)
        return poll_scope(NAME, self.scopes, scope, now, lambda: self._poll_comments(scope, now), refused)

    def _get(self, scope: PageScope, edge: str, args: dict[str, Any]) -> dict[str, Any]:
        if scope.next_page is not None:
            path, next_args = scope.next_page
            return self.graph.request(path, next_args)
        return self.graph.request(f"{self.graph.version}/{scope.target}/{edge}", args)

    def _page_done(self, scope: PageScope, body: dict[str, Any], now: float) -> bool:
        next_url = (body.get("paging") or {}).get("next")
        if isinstance(next_url, str) and next_url:
            scope.next_page = next_request(next_url)
            scope.due = now
            return False
        scope.next_page = None
        scope.due = now + self.settings.poll_interval
        return True

    def _poll_posts(self, scope: PageScope, now: float, horizon: float) -> Batch:
        since = scope.watermark if scope.watermark is not None else horizon
        body = self._get(scope, "posts", {"fields": POST_FIELDS, "since": int(since), "limit": self.settings.page_size})
        data = body.get("data") or []
        batch = Batch(fetched=len(data))
        for obj in data:
            try:
                post = graph_post(obj, self.settings.page_id)
            except InvalidEvent as exc:
                self._dead(batch, obj, scope, exc)
                continue
            created = post.created_at.timestamp()
            if scope.already_sent(post.post_id, created):
                continue
            batch.posts.append(post)
            if scope.sweep_newest is None or created > scope.sweep_newest:
                scope.sweep_newest, scope.sweep_boundary = created, set()
            if created == scope.sweep_newest:
                scope.sweep_boundary.add(post.post_id)
            comments = PageScope("comments", post.post_id, post_created=created, due=now)
            if created >= horizon and comments.key not in self.scopes:
                # Resume point one second before the post: its first comment cannot be older.
                comments.watermark = created - 1
                self.scopes[comments.key] = comments
                batch.checkpoints.append(comments.to_checkpoint(now))
        if self._page_done(scope, body, now) and scope.sweep_newest is not None:
            if scope.sweep_newest == scope.watermark:
                scope.boundary |= scope.sweep_boundary
            else:
                scope.watermark, scope.boundary = scope.sweep_newest, scope.sweep_boundary
            scope.sweep_newest, scope.sweep_boundary = None, set()
        batch.checkpoints.insert(0, scope.to_checkpoint(now))
        return batch

    def _poll_comments(self, scope: PageScope, now: float) -> Batch:
        interval = self.settings.recheck_interval
        if not scope.rechecking and interval > 0 and 0 < scope.recheck_at <= now:
            scope.rechecking, scope.found, scope.after = True, set(), None  # re-read from the top
        args: dict[str, Any] = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "chronological",
            "limit": self.settings.page_size,
        }
        if scope.after is not None:
            args["after"] = scope.after
        try:
            body = self.graph.request(f"{self.graph.version}/{scope.target}/comments", args)
        except (Retry, TransientError, CredentialError, NotFound):
            raise
        except ConnectorError as exc:
            if scope.after is None:
                raise
            # The cursor's comment was deleted: start over; the watermark drops what was produced.
            log.info("cursor_refused_restarting", connector=NAME, scope=scope.key, reason=exc.reason)
            scope.after, scope.due = None, now
            return Batch()
        data = body.get("data") or []
        batch = Batch(fetched=len(data))
        for obj in data:
            try:
                comment = graph_comment(obj, scope.target)
            except InvalidEvent as exc:
                self._dead(batch, obj, scope, exc)
                continue
            if comment.author_id == self.settings.page_id:
                continue  # the Page's own reply: staff, not a resident
            created = float(int(comment.created_at.timestamp()))
            digest = text_digest(comment.text + "\x1f" + (comment.attachment.type if comment.attachment else ""))
            scope.found.add(comment.comment_id)
            known = scope.digests.get(comment.comment_id)
            if known is not None and known[0] != digest:
                batch.comments.append(comment.model_copy(update={"edited": True}))
            scope.digests[comment.comment_id] = (digest, created)
            if known is not None or scope.already_sent(comment.comment_id, created):
                continue
            if scope.watermark is None or created > scope.watermark:
                scope.watermark, scope.boundary = created, set()
            scope.boundary.add(comment.comment_id)
            batch.comments.append(comment)
        cursor = ((body.get("paging") or {}).get("cursors") or {}).get("after")
        if isinstance(cursor, str) and cursor:
            scope.after = cursor
        if (body.get("paging") or {}).get("next"):
            scope.due = now
        else:
            scope.due = now + self.settings.poll_interval
            if scope.rechecking:
                batch.comments.extend(self._deleted(scope))
            if scope.rechecking or scope.recheck_at == 0.0:
                scope.rechecking, scope.found = False, set()
                scope.recheck_at = now + interval
        batch.checkpoints.insert(0, scope.to_checkpoint(now))
        return batch

    def _deleted(self, scope: PageScope) -> list[Comment]:
        """Comments produced before and no longer listed: deleted on the Page (or by their author)."""
        gone = sorted(set(scope.digests) - scope.found)
        out = []
        for comment_id in gone:
            _, created = scope.digests.pop(comment_id)
            out.append(
                Comment(
                    platform="facebook",
                    comment_id=comment_id,
                    post_id=scope.target,
                    author_id=UNKNOWN_AUTHOR,
                    text="",
                    created_at=utc(created),
                    deleted=True,
                )
            )
        if gone:
            log.info("comments_deleted_found", connector=NAME, scope=scope.key, count=len(gone))
        return out

    def _dead(self, batch: Batch, obj: Any, scope: PageScope, exc: InvalidEvent) -> None:
        batch.dead_letters.append(
            dead_letter(orjson.dumps(obj), stage="connector.facebook", error=exc, key=f"facebook:{scope.key}")
        )
        log.warning("payload_dead_lettered", connector=NAME, scope=scope.key, reason=exc.reason)
