"""Overdue urgent items e-mailed to moderators through a real SMTP server (STARTTLS, AUTH), with ids,
clauses and waiting times only (issue 16: an alert when a threat waits past its target)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from civicwatch.local_smtp import LocalSmtp
from review.alerts import AlertMailer
from tests.test_review_queue import AT, item, service_in

pytest.importorskip("aiosmtpd")


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSmtp]:
    server = LocalSmtp(tmp_path / "smtp").start()
    monkeypatch.setenv("CIVICWATCH_SMTP_HOST", server.host)
    monkeypatch.setenv("CIVICWATCH_SMTP_PORT", str(server.port))
    monkeypatch.setenv("CIVICWATCH_SMTP_CA_FILE", str(server.cafile))
    monkeypatch.setenv("CIVICWATCH_SMTP_FROM", "civicwatch@citywindsor.ca")
    monkeypatch.setenv("SMTP_USERNAME", server.username)
    monkeypatch.setenv("SMTP_PASSWORD", server.password)
    try:
        yield server
    finally:
        server.stop()


def test_a_late_threat_is_mailed_once_without_its_text_and_a_late_off_topic_comment_is_not(
    tmp_path: Path, smtp: LocalSmtp
) -> None:
    service = service_in(
        tmp_path,
        review_alert_email=("moderators@citywindsor.ca",),
        review_public_url="https://review.example.org/",
    )
    assert service.alert_mail is not None
    with service.store.transaction():
        service.store.put_review_item(item("threat", "I will burn the arena down", ["5.7.8"], AT))
        service.store.put_review_item(item("off", "Parking downtown is hard", ["5.7.1"], AT - timedelta(hours=5)))
    service.check_queue((AT + timedelta(minutes=45)).timestamp())
    assert service.alert_mail.send()
    service.check_queue((AT + timedelta(minutes=50)).timestamp())  # alerted already: nothing new
    assert service.alert_mail.send()
    (mail,) = smtp.mailbox.messages
    assert mail.recipients == ["moderators@citywindsor.ca"] and smtp.mailbox.tls_sessions == 1
    assert "5.7.8" in mail.message["Subject"] and "severity 1" in mail.message["Subject"]
    assert "https://review.example.org/items/r-threat" in mail.body and "waiting 45 min (target 30 min)" in mail.body
    assert "r-off" not in mail.body, "5.7.1 (severity 5) is past the general age but not urgent enough to mail"
    assert "arena" not in mail.message.as_string()
    assert "a1" not in mail.body, "no author"
    service.store.close()


def test_an_unreachable_server_keeps_the_alert_for_the_next_check(tmp_path: Path, smtp: LocalSmtp) -> None:
    service = service_in(tmp_path, review_alert_email=("moderators@citywindsor.ca",))
    mailer = service.alert_mail
    assert mailer is not None
    with service.store.transaction():
        service.store.put_review_item(item("phone", "her cell is 519 555 0101", ["5.7.9"], AT))
    service.check_queue((AT + timedelta(hours=2)).timestamp())
    port = mailer.smtp.port
    mailer.smtp = mailer.smtp.model_copy(update={"port": 1})
    assert not mailer.send() and len(mailer.waiting) == 1
    mailer.smtp = mailer.smtp.model_copy(update={"port": port})
    assert mailer.send() and not mailer.waiting
    (mail,) = smtp.mailbox.messages
    assert "r-phone" in mail.body and "519" not in mail.body
    service.store.close()


def test_no_recipients_means_no_mailer_and_recipients_without_a_sender_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert service_in(tmp_path).alert_mail is None
    monkeypatch.delenv("CIVICWATCH_SMTP_FROM", raising=False)
    with pytest.raises(ValueError, match="CIVICWATCH_SMTP_FROM"):
        AlertMailer.from_settings(service_in(tmp_path / "b", review_alert_email=("m@x.org",)).settings)
