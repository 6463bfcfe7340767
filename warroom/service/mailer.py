"""Updates by email: smtplib in a worker thread, so the event loop never waits on a mail server.

STARTTLS by default (refused when the server does not offer it), implicit TLS with
`security = "tls"`, or no TLS for a relay on loopback (`"none"`, never with a password). The
password comes from an environment variable and is never in a message. 4xx replies and lost
connections are retried; 5xx (a refused recipient, wrong credentials) are not.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Mapping

from warroom.domain.text import visible
from warroom.service.config import EmailTarget
from warroom.service.delivery import Attempt, SendResult, UpdateMessage, failed, secret_from_env, with_retries


def build_email(target: EmailTarget, message: UpdateMessage) -> EmailMessage:
    """The mail for one update: subject `[SEV-1] INC-... Title - update N`, plain text body."""
    mail = EmailMessage()
    subject = f"{message.headline} - update {message.number} ({visible(message.audience_label)})"
    mail["Subject"] = " ".join(subject.split())[:250]
    mail["From"] = target.sender
    mail["To"] = ", ".join(target.to)
    mail["Date"] = format_datetime(message.posted_at)
    mail["Message-ID"] = make_msgid(domain="warroom.invalid")
    mail["X-Warroom-Incident"] = message.incident_id
    body = visible(message.text, keep_newlines=True)
    mail.set_content(f"{message.headline}\n{message.subline}\n\n{body}\n\n-- \nSent by warroom.\n")
    return mail


def _tls_context(target: EmailTarget) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=target.ca_file or None)


def _send_once(target: EmailTarget, mail: EmailMessage, password: str) -> Attempt:
    """One SMTP session (runs in a thread)."""
    try:
        if target.security == "tls":
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout, context=_tls_context(target))
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=target.timeout)
        with smtp:
            smtp.ehlo()
            if target.security == "starttls":
                if not smtp.has_extn("starttls"):
                    return Attempt(False, "the server does not offer STARTTLS (set security = \"tls\" or fix the server)")
                smtp.starttls(context=_tls_context(target))
                smtp.ehlo()
            if target.username:
                smtp.login(target.username, password)
            refused = smtp.send_message(mail)
        if refused:
            return Attempt(False, f"refused recipients: {', '.join(sorted(refused))}")
        return Attempt(True, detail=f"to {', '.join(target.to)}")
    except smtplib.SMTPAuthenticationError as error:
        return Attempt(False, f"login refused (SMTP {error.smtp_code})")
    except smtplib.SMTPResponseException as error:
        reply = visible(error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes)
                        else str(error.smtp_error))[:200]
        return Attempt(False, f"SMTP {error.smtp_code}: {reply}", retry=400 <= error.smtp_code < 500)
    except smtplib.SMTPRecipientsRefused as error:
        return Attempt(False, f"refused recipients: {', '.join(sorted(error.recipients))}")
    except (socket.timeout, TimeoutError):
        return Attempt(False, f"timed out after {target.timeout:g} s", retry=True)
    except ssl.SSLError as error:
        return Attempt(False, f"TLS failed: {error.reason or error}")
    except (ConnectionError, smtplib.SMTPServerDisconnected, OSError) as error:
        return Attempt(False, f"could not talk to {target.host}:{target.port} ({type(error).__name__})", retry=True)


async def send_email(target: EmailTarget, message: UpdateMessage, *, environ: Mapping[str, str] | None = None,
                     attempts: int | None = None, backoff: tuple[float, ...] | None = None) -> SendResult:
    password = ""
    if target.username:
        password, problem = secret_from_env(target.password_env, environ, "SMTP password")
        if problem:
            return failed(problem)
    mail = build_email(target, message)
    return await with_retries(lambda: asyncio.to_thread(_send_once, target, mail, password),
                              attempts=attempts, backoff=backoff)
