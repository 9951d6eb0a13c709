"""Receives a Page's real-time ``feed`` changes and feeds them into the same path as the poller.

Meta calls ``GET`` once with ``hub.mode=subscribe``, ``hub.verify_token`` and ``hub.challenge`` to
verify the endpoint, and then ``POST``s changes signed with the app secret in
``X-Hub-Signature-256: sha256=<hex HMAC of the raw body>``. Unsigned or wrongly signed requests are
refused (403) before their body is parsed. A signed delivery is mapped with the poller's mapping and
committed with ``commit_batch``; only then is it acknowledged with 200, so a delivery lost to a
broker outage is answered 500 and Meta delivers it again. A signed change that cannot be mapped is
dead-lettered and acknowledged: retrying would not make it mappable.

Served by the standard library's threading HTTP server on 127.0.0.1 by default; put it behind the
TLS-terminating reverse proxy that Meta's HTTPS requirement calls for. What an attacker on the
network can and cannot do to it:

- a signature header is compared as bytes, so one with non-ASCII characters is refused (403),
  not a crash;
- each connection has a socket time-out and at most ``max_threads`` are served at once (the
  others wait in the listen queue), so slow bodies cannot hold every thread;
- a signed delivery is accepted once: a replay of one already committed is acknowledged and
  dropped (its digest is remembered for ``max_age``), and an entry sent more than ``max_age``
  ago is dropped, so a captured ``add`` or ``edited`` cannot bring back text deleted since. Meta
  retries a failed delivery for up to 36 hours; one older than ``max_age`` is left to the poller,
  which finds new comments but not edits and deletions.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import structlog

from connectors import metrics
from connectors.core import Batch
from connectors.facebook.mapping import feed_change
from connectors.runner import commit_batch
from runtime.sink import Sink
from schemas import Comment, MalformedMessage, dead_letter
from schemas.codec import InvalidEvent

log = structlog.get_logger("civicwatch.facebook.webhook")

NAME = "facebook-webhook"
MAX_BODY = 1_000_000
MAX_REMEMBERED = 200_000
"""Digests of accepted deliveries kept against replays (32 bytes each)."""
CLOCK_SKEW = 300.0
"""Seconds an entry's ``time`` may be ahead of this machine's clock."""


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` against the app secret (as bytes: the
    standard library refuses to compare ``str`` with non-ASCII characters)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest().encode()
    sent = header.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, sent)


def delivery_batch(body: bytes, page_id: str, oldest: float = float("-inf"), newest: float = float("inf")) -> Batch:
    """Map one signed delivery; unmappable parts become dead letters, the rest events. Entries
    sent (``time``) before ``oldest`` or after ``newest`` are dropped as replays."""
    batch = Batch()
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        err = MalformedMessage("webhook delivery: not valid JSON")
        batch.dead_letters.append(dead_letter(body, stage="connector.facebook.webhook", error=err))
        return batch
    entries = doc.get("entry") if isinstance(doc, dict) and doc.get("object") == "page" else None
    if not isinstance(entries, list):
        invalid = InvalidEvent("webhook delivery: not a Page object with entries")
        batch.dead_letters.append(dead_letter(body, stage="connector.facebook.webhook", error=invalid))
        return batch
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            continue
        if entry.get("id") != page_id:
            log.warning("webhook_other_page_ignored", changes=len(changes))
            continue
        sent = entry.get("time")
        if not isinstance(sent, int | float) or isinstance(sent, bool) or not oldest <= sent <= newest:
            log.warning("webhook_stale_entry_dropped", changes=len(changes))
            continue
        for change in changes:
            if not isinstance(change, dict) or change.get("field") != "feed":
                continue
            batch.fetched += 1
            try:
                event = feed_change(change.get("value"), page_id)
            except InvalidEvent as exc:
                raw = orjson.dumps(change)
                batch.dead_letters.append(dead_letter(raw, stage="connector.facebook.webhook", error=exc))
                log.warning("payload_dead_lettered", connector=NAME, reason=exc.reason)
                continue
            if isinstance(event, Comment):
                batch.comments.append(event)
            elif event is not None:
                batch.posts.append(event)
    return batch


Deliveries = Callable[[bytes, str, float, float], Batch]
"""Maps one delivery body for an account id, dropping entries sent outside [oldest, newest]."""


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most ``max_threads`` at once: the accept loop waits for a free
    slot and later connections queue in the listen backlog."""

    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_threads: int) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(max_threads)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is not an error worth a traceback; anything else is logged
        as one line (the standard library prints a traceback to stderr)."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            log.error("webhook_request_failed", error=type(error).__name__)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class WebhookReceiver:
    """Holds what the handler needs; ``server(host, port)`` makes the HTTP server."""

    def __init__(
        self,
        sink: Sink,
        page_id: str,
        app_secret: str,
        verify_token: str,
        *,
        timeout: float = 10.0,
        max_threads: int = 16,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.time,
        deliveries: Deliveries = delivery_batch,
        name: str = NAME,
    ) -> None:
        self.mapper = deliveries
        """Maps one signed delivery: Page ``feed`` changes here, Instagram ``comments`` in ``connectors.instagram``."""
        self.name = name
        self.sink = sink
        self.page_id = page_id
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.timeout = timeout
        self.max_threads = max_threads
        self.max_age = max_age
        self.clock = clock
        self.commit_lock = threading.Lock()
        self.deliveries = 0
        self._accepted: OrderedDict[bytes, float] = OrderedDict()

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "civicwatch-webhook"
            timeout = receiver.timeout  # a socket time-out for each read, so a slow body ends

            def log_message(self, format: str, *args: Any) -> None:
                return None  # the query string carries the verify token: never log request lines

            def _reply(self, status: HTTPStatus, body: bytes = b"", content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                mode = query.get("hub.mode", [""])[0]
                token = query.get("hub.verify_token", [""])[0]
                challenge = query.get("hub.challenge", [""])[0]
                if mode == "subscribe" and hmac.compare_digest(token.encode(), receiver.verify_token.encode()):
                    log.info("webhook_verified")
                    self._reply(HTTPStatus.OK, challenge.encode())
                else:
                    log.warning("webhook_verification_refused")
                    self._reply(HTTPStatus.FORBIDDEN)

            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or "0")
                except ValueError:
                    length = -1
                if not 0 < length <= MAX_BODY:
                    self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > MAX_BODY else HTTPStatus.BAD_REQUEST)
                    return
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    log.warning("webhook_body_timeout")
                    self.close_connection = True
                    return
                if len(body) < length:  # the client went away mid-body
                    self.close_connection = True
                    return
                if not signature_valid(body, self.headers.get("X-Hub-Signature-256"), receiver.app_secret):
                    log.warning("webhook_signature_rejected", signed="X-Hub-Signature-256" in self.headers)
                    self._reply(HTTPStatus.FORBIDDEN)
                    return
                status = receiver.handle(body)
                self._reply(status, b"EVENT_RECEIVED" if status == HTTPStatus.OK else b"")

        return BoundedHTTPServer((host, port), Handler, self.max_threads)

    def handle(self, body: bytes) -> HTTPStatus:
        """Commit one signed delivery, once; 500 asks Meta to deliver it again."""
        digest = hashlib.sha256(body).digest()
        now = self.clock()
        with self.commit_lock:
            while self._accepted and (
                next(iter(self._accepted.values())) < now - self.max_age or len(self._accepted) > MAX_REMEMBERED
            ):
                self._accepted.popitem(last=False)
            if digest in self._accepted:
                log.warning("webhook_replay_dropped")
                return HTTPStatus.OK
            batch = self.mapper(body, self.page_id, now - self.max_age, now + CLOCK_SKEW)
            try:
                commit_batch(self.sink, batch, self.name)
            except Exception as exc:
                log.error("webhook_commit_failed", error=type(exc).__name__)
                return HTTPStatus.INTERNAL_SERVER_ERROR
            self._accepted[digest] = now
        self.deliveries += 1
        metrics.FETCHED.labels(self.name).inc(batch.fetched)
        log.info(
            "webhook_delivery_committed",
            comments=len(batch.comments),
            posts=len(batch.posts),
            dead_lettered=len(batch.dead_letters),
        )
        return HTTPStatus.OK
