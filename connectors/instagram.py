"""Instagram (Instagram API with Facebook Login, through the same Graph client as Facebook): the
comments and replies on the city's media, their webhooks, and hide, unhide and delete.

Endpoints (https://developers.facebook.com/docs/instagram-platform/comment-moderation):

- ``GET /{ig-user-id}/media`` (newest first, ``after`` cursors): the city's media. Each one within
  ``CIVICWATCH_INSTAGRAM_LOOKBACK_DAYS`` becomes a ``Post`` and opens a ``comments:<media id>`` scope.
- ``GET /{media-id}/comments`` with ``replies{...}`` expanded: top-level comments and their replies.
  The edge pages by cursors and takes no time filter, so each poll of a scope reads its list from
  the top and compares every comment with the digest of its text kept in the checkpoint: a new id is
  produced, a changed text is produced ``edited``, and at the end of a complete read an id no longer
  listed is produced ``deleted``. A restart mid-read repeats nothing (the digests say what was
  produced) and misses nothing (the read starts over).
- ``POST /{ig-comment-id}?hide=true|false`` and ``DELETE /{ig-comment-id}``: the actions.
- Webhooks: ``object: instagram``, field ``comments`` (``id``, ``text``, ``from{id,username}``,
  ``media{id,media_product_type}``, ``parent_id``), signed like the Page webhook
  (https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram).

The account's own comments (its replies to residents) are not produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from pydantic import ValidationError

from connectors.core import (
    Batch,
    Clock,
    ConnectorError,
    utc,
)
from connectors.facebook.actions import GraphActions
from connectors.facebook.graph import GraphClient
from connectors.facebook.mapping import graph_time
from connectors.runner import checkpoint, close_scopes, next_due, poll_scope, restore_scopes
from runtime.settings import InstagramSettings
from schemas import Checkpoint, Comment, Post, dead_letter
from schemas.codec import InvalidEvent, describe_validation
from schemas.ids import text_digest

log = structlog.get_logger("civicwatch.instagram")

NAME = "instagram"
TOKEN_VARIABLE = "INSTAGRAM_ACCESS_TOKEN"
MEDIA_FIELDS = "id,caption,timestamp,permalink,media_product_type"
REPLY_FIELDS = "id,text,timestamp,from{id,username},username,parent_id,hidden"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"
UNKNOWN_AUTHOR = "unknown"


def _str(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{name}: missing or not a string")
    return value


def ig_comment(obj: Any, media_id: str, parent_id: str | None = None) -> Comment:
    """An IG Comment (or reply) of ``/{media-id}/comments``."""
    if not isinstance(obj, Mapping):
        raise InvalidEvent("comment: not a JSON object")
    author = obj.get("from")
    if author is not None and not (isinstance(author, Mapping) and isinstance(author.get("id"), str)):
        raise InvalidEvent("from: not an object with an id")
    handle = (author or {}).get("username") or obj.get("username")
    text = obj.get("text", "")
    if not isinstance(text, str):
        raise InvalidEvent("text: not a string")
    parent = obj.get("parent_id") or parent_id
    try:
        return Comment(
            platform="instagram",
            comment_id=_str(obj, "id"),
            post_id=media_id,
            parent_id=parent if isinstance(parent, str) else None,
            author_id=author["id"] if author else UNKNOWN_AUTHOR,
            author_handle=handle if isinstance(handle, str) else None,
            text=text,
            created_at=graph_time(obj.get("timestamp"), "timestamp"),
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation(exc)) from None


def ig_media(obj: Any, account: str) -> Post:
    if not isinstance(obj, Mapping):
        raise InvalidEvent("media: not a JSON object")
    caption = obj.get("caption", "")
    try:
        return Post(
            platform="instagram",
            post_id=_str(obj, "id"),
            account=account,
            text=caption if isinstance(caption, str) else "",
            created_at=graph_time(obj.get("timestamp"), "timestamp"),
            url=obj.get("permalink") if isinstance(obj.get("permalink"), str) else None,
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation(exc)) from None


@dataclass
class MediaScope:
    kind: str
    target: str
    created: float | None = None
    digests: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Id -> (digest of its text, created time) of what was produced (media or comments)."""
    after: str | None = None
    """Cursor of the read in progress (in memory only: a restart reads from the top)."""
    found: set[str] = field(default_factory=set)
    due: float = 0.0
    closed: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"

    def to_checkpoint(self, now: float) -> Checkpoint:
        return checkpoint(
            NAME,
            self.key,
            None,
            now,
            kind=self.kind,
            created=self.created,
            digests={k: list(v) for k, v in sorted(self.digests.items())},
            closed=self.closed,
        )

    @classmethod
    def from_checkpoint(cls, cp: Checkpoint) -> MediaScope:
        d = cp.details
        return cls(
            kind=str(d.get("kind")),
            target=cp.scope.split(":", 1)[1],
            created=d.get("created"),
            digests={k: (str(v[0]), float(v[1])) for k, v in (d.get("digests") or {}).items()},
            closed=bool(d.get("closed")),
        )


@dataclass
class InstagramConnector:
    """See the module docstring. ``ig_user_id`` is the city's Instagram professional account."""

    graph: GraphClient
    settings: InstagramSettings
    clock: Clock
    name: str = NAME
    scopes: dict[str, MediaScope] = field(default_factory=dict)
    username: str = ""

    def start(self, state: Mapping[str, Checkpoint]) -> None:
        if not self.settings.ig_user_id:
            raise ConnectorError("CIVICWATCH_INSTAGRAM_IG_USER_ID is empty: name the city's Instagram account id")
        if not self.username:
            me = self.graph.request(f"{self.graph.version}/{self.settings.ig_user_id}", {"fields": "id,username"})
            self.username = str(me.get("username") or self.settings.ig_user_id)
        root = MediaScope("media", self.settings.ig_user_id)
        self.scopes = restore_scopes(state, MediaScope.from_checkpoint, root, self.clock.time())

    def poll(self) -> Batch:
        now = self.clock.time()
        horizon = now - self.settings.lookback_days * 86400
        expired = [s for s in self.scopes.values() if s.kind == "comments" and (s.created or now) < horizon]
        if expired:
            return close_scopes(self.scopes, expired, now)
        scope = next_due(self.scopes.values(), now, {"media": 0, "comments": 1})

        def refused() -> None:
            scope.after, scope.found = None, set()
            scope.due = now + self.settings.poll_interval

        if scope.kind == "media":
            return poll_scope(NAME, self.scopes, scope, now, lambda: self._poll_media(scope, now, horizon), refused)
        return poll_scope(NAME, self.scopes, scope, now, lambda: self._poll_comments(scope, now), refused)

    def _page(self, scope: MediaScope, edge: str, fields: str) -> dict[str, Any]:
        args: dict[str, Any] = {"fields": fields, "limit": self.settings.page_size}
        if scope.after:
            args["after"] = scope.after
        return self.graph.request(f"{self.graph.version}/{scope.target}/{edge}", args)

    def _next(self, scope: MediaScope, body: Mapping[str, Any], now: float, *, stop: bool = False) -> bool:
        """Move to the next page; ``True`` when the read is complete."""
        paging = body.get("paging") or {}
        cursor = (paging.get("cursors") or {}).get("after")
        if paging.get("next") and isinstance(cursor, str) and not stop:
            scope.after, scope.due = cursor, now
            return False
        scope.after, scope.due = None, now + self.settings.poll_interval
        return True

    def _poll_media(self, scope: MediaScope, now: float, horizon: float) -> Batch:
        body = self._page(scope, "media", MEDIA_FIELDS)
        data = body.get("data") or []
        batch = Batch(fetched=len(data))
        older = False
        for obj in data:
            try:
                post = ig_media(obj, self.username)
            except InvalidEvent as exc:
                self._dead(batch, obj, scope, exc)
                continue
            created = post.created_at.timestamp()
            if created < horizon:
                older = True  # newest first: the rest is older still
                break
            digest = text_digest(post.text)
            if scope.digests.get(post.post_id, ("",))[0] != digest:
                batch.posts.append(post)
                scope.digests[post.post_id] = (digest, created)
            comments = MediaScope("comments", post.post_id, created=created, due=now)
            if comments.key not in self.scopes:
                self.scopes[comments.key] = comments
                batch.checkpoints.append(comments.to_checkpoint(now))
        scope.digests = {k: v for k, v in scope.digests.items() if v[1] >= horizon}
        self._next(scope, body, now, stop=older)
        batch.checkpoints.insert(0, scope.to_checkpoint(now))
        return batch

    def _poll_comments(self, scope: MediaScope, now: float) -> Batch:
        if scope.after is None:
            scope.found = set()
        body = self._page(scope, "comments", COMMENT_FIELDS)
        data = body.get("data") or []
        batch = Batch(fetched=len(data))
        for obj in data:
            replies = (obj.get("replies") or {}).get("data") or [] if isinstance(obj, Mapping) else []
            parent = obj.get("id") if isinstance(obj, Mapping) else None
            for item, parent_id in [(obj, None), *((r, parent) for r in replies)]:
                try:
                    comment = ig_comment(item, scope.target, parent_id if isinstance(parent_id, str) else None)
                except InvalidEvent as exc:
                    bad_id = item.get("id") if isinstance(item, Mapping) else None
                    if isinstance(bad_id, str):
                        scope.found.add(bad_id)
                        if bad_id in scope.digests:
                            continue  # dead-lettered on an earlier read
                        scope.digests[bad_id] = ("", now)
                    self._dead(batch, item, scope, exc)
                    continue
                if comment.author_id == self.settings.ig_user_id:
                    continue  # the city's own reply
                scope.found.add(comment.comment_id)
                digest = text_digest(comment.text)
                known = scope.digests.get(comment.comment_id)
                if known is None:
                    batch.comments.append(comment)
                elif known[0] != digest:
                    batch.comments.append(comment.model_copy(update={"edited": True}))
                scope.digests[comment.comment_id] = (digest, comment.created_at.timestamp())
        if self._next(scope, body, now):
            for comment_id in sorted(set(scope.digests) - scope.found):
                _, created = scope.digests.pop(comment_id)
                batch.comments.append(
                    Comment(
                        platform="instagram",
                        comment_id=comment_id,
                        post_id=scope.target,
                        author_id=UNKNOWN_AUTHOR,
                        text="",
                        created_at=utc(created),
                        deleted=True,
                    )
                )
            scope.found = set()
        batch.checkpoints.insert(0, scope.to_checkpoint(now))
        return batch

    def _dead(self, batch: Batch, obj: Any, scope: MediaScope, exc: InvalidEvent) -> None:
        batch.dead_letters.append(
            dead_letter(orjson.dumps(obj), stage="connector.instagram", error=exc, key=f"instagram:{scope.key}")
        )
        log.warning("payload_dead_lettered", connector=NAME, scope=scope.key, reason=exc.reason)


def comments_delivery(
    body: bytes, ig_user_id: str, oldest: float = float("-inf"), newest: float = float("inf")
) -> Batch:
    """One signed Instagram webhook delivery (``object: instagram``, field ``comments``); entries
    sent (``time``) outside [oldest, newest] are dropped as replays, as for Facebook."""
    batch = Batch()
    stage = "connector.instagram.webhook"
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        batch.dead_letters.append(dead_letter(body, stage=stage, error=InvalidEvent("delivery: not valid JSON")))
        return batch
    entries = doc.get("entry") if isinstance(doc, dict) and doc.get("object") == "instagram" else None
    if not isinstance(entries, list):
        invalid = InvalidEvent("webhook delivery: not an Instagram object with entries")
        batch.dead_letters.append(dead_letter(body, stage=stage, error=invalid))
        return batch
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("id") != ig_user_id:
            continue
        sent = entry.get("time")
        if not isinstance(sent, int | float) or isinstance(sent, bool) or not oldest <= sent <= newest:
            log.warning("webhook_stale_entry_dropped", connector="instagram-webhook")
            continue
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "comments":
                continue
            batch.fetched += 1
            value = change.get("value")
            try:
                if not isinstance(value, dict):
                    raise InvalidEvent("change.value: not a JSON object")
                media = value.get("media")
                media_id = media.get("id") if isinstance(media, dict) else None
                if not isinstance(media_id, str):
                    raise InvalidEvent("media.id: missing or not a string")
                item = {**value, "timestamp": entry.get("time")}
                comment = ig_comment(item, media_id)
            except InvalidEvent as exc:
                batch.dead_letters.append(dead_letter(orjson.dumps(change), stage=stage, error=exc))
                log.warning("payload_dead_lettered", connector="instagram-webhook", reason=exc.reason)
                continue
            if comment.author_id != ig_user_id:
                batch.comments.append(comment)
    return batch


class InstagramActions(GraphActions):
    """Hide, unhide, delete and answer comments on the city's media (``instagram_manage_comments``).
    A reply is ``POST /{ig-comment-id}/replies``; hiding is the ``hide`` field."""

    platform = "instagram"
    reply_edge = "replies"
    hide_field = "hide"
