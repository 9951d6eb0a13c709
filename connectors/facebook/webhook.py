"""Receives a Page's real-time ``feed`` changes and feeds them into the same path as the poller.

Meta calls ``GET`` once with ``hub.mode=subscribe``, ``hub.verify_token`` and ``hub.challenge`` to
verify the endpoint, and then ``POST``s changes signed with the app secret in
``X-Hub-Signature-256: sha256=<hex HMAC of the raw body>``. Unsigned or wrongly signed requests are
refused (403) before their body is parsed. A signed delivery is mapped with the poller's mapping and
committed with ``commit_batch``; only then is it acknowledged with 200, so a delivery lost to a
broker outage is answered 500 and Meta delivers it again. A signed change that cannot be mapped is
dead-lettered and acknowledged: retrying would not make it mappable.

Served by the standard library's threading HTTP server on 127.0.0.1 by default; put it behind the
TLS-terminating reverse proxy that Meta's HTTPS requirement calls for.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
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


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` against the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def delivery_batch(body: bytes, page_id: str) -> Batch:
    """Map one signed delivery; unmappable parts become dead letters, the rest events."""
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


class WebhookReceiver:
    """Holds what the handler needs; ``server(host, port)`` makes the HTTP server."""

    def __init__(
        self,
        sink: Sink,
        page_id: str,
        app_secret: str,
        verify_token: str,
        *,
        deliveries: Callable[[bytes, str], Batch] = delivery_batch,
        name: str = NAME,
    ) -> None:
        self.mapper = deliveries
        """Maps one signed delivery: Page ``feed`` changes here, Instagram ``comments`` in ``connectors.instagram``."""
        self.name = name
        self.sink = sink
        self.page_id = page_id
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.commit_lock = threading.Lock()
        self.deliveries = 0

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "civicwatch-webhook"

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
                body = self.rfile.read(length)
                if not signature_valid(body, self.headers.get("X-Hub-Signature-256"), receiver.app_secret):
                    log.warning("webhook_signature_rejected", signed="X-Hub-Signature-256" in self.headers)
                    self._reply(HTTPStatus.FORBIDDEN)
                    return
                status = receiver.handle(body)
                self._reply(status, b"EVENT_RECEIVED" if status == HTTPStatus.OK else b"")

        return ThreadingHTTPServer((host, port), Handler)

    def handle(self, body: bytes) -> HTTPStatus:
        batch = self.mapper(body, self.page_id)
        try:
            with self.commit_lock:
                commit_batch(self.sink, batch, self.name)
        except Exception as exc:
            log.error("webhook_commit_failed", error=type(exc).__name__)
            return HTTPStatus.INTERNAL_SERVER_ERROR
        self.deliveries += 1
        metrics.FETCHED.labels(self.name).inc(batch.fetched)
        log.info(
            "webhook_delivery_committed",
            comments=len(batch.comments),
            posts=len(batch.posts),
            dead_lettered=len(batch.dead_letters),
        )
        return HTTPStatus.OK
