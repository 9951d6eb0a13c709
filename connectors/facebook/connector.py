"""Polls a Facebook Page: its posts, and the comments and replies on those of the last few days.

Scopes, each with a checkpoint in ``connector.state`` (``facebook:<scope>``):

- ``posts:<page id>``: ``/{page-id}/posts`` since the last sweep -> ``posts`` (compacted, so a post
  sent twice after a restart mid-sweep is one upsert, not a duplicate); each post within
  ``lookback_days`` opens a comments scope.
- ``comments:<post id>``: ``/{post-id}/comments?filter=stream&order=chronological`` gives comments
  and replies in one ascending list. The checkpoint is a watermark: the latest ``created_time``
  produced and the ids produced at that second. Asking ``since`` one second before it and dropping
  what is older or already listed resumes with no gap and no duplicate whatever Graph's paging did,
  so the ``after`` cursor never needs to survive a restart.

Edits and deletions do not show in polling (Graph has no "since edited"); the webhook receiver
delivers them as ``edited``/``deleted`` comments. Comments on posts older than the lookback also
arrive by webhook only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from connectors.core import Batch, Clock, ConnectorError, CredentialError, NotFound, Retry, TransientError
from connectors.facebook.graph import GraphClient, next_request
from connectors.facebook.mapping import graph_comment, graph_post
from connectors.runner import checkpoint, close_scopes, next_due
from runtime.settings import FacebookSettings
from schemas import Checkpoint, dead_letter
from schemas.codec import InvalidEvent

log = structlog.get_logger("civicwatch.facebook")

NAME = "facebook"
POST_FIELDS = "id,message,created_time,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url"


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
        now = self.clock.time()
        self.scopes = {}
        for cp in state.values():
            scope = PageScope.from_checkpoint(cp)
            if not scope.closed:
                self.scopes[scope.key] = scope
        posts = PageScope("posts", self.settings.page_id)
        self.scopes.setdefault(posts.key, posts)
        for scope in self.scopes.values():
            scope.due = now

    def poll(self) -> Batch:
        now = self.clock.time()
        horizon = now - self.settings.lookback_days * 86400
        expired = [s for s in self.scopes.values() if s.kind == "comments" and (s.post_created or now) < horizon]
        if expired:
            return close_scopes(self.scopes, expired, now)
        scope = next_due(self.scopes.values(), now, {"posts": 0, "comments": 1})
        try:
            if scope.kind == "posts":
                return self._poll_posts(scope, now, horizon)
            return self._poll_comments(scope, now)
        except (Retry, TransientError, CredentialError):
            raise
        except NotFound as exc:  # the post was deleted: nothing more to follow there
            log.info("scope_gone", connector=NAME, scope=scope.key, reason=exc.reason)
            return close_scopes(self.scopes, [scope], now) if scope.kind == "comments" else Batch()
        except ConnectorError as exc:  # one refused scope must not hold up the others
            log.warning("scope_refused", connector=NAME, scope=scope.key, reason=exc.reason)
            scope.next_page = None
            scope.due = now + self.settings.poll_interval
            return Batch()

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
        args = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "chronological",
            "limit": self.settings.page_size,
        }
        if scope.watermark is not None:
            args["since"] = int(scope.watermark) - 1
        body = self._get(scope, "comments", args)
        data = body.get("data") or []
        batch = Batch(fetched=len(data))
        for obj in data:
            try:
                comment = graph_comment(obj, scope.target)
            except InvalidEvent as exc:
                self._dead(batch, obj, scope, exc)
                continue
            created = float(int(comment.created_at.timestamp()))
            if scope.already_sent(comment.comment_id, created):
                continue
            if scope.watermark is None or created > scope.watermark:
                scope.watermark, scope.boundary = created, set()
            scope.boundary.add(comment.comment_id)
            batch.comments.append(comment)
        self._page_done(scope, body, now)
        batch.checkpoints.insert(0, scope.to_checkpoint(now))
        return batch

    def _dead(self, batch: Batch, obj: Any, scope: PageScope, exc: InvalidEvent) -> None:
        batch.dead_letters.append(
            dead_letter(orjson.dumps(obj), stage="connector.facebook", error=exc, key=f"facebook:{scope.key}")
        )
        log.warning("payload_dead_lettered", connector=NAME, scope=scope.key, reason=exc.reason)
