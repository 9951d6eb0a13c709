"""SMTP sessions for every process that sends mail (the clause 5.5 forwarder, the review service's
overdue alerts): STARTTLS with the certificate and host name checked, then AUTH. One session per
message: mail is rare here and a long-lived session would time out between messages."""

from __future__ import annotations

import smtplib
import ssl


class StartTlsMissing(smtplib.SMTPException):
    """STARTTLS was required and the server does not offer it: never send credentials in clear."""


def open_session(
    host: str,
    port: int,
    username: str | None,
    password: str | None,
    *,
    starttls: bool = True,
    context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
) -> smtplib.SMTP:
    """A logged-in session; the caller quits it. smtplib's errors pass through for the caller to judge."""
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        if starttls:
            if not smtp.has_extn("starttls"):
                raise StartTlsMissing("the SMTP server offers no STARTTLS")
            smtp.starttls(context=context or ssl.create_default_context())
            smtp.ehlo()
        if username:
            smtp.login(username, password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp
