"""Private information and secrets never leave through logs, metrics, aggregates or dead-letter reasons.

Comments full of planted personal information (clause 6.1; the kinds clause 5.7.9 names) and
hostile messages carrying it go through the real worker on the real broker, with secret tokens
planted in its environment. Then every channel an operator or analyst sees is searched for them.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import requests
import structlog

from runtime.logs import configure_logging, register_secret
from runtime.sink import KafkaSink
from schemas import Comment, DeadLetter, decode, encode
from schemas.topics import COMMENTS_RAW
from tests.conftest import WorkerProcess, consume_all

PRIVATE = [
    "519-555-0142",
    "(226) 555-0199",
    "jane.tremblay@example.com",
    "046 454 286",  # a SIN that passes the Luhn check
    "Jane Tremblay",
    "1234 Riverside Drive East",
    "@jtremblay_windsor",
    "4520 1234 5678 9012",
]
SECRETS = {
    "X_BEARER_TOKEN": "AAAAxbearer-planted-7f3c9e1d2b",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "EAAGfb-planted-page-token-91ab",
    "FACEBOOK_APP_SECRET": "fb-app-secret-planted-55e2",
    "CIVICWATCH_REVIEW_SECRET_KEY": "review-session-key-planted-0c4d",
    "KAFKA_SASL_PASSWORD": "sasl-password-planted-8812",
}
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def planted_comments() -> list[Comment]:
    texts = [
        "Call Jane Tremblay at 519-555-0142, she lives at 1234 Riverside Drive East",
        "Her email is jane.tremblay@example.com and her SIN is 046 454 286",
        "My neighbour (226) 555-0199 parks on the sidewalk every night, fucking ridiculous",
        "Will the mayor call Jane Tremblay back? Card 4520 1234 5678 9012 was charged twice",
        "Thanks for the leaf pickup on Riverside Drive",
    ]
    return [
        Comment(
            platform="facebook",
            comment_id=f"pii-{i}",
            post_id="p-leaves",
            author_id=f"author-{i}",
            author_handle="@jtremblay_windsor",
            text=text,
            url=f"https://facebook.example/p-leaves?c=pii-{i}",
            created_at=NOW,
        )
        for i, text in enumerate(texts)
    ]


def planted_bad_messages() -> list[tuple[bytes, bytes]]:
    """Invalid messages whose every part carries personal information, field names included."""
    valid = orjson.loads(encode(planted_comments()[0]))
    return [
        (b"bad-version", orjson.dumps({**valid, "schema_version": 9})),
        (b"bad-field-name", orjson.dumps({**valid, "call 519-555-0142 jane.tremblay@example.com": 1})),
        (b"bad-field-value", orjson.dumps({**valid, "platform": "jane.tremblay@example.com 519-555-0142"})),
        (b"bad-date", orjson.dumps({**valid, "created_at": "046 454 286"})),
        (b"bad-json", b"{'text': 'Jane Tremblay 519-555-0142 1234 Riverside Drive East'"),
        (b"bad-id", orjson.dumps({**valid, "comment_id": "Jane Tremblay 519-555-0142 " * 10})),
    ]


def leaks(text: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n in text]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def worker(
    kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("privacy-worker") / "worker.log"
    proc = WorkerProcess(kafka_bootstrap, kafka_topics, f"privacy-{kafka_topics.strip('.')}", log)
    proc.env.update(SECRETS)
    proc.env["CIVICWATCH_WEB_PORT"] = str(free_port())
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.integration
def test_no_private_information_or_secret_leaves_the_worker(
    kafka_bootstrap: str, kafka_topics: str, worker: WorkerProcess
) -> None:
    comments = planted_comments()
    bad = planted_bad_messages()
    sink = KafkaSink(kafka_bootstrap, kafka_topics)
    for c in comments:
        sink.send(COMMENTS_RAW, c)
    for key, value in bad:
        sink.send_raw(COMMENTS_RAW, key, value)
    sink.flush()
    sink.close()

    tagged = consume_all(kafka_bootstrap, kafka_topics + "comments.tagged", len(comments), timeout=180)
    assert len(tagged) == len(comments)
    assert any(n in tagged[0].value.decode() for n in PRIVATE), "comments.tagged is protected and keeps the text"

    dead = consume_all(kafka_bootstrap, kafka_topics + "comments.deadletter", len(bad), timeout=60)
    assert len(dead) == len(bad)
    for message in dead:
        letter = decode(message.value, DeadLetter)
        assert letter.reason
        assert not leaks(letter.reason + " " + letter.error + " " + (letter.key or ""), PRIVATE), letter

    aggregates = consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 1, timeout=60, settle=12)
    assert aggregates, "the worker publishes aggregates"
    for message in aggregates:
        assert not leaks(message.value.decode() + (message.key or b"").decode(), [*PRIVATE, "author-", "pii-"])

    metrics = requests.get(f"http://127.0.0.1:{worker.env['CIVICWATCH_WEB_PORT']}/metrics", timeout=10)
    assert metrics.status_code == 200 and "civicwatch_" in metrics.text
    assert not leaks(metrics.text, PRIVATE + list(SECRETS.values()))

    worker.stop()  # shutdown logs too
    log = worker.log()
    assert "batch_processed" in log and "message_dead_lettered" in log
    assert not leaks(log, PRIVATE), "personal information in the worker's log"
    assert not leaks(log, list(SECRETS.values())), "a secret in the worker's log"


def test_secrets_are_scrubbed_from_messages_fields_and_tracebacks() -> None:
    """What a library might do with a token: log it in a message, a field, or an exception."""
    token = SECRETS["X_BEARER_TOKEN"]
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("debug", json=True)
    handler = root.handlers[0]
    handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        register_secret(token)
        log = structlog.get_logger("civicwatch.test")
        log.info("connector_started", bearer=token, url=f"https://api.example/?t={token}")
        logging.getLogger("urllib3").warning("GET /2/tweets?token=%s", token)
        try:
            raise RuntimeError(f"401 for token {token}")
        except RuntimeError:
            log.exception("fetch_failed")
            logging.getLogger("tweepy").exception("request failed")
    finally:
        root.handlers[:] = saved[0]  # leave logging as the rest of the session had it
        root.setLevel(saved[1])
        structlog.reset_defaults()
    written = stream.getvalue()
    assert written.count("\n") >= 4 and "401 for token" in written and "Traceback" in written
    assert token not in written


class Holder:
    """A library object whose repr shows its token, as many clients' do."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"Holder(token={self.token!r})"


def logged(emit: Callable[[Any], None]) -> str:
    """What the configured handler writes while ``emit(log)`` runs."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("debug", json=True)
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    try:
        emit(structlog.get_logger("civicwatch.test"))
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()
    return stream.getvalue()


NESTED = "fb-nested-planted-3c1d"
SHORT = "Kq7z"  # a short password is still a password


@pytest.mark.parametrize(
    "fields",
    [
        {"request": {"params": {"t": NESTED}}},
        {"attempts": [{"url": f"https://graph.example/?access_token={NESTED}"}]},
        {"pair": ("ok", NESTED)},
        {"error": RuntimeError(f"refused {NESTED}")},
        {"client": Holder(NESTED)},
        {"config": {"sasl_plain_password": "anything-at-all"}},
        {"broker": f"password={SHORT}"},
        {"nested": {"list": [SHORT]}},
    ],
)
def test_secrets_nested_in_fields_and_short_ones_are_scrubbed(fields: dict[str, Any]) -> None:
    register_secret(NESTED)
    register_secret(SHORT)
    written = logged(lambda log: log.info("client_configured", **fields))
    assert "client_configured" in written and "[redacted]" in written
    for secret in (NESTED, SHORT, "anything-at-all"):
        assert secret not in written, written


def test_a_short_secret_is_scrubbed_only_as_a_whole_word() -> None:
    register_secret(SHORT)
    written = logged(lambda log: log.info("counted", note=f"{SHORT}x and x{SHORT} stay, {SHORT} goes"))
    assert f"{SHORT}x and x{SHORT} stay, [redacted] goes" in written
