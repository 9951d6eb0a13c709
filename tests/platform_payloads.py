"""Platform responses shaped as X API v2 and Graph API documentation shows them, for ``responses``.

Every text here was written for these tests. Ids are realistic: X ids are snowflakes whose time
matches the test clock (the connector reads a conversation's age from its id), Graph ids are
``<page>_<post>`` and ``<post>_<comment>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any

import orjson

X_API = "https://api.twitter.com/2"
GRAPH = "https://graph.facebook.com"
NOW = 1_790_000_000.0  # FakeClock's default start: 2026-09-21
CITY_ID = "1500000000000000001"
CITY = "CityOfTestville"


def snowflake(ts: float, seq: int = 0) -> str:
    return str(((int(ts * 1000) - 1288834974657) << 22) + seq)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(uid: str, username: str, name: str | None = None) -> dict[str, Any]:
    return {"id": uid, "name": name or username, "username": username}


def tweet(
    tid: str,
    text: str,
    author: str,
    *,
    conversation: str | None = None,
    reply_to: str | None = None,
    reply_to_user: str | None = None,
    lang: str = "en",
    history: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": tid,
        "text": text,
        "author_id": author,
        "conversation_id": conversation or tid,
        "created_at": iso(((int(tid) >> 22) + 1288834974657) / 1000),
        "lang": lang,
        "edit_history_tweet_ids": history or [tid],
    }
    if reply_to:
        body["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        body["in_reply_to_user_id"] = reply_to_user or CITY_ID
    return body


def long_tweet(tid: str, full_text: str, author: str, *, conversation: str, reply_to: str) -> dict[str, Any]:
    """A long post (over 280 characters) as v2 returns it with ``tweet.fields=note_tweet``: ``text``
    holds only the first 280 characters and an ellipsis, ``note_tweet.text`` the whole post
    (https://docs.x.com/x-api/fundamentals/data-dictionary/reference, Post object, ``note_tweet``).
    ``FakeX`` leaves ``note_tweet`` out unless the request names it, as X does."""
    body = tweet(tid, full_text[:280] + "…", author, conversation=conversation, reply_to=reply_to)
    body["note_tweet"] = {"text": full_text, "entities": {}}
    return body


def retweet(tid: str, original: dict[str, Any], author: str, original_handle: str) -> dict[str, Any]:
    """A repost: its own id and conversation, ``referenced_tweets`` of type ``retweeted`` and the
    ``RT @handle:`` text (https://docs.x.com/x-api/fundamentals/data-dictionary/reference). A repost
    of a mention is itself returned by the mentions timeline; it is no one's comment."""
    body = tweet(tid, f"RT @{original_handle}: {original['text']}"[:140], author)
    body["referenced_tweets"] = [{"type": "retweeted", "id": original["id"]}]
    return body


def x_page(tweets: list[dict[str, Any]], users: list[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    """A v2 list response: ``data``, ``includes.users`` (author_id expansion), ``meta``."""
    if not tweets:
        return {"meta": {"result_count": 0}}
    ids = [t["id"] for t in tweets if isinstance(t, dict) and "id" in t]
    meta: dict[str, Any] = {
        "newest_id": max(ids, key=int),
        "oldest_id": min(ids, key=int),
        "result_count": len(tweets),
    }
    if next_token:
        meta["next_token"] = next_token
    return {"data": tweets, "includes": {"users": users}, "meta": meta}


def x_rate_headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset)),
    }


X_TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
X_UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
X_SERVICE_UNAVAILABLE = {
    "title": "Service Unavailable",
    "detail": "Service Unavailable",
    "type": "about:blank",
    "status": 503,
}
X_FORBIDDEN_HIDE = {
    "title": "Forbidden",
    "type": "about:blank",
    "status": 403,
    "detail": "You are not permitted to perform this action.",
}
X_CLIENT_NOT_ENROLLED = {
    "client_id": "29810442",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
    "Twitter developer App that is attached to a Project. You can create a project via the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
X_DELETED_REFERENCE = {
    "value": "1500000000000000999",
    "detail": "Could not find tweet with referenced_tweets.id: [1500000000000000999].",
    "title": "Not Found Error",
    "resource_type": "tweet",
    "parameter": "referenced_tweets.id",
    "resource_id": "1500000000000000999",
    "type": "https://api.twitter.com/2/problems/resource-not-found",
}

COMPLIANCE_STORAGE = "https://storage.googleapis.com/twttr-tweet-compliance"


def compliance_job(job_id: str, name: str, status: str) -> dict[str, Any]:
    """A batch compliance job as ``POST``/``GET /2/compliance/jobs`` return it
    (https://docs.x.com/x-api/compliance/batch-compliance/quickstart)."""
    return {
        "id": job_id,
        "type": "tweets",
        "name": name,
        "status": status,
        "resumable": False,
        "upload_url": f"{COMPLIANCE_STORAGE}/{job_id}/submission/{job_id}_upload.json?X-Goog-Signature=abc",
        "upload_expires_at": iso(NOW + 900),
        "download_url": f"{COMPLIANCE_STORAGE}/{job_id}/compliance/{job_id}_download.json?X-Goog-Signature=def",
        "download_expires_at": iso(NOW + 7 * 86400),
        "created_at": iso(NOW),
    }


def compliance_result(tweet_id: str, reason: str = "deleted") -> dict[str, Any]:
    """One line of a compliance job's result file: the id and what to do with it."""
    return {
        "id": tweet_id,
        "action": "delete",
        "created_at": iso(((int(tweet_id) >> 22) + 1288834974657) / 1000),
        "redacted_at": iso(NOW),
        "reason": reason,
    }


# Graph API
PAGE_ID = "104000000000001"
APP_SECRET = "test-app-secret-7f3a9c"
VERIFY_TOKEN = "test-verify-token-51be"
PAGE_TOKEN = "EAAtestpagetoken0123456789"


def graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def fb_post(post_no: int, message: str, ts: float) -> dict[str, Any]:
    pid = f"{PAGE_ID}_{post_no}"
    return {
        "id": pid,
        "message": message,
        "created_time": graph_time(ts),
        "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_no}",
    }


def fb_comment(
    post_no: int, comment_no: int, message: str, ts: float, *, author: str = "7001", parent: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"{post_no}_{comment_no}",
        "message": message,
        "created_time": graph_time(ts),
        "from": {"id": author, "name": f"Resident {author}"},
        "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_no}?comment_id={comment_no}",
    }
    if parent:
        body["parent"] = {"id": parent}
    return body


def fb_attachment_comment(post_no: int, comment_no: int, kind: str, ts: float) -> dict[str, Any]:
    """A comment that is only a sticker, GIF or photo: no ``message`` at all, an ``attachment``
    (StoryAttachment: ``type``, ``url``, ``media.image.src``;
    https://developers.facebook.com/docs/graph-api/reference/story-attachment/) when ``fields`` asks."""
    body = fb_comment(post_no, comment_no, "", ts)
    del body["message"]
    src = f"https://scontent.xx.fbcdn.net/v/t39.1997-6/{comment_no}_n.png"
    body["attachment"] = {
        "type": kind,
        "url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_no}?comment_id={comment_no}",
        "media": {"image": {"height": 240, "width": 240, "src": src}},
        "target": {"id": str(comment_no)},
    }
    return body


def fb_page(data: list[Any], next_url: str | None = None) -> dict[str, Any]:
    """A Graph list: ``data`` and ``paging.cursors`` (+ ``paging.next`` when there is more)."""
    paging: dict[str, Any] = {"cursors": {"before": "QVFIUmJlZAm9yZA", "after": "QVFIUmFmdGVyY3Vyc29y"}}
    if next_url:
        paging["next"] = next_url
    return {"data": data, "paging": paging}


def graph_error(code: int, message: str, *, subcode: int | None = None, transient: bool = False) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjKlMnOp",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return {"error": error}


def feed_delivery(changes: list[dict[str, Any]], page_id: str = PAGE_ID) -> dict[str, Any]:
    """A Page webhook delivery: ``object: page`` and entries of ``feed`` changes, sent now (the
    receiver refuses old deliveries)."""
    return {"object": "page", "entry": [{"id": page_id, "time": int(time.time()), "changes": changes}]}


def feed_comment(
    verb: str, post_no: int, comment_no: int, message: str | None, *, author: str = "7001", parent: str | None = None
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "from": {"id": author, "name": f"Resident {author}"},
        "post": {
            "status_type": "mobile_status_update",
            "is_published": True,
            "updated_time": graph_time(NOW),
            "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_no}",
            "promotion_status": "inactive",
            "id": f"{PAGE_ID}_{post_no}",
        },
        "post_id": f"{PAGE_ID}_{post_no}",
        "comment_id": f"{post_no}_{comment_no}",
        "created_time": int(NOW),
        "item": "comment",
        "parent_id": parent or f"{PAGE_ID}_{post_no}",
        "verb": verb,
    }
    if message is not None:
        value["message"] = message
    return {"field": "feed", "value": value}


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dumps(doc: Any) -> bytes:
    return orjson.dumps(doc)


# Instagram (Instagram API with Facebook Login: graph.facebook.com, a Page token)
IG_USER_ID = "17841400000000001"
IG_USERNAME = "cityoftestville"


def ig_time(ts: float) -> str:
    """IG ``timestamp``: ISO 8601 with ``+0000``, like Graph's ``created_time``."""
    return graph_time(ts)


def ig_media(media_id: str, caption: str, ts: float) -> dict[str, Any]:
    """An IG Media of ``/{ig-user-id}/media``
    (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media)."""
    return {
        "id": media_id,
        "caption": caption,
        "timestamp": ig_time(ts),
        "permalink": f"https://www.instagram.com/p/C{media_id[-6:]}/",
        "media_product_type": "FEED",
    }


def ig_comment(
    comment_id: str, text: str, ts: float, *, user_id: str = "17841400000007001", username: str = "resident7001"
) -> dict[str, Any]:
    """An IG Comment of ``/{media-id}/comments`` (``id``, ``text``, ``timestamp``, ``from``, ``username``;
    https://developers.facebook.com/docs/instagram-platform/comment-moderation)."""
    return {
        "id": comment_id,
        "text": text,
        "timestamp": ig_time(ts),
        "from": {"id": user_id, "username": username},
        "username": username,
        "hidden": False,
    }


def ig_delivery(changes: list[dict[str, Any]], ig_user_id: str = IG_USER_ID) -> dict[str, Any]:
    """An Instagram webhook delivery: ``object: instagram``, entries of ``comments`` changes
    (https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram)."""
    return {"object": "instagram", "entry": [{"id": ig_user_id, "time": int(time.time()), "changes": changes}]}


def ig_comment_change(comment_id: str, media_id: str, text: str, *, parent: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "from": {"id": "17841400000007002", "username": "resident7002"},
        "media": {"id": media_id, "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    if parent:
        value["parent_id"] = parent
    return {"field": "comments", "value": value}
