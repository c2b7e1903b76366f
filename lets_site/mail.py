"""Outgoing e-mail through an outbox table.

Services call :func:`send_after_commit`: it adds a row to ``mail_outbox`` in the same
database transaction as the change that caused the message, so the message is kept exactly
when the change is. Nothing is built or sent in the request after the commit; the rows are
sent by:

* ``MAIL_SEND_MODE = "background"`` (default): a thread in the web process, woken once the
  response of a request that committed mail has been sent; it never blocks a request and
  also picks up due retries every ``MAIL_POLL_SECONDS`` (outside a request, e.g. in a
  command, mail is sent right after the commit);
* ``"inline"``: right after the commit, in the committing thread (tests, one-off scripts);
* ``"cron"``: only by ``lets-site mail send``.

``lets-site mail send`` (for cron) sends every due row, retries included, in any mode.
Each row is claimed with a conditional UPDATE (``WHERE status = 'queued' AND attempts = n``)
so two senders never send one row twice. A temporary failure (network, timeout, 4xx) is
retried with exponential back-off; a permanent one (5xx, a message that cannot be built)
marks the row ``failed`` with the reason.

With no ``MAIL_SERVER``, "sending" writes the message to ``instance/outbox/`` and logs it.

Header values are cleaned when a row is made and again when the message is built: line
breaks (CR, LF, VT, FF, NEL, U+2028, U+2029) and other control characters become spaces,
so a name typed by a visitor can never break or inject a header.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import smtplib
import ssl
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, after_this_request, current_app, g, has_request_context
from sqlalchemy import Index, Integer, String, Text, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lets_site.database import UTCDateTime, utcnow, write_transaction
from lets_site.extensions import db

log = logging.getLogger(__name__)

_QUEUED_FLAG = "lets_outbox_queued"
_SENDER_KEY = "lets_mail_sender"
_WAKE_AFTER_RESPONSE = "lets_mail_wake_after_response"
MAX_BACKOFF = timedelta(hours=6)


class MailStatus:
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    reply_to: str | None = None
    # An HTML alternative of ``body`` (the message becomes multipart/alternative).
    html: str | None = None
    # Extra headers (List-Unsubscribe ...), cleaned like every header value.
    headers: Mapping[str, str] | None = None


class OutboxMail(db.Model):
    """One message to send. Kept after sending (status ``sent``) for the record."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(320))
    # The HTML alternative of ``body``, if any (digests).
    html: Mapped[str | None] = mapped_column(Text)
    # Extra headers as a JSON object of strings (List-Unsubscribe ...), if any.
    headers: Mapped[str | None] = mapped_column(Text)
    # Made when the row is made, so a retry carries the same Message-ID as a first attempt
    # that may have arrived after all (receivers can drop the duplicate).
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(8), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMail {self.id} {self.status} to {self.recipient!r}>"


# --- Building --------------------------------------------------------------------------------


def header_text(value: str | None) -> str:
    """``value`` safe for a one-line header: control characters and line or paragraph
    separators become spaces, runs of white space one space."""
    if not value:
        return ""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(value)
    )
    return " ".join(cleaned.split())


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


def _message_id_domain() -> str:
    sender = str(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    domain = sender.rpartition("@")[2].strip("<> ") or "lets-site"
    return header_text(domain).replace(" ", "") or "lets-site"


def _new_message_id() -> str:
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{secrets.token_hex(12)}@{_message_id_domain()}>"


def build_message(row: OutboxMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = header_text(config["MAIL_DEFAULT_SENDER"])
    message["To"] = header_text(row.recipient)
    message["Subject"] = header_text(row.subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = row.message_id
    if row.reply_to:
        message["Reply-To"] = header_text(row.reply_to)
    for name, value in (json.loads(row.headers) if row.headers else {}).items():
        name = header_text(name).replace(" ", "")
        if name and name.lower() not in _OWN_HEADERS:
            message[name] = header_text(value)
    message.set_content(row.body)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    return message


# Headers build_message sets itself: extra headers never replace them.
_OWN_HEADERS = {"from", "to", "subject", "date", "message-id", "reply-to", "cc", "bcc",
                "content-type", "content-transfer-encoding", "mime-version"}


# --- Queueing --------------------------------------------------------------------------------


def send_after_commit(mail: Mail, session: Session | None = None) -> OutboxMail:
    """Queue ``mail`` in the current transaction: it is sent once the transaction commits,
    and forgotten if it rolls back."""
    session = session or db.session
    row = OutboxMail(
        recipient=header_text(mail.to)[:320],
        subject=header_text(mail.subject),
        body=mail.body,
        reply_to=header_text(mail.reply_to)[:320] or None,
        html=mail.html or None,
        headers=json.dumps({header_text(k): header_text(v) for k, v in mail.headers.items()})
        if mail.headers else None,
        message_id=_new_message_id(),
        status=MailStatus.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
        last_error="",
    )
    session.add(row)
    session.info[_QUEUED_FLAG] = True
    return row


def wake_after_commit(session: Session | None = None) -> None:
    """Have the sender look at the outbox once this transaction commits (rows queued
    again by hand, not through :func:`send_after_commit`)."""
    (session or db.session).info[_QUEUED_FLAG] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_QUEUED_FLAG, False):
        return
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # committed outside an app context: cron will send it
        return
    try:
        dispatch(app)
    except OperationalError as exc:  # the database is busy (SQLite: another writer)
        log.warning("the outbox is busy (%s): the mail waits for the sender's next round",
                    exc.orig)
    except Exception:  # the change is committed and its mail kept: never fail here
        log.exception("could not hand queued mail to the sender")


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    # A savepoint's rollback (begin_nested) keeps what the outer transaction queued.
    if previous_transaction.parent is None:
        session.info.pop(_QUEUED_FLAG, None)


def dispatch(app: Flask) -> None:
    """Called after a commit that queued mail."""
    mode = str(app.config.get("MAIL_SEND_MODE") or "background")
    if mode == "background" and has_request_context():
        sender = background_sender(app)
        if not g.get(_WAKE_AFTER_RESPONSE):
            g.setdefault(_WAKE_AFTER_RESPONSE, True)
            try:
                # Once the response is sent, so the sender never competes with the request.
                after_this_request(lambda response: _wake_on_close(response, sender))
            except (AssertionError, RuntimeError):  # request already finishing
                sender.wake()
    elif mode in ("inline", "background"):
        # Outside a request (a command) nobody waits for an answer, and the process may
        # end before a thread would have sent the mail: send now.
        send_due(app)


def _wake_on_close(response: Any, sender: BackgroundSender) -> Any:
    response.call_on_close(sender.wake)
    return response


# --- Sending ---------------------------------------------------------------------------------


class PermanentFailure(Exception):
    """The message will never go through as it is (5xx, unbuildable): do not retry."""


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _lease(app: Flask) -> timedelta:
    # Longer than one SMTP conversation can take: a sender that dies while sending leaves
    # the row due again after this, to be retried.
    return timedelta(seconds=60 + 10 * float(app.config["MAIL_TIMEOUT"]))


def _backoff(app: Flask, attempts: int) -> timedelta:
    base = float(app.config["MAIL_RETRY_SECONDS"])
    seconds = base * (2 ** max(0, min(attempts - 1, 20)))
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


# The sender works with Core connections, not ORM sessions: its bookkeeping is not a change
# of content (no page-cache bump, no mail queued by it) and holds no session between steps.


def _claim(app: Flask, row_id: int, attempts: int) -> OutboxMail | None:
    """Take the row for this sender: a conditional UPDATE that only one sender can win
    (on PostgreSQL the loser waits for the winner's commit, then matches nothing)."""
    now = utcnow()
    table = OutboxMail.__table__
    with write_transaction(), db.engine.begin() as conn:
        result = conn.execute(
            update(table)
            .where(
                table.c.id == row_id,
                table.c.status == MailStatus.QUEUED,
                table.c.attempts == attempts,
                table.c.next_attempt_at <= now,
            )
            .values(attempts=attempts + 1, next_attempt_at=now + _lease(app))
        )
        if result.rowcount != 1:
            return None
        values = conn.execute(select(table).where(table.c.id == row_id)).mappings().one()
    return OutboxMail(**values)  # a plain copy, in no session


def _finish(row_id: int, **values: Any) -> None:
    table = OutboxMail.__table__
    with write_transaction(), db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))


def _deliver(app: Flask, row: OutboxMail) -> None:
    try:
        message = build_message(row)
    except Exception as exc:  # any building error is permanent
        raise PermanentFailure(f"cannot build the message: {exc}") from exc
    config = app.config
    server = config.get("MAIL_SERVER")
    if not server:
        outbox = Path(app.instance_path) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{row.id:08d}.eml"
        (outbox / name).write_bytes(bytes(message))
        log.info("mail to %s (%s) written to %s", row.recipient, row.subject, outbox / name)
        return
    port = int(config["MAIL_PORT"])
    timeout = float(config["MAIL_TIMEOUT"])
    smtp: smtplib.SMTP
    try:
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
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reason in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    log.info("mail to %s (%s) sent", row.recipient, row.subject)


def _undeliverable(app: Flask, row: OutboxMail, reason: str) -> None:
    """Mark the row failed for good and tell who listens (the address is flagged for an
    admin), in one transaction."""
    from lets_site import signals

    table = OutboxMail.__table__
    with write_transaction(), db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row.id)
                     .values(status=MailStatus.FAILED, last_error=reason))
        signals.mail_undeliverable.send(app, recipient=row.recipient, reason=reason,
                                        connection=conn)


def _send_one(app: Flask, row: OutboxMail, report: SendReport) -> None:
    try:
        _deliver(app, row)
    except PermanentFailure as exc:
        log.error("mail %s to %s failed for good: %s", row.id, row.recipient, exc)
        _undeliverable(app, row, str(exc)[:2000])
        report.failed += 1
    except Exception as exc:  # network, timeout, 4xx: try again later
        log.warning("could not send mail to %s (%s): %s", row.recipient, row.subject, exc)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= int(app.config["MAIL_MAX_ATTEMPTS"]):
            _finish(row.id, status=MailStatus.FAILED, last_error=error)
            report.failed += 1
        else:
            _finish(row.id, last_error=error,
                    next_attempt_at=utcnow() + _backoff(app, row.attempts))
            report.retrying += 1
    else:
        _finish(row.id, status=MailStatus.SENT, sent_at=utcnow(), last_error="")
        report.sent += 1


def send_due(app: Flask | None = None, *, limit: int = 500) -> SendReport:
    """Send every queued row whose time has come (first attempts and retries)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    report = SendReport()
    table = OutboxMail.__table__
    with app.app_context():
        with db.engine.connect() as conn:
            due = conn.execute(
                select(table.c.id, table.c.attempts)
                .where(table.c.status == MailStatus.QUEUED,
                       table.c.next_attempt_at <= utcnow())
                .order_by(table.c.next_attempt_at, table.c.id)
                .limit(limit)
            ).all()
        for row_id, attempts in due:
            row = _claim(app, row_id, attempts)
            if row is not None:
                _send_one(app, row, report)
    return report


def requeue_failed() -> int:
    """Give rows that failed for good another chance (after the cause is fixed)."""
    with write_transaction():
        result = db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.status == MailStatus.FAILED)
            .values(status=MailStatus.QUEUED, next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- The background sender -------------------------------------------------------------------


class BackgroundSender:
    """One thread per process that sends queued mail; requests only wake it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopping = False

    def wake(self) -> None:
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if not alive or self._pid != os.getpid():  # first use, or a forked worker
                self._stopping = False
                self._wake = threading.Event()
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="lets-mail-sender", daemon=True
                )
                self._thread.start()
            self._wake.set()

    def _run(self) -> None:
        poll = float(self.app.config["MAIL_POLL_SECONDS"])
        while True:
            self._wake.wait(timeout=poll)
            self._wake.clear()
            # Also when stopping: what was queued before the stop is sent first.
            try:
                send_due(self.app)
            except Exception:  # keep the thread alive; the rows stay queued for later
                log.exception("the mail sender failed; queued mail stays queued")
            if self._stopping:
                break

    def stop(self, timeout: float = 30) -> None:
        """Stop the thread once it has sent what is due (tests, shutdown)."""
        with self._lock:
            self._stopping = True
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


def background_sender(app: Flask) -> BackgroundSender:
    sender = app.extensions.get(_SENDER_KEY)
    if sender is None:
        sender = app.extensions.setdefault(_SENDER_KEY, BackgroundSender(app))
    return sender  # type: ignore[no-any-return]
