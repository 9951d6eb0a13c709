"""The council forwarder on the real broker and a real local SMTP server (STARTTLS, AUTH): one message
per forward id across duplicates and a restart, dead letters with the reason, an audit record per
forward, the acknowledgement proposed (or queued) once per comment and approved by a moderator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from civicwatch.local_smtp import REFUSED_DOMAIN, LocalSmtp
from connectors.core import FakeClock
from connectors.forward import (
    STATE_NAME,
    Acknowledgement,
    Contact,
    Forwarder,
    ForwardPolicy,
    KafkaPosts,
    SmtpMailer,
    forward_consumer,
    load_forward_policy,
)
from connectors.runner import KafkaCheckpointStore
from pipelines.policy import DEFAULT_POLICY
from review.replies import approve, pending_replies
from runtime.sink import KafkaSink
from schemas import AuditRecord, CouncilForward, DeadLetter, ModerationAction, Post, SpanModel, TagModel, decode
from schemas.ids import stable_id
from schemas.topics import AUDIT_LOG, COMMENTS_DEADLETTER, COUNCIL_FORWARD, MODERATION_ACTIONS, POSTS, REPLY_PROPOSALS
from tests.conftest import consume_all
from tests.factories import NOW, comment
from tests.platform_payloads import NOW as EPOCH_NOW

pytestmark = pytest.mark.integration

WINDSOR = load_forward_policy(DEFAULT_POLICY)
# Windsor's contacts, one whose address the city mistyped and one the mail server refuses.
POLICY = ForwardPolicy(
    contacts={
        **WINDSOR.contacts,
        "Councillor, Ward 1 Fred Francis": Contact(name="Councillor Fred Francis", email="ward1-citywindsor.ca"),
        "Councillor, Ward 2 Fabio Costante": Contact(name="Councillor Fabio Costante", email=f"ward2@{REFUSED_DOMAIN}"),
    },
    acknowledgement=WINDSOR.acknowledgement,
)
AUTOMATIC = POLICY.model_copy(
    update={"acknowledgement": Acknowledgement(approval="automatic", templates=WINDSOR.acknowledgement.templates)}
)


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSmtp]:
    server = LocalSmtp(tmp_path_factory.mktemp("smtp")).start()
    yield server
    server.stop()


def council(
    forward_id: str, comment_id: str, text: str, persons: list[str], platform: str = "x", language: str = "en"
) -> CouncilForward:
    return CouncilForward(
        forward_id=forward_id,
        comment=comment(comment_id, text, platform=platform, post="1789999990000001", language=language),
        persons=persons,
        tags=[
            TagModel(
                clause="5.5",
                category="council",
                score=0.8,
                spans=[SpanModel(start=0, end=5, label="office")],
                detector="council",
                detail=", ".join(persons),
            )
        ],
    )


def forwarder(
    bootstrap: str, prefix: str, smtp: LocalSmtp, clock: FakeClock, policy: ForwardPolicy
) -> tuple[Forwarder, KafkaSink]:
    sink = KafkaSink(bootstrap, prefix, transactional_id=f"{prefix}civicwatch-forward")
    mailer = SmtpMailer(smtp.host, smtp.port, smtp.username, smtp.password, context=smtp.client_context(), timeout=10)
    fw = Forwarder(
        policy,
        mailer,
        sink,
        forward_consumer(bootstrap, prefix),
        clock,
        "socialmedia@citywindsor.ca",
        posts=KafkaPosts(bootstrap, prefix),
        max_attempts=3,
        interval=1.0,
    )
    fw.start(KafkaCheckpointStore(bootstrap, prefix).load(STATE_NAME))
    return fw, sink


def test_each_forward_mailed_once_across_duplicates_and_restart_and_its_reply_approved(
    kafka_bootstrap: str, kafka_topics: str, smtp: LocalSmtp, tmp_path: Path
) -> None:
    prefix = kafka_topics
    clock = FakeClock(EPOCH_NOW)
    mayor = council("fwd-mayor", "1790000000000001", "Dilkens, fix the Ouellette shelter", ["Mayor Drew Dilkens"])
    forwards = [
        mayor,
        mayor,  # the worker sent it twice (a rebalance)
        council("fwd-board", "9001_100", "The school board should answer", ["School Board"], platform="facebook"),
        council("fwd-ward1", "9001_101", "Francis, the ward 1 roads", ["Councillor, Ward 1 Fred Francis"], "facebook"),
        council("fwd-ward2", "9001_103", "Costante, ward 2 lights", ["Councillor, Ward 2 Fabio Costante"], "facebook"),
        council("fwd-replay", "r-7", "Le conseil municipal doit agir", ["City Council"], "replay", "fr"),
    ]
    producer = KafkaSink(kafka_bootstrap, prefix)
    producer.send(
        POSTS,
        Post(platform="x", post_id="1789999990000001", account="CityWindsorON", text="Shelter repairs", created_at=NOW),
    )
    for i, fwd in enumerate(forwards):
        producer.send(COUNCIL_FORWARD, fwd, key=fwd.comment.key)
        if i == 2:
            producer.send_raw(COUNCIL_FORWARD, b"x:bad", b'{"schema_version": 1, "forward_id": 7}')
    producer.flush()

    before = len(smtp.mailbox.messages)
    fw, sink = forwarder(kafka_bootstrap, prefix, smtp, clock, POLICY)
    stats = fw.run(max_messages=len(forwards) + 1, idle_timeout=30)
    fw.consumer.close()
    sink.close()
    mails = smtp.mailbox.messages[before:]
    assert stats.outcomes == Counter(ok=2, failed=3) and stats.duplicates == 1 and stats.dead_lettered == 4
    assert sorted(m.message["Message-ID"] for m in mails) == [
        "<fwd-mayor@civicwatch.forward>",
        "<fwd-replay@civicwatch.forward>",
    ]
    by_id = {m.message["Message-ID"]: m for m in mails}
    to_mayor = by_id["<fwd-mayor@civicwatch.forward>"]
    assert to_mayor.recipients == ["mayoro@citywindsor.ca"]
    assert "Dilkens, fix the Ouellette shelter" in to_mayor.body and "Shelter repairs" in to_mayor.body
    assert by_id["<fwd-replay@civicwatch.forward>"].recipients == ["clerks@citywindsor.ca"]
    assert "No reply is posted" in by_id["<fwd-replay@civicwatch.forward>"].body

    audit = [
        decode(m.value, AuditRecord)
        for m in consume_all(kafka_bootstrap, prefix + AUDIT_LOG.name, 5, isolation_level="read_committed")
    ]
    outcomes = {r.details["forward_id"]: (r.outcome, r.reason) for r in audit}
    assert len(audit) == 5 and {k: o for k, (o, _) in outcomes.items()} == {
        "fwd-mayor": "ok",
        "fwd-board": "failed",
        "fwd-ward1": "failed",
        "fwd-ward2": "failed",
        "fwd-replay": "ok",
    }
    assert outcomes["fwd-board"][1] == "no contact in the policy file for School Board"
    assert "no valid e-mail address" in outcomes["fwd-ward1"][1]
    assert outcomes["fwd-ward2"][1] == "the SMTP server refused every recipient (codes [550])"
    letters = [
        decode(m.value, DeadLetter)
        for m in consume_all(kafka_bootstrap, prefix + COMMENTS_DEADLETTER.name, 4, isolation_level="read_committed")
    ]
    reasons = sorted(d.reason.split(" ")[0] for d in letters if d.stage == "forward")
    assert reasons == ["council_forward:", "no", "no", "the"]

    proposals = [
        decode(m.value, ModerationAction)
        for m in consume_all(kafka_bootstrap, prefix + REPLY_PROPOSALS.name, 1, isolation_level="read_committed")
    ]
    assert len(proposals) == 1, "only the X comment is answered: the replayed one has no platform"
    assert proposals[0].action_id == stable_id("reply", "x:1790000000000001")
    assert proposals[0].text == "Thank you, we have shared your comment with Mayor Drew Dilkens."

    # A restart, now with replies going out on their own: the mayor's forward arrives a third time,
    # and a French comment to the Council after it.
    conseil = council("fwd-conseil", "9001_102", "Le conseil municipal doit agir", ["City Council"], "facebook", "fr")
    producer.send(COUNCIL_FORWARD, mayor, key=mayor.comment.key)
    producer.send(COUNCIL_FORWARD, conseil, key=conseil.comment.key)
    producer.flush()
    producer.close()
    fw, sink = forwarder(kafka_bootstrap, prefix, smtp, clock, AUTOMATIC)
    stats = fw.run(max_messages=2, idle_timeout=30)
    fw.consumer.close()
    sink.close()
    assert stats.duplicates == 1 and stats.outcomes == Counter(ok=1)
    assert [m.message["Message-ID"] for m in smtp.mailbox.messages[before + 2 :]] == [
        "<fwd-conseil@civicwatch.forward>"
    ]
    queued = [
        decode(m.value, ModerationAction)
        for m in consume_all(kafka_bootstrap, prefix + MODERATION_ACTIONS.name, 1, isolation_level="read_committed")
    ]
    assert [(a.platform, a.comment_id, a.text) for a in queued] == [
        ("facebook", "9001_102", "Merci, nous avons transmis votre commentaire à City Council.")
    ]

    # The moderator approves the mayor's reply; approving is recorded once and leaves nothing pending.
    pending = pending_replies(kafka_bootstrap, prefix)
    assert [p.action_id for p in pending] == [proposals[0].action_id]
    approver = KafkaSink(kafka_bootstrap, prefix, transactional_id=f"{prefix}civicwatch-approve-replies")
    assert approve(approver, pending, "moderator") == 1
    approver.close()
    assert pending_replies(kafka_bootstrap, prefix) == []
    actions = consume_all(kafka_bootstrap, prefix + MODERATION_ACTIONS.name, 2, isolation_level="read_committed")
    assert sorted(decode(m.value, ModerationAction).comment_id for m in actions) == ["1790000000000001", "9001_102"]
    audit = [
        decode(m.value, AuditRecord)
        for m in consume_all(kafka_bootstrap, prefix + AUDIT_LOG.name, 7, isolation_level="read_committed")
    ]
    assert Counter(r.verb for r in audit) == Counter({"forward.email": 6, "reply.approved": 1})
    assert next(r for r in audit if r.verb == "reply.approved").actor == "moderator"
