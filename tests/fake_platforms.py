"""X and Graph endpoints served through ``responses``: they page, honour ``since_id``/``until_id``,
return posts late (``visible_at``), leave ``note_tweet`` out unless asked, answer with the documented
shapes, and can be told to fail.

Nothing here reaches the network: ``responses`` intercepts every request of the test's session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections import defaultdict, deque
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import orjson
import responses

from tests.platform_payloads import (
    CITY,
    CITY_ID,
    COMPLIANCE_STORAGE,
    GRAPH,
    IG_USER_ID,
    IG_USERNAME,
    PAGE_ID,
    X_API,
    X_CLIENT_NOT_ENROLLED,
    compliance_job,
    compliance_result,
    dumps,
    fb_page,
    user,
    x_page,
    x_rate_headers,
)

Reply = tuple[int, dict[str, str], bytes]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


class FakeX:
    """Timeline, mentions, recent search and hide_reply of one city account."""

    def __init__(self, rsps: responses.RequestsMock, now: float) -> None:
        self.now = now
        self.timeline: list[dict[str, Any]] = []
        self.mentions: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {CITY_ID: user(CITY_ID, CITY)}
        self.failures: dict[str, deque[Reply]] = defaultdict(deque)
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.hidden: dict[str, bool] = {}
        self.extra_headers: dict[str, dict[str, str]] = {}
        self.extra_body: dict[str, dict[str, Any]] = {}
        self.clock: Any = None
        self.times: list[float] = []
        self.visible_at: dict[str, float] = {}
        """Tweet id -> when search and the timelines first return it: a post is indexed a few seconds
        to minutes after it is created, so one with a lower id can appear after a higher one."""
        rsps.add_callback(
            responses.GET, re.compile(re.escape(X_API) + r"/users/by\b.*"), callback=self._users_by, content_type=None
        )
        rsps.add_callback(
            responses.GET, re.compile(re.escape(X_API) + r"/users/me\b.*"), callback=self._me, content_type=None
        )
        rsps.add_callback(
            responses.GET, re.compile(re.escape(X_API) + r"/users/\d+/tweets.*"), callback=self._lister("timeline")
        )
        rsps.add_callback(
            responses.GET, re.compile(re.escape(X_API) + r"/users/\d+/mentions.*"), callback=self._lister("mentions")
        )
        rsps.add_callback(
            responses.GET, re.compile(re.escape(X_API) + r"/tweets/search/recent.*"), callback=self._lister("search")
        )
        rsps.add_callback(
            responses.PUT, re.compile(re.escape(X_API) + r"/tweets/\d+/hidden"), callback=self._hide, content_type=None
        )
        self.stream_lines: list[bytes] = []
        self.stream_refused = False
        self.stream_done = threading.Event()
        self.stream_connections = 0
        self.rules: dict[str, dict[str, str]] = {}
        rules_url = re.compile(re.escape(X_API) + r"/tweets/search/stream/rules.*")
        rsps.add_callback(responses.GET, rules_url, callback=self._get_rules, content_type=None)
        rsps.add_callback(responses.POST, rules_url, callback=self._post_rules, content_type=None)
        stream_url = re.compile(re.escape(X_API) + r"/tweets/search/stream(\?.*)?$")
        rsps.add_callback(responses.GET, stream_url, callback=self._stream, content_type=None)
        self.deleted: set[str] = set()
        """Tweet ids deleted on X: a compliance job's result lists those of the ids uploaded."""
        self.jobs: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, list[str]] = {}
        jobs_url = re.compile(re.escape(X_API) + r"/compliance/jobs(\?.*)?$")
        rsps.add_callback(responses.POST, jobs_url, callback=self._create_job, content_type=None)
        job_url = re.compile(re.escape(X_API) + r"/compliance/jobs/\d+(\?.*)?$")
        rsps.add_callback(responses.GET, job_url, callback=self._get_job, content_type=None)
        storage = re.compile(re.escape(COMPLIANCE_STORAGE) + r"/.*")
        rsps.add_callback(responses.PUT, storage, callback=self._upload, content_type=None)
        rsps.add_callback(responses.GET, storage, callback=self._download, content_type=None)

    def fail(self, endpoint: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.failures[endpoint].append((status, {"content-type": "application/json", **(headers or {})}, dumps(body)))

    def add_user(self, uid: str, username: str) -> None:
        self.users[uid] = user(uid, username)

    def _users_by(self, request: Any) -> Reply:
        self.calls.append(("users_by", _query(request.url)))
        if self.failures["users_by"]:
            return self.failures["users_by"].popleft()
        names = _query(request.url).get("usernames", "").split(",")
        found = [u for u in self.users.values() if u["username"] in names]
        return 200, {"content-type": "application/json"}, dumps({"data": found})

    def _me(self, request: Any) -> Reply:
        self.calls.append(("users_me", {}))
        if self.failures["users_me"]:
            return self.failures["users_me"].popleft()
        return 200, {"content-type": "application/json"}, dumps({"data": self.users[CITY_ID]})

    def _lister(self, endpoint: str) -> Any:
        def callback(request: Any) -> Reply:
            q = _query(request.url)
            self.calls.append((endpoint, q))
            if self.clock is not None:
                self.times.append(self.clock.time())
            if self.failures[endpoint]:
                return self.failures[endpoint].popleft()
            pool = {"timeline": self.timeline, "mentions": self.mentions, "search": self.replies}[endpoint]
            if endpoint == "search":
                conversation = q["query"].removeprefix("conversation_id:")
                pool = [t for t in pool if t.get("conversation_id") == conversation]
            since = int(q.get("since_id", "0"))
            until = int(q.get("until_id", str(1 << 63)))
            size = int(q.get("max_results", "10"))
            now = self.clock.time() if self.clock is not None else float("inf")
            selected = sorted(
                (t for t in pool if since < int(t["id"]) < until and self.visible_at.get(t["id"], 0) <= now),
                key=lambda t: -int(t["id"]),
            )
            fields = set(q.get("tweet.fields", "").split(","))
            page = [
                t if "note_tweet" in fields else {k: v for k, v in t.items() if k != "note_tweet"} for t in selected
            ]
            page = page[:size]
            authors = {t.get("author_id") for t in page}
            users = [u for uid, u in self.users.items() if uid in authors]
            body = x_page(page, users, next_token="b26v89c19zqg8o3fpds" if len(selected) > size else None)
            body.update(self.extra_body.get(endpoint, {}))
            headers = {"content-type": "application/json", **x_rate_headers(450, 449, self.now + 900)}
            headers.update(self.extra_headers.get(endpoint, {}))
            return 200, headers, dumps(body)

        return callback

    def _get_rules(self, request: Any) -> Reply:
        self.calls.append(("stream_rules", {}))
        if self.stream_refused:
            return 403, {"content-type": "application/json"}, dumps(X_CLIENT_NOT_ENROLLED)
        meta = {"sent": "2026-09-21T10:00:00.000Z", "result_count": len(self.rules)}
        data = [{"id": rid, **rule} for rid, rule in self.rules.items()]
        return (
            200,
            {"content-type": "application/json"},
            dumps({"data": data, "meta": meta} if data else {"meta": meta}),
        )

    def _post_rules(self, request: Any) -> Reply:
        doc = orjson.loads(request.body)
        created = []
        for rule in doc.get("add", []):
            rid = str(1_800_000_000_000_000_000 + len(self.rules) + len(created))
            created.append({"id": rid, **rule})
        for rid in doc.get("delete", {}).get("ids", []):
            self.rules.pop(rid, None)
        self.rules.update({r["id"]: {"value": r["value"], "tag": r["tag"]} for r in created})
        summary = {"created": len(created), "not_created": 0, "valid": len(created), "invalid": 0}
        meta = {"sent": "2026-09-21T10:00:00.000Z", "summary": summary}
        return 201, {"content-type": "application/json"}, dumps({"data": created, "meta": meta})

    def _stream(self, request: Any) -> Reply:
        self.stream_connections += 1
        if self.stream_connections > 1:
            self.stream_done.wait(30)  # hold the reconnection until the test closes the stream
            return 200, {"content-type": "application/json"}, b""
        return 200, {"content-type": "application/json"}, b"\r\n".join(self.stream_lines) + b"\r\n"

    def _create_job(self, request: Any) -> Reply:
        doc = orjson.loads(request.body)
        self.calls.append(("compliance_create", {"type": doc.get("type", "")}))
        if self.failures["compliance_create"]:
            return self.failures["compliance_create"].popleft()
        job_id = str(1_600_000_000_000_000_000 + len(self.jobs))
        job = compliance_job(job_id, doc.get("name", ""), "created")
        self.jobs[job_id] = job
        return 200, {"content-type": "application/json"}, dumps({"data": job})

    def _get_job(self, request: Any) -> Reply:
        job_id = urlparse(request.url).path.rstrip("/").split("/")[-1]
        self.calls.append(("compliance_get", {"id": job_id}))
        job = self.jobs[job_id]
        if job["status"] == "in_progress":
            job["status"] = "complete"  # the next look finds it done
        elif job_id in self.uploads and job["status"] == "created":
            job["status"] = "in_progress"
        return 200, {"content-type": "application/json"}, dumps({"data": job})

    def _upload(self, request: Any) -> Reply:
        job_id = urlparse(request.url).path.split("/")[2]
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        self.uploads[job_id] = body.decode().split("\n")
        return 200, {}, b""

    def _download(self, request: Any) -> Reply:
        job_id = urlparse(request.url).path.split("/")[2]
        gone = [i for i in self.uploads.get(job_id, []) if i in self.deleted]
        return 200, {"content-type": "application/json"}, b"\n".join(dumps(compliance_result(i)) for i in gone)

    def _hide(self, request: Any) -> Reply:
        tweet_id = request.url.rstrip("/").split("/")[-2]
        self.calls.append(("hide_reply", {"id": tweet_id}))
        if self.clock is not None:
            self.times.append(self.clock.time())
        for key in (f"hide_reply:{tweet_id}", "hide_reply"):
            if self.failures[key]:
                return self.failures[key].popleft()
        hidden = bool(orjson.loads(request.body)["hidden"])
        self.hidden[tweet_id] = hidden
        return 200, {"content-type": "application/json"}, dumps({"data": {"hidden": hidden}})


def graph_cursor(item_id: str) -> str:
    """An opaque cursor naming one item, as Graph's are (base64)."""
    return base64.urlsafe_b64encode(f"cursor:{item_id}".encode()).decode()


GRAPH_INVALID_CURSOR = {
    "error": {
        "message": "(#100) The after cursor is not valid",
        "type": "OAuthException",
        "code": 100,
        "fbtrace_id": "AbCdCursor",
    }
}
GRAPH_PROOF_REQUIRED = {
    "error": {
        "message": "API calls from the server require an appsecret_proof argument",
        "type": "GraphMethodException",
        "code": 100,
        "fbtrace_id": "AbCdProof",
    }
}


class FakeGraph:
    """A Page's posts and comments and moderation, paged as Graph documents it.

    Lists page by ``after`` cursors (https://developers.facebook.com/docs/graph-api/results/): a
    cursor names an item and is invalid once that item is deleted. The comments edge ignores
    ``since`` (not one of its parameters: https://developers.facebook.com/docs/graph-api/reference/object/comments/);
    ``/{page-id}/posts`` honours it (time-based paging). ``attachment`` is returned only when
    ``fields`` names it. With ``app_secret`` set the app requires ``appsecret_proof``
    (https://developers.facebook.com/docs/graph-api/securing-requests/) and refuses calls without it.
    """

    def __init__(
        self,
        rsps: responses.RequestsMock,
        version: str = "v25.0",
        *,
        token_in_next: bool = False,
        app_secret: str | None = None,
    ) -> None:
        self.version = version
        self.app_secret = app_secret
        self.posts: list[dict[str, Any]] = []
        self.comments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.failures: dict[str, deque[Reply]] = defaultdict(deque)
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.hidden: dict[str, bool] = {}
        self.deleted: set[str] = set()
        self.token_in_next = token_in_next
        base = re.escape(GRAPH) + r"/v\d+\.\d+/"
        rsps.add_callback(
            responses.GET, re.compile(base + re.escape(PAGE_ID) + r"/posts.*"), callback=self._posts, content_type=None
        )
        rsps.add_callback(
            responses.GET, re.compile(base + r"[\d_]+/comments.*"), callback=self._comments, content_type=None
        )
        rsps.add_callback(
            responses.GET, re.compile(base + re.escape(PAGE_ID) + r"(\?.*)?$"), callback=self._page, content_type=None
        )
        rsps.add_callback(responses.POST, re.compile(base + r"\d+_\d+(\?.*)?$"), callback=self._hide, content_type=None)
        rsps.add_callback(
            responses.DELETE, re.compile(base + r"\d+_\d+(\?.*)?$"), callback=self._delete, content_type=None
        )

    def fail(self, endpoint: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else dumps(body)
        ctype = "text/html" if isinstance(body, bytes) else "application/json"
        self.failures[endpoint].append((status, {"content-type": ctype, **(headers or {})}, raw))

    def _record(self, endpoint: str, request: Any) -> Reply | None:
        """A queued failure for ``endpoint:<object id>``, else for ``endpoint``, else ``None``."""
        path = urlparse(request.url).path
        q = _query(request.url)
        self.calls.append((endpoint, path, q))
        if self.app_secret is not None:
            body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            token = q.get("access_token") or form.get("access_token", "")
            proof = q.get("appsecret_proof") or form.get("appsecret_proof", "")
            expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, expected):
                return 400, {"content-type": "application/json"}, dumps(GRAPH_PROOF_REQUIRED)
        segments = path.rstrip("/").split("/")
        for key in (f"{endpoint}:{segments[-1]}", f"{endpoint}:{segments[-2]}", endpoint):
            if self.failures[key]:
                return self.failures[key].popleft()
        return None

    def _next(self, path: str, q: dict[str, str], after: str) -> str:
        args = {k: v for k, v in q.items() if k not in ("access_token", "after", "appsecret_proof")}
        if self.token_in_next:
            args["access_token"] = q.get("access_token", "")
        args["after"] = after
        return f"{GRAPH}{path}?" + urlencode(args)

    def _list(self, request: Any, items: list[dict[str, Any]], newest_first: bool, *, since: bool) -> Reply:
        q = _query(request.url)
        after = q.get("after")
        size = int(q.get("limit", "25"))

        def ts(item: dict[str, Any]) -> float:
            return datetime.strptime(item["created_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp()

        floor = int(q.get("since", "0")) if since else 0
        selected = [i for i in items if not isinstance(i.get("created_time"), str) or ts(i) >= floor]
        selected.sort(key=lambda i: ts(i) if isinstance(i.get("created_time"), str) else 0, reverse=newest_first)
        start = 0
        if after is not None:
            ids = [str(i.get("id")) for i in selected]
            named = base64.urlsafe_b64decode(after.encode()).decode().removeprefix("cursor:")
            if named not in ids:
                return 400, {"content-type": "application/json"}, dumps(GRAPH_INVALID_CURSOR)
            start = ids.index(named) + 1
        page = selected[start : start + size]
        if "attachment" not in q.get("fields", ""):
            page = [{k: v for k, v in i.items() if k != "attachment"} for i in page]
        if not page:
            return 200, {"content-type": "application/json; charset=UTF-8"}, dumps({"data": []})
        more = start + size < len(selected)
        path = urlparse(request.url).path
        last = graph_cursor(str(page[-1].get("id")))
        body = fb_page(page, self._next(path, q, last) if more else None)
        body["paging"]["cursors"] = {"before": graph_cursor(str(page[0].get("id"))), "after": last}
        return 200, {"content-type": "application/json; charset=UTF-8"}, dumps(body)

    def _page(self, request: Any) -> Reply:
        return self._record("page", request) or (
            200,
            {"content-type": "application/json"},
            dumps({"id": PAGE_ID, "name": "City of Testville"}),
        )

    def _posts(self, request: Any) -> Reply:
        return self._record("posts", request) or self._list(request, self.posts, newest_first=True, since=True)

    def _comments(self, request: Any) -> Reply:
        post_id = urlparse(request.url).path.split("/")[-2]
        failed = self._record("comments", request)
        return failed or self._list(request, self.comments[post_id], newest_first=False, since=False)

    def _hide(self, request: Any) -> Reply:
        comment_id = urlparse(request.url).path.split("/")[-1]
        failed = self._record("hide", request)
        if failed:
            return failed
        form = parse_qs(request.body if isinstance(request.body, str) else (request.body or b"").decode())
        self.hidden[comment_id] = form.get("is_hidden", ["false"])[0] == "true"
        return 200, {"content-type": "application/json"}, dumps({"success": True})

    def _delete(self, request: Any) -> Reply:
        comment_id = urlparse(request.url).path.split("/")[-1]
        failed = self._record("delete", request)
        if failed:
            return failed
        self.deleted.add(comment_id)
        return 200, {"content-type": "application/json"}, dumps({"success": True})


class FakeInstagram:
    """An Instagram professional account on graph.facebook.com: its media (newest first), each
    media's comments with ``replies`` nested, hide (``POST ?hide=``) and delete, cursor paging."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.media: list[dict[str, Any]] = []
        self.comments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.replies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.hidden: dict[str, bool] = {}
        self.deleted: set[str] = set()
        base = re.escape(GRAPH) + r"/v\d+\.\d+/"
        rsps.add_callback(
            responses.GET, re.compile(base + IG_USER_ID + r"/media.*"), callback=self._media, content_type=None
        )
        rsps.add_callback(
            responses.GET, re.compile(base + r"\d+/comments.*"), callback=self._comments, content_type=None
        )
        rsps.add_callback(
            responses.GET, re.compile(base + IG_USER_ID + r"(\?.*)?$"), callback=self._user, content_type=None
        )
        rsps.add_callback(responses.POST, re.compile(base + r"\d+(\?.*)?$"), callback=self._hide, content_type=None)
        rsps.add_callback(responses.DELETE, re.compile(base + r"\d+(\?.*)?$"), callback=self._delete, content_type=None)

    @staticmethod
    def _ok(body: Any) -> Reply:
        return 200, {"content-type": "application/json; charset=UTF-8"}, dumps(body)

    def _paged(self, request: Any, items: list[dict[str, Any]]) -> Reply:
        q = _query(request.url)
        size = int(q.get("limit", "25"))
        ids = [i["id"] for i in items]
        start = 0
        if "after" in q:
            named = base64.urlsafe_b64decode(q["after"].encode()).decode().removeprefix("cursor:")
            if named not in ids:
                return 400, {"content-type": "application/json"}, dumps(GRAPH_INVALID_CURSOR)
            start = ids.index(named) + 1
        page = items[start : start + size]
        if not page:
            return self._ok({"data": []})
        body: dict[str, Any] = {
            "data": page,
            "paging": {"cursors": {"before": graph_cursor(page[0]["id"]), "after": graph_cursor(page[-1]["id"])}},
        }
        if start + size < len(items):
            args = {k: v for k, v in q.items() if k not in ("access_token", "after")}
            body["paging"]["next"] = f"{GRAPH}{urlparse(request.url).path}?" + urlencode(
                {**args, "after": graph_cursor(page[-1]["id"])}
            )
        return self._ok(body)

    def _user(self, request: Any) -> Reply:
        self.calls.append(("user", urlparse(request.url).path, _query(request.url)))
        return self._ok({"id": IG_USER_ID, "username": IG_USERNAME})

    def _media(self, request: Any) -> Reply:
        self.calls.append(("media", urlparse(request.url).path, _query(request.url)))
        newest_first = sorted(self.media, key=lambda m: m["timestamp"], reverse=True)
        return self._paged(request, newest_first)

    def _comments(self, request: Any) -> Reply:
        media_id = urlparse(request.url).path.split("/")[-2]
        self.calls.append(("comments", urlparse(request.url).path, _query(request.url)))
        live = [c for c in self.comments[media_id] if c["id"] not in self.deleted]
        nested = []
        for c in live:
            replies = [r for r in self.replies[c["id"]] if r["id"] not in self.deleted]
            nested.append({**c, "replies": {"data": replies}} if replies else c)
        return self._paged(request, nested)

    def _hide(self, request: Any) -> Reply:
        comment_id = urlparse(request.url).path.split("/")[-1]
        form = parse_qs(request.body if isinstance(request.body, str) else (request.body or b"").decode())
        self.calls.append(("hide", comment_id, {k: v[0] for k, v in form.items()}))
        self.hidden[comment_id] = form.get("hide", ["false"])[0] == "true"
        return self._ok({"success": True})

    def _delete(self, request: Any) -> Reply:
        comment_id = urlparse(request.url).path.split("/")[-1]
        self.calls.append(("delete", comment_id, {}))
        self.deleted.add(comment_id)
        return self._ok({"success": True})
