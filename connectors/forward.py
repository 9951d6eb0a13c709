"""Clause 5.5: forwards each ``council.forward`` record to its contact by e-mail and asks for the
acknowledgement reply under the comment, once per forward id, auditing each outcome.

The policy file names the contacts (``contacts``: the council detector's names for an office or a
person -> name and address) and the reply (``acknowledgement``: a template per language, and whether
a moderator approves each reply first). The reply is a ``ModerationAction`` of kind ``reply``, carried
out by the action executor like a hide: straight onto ``moderation.actions`` when approval is
``automatic``, onto ``moderation.proposals`` for ``civicwatch review approve-replies`` when it is
``required`` (the default). Its id derives from the comment, so a comment is acknowledged once
however often it is forwarded (an edit forwards it again).

Exactly once, as in ``connectors/actions.py``: the id of every delivered forward is recorded in the
compacted ``connector.state`` topic (``forward:<forward_id>``) in the same Kafka transaction as its
``audit.log`` record, the reply and the consumer offset. The window left is a crash after the SMTP
server accepted the message and before the commit: the message is then sent again on restart, with
the same ``Message-ID`` (derived from the forward id) so that mail systems can tell it is a repeat.

A forward that cannot be delivered goes to ``comments.deadletter`` with the reason, and is audited
``failed``: no contact for the names it carries, a contact without a valid address, a refusal by the
SMTP server (5xx), or temporary failures (4xx, network) past ``CIVICWATCH_ACTION_MAX_ATTEMPTS``. It
is not recorded as delivered, so the dead letter can be replayed once the policy file is fixed.

Errors::

    ConnectorError
    ├── Undeliverable      this forward cannot be delivered (dead letter, audited ``failed``)
    ├── TransientError     4xx or network: back off and retry
    └── CredentialError    SMTP log-in, TLS or STARTTLS refused: stop, leave the forward uncommitted
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal, Protocol

import structlog
import yaml
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connectors import metrics
from connectors.core import Backoff, Clock, ConnectorError, CredentialError, TransientError, utc
from connectors.runner import consume_each
from runtime.deadletters import dead_letter_of, log_dead_letter
from runtime.mail import StartTlsMissing, open_session
from runtime.settings import kafka_auth
from runtime.sink import KafkaSink
from schemas import AuditRecord, Checkpoint, Comment, CouncilForward, ModerationAction, Post, SchemaError, decode
from schemas.events import Event
from schemas.ids import stable_id
from schemas.topics import (
    AUDIT_LOG,
    COMMENTS_DEADLETTER,
    CONNECTOR_STATE,
    COUNCIL_FORWARD,
    MODERATION_ACTIONS,
    POSTS,
    REPLY_PROPOSALS,
    TopicSpec,
)

log = structlog.get_logger("civicwatch.forward")

STATE_NAME = "forward"
ACTOR = "civicwatch-forward"
REPLY_PLATFORMS = frozenset({"x", "facebook", "instagram"})
"""Where a reply can be posted; a replayed comment (the demo's) is forwarded but not answered."""
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}$")
DEFAULT_TEMPLATE = "Thank you, we have shared your comment with {contact_name}."


class Undeliverable(ConnectorError):
    """This forward cannot be delivered as it stands; ``reason`` names why (never the comment)."""

    def __init__(self, reason: str, attempts: int = 0) -> None:
        super().__init__(reason)
        self.attempts = attempts


# ---- the policy file's 5.5 sections ----


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    approval: Literal["required", "automatic"] = "required"
    default_language: str = "en"
    templates: dict[str, str] = Field(default_factory=lambda: {"en": DEFAULT_TEMPLATE})

    @field_validator("templates")
    @classmethod
    def _one_placeholder(cls, templates: dict[str, str]) -> dict[str, str]:
        for language, template in templates.items():
            try:
                template.format(contact_name="x")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"{language}: use only the placeholder {{contact_name}} ({exc!r})") from None
        return templates

    @model_validator(mode="after")
    def _default_exists(self) -> Acknowledgement:
        if self.default_language not in self.templates:
            raise ValueError(f"no template for default_language {self.default_language!r}")
        return self

    def text(self, language: str | None, contact_name: str) -> str:
        """The reply in the comment's language (``fr-CA`` uses ``fr``), else the default language's."""
        primary = (language or "").split("-")[0].lower()
        template = self.templates.get(primary) or self.templates[self.default_language]
        return template.format(contact_name=contact_name)


class ForwardPolicy(BaseModel):
    """The parts of the policy file the forwarder reads (the rest is the detectors')."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    contacts: dict[str, Contact] = Field(default_factory=dict)
    acknowledgement: Acknowledgement = Field(default_factory=Acknowledgement)

    def resolve(self, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """Contact keys for the names a forward carries, and the names that match none.

        A name is a key, or holds keys ("Mayor Drew Dilkens, City Council" from a moderator's
        forward): the longest keys are taken first, so "Mayor Drew Dilkens" wins over "Mayor".
        """
        found: list[str] = []
        missing: list[str] = []
        keys = sorted(self.contacts, key=len, reverse=True)
        for name in dict.fromkeys(names):
            if not name:
                continue
            if name in self.contacts:
                found.append(name)
                continue
            taken: list[tuple[int, int, str]] = []
            for key in keys:
                for m in re.finditer(r"(?<!\w)" + re.escape(key) + r"(?!\w)", name):
                    if not any(m.start() < end and start < m.end() for start, end, _ in taken):
                        taken.append((m.start(), m.end(), key))
            found += [key for _, _, key in sorted(taken)]  # in the order the name gives them
            if not taken:
                missing.append(name)
        return list(dict.fromkeys(found)), missing


def load_forward_policy(path: Path) -> ForwardPolicy:
    """``contacts`` and ``acknowledgement`` of the policy file; a bad section stops start-up."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConnectorError(f"{path}: cannot read the policy file ({type(exc).__name__})") from None
    try:
        policy = ForwardPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise ConnectorError(f"{path}: {problems}") from None
    if not policy.contacts:
        raise ConnectorError(f"{path}: no contacts section; clause 5.5 forwards would all be dead-lettered")
    return policy


# ---- the message ----


def comment_link(comment: Comment) -> str:
    """The platform's page of the comment, for the contact to read it in context."""
    if comment.url:
        return comment.url
    if comment.platform == "x":
        return f"https://x.com/i/web/status/{comment.comment_id}"
    if comment.platform == "facebook":
        return f"https://www.facebook.com/{comment.post_id}?comment_id={comment.comment_id.rsplit('_', 1)[-1]}"
    return "(the platform gave no link)"


def routing_reason(forward: CouncilForward) -> str:
    """Why the comment was routed: the clause, whom it names, and the words that named them."""
    lines = []
    for tag in forward.tags:
        words = ", ".join(f'"{forward.comment.text[s.start : s.end]}"' for s in tag.spans[:5])
        lines.append(f"Clause {tag.clause} ({tag.detector}, score {tag.score:.2f}): names {tag.detail}; words {words}")
    return "\n".join(lines) or f"Clause 5.5: names {', '.join(forward.persons)}"


def compose(
    forward: CouncilForward, contacts: Sequence[Contact], sender: str, post: Post | None, reply: str | None
) -> EmailMessage:
    """One message per comment: the comment, its post, the link and why it was routed."""
    comment = forward.comment
    names = ", ".join(c.name for c in contacts)
    message = EmailMessage()
    message["Subject"] = f"Resident comment for {names} (Social Media Policy 5.5, {comment.platform})"
    message["From"] = sender
    message["To"] = ", ".join(dict.fromkeys(c.email for c in contacts))
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{forward.forward_id}@civicwatch.forward>"
    author = f"@{comment.author_handle}" if comment.author_handle else comment.author_id
    if post is not None:
        on_post = f"{post.text}\n{post.url or ''}".strip()
    else:
        on_post = f"post {comment.post_id} (its text was not available)"
    acknowledgement = (
        f'The resident is being answered under the comment: "{reply}"'
        if reply
        else "No reply is posted on this platform."
    )
    message.set_content(
        f"A resident's public comment refers to {names}. Under clause 5.5 of the City of Windsor Social\n"
        f"Media Policy it is forwarded to you. {acknowledgement}\n\n"
        f"Comment ({comment.platform}, {comment.created_at:%Y-%m-%d %H:%M} UTC, by {author}):\n"
        f"{comment.text}\n\n"
        f"Link: {comment_link(comment)}\n\n"
        f"On the City's post:\n{on_post}\n\n"
        f"Why it was routed:\n{routing_reason(forward)}\n\n"
        f"Forward id: {forward.forward_id}\n"
    )
    return message


# ---- SMTP ----


class Mailer(Protocol):
    def check(self) -> None:
        """Prove the server, its certificate and the log-in at start-up."""
        ...

    def send(self, message: EmailMessage) -> int:
        """Deliver to the server; return how many recipients it refused (some accepted)."""
        ...


class SmtpMailer:
    """SMTP with STARTTLS (certificate and host name checked) and AUTH; one connection per message,
    since forwards are few and a long-lived session would time out between them."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        *,
        starttls: bool = True,
        context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.context = context or ssl.create_default_context()
        self.timeout = timeout

    def _open(self) -> smtplib.SMTP:
        try:
            return open_session(
                self.host,
                self.port,
                self.username,
                self.password,
                starttls=self.starttls,
                context=self.context,
                timeout=self.timeout,
            )
        except StartTlsMissing:
            raise CredentialError("CIVICWATCH_SMTP_STARTTLS", "is on but the SMTP server offers no STARTTLS") from None

    def _call(self, body: Any) -> Any:
        """Run ``body(smtp)`` on a fresh session, translating smtplib's errors into ours."""
        try:
            smtp = self._open()
            try:
                return body(smtp)
            finally:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        except smtplib.SMTPAuthenticationError as exc:
            raise CredentialError("SMTP_PASSWORD", f"was rejected by the SMTP server ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            if all(400 <= code < 500 for code in codes):
                raise TransientError(f"the SMTP server deferred every recipient (codes {codes})") from None
            raise Undeliverable(f"the SMTP server refused every recipient (codes {codes})") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientError(f"the SMTP server answered {exc.smtp_code} (temporary)") from None
            raise Undeliverable(f"the SMTP server refused the message ({exc.smtp_code})") from None
        except ssl.SSLCertVerificationError:
            raise CredentialError(
                "CIVICWATCH_SMTP_CA_FILE", "does not sign the SMTP server's certificate (or the name differs)"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"cannot reach the SMTP server: {type(exc).__name__}") from None

    def check(self) -> None:
        self._call(lambda smtp: smtp.noop())

    def send(self, message: EmailMessage) -> int:
        refused = self._call(lambda smtp: smtp.send_message(message))
        return len(refused or {})


# ---- the process ----


@dataclass
class ForwardStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    dead_lettered: int = 0
    replies: Counter[str] = field(default_factory=Counter)


class PostLookup(Protocol):
    def get(self, platform: str, post_id: str) -> Post | None: ...


@dataclass
class KafkaPosts:
    """The city's posts from the compacted ``posts`` topic, read again (at most once a minute) on a miss."""

    bootstrap: str
    prefix: str = ""
    posts: dict[str, Post] = field(default_factory=dict)
    read_at: float = float("-inf")

    def get(self, platform: str, post_id: str) -> Post | None:
        key = f"{platform}:{post_id}"
        if key not in self.posts and time.monotonic() - self.read_at > 60:
            self.read()
        return self.posts.get(key)

    def read(self, timeout: float = 30.0) -> None:
        self.read_at = time.monotonic()
        topic = POSTS.full_name(self.prefix)
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            client_id="civicwatch-forward-posts",
            **kafka_auth(),
        )
        try:
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            end = consumer.end_offsets(tps)
            deadline = time.monotonic() + timeout
            while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        try:
                            post = decode(record.value, Post)
                        except SchemaError:
                            continue
                        self.posts[post.key] = post
        finally:
            consumer.close()


@dataclass
class Forwarder:
    """Consumes ``council.forward``; see the module docstring."""

    policy: ForwardPolicy
    mailer: Mailer
    sink: KafkaSink
    consumer: KafkaConsumer
    clock: Clock
    sender: str
    posts: PostLookup | None = None
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    interval: float = 1.0
    stop: threading.Event = field(default_factory=threading.Event)
    done: set[str] = field(default_factory=set)
    last_send: float = float("-inf")
    stats: ForwardStats = field(default_factory=ForwardStats)

    def start(self, state: Mapping[str, Checkpoint]) -> None:
        """Remember which forward ids were delivered; prove the SMTP server and log-in."""
        self.done = set(state)
        self.mailer.check()
        log.info("forwarder_started", contacts=len(self.policy.contacts), known_forwards=len(self.done))

    def run(self, max_messages: int | None = None, idle_timeout: float | None = None) -> ForwardStats:
        """Until ``stop`` (or, for tests, ``max_messages`` handled or ``idle_timeout`` seconds of silence)."""
        consume_each(self.consumer, self.stop, self.handle, max_messages, idle_timeout)
        return self.stats

    def handle(self, tp: TopicPartition, message: Any) -> None:
        offsets = {tp: OffsetAndMetadata(message.offset + 1, "", -1)}
        try:
            forward = decode(message.value, CouncilForward)
        except SchemaError as exc:
            letter = dead_letter_of(message, "forward", exc)
            self._commit(offsets, [(COMMENTS_DEADLETTER, letter, None)])
            self.stats.dead_lettered += 1
            log_dead_letter(letter)
            return
        if forward.forward_id in self.done:
            self._commit(offsets, [])
            self.stats.duplicates += 1
            log.info("forward_already_delivered", forward_id=forward.forward_id)
            return
        names = [*forward.persons, *(t.detail for t in forward.tags)]
        keys, missing = self.policy.resolve(names)
        if not keys:
            reason = f"no contact in the policy file for {', '.join(missing) or 'an empty list of names'}"
            return self._undeliverable(offsets, message, forward, Undeliverable(reason), attempts=0)
        contacts = list({c.email: c for c in (self.policy.contacts[k] for k in keys)}.values())
        bad = [k for k in keys if not _ADDRESS.match(self.policy.contacts[k].email)]
        if bad:
            reason = f"no valid e-mail address for contact(s) {', '.join(bad)}"
            return self._undeliverable(offsets, message, forward, Undeliverable(reason), attempts=0)
        reply = self._reply(forward, contacts)
        post = self.posts.get(forward.comment.platform, forward.comment.post_id) if self.posts else None
        email = compose(forward, contacts, self.sender, post, reply.text if reply else None)
        try:
            refused, attempts = self._send(forward, email)
        except Undeliverable as exc:
            return self._undeliverable(offsets, message, forward, exc, attempts=exc.attempts)
        audit = self._audit(
            forward,
            "ok",
            "",
            {"contacts": keys, "recipients": len(contacts), "refused": refused, "attempts": attempts},
        )
        state = Checkpoint(
            connector=STATE_NAME,
            scope=forward.forward_id,
            cursor="ok",
            updated_at=utc(self.clock.time()),
            details={"contacts": keys},
        )
        outputs: list[tuple[TopicSpec, Event, str | None]] = [
            (AUDIT_LOG, audit, audit.subject),
            (CONNECTOR_STATE, state, None),
        ]
        route = "none"
        if reply is not None:
            automatic = self.policy.acknowledgement.approval == "automatic"
            route = "queued" if automatic else "proposed"
            outputs.append((MODERATION_ACTIONS if automatic else REPLY_PROPOSALS, reply, forward.comment.key))
        self._commit(offsets, outputs)
        self.done.add(forward.forward_id)
        self.stats.outcomes["ok"] += 1
        self.stats.replies[route] += 1
        metrics.FORWARDS.labels("ok").inc()
        log.info(
            "comment_forwarded",
            forward_id=forward.forward_id,
            contacts=len(contacts),
            attempts=attempts,
            reply=route,
        )

    def _reply(self, forward: CouncilForward, contacts: Sequence[Contact]) -> ModerationAction | None:
        comment = forward.comment
        if comment.platform not in REPLY_PLATFORMS or comment.deleted:
            return None
        text = self.policy.acknowledgement.text(comment.language, ", ".join(c.name for c in contacts))
        return ModerationAction(
            action_id=stable_id("reply", comment.key),  # once per comment, however often it is forwarded
            decision_id=forward.forward_id,
            platform=comment.platform,
            comment_id=comment.comment_id,
            post_id=comment.post_id,
            action="reply",
            clauses=["5.5"],
            text=text,
            requested_at=utc(self.clock.time()),
        )

    def _send(self, forward: CouncilForward, email: EmailMessage) -> tuple[int, int]:
        """Pace, send, retry temporary failures with backoff; ``Undeliverable`` past the last attempt."""
        backoff = Backoff(self.backoff_base, self.backoff_cap)
        attempts = 0
        while True:
            wait = self.last_send + self.interval - self.clock.time()
            if wait > 0:
                self.clock.sleep(wait)
            attempts += 1
            self.last_send = self.clock.time()
            try:
                return self.mailer.send(email), attempts
            except Undeliverable as exc:
                raise Undeliverable(exc.reason, attempts) from None
            except TransientError as exc:
                if attempts >= self.max_attempts:
                    raise Undeliverable(f"{exc.reason} (after {attempts} attempts)", attempts) from None
                metrics.RETRIED.labels("forward", "transient").inc()
                delay = backoff.next_delay()
                log.warning(
                    "forward_retrying", forward_id=forward.forward_id, attempt=attempts, seconds=round(delay, 1)
                )
                self.clock.sleep(delay)

    def _undeliverable(
        self,
        offsets: dict[TopicPartition, OffsetAndMetadata],
        message: Any,
        forward: CouncilForward,
        exc: Undeliverable,
        attempts: int,
    ) -> None:
        letter = dead_letter_of(message, "forward", exc, reason=exc.reason)
        audit = self._audit(forward, "failed", exc.reason, {"attempts": attempts})
        self._commit(offsets, [(COMMENTS_DEADLETTER, letter, None), (AUDIT_LOG, audit, audit.subject)])
        self.stats.outcomes["failed"] += 1
        self.stats.dead_lettered += 1
        metrics.FORWARDS.labels("failed").inc()
        log_dead_letter(letter)

    def _audit(self, forward: CouncilForward, outcome: str, reason: str, details: dict[str, Any]) -> AuditRecord:
        return AuditRecord(
            audit_id=stable_id("audit", "forward", forward.forward_id, outcome),
            actor=ACTOR,
            verb="forward.email",
            subject=forward.comment.key,
            outcome=outcome,  # type: ignore[arg-type]
            reason=reason,
            details={"forward_id": forward.forward_id, "post_id": forward.comment.post_id, **details},
            at=utc(self.clock.time()),
        )

    def _commit(
        self,
        offsets: dict[TopicPartition, OffsetAndMetadata],
        outputs: Sequence[tuple[TopicSpec, Event, str | None]],
    ) -> None:
        with self.sink.transaction():
            for topic, event, key in outputs:
                self.sink.send(topic, event, key=key)
            self.sink.send_offsets(offsets, self.consumer.group_metadata())


def forward_consumer(bootstrap: str, prefix: str) -> KafkaConsumer:
    """Committed forwards only: a forward the worker aborted was never decided."""
    return KafkaConsumer(
        COUNCIL_FORWARD.full_name(prefix),
        bootstrap_servers=bootstrap,
        group_id="civicwatch-forward",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=3_600_000,  # retries with backoff can hold one message for minutes
        client_id="civicwatch-forward",
        **kafka_auth(),
    )
