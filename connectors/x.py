"""X (API v2, tweepy): the city's posts, replies in their conversations and mentions, and hide/unhide.

Scopes, each with its own checkpoint in ``connector.state`` (``x:<scope>``):

- ``timeline:<uid>``: the city's own posts (replies and reposts excluded) -> ``posts``; each new
  post opens a ``conversation:<post id>`` scope.
- ``conversation:<post id>``: ``conversation_id:`` recent search, the replies to one of the city's
  posts, for ``conversation_days`` (recent search does not reach further back anyway).
- ``mentions:<uid>``: mentions of the account outside the tracked conversations (a reply in a
  tracked conversation is left to that conversation's scope, so it is produced once).

Paging is restartable without tokens: X answers newest first, so a sweep remembers the newest id it
saw and walks down with ``until_id`` = the oldest id of the last page, ``since_id`` = the previous
sweep's newest. The checkpoint after every page holds (since_id, until_id, sweep_newest, seen): a
restart mid-sweep asks for exactly the tweets not yet produced. Tweet ids are time-ordered, but X
returns a post some time after it was created, so a post with a lower id can become visible after
the sweep moved past it: every sweep therefore starts ``CIVICWATCH_X_OVERLAP_SECONDS`` below
``since_id`` and skips the ids it already produced there (``seen``, kept in the checkpoint).

Long posts (over 280 characters) are read whole from ``note_tweet``.

Reads are metered twice. Rate: every poll is one request, a sliding 15-minute budget caps them
(``CIVICWATCH_X_MAX_REQUESTS``), and ``x-rate-limit-remaining: 0`` parks that endpoint until its
``x-rate-limit-reset`` instead of spending a request on a 429. Cost: X bills pay-per-use reads per
resource returned (each post, each user of the ``author_id`` expansion), not per request, so every
answer's posts and users are counted at ``CIVICWATCH_X_POST_READ_USD``/``USER_READ_USD`` into the
day's spend (``spend`` checkpoint, gauge ``civicwatch_connector_spend_usd``); at
``CIVICWATCH_X_DAILY_BUDGET_USD`` reads wait for the next UTC day (log ``x_daily_budget_reached``).
A scope X refuses (403, a spending limit) is logged as ``scope_refused`` and counted in
``civicwatch_connector_scope_refused``. tweepy's own waiting is off because it
sleeps in real time and cannot be stopped; we raise ``RateLimited`` and the runner waits on the
injected clock.

Where the access level allows it (``CIVICWATCH_X_STREAM=auto``), the filtered stream delivers the
same tweets within seconds: one rule per followed conversation plus one for mentions, each with
``-is:retweet`` (reposts are no one's comment; polling drops them too). Streamed ids
are kept in a ``stream`` checkpoint until every scope's ``since_id`` has passed them, so the polling
that goes on at ``CIVICWATCH_X_RECONCILE_INTERVAL`` (to fill whatever a disconnection lost) skips them:
the stream adds speed, polling keeps the no-gap promise. Without the access level (403
``client-not-enrolled``), polling alone runs at ``CIVICWATCH_X_POLL_INTERVAL``.

Deletions: X expects stored posts to follow deletions; a daily batch compliance job
(``connectors.x_compliance``) turns each deleted comment into a ``deleted`` comment on its key.

An edited tweet is a new tweet id whose ``edit_history_tweet_ids`` starts with the original: it is
produced under the original's id with ``edited=true``, so the key ``x:<original id>`` keeps a
comment's versions on one partition, in order.
"""

from __future__ import annotations

import html
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
import requests
import structlog
import tweepy
from pydantic import ValidationError

from connectors import metrics
from connectors.core import (
    Batch,
    Clock,
    ConnectorError,
    CredentialError,
    NotFound,
    NotPermitted,
    RateLimited,
    Retry,
    TransientError,
    utc,
)
from connectors.runner import checkpoint, close_scopes, next_due
from connectors.secrets import Secrets
from connectors.x_compliance import PRODUCED, Compliance
from connectors.x_compliance import SCOPE as COMPLIANCE_SCOPE
from runtime.settings import XSettings
from schemas import Checkpoint, Comment, ModerationAction, Post, dead_letter
from schemas.codec import InvalidEvent, describe_validation

log = structlog.get_logger("civicwatch.x")

NAME = "x"
WINDOW = 15 * 60.0
"""X's rate-limit window, also the span of our own read budget."""
TWITTER_EPOCH_MS = 1288834974657
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "lang",
    "referenced_tweets",
    "edit_history_tweet_ids",
    "note_tweet",
]
"""``note_tweet`` carries the whole text of a long post; without it ``text`` stops at 280 characters."""
NO_LANGUAGE = {"und", "zxx", "qme", "qam", "qct", "qht", "qst"}
"""X's codes for "undetermined", "no text", media-only, hashtags-only...: no language to pass on."""

REPLY = "replied_to"
Kind = Literal["timeline", "conversation", "mentions"]
PRIORITY: dict[str, int] = {"timeline": 0, "conversation": 1, "mentions": 2}


def billed(body: Mapping[str, Any]) -> tuple[list[str], int]:
    """Post ids and the number of users in one answer: what pay-per-use bills ("per resource returned")."""
    data = body.get("data")
    includes = body.get("includes") or {}
    items = [*(data if isinstance(data, list) else [data] if isinstance(data, dict) else [])]
    items += includes.get("tweets") or []
    return [str(t.get("id")) for t in items if isinstance(t, dict)], len(includes.get("users") or [])


def snowflake_time(tweet_id: str) -> float:
    """Creation time (epoch seconds) encoded in a tweet id."""
    return ((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000.0


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidEvent("created_at: missing or not a string")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent("created_at: not an ISO 8601 time") from None


def _id(tweet: Mapping[str, Any], name: str) -> str:
    value = tweet.get(name)
    if not isinstance(value, str) or not value.isdigit():
        raise InvalidEvent(f"{name}: missing or not a numeric id string")
    return value


def _full_text(tweet: Mapping[str, Any]) -> str:
    """A long post's whole text is in ``note_tweet.text``; ``text`` then holds only its first 280 characters."""
    note = tweet.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str):
        return str(note["text"])
    text = tweet.get("text")
    if not isinstance(text, str):
        raise InvalidEvent("text: missing or not a string")
    return text


def is_repost(tweet: Mapping[str, Any]) -> bool:
    """A repost (``referenced_tweets`` of type ``retweeted``) repeats someone's words: it is no comment."""
    refs = tweet.get("referenced_tweets") or []
    return isinstance(refs, list) and any(isinstance(r, dict) and r.get("type") == "retweeted" for r in refs)


def id_at(ts: float) -> str:
    """The lowest tweet id that can have been created at ``ts`` (epoch seconds)."""
    return str(max(0, int(ts * 1000) - TWITTER_EPOCH_MS) << 22)


def tweet_to_comment(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> Comment:
    """Map a v2 tweet object (with the ``author_id`` expansion's users) to a comment, or raise ``InvalidEvent``."""
    if not isinstance(tweet, Mapping):
        raise InvalidEvent("tweet: not a JSON object")
    tweet_id = _id(tweet, "id")
    author = _id(tweet, "author_id")
    text = _full_text(tweet)
    history = tweet.get("edit_history_tweet_ids") or [tweet_id]
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise InvalidEvent("edit_history_tweet_ids: not a list of ids")
    parent = next(
        (
            r.get("id")
            for r in tweet.get("referenced_tweets") or []
            if isinstance(r, dict) and r.get("type") == "replied_to"
        ),
        None,
    )
    handle = (users.get(author) or {}).get("username")
    lang = tweet.get("lang")
    try:
        return Comment(
            platform="x",
            comment_id=history[0],
            post_id=str(tweet.get("conversation_id") or tweet_id),
            parent_id=parent,
            author_id=author,
            author_handle=handle if isinstance(handle, str) else None,
            text=html.unescape(text),  # v2 escapes &, < and > in text
            language=lang if isinstance(lang, str) and lang not in NO_LANGUAGE else None,
            created_at=_parse_time(tweet.get("created_at")),
            url=f"https://x.com/{handle if isinstance(handle, str) else 'i/web'}/status/{tweet_id}",
            edited=len(history) > 1,
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation(exc)) from None


def tweet_to_post(tweet: Mapping[str, Any], account: str) -> Post:
    tweet_id = _id(tweet, "id")
    text = _full_text(tweet)
    try:
        return Post(
            platform="x",
            post_id=tweet_id,
            account=account,
            text=html.unescape(text),
            created_at=_parse_time(tweet.get("created_at")),
            url=f"https://x.com/{account}/status/{tweet_id}",
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation(exc)) from None


class XApi:
    """tweepy's v2 ``Client``, returning raw responses so headers and whole payloads stay in reach.

    Translates tweepy's and requests' exceptions into the connector error tree, and remembers each
    endpoint's ``x-rate-limit-remaining``/``x-rate-limit-reset`` to avoid calls that would be refused.
    """

    def __init__(self, client: tweepy.Client, clock: Clock, token_variable: str = "X_BEARER_TOKEN") -> None:
        self.client = client
        self.clock = clock
        self.token_variable = token_variable
        self.parked_until: dict[str, float] = {}

    def call(self, endpoint: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        now = self.clock.time()
        until = self.parked_until.get(endpoint, 0.0)
        if until > now:
            raise RateLimited(until - now, "rate_limit_exhausted")
        try:
            response = fn(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            reset = exc.response.headers.get("x-rate-limit-reset")
            wait = float(reset) - now + 1 if reset and reset.isdigit() else WINDOW
            self.parked_until[endpoint] = now + max(wait, 1.0)
            raise RateLimited(max(wait, 1.0)) from None
        except tweepy.Unauthorized:
            raise CredentialError(self.token_variable, "was rejected by X (401 Unauthorized)") from None
        except tweepy.Forbidden as exc:
            raise NotPermitted(f"X refused {endpoint} (403 {_problem(exc.response)})") from None
        except tweepy.NotFound:
            raise NotFound(f"X answered 404 to {endpoint}") from None
        except tweepy.TwitterServerError as exc:
            raise TransientError(f"X answered {exc.response.status_code} to {endpoint}") from None
        except tweepy.HTTPException as exc:
            raise ConnectorError(
                f"X answered {exc.response.status_code} to {endpoint}: {_problem(exc.response)}"
            ) from None
        except requests.RequestException as exc:
            raise TransientError(f"network error calling X {endpoint}: {type(exc).__name__}") from None
        headers = response.headers
        if headers.get("x-rate-limit-remaining") == "0" and (headers.get("x-rate-limit-reset") or "").isdigit():
            self.parked_until[endpoint] = float(headers["x-rate-limit-reset"]) + 1
        try:
            body = orjson.loads(response.content)  # JSON is UTF-8 (RFC 8259) whatever the charset says
        except orjson.JSONDecodeError:
            raise TransientError(f"X answered {endpoint} with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise TransientError(f"X answered {endpoint} with a body that is not a JSON object")
        return body


def _problem(response: Any) -> str:
    """Title and reason of an X problem document: platform-written words, never user content."""
    try:
        body = response.json()
    except ValueError:
        return "no detail"
    if not isinstance(body, dict):
        return "no detail"
    parts = [str(body.get(k)) for k in ("title", "reason") if body.get(k)]
    return ", ".join(parts) or "no detail"


@dataclass
class XScope:
    kind: Kind
    target: str
    account_id: str
    account: str
    since_id: str | None = None
    until_id: str | None = None
    sweep_newest: str | None = None
    pagination_token: str | None = None
    seen: set[str] = field(default_factory=set)
    """Ids produced at or above the overlap floor: a re-read of the overlap skips them."""
    due: float = 0.0
    closed: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"

    def to_checkpoint(self, now: float) -> Checkpoint:
        return checkpoint(
            NAME,
            self.key,
            self.since_id,
            now,
            kind=self.kind,
            account_id=self.account_id,
            account=self.account,
            until_id=self.until_id,
            sweep_newest=self.sweep_newest,
            pagination_token=self.pagination_token,
            seen=sorted(self.seen, key=int),
            closed=self.closed,
        )

    @classmethod
    def from_checkpoint(cls, cp: Checkpoint) -> XScope:
        d = cp.details
        return cls(
            kind=d["kind"],
            target=cp.scope.split(":", 1)[1],
            account_id=d["account_id"],
            account=d["account"],
            since_id=cp.cursor,
            until_id=d.get("until_id"),
            sweep_newest=d.get("sweep_newest"),
            pagination_token=d.get("pagination_token"),
            seen=set(d.get("seen") or []),
            closed=bool(d.get("closed")),
        )


SPEND_SCOPE = "spend"
STREAM_TAG = "civicwatch"
NO_REPOSTS = "-is:retweet"
"""Stream rule operator: a repost of a mention matches ``@city`` but is no one's comment."""
STREAM_SCOPE = "stream"


class _StreamListener(tweepy.StreamingClient):  # type: ignore[misc]
    """tweepy's stream thread only queues raw lines; mapping and producing stay on the poll loop."""

    def __init__(self, bearer_token: str, lines: queue.Queue[bytes]) -> None:
        super().__init__(bearer_token, return_type=requests.Response, wait_on_rate_limit=False)
        self.lines = lines
        self.refused = False

    def on_data(self, raw_data: bytes) -> None:
        self.lines.put(raw_data)

    def on_request_error(self, status_code: int) -> None:
        log.warning("x_stream_request_error", status=status_code)
        if status_code in (401, 403):
            self.refused = True
            self.disconnect()

    def on_connection_error(self) -> None:
        log.warning("x_stream_connection_error")


class XStream:
    """The v2 filtered stream, when the account's access level allows it."""

    def __init__(self, bearer_token: str, clock: Clock) -> None:
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.listener = _StreamListener(bearer_token, self.lines)
        self.api = XApi(self.listener, clock)
        self.thread: threading.Thread | None = None

    def open(self, rules: list[str]) -> bool:
        """Sync the rules and connect; ``False`` when the access level does not include the stream."""
        try:
            self.sync(rules)
        except NotPermitted as exc:
            log.info("x_stream_unavailable", reason=exc.reason)
            return False
        self.thread = self.listener.filter(
            threaded=True, expansions=["author_id"], tweet_fields=TWEET_FIELDS, user_fields=["username"]
        )
        return True

    def sync(self, rules: list[str]) -> None:
        body = self.api.call("stream_rules", self.listener.get_rules)
        existing = {r["value"]: r["id"] for r in body.get("data") or [] if r.get("tag") == STREAM_TAG}
        stale = [rule_id for value, rule_id in existing.items() if value not in rules]
        if stale:
            self.api.call("stream_rules", self.listener.delete_rules, stale)
        new = [tweepy.StreamRule(value=v, tag=STREAM_TAG) for v in rules if v not in existing]
        if new:
            self.api.call("stream_rules", self.listener.add_rules, new)

    @property
    def alive(self) -> bool:
        """The thread, not just our flag: tweepy's thread ends for good on errors it does not retry."""
        return self.thread is not None and self.thread.is_alive() and not self.listener.refused

    def drain(self, limit: int) -> list[bytes]:
        out: list[bytes] = []
        while len(out) < limit:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                break
        return out

    def close(self, timeout: float = 30.0) -> None:
        self.listener.disconnect()
        if self.thread is not None:
            self.thread.join(timeout)


@dataclass
class XConnector:
    """Polls X for the city's posts and the comments on them; see the module docstring."""

    api: XApi
    settings: XSettings
    clock: Clock
    name: str = NAME
    accounts: dict[str, str] = field(default_factory=dict)
    """user id -> username of the city's accounts."""
    scopes: dict[str, XScope] = field(default_factory=dict)
    requests_made: deque[float] = field(default_factory=deque)
    stream: XStream | None = None
    streaming: bool = False
    streamed: set[str] = field(default_factory=set)
    """Tweet ids delivered by the stream that polling may still return: skipped there."""
    spend: dict[str, float] = field(default_factory=dict)
    """Today's (UTC) reads: ``day`` (epoch day), ``usd``, ``posts``, ``users``; kept in the ``spend`` checkpoint."""
    billed_today: set[str] = field(default_factory=set)
    """Post ids already counted today: X bills a post once per UTC day."""
    compliance: Compliance | None = None
    """Batch compliance jobs: deletions on X become ``deleted`` comments (``connectors.x_compliance``)."""

    def start(self, state: Mapping[str, Checkpoint]) -> None:
        spent = state.get(SPEND_SCOPE)
        self.spend = {k: float(v) for k, v in spent.details.items()} if spent is not None else {}
        if not self.accounts:
            self.accounts = self._resolve_accounts()
        now = self.clock.time()
        self.scopes = {}
        self.streamed = set()
        if self.compliance is None:
            self.compliance = Compliance(self.settings.compliance_interval, self.settings.compliance_days)
        self.compliance.load(state, now)
        metrics.BUDGET.labels(NAME).set(self.settings.daily_budget_usd)
        for cp in state.values():
            if cp.scope == SPEND_SCOPE:
                continue
            if cp.scope == STREAM_SCOPE:
                self.streamed = set(cp.details.get("ids") or [])
                continue
            if cp.scope == COMPLIANCE_SCOPE or cp.scope.startswith(PRODUCED):
                continue
            scope = XScope.from_checkpoint(cp)
            if scope.account_id in self.accounts and not scope.closed:
                self.scopes[scope.key] = scope
        for uid, username in self.accounts.items():
            for kind in ("timeline", "mentions"):
                fresh = XScope(kind=kind, target=uid, account_id=uid, account=username)
                self.scopes.setdefault(fresh.key, fresh)
        for scope in self.scopes.values():
            scope.due = now
        if self.stream is not None and not self.streaming:
            self.streaming = self.stream.open(self.stream_rules())

    def stream_rules(self) -> list[str]:
        mentions = [f"@{name} {NO_REPOSTS}" for name in self.accounts.values()]
        return mentions + [f"conversation_id:{c} {NO_REPOSTS}" for c in sorted(self.tracked_conversations())]

    def _interval(self) -> float:
        return self.settings.reconcile_interval if self.streaming else self.settings.poll_interval

    def _resolve_accounts(self) -> dict[str, str]:
        """Username -> id for the configured accounts; the first call also proves the bearer token."""
        if not self.settings.accounts:
            raise ConnectorError("CIVICWATCH_X_ACCOUNTS is empty: name the city's X account(s)")
        body = self.api.call(
            "users_by",
            self.api.client.get_users,
            usernames=list(self.settings.accounts),
            user_fields=["username"],
        )
        data = body.get("data")
        self._meter([], len(data) if isinstance(data, list) else 0, self.clock.time())
        found = {u["username"].lower(): u["id"] for u in body.get("data") or []}
        missing = [a for a in self.settings.accounts if a.lower() not in found]
        if missing:
            raise ConnectorError(f"X has no account named {', '.join(missing)} (CIVICWATCH_X_ACCOUNTS)")
        return {found[a.lower()]: a for a in self.settings.accounts}

    def _floor(self, since_id: str) -> str:
        """Where a sweep starts: ``overlap_seconds`` below ``since_id``, because X returns a post some
        time after it is created, so one with a lower id can become visible after a higher one was
        read; ``seen`` keeps the overlap from being produced twice."""
        return min(since_id, id_at(snowflake_time(since_id) - self.settings.overlap_seconds), key=int)

    def _within_window(self, tweet_id: str, now: float) -> bool:
        return now - snowflake_time(tweet_id) <= self.settings.conversation_days * 86400

    def tracked_conversations(self) -> set[str]:
        return {s.target for s in self.scopes.values() if s.kind == "conversation" and not s.closed}

    def poll(self) -> Batch:
        now = self.clock.time()
        expired = [
            s for s in self.scopes.values() if s.kind == "conversation" and not self._within_window(s.target, now)
        ]
        if expired:
            return close_scopes(self.scopes, expired, now)
        if self.streaming and self.stream is not None:
            if not self.stream.alive:
                log.warning("x_stream_lost_polling_only")
                self.streaming = False
                for s in self.scopes.values():
                    s.due = min(s.due, now + self.settings.poll_interval)
            elif lines := self.stream.drain(self.settings.page_size):
                return self._apply_stream(lines, now)
        budget = self.settings.daily_budget_usd
        if budget > 0 and self.spend.get("day") == now // 86400 and self.spend.get("usd", 0.0) >= budget:
            tomorrow = (now // 86400 + 1) * 86400
            log.warning("x_daily_budget_reached", usd=round(self.spend["usd"], 3), budget=budget)
            raise Retry(tomorrow - now + 1, "daily_budget")
        while self.requests_made and self.requests_made[0] <= now - WINDOW:
            self.requests_made.popleft()
        if len(self.requests_made) >= self.settings.max_requests_per_window:
            raise Retry(self.requests_made[0] + WINDOW - now, "budget")
        compliance = self.compliance
        if compliance is not None and compliance.enabled and compliance.due <= now:
            self.requests_made.append(now)
            client = self.api.client
            try:
                return compliance.step(self.api.call, client.create_compliance_job, client.get_compliance_job, now)
            except (Retry, TransientError, CredentialError):
                raise
            except ConnectorError as exc:
                log.warning("scope_refused", connector=NAME, scope=COMPLIANCE_SCOPE, reason=exc.reason)
                compliance.due = now + min(compliance.interval, 3600.0)
                return Batch()
        try:
            scope = next_due(self.scopes.values(), now, PRIORITY)
        except Retry as idle:
            if compliance is not None and compliance.enabled:
                raise Retry(min(idle.after, compliance.due - now), idle.reason) from None
            raise
        self.requests_made.append(now)
        try:
            body = self._fetch(scope, now)
        except (Retry, TransientError, CredentialError):
            raise
        except ConnectorError as exc:  # one refused scope must not hold up the others
            log.warning("scope_refused", connector=NAME, scope=scope.key, reason=exc.reason)
            metrics.REFUSED.labels(NAME, type(exc).__name__).inc()
            scope.due = now + self._interval()
            return Batch()
        batch = self._apply(scope, body, now)
        batch.checkpoints.append(self._meter(*billed(body), now))
        return batch

    def _meter(self, post_ids: list[str], users: int, now: float) -> Checkpoint:
        """Add what X bills for one answer to today's spend: each user returned, and each post not
        already returned today (X bills a post once per UTC day however often it is read, so the
        overlap re-reads cost nothing; after a restart today's ids are unknown and count again)."""
        day = float(now // 86400)
        if self.spend.get("day") != day:
            self.spend = {"day": day, "usd": 0.0, "posts": 0.0, "users": 0.0}
            self.billed_today = set()
        fresh = set(post_ids) - self.billed_today
        self.billed_today |= fresh
        posts = len(fresh)
        cost = posts * self.settings.post_read_usd + users * self.settings.user_read_usd
        self.spend["usd"] += cost
        self.spend["posts"] += posts
        self.spend["users"] += users
        metrics.RESOURCES.labels(NAME, "post").inc(posts)
        metrics.RESOURCES.labels(NAME, "user").inc(users)
        metrics.SPEND.labels(NAME).set(self.spend["usd"])
        return checkpoint(NAME, SPEND_SCOPE, None, now, **self.spend)

    def _stream_checkpoint(self, now: float) -> Checkpoint:
        return checkpoint(NAME, STREAM_SCOPE, None, now, ids=sorted(self.streamed, key=int))

    def _apply_stream(self, lines: list[bytes], now: float) -> Batch:
        batch = Batch(fetched=len(lines))
        for raw in lines:
            try:
                doc = orjson.loads(raw)
                tweet = doc.get("data") if isinstance(doc, dict) else None
                if not isinstance(tweet, dict):
                    raise InvalidEvent("stream line: no data object")
                tweet_id = _id(tweet, "id")
                users = {str(u.get("id")): u for u in (doc.get("includes") or {}).get("users") or []}
                comment = tweet_to_comment(tweet, users)
            except (InvalidEvent, orjson.JSONDecodeError) as exc:
                error = exc if isinstance(exc, InvalidEvent) else InvalidEvent("stream line: not valid JSON")
                batch.dead_letters.append(dead_letter(raw, stage="connector.x", error=error, key="x:stream"))
                continue
            if tweet_id in self.streamed or comment.author_id in self.accounts or is_repost(tweet):
                continue  # a reconnection repeats tweets; the city's own replies are not comments
            self.streamed.add(tweet_id)
            batch.comments.append(comment)
        batch.checkpoints.append(self._stream_checkpoint(now))
        batch.checkpoints.append(self._meter([c.comment_id for c in batch.comments], len(batch.comments), now))
        if self.compliance is not None:
            batch.checkpoints.extend(self.compliance.record(batch.comments, now))
        return batch

    def _fetch(self, scope: XScope, now: float) -> dict[str, Any]:
        client = self.api.client
        params: dict[str, Any] = {
            "max_results": self.settings.page_size,
            "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"],
            "user_fields": ["username"],
        }
        if scope.pagination_token:
            params["pagination_token" if scope.kind != "conversation" else "next_token"] = scope.pagination_token
        if scope.since_id:
            params["since_id"] = self._floor(scope.since_id)
        else:  # first sweep of a scope: no further back than the conversations we follow
            params["start_time"] = utc(now - self.settings.conversation_days * 86400 + 60)
        if scope.until_id:
            params["until_id"] = scope.until_id
        if scope.kind == "timeline":
            return self.api.call(
                "users_tweets", client.get_users_tweets, scope.target, exclude=["replies", "retweets"], **params
            )
        if scope.kind == "mentions":
            return self.api.call("users_mentions", client.get_users_mentions, scope.target, **params)
        params["max_results"] = max(10, params["max_results"])
        return self.api.call("search_recent", client.search_recent_tweets, f"conversation_id:{scope.target}", **params)

    def _apply(self, scope: XScope, body: dict[str, Any], now: float) -> Batch:
        data = body.get("data") or []
        meta = body.get("meta") or {}
        if body.get("errors"):
            log.info("x_partial_errors", scope=scope.key, errors=len(body["errors"]))
        users = {str(u.get("id")): u for u in (body.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
        batch = Batch(fetched=len(data) if isinstance(data, list) else 1)
        tracked = self.tracked_conversations()
        ids: list[str] = []
        for tweet in data if isinstance(data, list) else [data]:
            raw = orjson.dumps(tweet)
            try:
                if not isinstance(tweet, dict):
                    raise InvalidEvent("tweet: not a JSON object")
                tweet_id = _id(tweet, "id")
                ids.append(tweet_id)
                if tweet_id in scope.seen:
                    continue  # re-read in the overlap below since_id
                scope.seen.add(tweet_id)
                if scope.kind == "timeline":
                    post = tweet_to_post(tweet, scope.account)
                    batch.posts.append(post)
                    conv = XScope("conversation", post.post_id, scope.account_id, scope.account, since_id=post.post_id)
                    if (
                        conv.key not in self.scopes
                        and now - snowflake_time(conv.target) <= self.settings.conversation_days * 86400
                    ):
                        self.scopes[conv.key] = conv
                        conv.due = now
                        batch.checkpoints.append(conv.to_checkpoint(now))
                    continue
                if is_repost(tweet):
                    continue  # a repost of a mention is no one's comment
                comment = tweet_to_comment(tweet, users)
                if tweet["id"] in self.streamed:
                    continue  # the stream delivered it already
                if comment.author_id in self.accounts:
                    continue  # the city's own replies are not residents' comments
                if scope.kind == "mentions" and comment.post_id in tracked:
                    continue  # produced by that conversation's scope
                batch.comments.append(comment)
            except InvalidEvent as exc:
                batch.dead_letters.append(dead_letter(raw, stage="connector.x", error=exc, key=f"x:{scope.key}"))
                log.warning("payload_dead_lettered", connector=NAME, scope=scope.key, reason=exc.reason)
        self._advance(scope, meta, ids, now)
        batch.checkpoints.insert(0, scope.to_checkpoint(now))
        if self.compliance is not None:
            batch.checkpoints.extend(self.compliance.record(batch.comments, now))
        if self.streamed:
            floor = min((int(self._floor(s.since_id)) for s in self.scopes.values() if s.since_id), default=0)
            passed = {i for i in self.streamed if int(i) <= floor}
            if passed:
                self.streamed -= passed
                batch.checkpoints.append(self._stream_checkpoint(now))
        if (
            self.streaming
            and self.stream is not None
            and any(c.scope.startswith("conversation:") for c in batch.checkpoints[1:])
        ):
            try:
                self.stream.sync(self.stream_rules())
            except ConnectorError as exc:  # polling still covers the new conversation
                log.warning("x_stream_rules_not_synced", reason=exc.reason)
        return batch

    def _advance(self, scope: XScope, meta: Mapping[str, Any], ids: list[str], now: float) -> None:
        newest = meta.get("newest_id") or (max(ids, key=int) if ids else None)
        oldest = meta.get("oldest_id") or (min(ids, key=int) if ids else None)
        if scope.sweep_newest is None and newest is not None:
            scope.sweep_newest = str(newest)
        if meta.get("next_token"):
            if oldest is not None:
                scope.until_id, scope.pagination_token = str(oldest), None
            else:
                scope.pagination_token = str(meta["next_token"])
            scope.due = now
            return
        if scope.sweep_newest is not None:
            scope.since_id = scope.sweep_newest
        if scope.since_id is not None:
            floor = int(self._floor(scope.since_id))
            scope.seen = {i for i in scope.seen if int(i) > floor}
        scope.until_id = scope.sweep_newest = scope.pagination_token = None
        scope.due = now + self._interval()


def make_client(secrets: Secrets, *, user_auth: bool = False) -> tweepy.Client:
    """A tweepy v2 client: app-only bearer for reads; OAuth 1.0a user tokens for hiding replies."""
    kwargs: dict[str, Any] = {"return_type": requests.Response, "wait_on_rate_limit": False}
    if user_auth:
        for variable, arg in (
            ("X_CONSUMER_KEY", "consumer_key"),
            ("X_CONSUMER_SECRET", "consumer_secret"),
            ("X_ACCESS_TOKEN", "access_token"),
            ("X_ACCESS_TOKEN_SECRET", "access_token_secret"),
        ):
            kwargs[arg] = secrets.require(variable)
    else:
        kwargs["bearer_token"] = secrets.require("X_BEARER_TOKEN")
    return tweepy.Client(**kwargs)


class XActions:
    """Hide and unhide replies in the city's conversations (the only moderation X offers an account),
    and answer them (clause 5.5 acknowledgements: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``).

    X allows it only on replies to the account's own posts and rate-limits it tightly (50 per 15
    minutes per user at the time of writing), hence ``min_interval`` between calls; the executor paces.
    """

    platform = "x"

    def __init__(self, api: XApi, min_interval: float) -> None:
        self.api = api
        self.min_interval = min_interval

    def check(self) -> None:
        """Prove the user tokens at start-up (``GET /2/users/me``)."""
        self.api.call("users_me", self.api.client.get_me, user_auth=True)

    def execute(self, action: ModerationAction) -> str:
        if action.action == "reply":
            body = self.api.call(
                "create_tweet",
                self.api.client.create_tweet,
                text=action.text,
                in_reply_to_tweet_id=action.comment_id,
                user_auth=True,
            )
            if not (body.get("data") or {}).get("id"):
                raise TransientError("X did not confirm the reply")
            return "replied"
        if action.action == "delete":
            raise NotPermitted("X does not let an account delete another account's reply; hide it instead")
        hidden = action.action == "hide"
        fn = self.api.client.hide_reply if hidden else self.api.client.unhide_reply
        body = self.api.call("hide_reply", fn, action.comment_id, user_auth=True)
        if (body.get("data") or {}).get("hidden") is not hidden:
            raise TransientError("X did not confirm the new hidden state")
        return "hidden" if hidden else "unhidden"
