"""Outgoing e-mail: SMTP when ``MAIL_SERVER`` is set, otherwise files in ``instance/outbox``
and a line in the log. Services queue messages with :func:`send_after_commit`; they go out
only when the database transaction that caused them commits."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lets_site.database import utcnow
from lets_site.extensions import db

log = logging.getLogger(__name__)
_PENDING = "lets_pending_mail"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    reply_to: str | None = None


def external_url(endpoint: str, **values: object) -> str:
    """An absolute URL on ``BASE_URL``, the site's configured public address.

    Never built from the request (its Host or X-Forwarded-Host header is the visitor's to
    choose), so a link in a mail, feed or export is the same with or without a request."""
    base = urlsplit(str(current_app.config["BASE_URL"]).rstrip("/"))
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def send_now(mail: Mail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="lets-site")
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message.set_content(mail.body)

    server = config.get("MAIL_SERVER")
    if not server:
        outbox = Path(current_app.instance_path) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        name = utcnow().strftime("%Y%m%dT%H%M%S%f") + ".eml"
        (outbox / name).write_bytes(bytes(message))
        log.info("mail to %s (%s) written to %s", mail.to, mail.subject, outbox / name)
        return

    port = int(config["MAIL_PORT"])
    timeout = float(config["MAIL_TIMEOUT"])
    smtp: smtplib.SMTP
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(
            server, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    with smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
    log.info("mail to %s (%s) sent", mail.to, mail.subject)


def send_after_commit(mail: Mail) -> None:
    db.session.info.setdefault(_PENDING, []).append(mail)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending: list[Mail] = session.info.pop(_PENDING, [])
    for mail in pending:
        try:
            send_now(mail)
        except (OSError, smtplib.SMTPException):
            # The change is saved; a mail server hiccup must not turn it into an error page.
            log.exception("could not send mail to %s (%s)", mail.to, mail.subject)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
