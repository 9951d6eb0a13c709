"""E-mail for moderators when an urgent item waits past its target (clauses 5.7.8 and 5.7.9 first).

An alert names review ids, clauses, severities and waiting times, and links to the item pages: the
comment's text and its author stay in the review view, where reading them is audited. One message per
check covers every item that became overdue since the last, so a backlog is one e-mail, not hundreds.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import structlog

from review.store import Overdue
from runtime.logs import register_secret
from runtime.mail import open_session
from runtime.settings import ForwardSettings, Settings

log = structlog.get_logger("civicwatch.review.alerts")

MAX_WAITING = 1000
"""Items kept for the next attempt while the SMTP server is unreachable; the oldest go first."""


class AlertMailer:
    def __init__(
        self,
        smtp: ForwardSettings,
        recipients: Sequence[str],
        username: str | None,
        password: str | None,
        *,
        base_url: str = "",
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.smtp = smtp
        self.recipients = list(recipients)
        self.username = username
        self.password = password
        self.base_url = base_url.rstrip("/")
        self.context = context or smtp.ssl_context()
        self.waiting: list[tuple[Overdue, float]] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertMailer | None:
        """None when no one is to be e-mailed; the SMTP credentials come from the environment."""
        if not settings.review_alert_email:
            return None
        smtp = ForwardSettings.from_env()
        if not smtp.sender:
            raise ValueError("CIVICWATCH_REVIEW_ALERT_EMAIL is set but CIVICWATCH_SMTP_FROM is empty")
        password = os.environ.get("SMTP_PASSWORD") or None
        register_secret(password)
        return cls(
            smtp,
            settings.review_alert_email,
            os.environ.get("SMTP_USERNAME") or None,
            password,
            base_url=settings.review_public_url,
        )

    def queue(self, items: Sequence[Overdue], now: float) -> None:
        self.waiting.extend((item, now - item.queued_at) for item in items)
        del self.waiting[:-MAX_WAITING]

    def message(self) -> EmailMessage:
        worst = min(item.severity for item, _ in self.waiting)
        clauses = sorted({c for item, _ in self.waiting for c in item.clauses})
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="civicwatch")
        msg["Subject"] = (
            f"civicwatch: {len(self.waiting)} urgent review item(s) past their target "
            f"(severity {worst}; {', '.join(clauses)})"
        )
        lines = ["These flagged comments have waited longer than the policy file's target for their clause:", ""]
        for item, waited in sorted(self.waiting, key=lambda w: (w[0].severity, -w[1])):
            link = f"{self.base_url}/items/{item.review_id}" if self.base_url else item.review_id
            lines.append(
                f"- {link}: clauses {' '.join(item.clauses)}, severity {item.severity}, "
                f"waiting {waited / 60:.0f} min (target {item.target_s / 60:.0f} min)"
            )
        lines += ["", "The comments themselves are in the review service; this message holds no comment text."]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def send(self) -> bool:
        """Send what waits, in one message; on failure keep it for the next check."""
        if not self.waiting:
            return True
        try:
            session = open_session(
                self.smtp.host,
                self.smtp.port,
                self.username,
                self.password,
                starttls=self.smtp.starttls,
                context=self.context,
                timeout=self.smtp.timeout,
            )
            try:
                session.send_message(self.message())
            finally:
                try:
                    session.quit()
                except (smtplib.SMTPException, OSError):
                    session.close()
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("review_alert_mail_failed", error=type(exc).__name__, items=len(self.waiting))
            return False
        log.info("review_alert_mailed", items=len(self.waiting), recipients=len(self.recipients))
        self.waiting.clear()
        return True
