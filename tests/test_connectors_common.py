"""What all connectors share: tokens and the secrets file, the CLI's start-up errors, backoff, and the
sink's transaction contract, one suite over both backends (in memory and the real broker)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from civicwatch.cli import app
from connectors.core import Backoff, Batch, ConnectorError, CredentialError, FakeClock, NotFound, Retry, TransientError
from connectors.runner import (
    KafkaCheckpointStore,
    MemoryCheckpointStore,
    Runner,
    checkpoint,
    poll_scope,
    restore_scopes,
)
from connectors.secrets import Secrets, read_secrets_file
from runtime.logs import configure_logging
from runtime.sink import KafkaSink, MemorySink
from schemas import Comment, decode
from schemas.topics import COMMENTS_RAW, CONNECTOR_STATE
from tests import factories
from tests.conftest import consume_all
from tests.platform_payloads import NOW


def test_secrets_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    file = tmp_path / "civicwatch.env"
    file.write_text(
        "# tokens\nX_BEARER_TOKEN='from-file-0001'\nexport FACEBOOK_APP_SECRET=\"app-secret-0001\"\n\nEMPTY=\n"
    )
    secrets = Secrets(env={"CIVICWATCH_SECRETS_FILE": str(file), "FACEBOOK_APP_SECRET": "from-env-0001"})
    assert secrets.require("X_BEARER_TOKEN") == "from-file-0001"
    assert secrets.require("FACEBOOK_APP_SECRET") == "from-env-0001"
    with pytest.raises(CredentialError, match="EMPTY is not set"):
        secrets.require("EMPTY")


def test_bad_secrets_file_names_the_line_not_the_content(tmp_path: Path) -> None:
    file = tmp_path / "bad.env"
    file.write_text("X_BEARER_TOKEN=ok\nthis-line-holds-a-secret-value\n")
    with pytest.raises(CredentialError) as bad:
        read_secrets_file(file)
    assert "line 2" in bad.value.reason and "secret-value" not in bad.value.reason
    with pytest.raises(CredentialError, match="CIVICWATCH_SECRETS_FILE"):
        Secrets(env={"CIVICWATCH_SECRETS_FILE": str(tmp_path / "missing.env")})


def test_tokens_read_are_scrubbed_from_every_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    token = "AAAA-bearer-never-in-logs-42"
    Secrets(env={"X_BEARER_TOKEN": token}).require("X_BEARER_TOKEN")
    configure_logging("INFO", json=True)
    try:
        structlog.get_logger("t").info("request_made", url=f"https://api.example/?t={token}")
        logging.getLogger("tweepy.client").warning("Headers: {'Authorization': 'Bearer %s'}", token)
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert token not in err and err.count("[redacted]") == 2


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "X_BEARER_TOKEN",
        "X_CONSUMER_KEY",
        "FACEBOOK_PAGE_ACCESS_TOKEN",
        "FACEBOOK_APP_SECRET",
        "CIVICWATCH_SECRETS_FILE",
        "CIVICWATCH_FACEBOOK_PAGE_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.mark.parametrize(
    ("args", "variable"),
    [
        (["connect", "x"], "X_BEARER_TOKEN"),
        (["connect", "facebook"], "FACEBOOK_PAGE_ACCESS_TOKEN"),
        (["connect", "facebook-webhook"], "CIVICWATCH_FACEBOOK_PAGE_ID"),
        (["connect", "actions", "--platform", "x"], "X_CONSUMER_KEY"),
        (["connect", "actions", "--platform", "myspace"], "myspace"),
    ],
)
def test_commands_fail_at_start_naming_what_is_missing(clean_env: None, args: list[str], variable: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert variable in result.output


def test_connect_lists_its_commands() -> None:
    result = CliRunner().invoke(app, ["connect", "--help"])
    assert result.exit_code == 0
    for command in ("x", "facebook", "facebook-webhook", "replay", "actions"):
        assert command in result.output


def test_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, step in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert step / 2 <= delay <= step
    backoff.reset()
    assert backoff.next_delay() <= 1


def comment(i: int) -> Comment:
    return factories.comment(f"c{i}", f"t{i}", at=datetime.now(UTC))


def transaction_contract(sink: MemorySink | KafkaSink, read_comments: object, read_state: object) -> None:
    """Committed batches are seen whole; an aborted one not at all, checkpoint included."""
    with sink.transaction():
        sink.send(COMMENTS_RAW, comment(1))
        sink.send(CONNECTOR_STATE, checkpoint("x", "s", "1", NOW))
    with pytest.raises(RuntimeError), sink.transaction():
        sink.send(COMMENTS_RAW, comment(2))
        sink.send(CONNECTOR_STATE, checkpoint("x", "s", "2", NOW))
        raise RuntimeError("crash before commit")
    with sink.transaction():
        sink.send(COMMENTS_RAW, comment(3))
        sink.send(CONNECTOR_STATE, checkpoint("x", "s", "3", NOW))
    assert sorted(read_comments()) == ["c1", "c3"]  # type: ignore[operator]  # partitions interleave
    assert read_state()["s"].cursor == "3"  # type: ignore[operator]


def test_memory_sink_transactions() -> None:
    sink = MemorySink()
    transaction_contract(
        sink,
        lambda: [decode(v, Comment).comment_id for _, v in sink.topics[COMMENTS_RAW.full_name()]],
        lambda: MemoryCheckpointStore(sink).load("x"),
    )


@pytest.mark.integration
def test_kafka_sink_transactions(kafka_bootstrap: str, kafka_topics: str) -> None:
    sink = KafkaSink(kafka_bootstrap, kafka_topics, transactional_id=f"{kafka_topics}contract")
    try:
        transaction_contract(
            sink,
            lambda: [
                decode(m.value, Comment).comment_id
                for m in consume_all(
                    kafka_bootstrap, kafka_topics + COMMENTS_RAW.name, 2, timeout=30, isolation_level="read_committed"
                )
            ],
            lambda: KafkaCheckpointStore(kafka_bootstrap, kafka_topics).load("x"),
        )
    finally:
        sink.close()


class FlakyConnector:
    """Raises an unforeseen error on its first poll, then yields one comment per poll."""

    name = "flaky"

    def __init__(self) -> None:
        self.polls = 0

    def start(self, state: object) -> None:
        return None

    def poll(self) -> Batch:
        self.polls += 1
        if self.polls == 1:
            raise KeyError("a field the platform stopped sending")
        return Batch(comments=[comment(self.polls)], checkpoints=[checkpoint("flaky", "s", str(self.polls), NOW)])


def test_an_unforeseen_error_backs_off_instead_of_ending_the_run() -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    runner = Runner(FlakyConnector(), sink, MemoryCheckpointStore(sink), clock)
    runner.start()
    stats = runner.run(max_polls=3)
    assert stats.retries == 1 and stats.comments == 2 and len(clock.sleeps) == 1


@dataclass
class _Scope:
    kind: str
    target: str
    due: float = 0.0
    closed: bool = False
    paging: str | None = "page-2"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"

    def to_checkpoint(self, now: float) -> object:
        return checkpoint("t", self.key, None, now, kind=self.kind, closed=self.closed)

    @classmethod
    def load(cls, cp: object) -> _Scope:
        d = cp.details  # type: ignore[attr-defined]
        return cls(kind=str(d["kind"]), target=cp.scope.split(":", 1)[1], closed=bool(d["closed"]))  # type: ignore[attr-defined]


def _raises(exc: Exception) -> Callable[[], Batch]:
    def poll() -> Batch:
        raise exc

    return poll


def test_restore_scopes_resumes_open_ones_adds_the_root_and_makes_all_due() -> None:
    state = {
        "comments:p1": _Scope("comments", "p1", closed=False).to_checkpoint(5.0),
        "comments:p2": _Scope("comments", "p2", closed=True).to_checkpoint(5.0),
    }
    scopes = restore_scopes(state, _Scope.load, _Scope("posts", "page"), now=100.0)  # type: ignore[arg-type]
    assert sorted(scopes) == ["comments:p1", "posts:page"]
    assert all(s.due == 100.0 for s in scopes.values())


def test_poll_scope_closes_a_deleted_post_waits_out_a_refusal_and_passes_retries_on() -> None:
    comments, posts = _Scope("comments", "p1"), _Scope("posts", "page")
    scopes = {comments.key: comments, posts.key: posts}

    def refused(scope: _Scope) -> Callable[[], None]:
        def reset() -> None:
            scope.paging, scope.due = None, 160.0

        return reset

    gone = poll_scope("t", scopes, comments, 100.0, _raises(NotFound("deleted")), refused(comments))
    assert comments.closed and comments.key not in scopes and [c.scope for c in gone.checkpoints] == ["comments:p1"]

    kept = poll_scope("t", scopes, posts, 100.0, _raises(NotFound("no page")), refused(posts))
    assert kept.checkpoints == [] and posts.key in scopes and not posts.closed

    batch = poll_scope("t", scopes, posts, 100.0, _raises(ConnectorError("permission")), refused(posts))
    assert batch.checkpoints == [] and posts.paging is None and posts.due == 160.0

    for exc in (TransientError("503"), CredentialError("CIVICWATCH_FACEBOOK_TOKEN", "expired"), Retry(30.0)):
        with pytest.raises(type(exc)):
            poll_scope("t", scopes, posts, 100.0, _raises(exc), refused(posts))
