"""Graph API objects and webhook ``feed`` changes -> ``Comment`` and ``Post`` events.

Both the poller and the webhook receiver map through here, so a comment reads the same whichever
path brought it. Anything that cannot be mapped raises ``InvalidEvent`` with a reason naming the
field, never quoting it; the caller dead-letters the payload and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from schemas import Attachment, Comment, Post
from schemas.codec import InvalidEvent, describe_validation

POST_ITEMS = {"status", "post", "photo", "video", "share", "link"}
UNKNOWN_AUTHOR = "unknown"
"""``from`` is omitted when the token lacks pages_read_user_content; the comment is still moderated."""


def graph_time(value: Any, field: str = "created_time") -> datetime:
    """Graph's ``2026-11-20T15:04:05+0000`` or a webhook's epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            pass
    raise InvalidEvent(f"{field}: missing or not a Graph time")


def _str(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{name}: missing or not a string")
    return value


def _text(obj: Mapping[str, Any]) -> str:
    message = obj.get("message", "")
    if not isinstance(message, str):
        raise InvalidEvent("message: not a string")
    return message  # a sticker- or photo-only comment has none, and is still a comment


def _author(obj: Mapping[str, Any]) -> tuple[str, str | None]:
    author = obj.get("from")
    if author is None:
        return UNKNOWN_AUTHOR, None
    if not isinstance(author, Mapping) or not isinstance(author.get("id"), str):
        raise InvalidEvent("from: not an object with an id")
    name = author.get("name")
    return author["id"], name if isinstance(name, str) else None


def _attachment(obj: Mapping[str, Any]) -> Attachment | None:
    """A comment's photo, GIF, sticker or video (``attachment``, a StoryAttachment: ``type``, ``url``,
    ``media.image.src``); the image's own address when there is one."""
    att = obj.get("attachment")
    if not isinstance(att, Mapping) or not isinstance(att.get("type"), str) or not att["type"]:
        return None
    media = att.get("media")
    image = media.get("image") if isinstance(media, Mapping) else None
    src = image.get("src") if isinstance(image, Mapping) else None
    url = src if isinstance(src, str) else att.get("url")
    return Attachment(type=att["type"][:64], url=url if isinstance(url, str) else None)


def graph_comment(obj: Any, post_id: str) -> Comment:
    """A comment (or reply) object of ``/{post-id}/comments?filter=stream``."""
    if not isinstance(obj, Mapping):
        raise InvalidEvent("comment: not a JSON object")
    author_id, name = _author(obj)
    parent = obj.get("parent")
    try:
        return Comment(
            platform="facebook",
            comment_id=_str(obj, "id"),
            post_id=post_id,
            parent_id=parent.get("id") if isinstance(parent, Mapping) else None,
            author_id=author_id,
            author_handle=name,
            text=_text(obj),
            created_at=graph_time(obj.get("created_time")),
            url=obj.get("permalink_url"),
            attachment=_attachment(obj),
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation(exc)) from None


def graph_post(obj: Any, account: str) -> Post:
    """A post object of ``/{page-id}/posts``."""
    if not isinstance(obj, Mapping):
        raise InvalidEvent("post: not a JSON object")
    try:
        return Post(
            platform="facebook",
            post_id=_str(obj, "id"),
            account=account,
            text=_text(obj),
            created_at=graph_time(obj.get("created_time")),
            url=obj.get("permalink_url"),
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation(exc)) from None


def feed_change(value: Any, page_id: str) -> Comment | Post | None:
    """One ``feed`` change of a Page webhook; ``None`` for changes that carry no comment or post
    (reactions, likes, removed posts) and for the Page's own comments. ``hide``/``unhide`` of a
    comment (by a moderator in Meta's tools, or our own action echoing back) is a ``hidden`` state
    change with no text."""
    if not isinstance(value, Mapping):
        raise InvalidEvent("change.value: not a JSON object")
    item = value.get("item")
    verb = value.get("verb")
    if not isinstance(item, str) or not isinstance(verb, str):
        raise InvalidEvent("change.value: item or verb missing")
    if item == "comment" and verb in ("add", "edited", "remove", "hide", "unhide"):
        author_id, name = _author(value)
        if author_id == page_id:
            return None  # a staff reply from the Page itself
        post_id = _str(value, "post_id")
        parent = value.get("parent_id")
        try:
            return Comment(
                platform="facebook",
                comment_id=_str(value, "comment_id"),
                post_id=post_id,
                parent_id=parent if isinstance(parent, str) and parent != post_id else None,
                author_id=author_id,
                author_handle=name,
                text=_text(value) if verb in ("add", "edited") else "",
                created_at=graph_time(value.get("created_time")),
                edited=verb == "edited",
                deleted=verb == "remove",
                hidden={"hide": True, "unhide": False}.get(verb),
            )
        except ValidationError as exc:
            raise InvalidEvent(describe_validation(exc)) from None
    if item in POST_ITEMS and verb in ("add", "edited"):
        author_id, _ = _author(value)
        if author_id != page_id:
            return None  # a visitor's post on the page is not one of the city's posts
        post: Mapping[str, Any] = value["post"] if isinstance(value.get("post"), Mapping) else {}
        return graph_post(
            {
                "id": value.get("post_id"),
                "message": value.get("message", ""),
                "created_time": value.get("created_time"),
                "permalink_url": post.get("permalink_url"),
            },
            page_id,
        )
    return None
