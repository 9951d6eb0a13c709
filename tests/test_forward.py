"""Clause 5.5 without the broker: contacts from the policy file, the message, SMTP over STARTTLS with
AUTH against a real local server, and the reply payloads each platform documents."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import pytest
import responses
import spacy

from civicwatch.local_smtp import BUSY_DOMAIN, REFUSED_DOMAIN, LocalSmtp
from connectors.core import ConnectorError, CredentialError, FakeClock, TransientError
from connectors.facebook import FacebookActions, GraphClient, make_graph
from connectors.forward import (
    Acknowledgement,
    SmtpMailer,
    Undeliverable,
    compose,
    load_forward_policy,
)
from connectors.instagram import InstagramActions
from connectors.secrets import Secrets
from connectors.x import XActions, XApi, make_client
from pipelines.base import Comment as DetectorInput
from pipelines.detectors.council import CouncilDetector
from pipelines.policy import DEFAULT_POLICY, load_policy
from schemas import CouncilForward, InvalidEvent, ModerationAction, SpanModel, TagModel, decode, encode
from tests.factories import comment
from tests.platform_payloads import GRAPH, IG_USER_ID, NOW, PAGE_ID, PAGE_TOKEN, X_API
from tests.test_connectors_x import TOKENS

WINDSOR = load_forward_policy(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSmtp]:
    server = LocalSmtp(tmp_path_factory.mktemp("smtp")).start()
    yield server
    server.stop()


def mailer(server: LocalSmtp, password: str | None = None) -> SmtpMailer:
    return SmtpMailer(
        server.host,
        server.port,
        server.username,
        password or server.password,
        context=server.client_context(),
        timeout=10,
    )


def forward(text: str, persons: list[str], *, platform: str = "x", language: str | None = None) -> CouncilForward:
    start = text.index(persons[0].split()[-1]) if persons[0].split()[-1] in text else 0
    span = SpanModel(start=start, end=start + len(persons[0].split()[-1]), label="named")
    return CouncilForward(
        forward_id=f"fwd-{abs(hash(text)) % 10**8}",
        comment=comment("1790000000000001", text, platform=platform, post="1789999990000001", language=language),
        persons=persons,
        tags=[
            TagModel(clause="5.5", category="council", score=0.95, spans=[span], detector="council", detail=persons[0])
        ],
    )


# ---- contacts ----

COUNCIL = next(r for r in load_policy().rules if r.category == "council").settings
# Full names: two councillors share the surname McKenzie, so "Councillor McKenzie" names either.
NAMED = [(f"Thanks Councillor {c['name']} for fixing the crossing", c["name"]) for c in COUNCIL["councillors"]]


@pytest.mark.parametrize(("text", "name"), [*NAMED, ("Mayor Dilkens, when will the pool open?", "Drew Dilkens")])
def test_every_office_holder_the_detector_names_has_a_contact_named_after_them(text: str, name: str) -> None:
    tags = CouncilDetector(COUNCIL).detect(DetectorInput(spacy.blank("xx").make_doc(text)))
    keys, missing = WINDSOR.resolve(tags[0].extra["persons"])
    assert missing == [] and name in WINDSOR.contacts[keys[0]].name


@pytest.mark.parametrize(
    ("names", "keys", "missing"),
    [
        (["Mayor Drew Dilkens"], ["Mayor Drew Dilkens"], []),
        (["Mayor"], ["Mayor"], []),
        (["City Council"], ["City Council"], []),
        # A moderator's forward joins the detector's names in one string: each known one is found,
        # the longest first ("Mayor Drew Dilkens", not "Mayor" inside it).
        (
            ["Mayor Drew Dilkens, Councillor, Ward 3 Renaldo Agostino"],
            ["Mayor Drew Dilkens", "Councillor, Ward 3 Renaldo Agostino"],
            [],
        ),
        (["Councillor, Ward 11 Nobody Here"], ["Councillor"], []),  # the office still receives it
        (["School Board"], [], ["School Board"]),  # near miss: no council name at all
        (["Mayoral candidate"], [], ["Mayoral candidate"]),  # "Mayor" only inside a word
        ([""], [], []),
    ],
)
def test_names_resolve_to_contact_keys(names: list[str], keys: list[str], missing: list[str]) -> None:
    assert WINDSOR.resolve(names) == (keys, missing)


def test_templates_answer_in_the_comments_language_and_refuse_unknown_placeholders() -> None:
    ack = WINDSOR.acknowledgement
    assert ack.approval == "required", "the policy's default: a moderator approves each reply"
    assert ack.text("en", "Mayor Drew Dilkens") == "Thank you, we have shared your comment with Mayor Drew Dilkens."
    assert ack.text("fr-CA", "Mayor Drew Dilkens").startswith("Merci, nous avons transmis votre commentaire")
    assert ack.text(None, "City Council").startswith("Thank you"), "no language: the default language"
    assert ack.text("de", "City Council").startswith("Thank you")
    with pytest.raises(ValueError, match="contact_name"):
        Acknowledgement(templates={"en": "Thanks {name}"})
    with pytest.raises(ValueError, match="default_language"):
        Acknowledgement(default_language="fr", templates={"en": "Thanks {contact_name}"})


def test_a_policy_file_without_contacts_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("name: t\nversion: '1'\nrules: []\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match="no contacts section"):
        load_forward_policy(path)
    path.write_text("contacts:\n  Mayor: {name: M}\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"contacts\.Mayor\.email"):
        load_forward_policy(path)


# ---- the message, over SMTP ----


def test_one_message_holds_the_comment_its_post_the_link_and_the_reason(smtp: LocalSmtp) -> None:
    from schemas import Post
    from schemas.events import utcnow

    fwd = forward("Dilkens, the Ouellette bus shelter has been broken since June", ["Mayor Drew Dilkens"])
    post = Post(
        platform="x",
        post_id="1789999990000001",
        account="CityWindsorON",
        text="Transit service update",
        created_at=utcnow(),
    )
    contacts = [WINDSOR.contacts["Mayor Drew Dilkens"]]
    reply = WINDSOR.acknowledgement.text("en", contacts[0].name)
    before = len(smtp.mailbox.messages)
    assert mailer(smtp).send(compose(fwd, contacts, "socialmedia@citywindsor.ca", post, reply)) == 0
    received = smtp.mailbox.messages[before:]
    assert len(received) == 1 and smtp.mailbox.tls_sessions >= 1
    got = received[0]
    assert got.recipients == ["mayoro@citywindsor.ca"] and got.sender == "socialmedia@citywindsor.ca"
    assert got.message["Message-ID"] == f"<{fwd.forward_id}@civicwatch.forward>"
    assert "Mayor Drew Dilkens" in got.message["Subject"] and "5.5" in got.message["Subject"]
    body = got.body
    for expected in (
        fwd.comment.text,
        "Transit service update",
        f"https://x.com/i/web/status/{fwd.comment.comment_id}",
        'names Mayor Drew Dilkens; words "Dilkens"',
        reply,
    ):
        assert expected in body


def test_smtp_refusals_are_told_apart(smtp: LocalSmtp) -> None:
    def message(to: str) -> EmailMessage:
        m = EmailMessage()
        m["From"], m["To"] = "socialmedia@citywindsor.ca", to
        m.set_content("x")
        return m

    with pytest.raises(Undeliverable, match="refused every recipient"):
        mailer(smtp).send(message(f"ward1@{REFUSED_DOMAIN}"))
    with pytest.raises(TransientError, match="deferred"):
        mailer(smtp).send(message(f"ward1@{BUSY_DOMAIN}"))
    assert mailer(smtp).send(message(f"a@{REFUSED_DOMAIN}, clerks@citywindsor.ca")) == 1, "one of two refused"
    with pytest.raises(CredentialError, match="SMTP_PASSWORD"):
        mailer(smtp, password="not-the-password").check()
    untrusting = SmtpMailer(smtp.host, smtp.port, smtp.username, smtp.password, timeout=10)
    with pytest.raises(CredentialError, match="CIVICWATCH_SMTP_CA_FILE"):
        untrusting.check()
    closed = SmtpMailer(smtp.host, 1, None, None, context=smtp.client_context(), timeout=2)
    with pytest.raises(TransientError, match="cannot reach"):
        closed.check()


# ---- the reply action and its payloads ----


def test_reply_actions_carry_text_and_old_actions_stay_readable() -> None:
    reply = ModerationAction(
        action_id="r1", decision_id="f1", platform="x", comment_id="1", post_id="p", action="reply", text="Thanks"
    )
    assert decode(encode(reply), ModerationAction) == reply
    old = orjson.loads(encode(ModerationAction(action_id="a", decision_id="d", platform="x", comment_id="1",
                                                post_id="p", action="hide")))  # fmt: skip
    old.pop("text")
    old["schema_version"] = 1
    assert decode(orjson.dumps(old), ModerationAction).text is None
    for bad in ({**old, "schema_version": 2, "action": "reply"}, {**old, "schema_version": 2, "text": "hi"}):
        with pytest.raises(InvalidEvent, match="a reply carries text"):
            decode(orjson.dumps(bad), ModerationAction)


def reply(platform: str, comment_id: str) -> ModerationAction:
    return ModerationAction(
        action_id="r",
        decision_id="f",
        platform=platform,  # type: ignore[arg-type]
        comment_id=comment_id,
        post_id="p",
        action="reply",
        clauses=["5.5"],
        text="Thank you, we have shared your comment with Mayor Drew Dilkens.",
    )


@responses.activate
def test_x_reply_is_a_post_in_reply_to_the_comment() -> None:
    # POST /2/tweets {"text", "reply": {"in_reply_to_tweet_id"}} (X API v2, Manage Posts)
    responses.post(f"{X_API}/tweets", json={"data": {"id": "1790000000000099", "text": "Thank you"}}, status=201)
    api = XApi(make_client(Secrets(env=TOKENS), user_auth=True), FakeClock(NOW), token_variable="X_ACCESS_TOKEN")
    assert XActions(api, 0.0).execute(reply("x", "1790000000000001")) == "replied"
    body = orjson.loads(responses.calls[0].request.body)
    assert body == {
        "text": "Thank you, we have shared your comment with Mayor Drew Dilkens.",
        "reply": {"in_reply_to_tweet_id": "1790000000000001"},
    }
    assert responses.calls[0].request.headers["Authorization"].startswith("OAuth "), "as the city's account"


@responses.activate
def test_facebook_reply_is_a_comment_on_the_comment() -> None:
    # POST /{comment-id}/comments with message (Graph API, Comments edge)
    responses.post(f"{GRAPH}/v25.0/{PAGE_ID}_200_300/comments", json={"id": f"{PAGE_ID}_200_301"})
    graph, session = make_graph(PAGE_TOKEN, "25.0")
    actions = FacebookActions(GraphClient(graph, session, FakeClock(NOW)), PAGE_ID, 0.0)
    assert actions.execute(reply("facebook", f"{PAGE_ID}_200_300")) == "replied"
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["message"] == ["Thank you, we have shared your comment with Mayor Drew Dilkens."]


@responses.activate
def test_instagram_reply_goes_to_the_replies_edge() -> None:
    # POST /{ig-comment-id}/replies with message (Instagram Graph API, IG Comment Replies)
    responses.post(f"{GRAPH}/v25.0/17900000000000123/replies", json={"id": "17900000000000124"})
    graph, session = make_graph(PAGE_TOKEN, "25.0")
    actions = InstagramActions(GraphClient(graph, session, FakeClock(NOW)), IG_USER_ID, 0.0)
    assert actions.execute(reply("instagram", "17900000000000123")) == "replied"
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["message"] == ["Thank you, we have shared your comment with Mayor Drew Dilkens."]


@responses.activate
def test_an_unconfirmed_reply_is_retried_not_counted_done() -> None:
    responses.post(f"{GRAPH}/v25.0/17900000000000123/replies", json={})
    graph, session = make_graph(PAGE_TOKEN, "25.0")
    actions = InstagramActions(GraphClient(graph, session, FakeClock(NOW)), IG_USER_ID, 0.0)
    with pytest.raises(TransientError):
        actions.execute(reply("instagram", "17900000000000123"))


def test_a_deferred_message_is_retried_with_backoff_then_dead_lettered(smtp: LocalSmtp) -> None:
    from connectors.forward import Forwarder
    from runtime.sink import MemorySink

    clock = FakeClock(NOW)
    fw = Forwarder(WINDSOR, mailer(smtp), MemorySink(), None, clock, "socialmedia@citywindsor.ca", max_attempts=3)  # type: ignore[arg-type]
    message = EmailMessage()
    message["From"], message["To"] = "socialmedia@citywindsor.ca", f"clerks@{BUSY_DOMAIN}"
    message.set_content("x")
    with pytest.raises(Undeliverable, match=r"deferred every recipient \(codes \[451\]\) \(after 3 attempts\)") as exc:
        fw._send(forward("Council, the arena", ["City Council"]), message)
    assert exc.value.attempts == 3
    backoffs = [s for s in clock.sleeps if s != 1.0]
    assert len(backoffs) == 2 and backoffs[1] > backoffs[0] >= 1.0, "two waits, growing"


@responses.activate
def test_the_action_executor_paces_and_retries_a_reply_like_any_action() -> None:
    from connectors.actions import ActionExecutor
    from runtime.sink import MemorySink

    url = f"{GRAPH}/v25.0/{PAGE_ID}_200_300/comments"
    responses.post(url, json={"error": {"message": "An unknown error occurred", "code": 1, "is_transient": True}},
                   status=500)  # fmt: skip
    responses.post(url, json={"id": f"{PAGE_ID}_200_301"})
    graph, session = make_graph(PAGE_TOKEN, "25.0")
    clock = FakeClock(NOW)
    platform = FacebookActions(GraphClient(graph, session, clock), PAGE_ID, 5.0)
    executor = ActionExecutor({"facebook": platform}, MemorySink(), None, clock, max_attempts=3)  # type: ignore[arg-type]
    outcome = executor.carry_out(reply("facebook", f"{PAGE_ID}_200_300"))
    assert (outcome.outcome, outcome.note, outcome.attempts) == ("ok", "replied", 2)
    assert len(responses.calls) == 2 and clock.sleeps and clock.sleeps[0] >= 1.0, "backed off before the retry"


def test_only_a_signed_in_moderator_approves_replies(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from review.auth import add_user
    from review.main import cli

    users = tmp_path / "users.yaml"
    add_user(users, "ana", "analyst", "analyst-password-1")
    add_user(users, "mo", "moderator", "moderator-password-1")
    runner = CliRunner()
    for name, password in (("ana", "analyst-password-1"), ("mo", "not-the-password"), ("nobody", "x" * 12)):
        result = runner.invoke(
            cli(),
            ["approve-replies", "--moderator", name, "--users-file", str(users), "--password-stdin"],
            input=password + "\n",
        )
        assert result.exit_code == 2 and "not a moderator, or a wrong password" in result.output, name
