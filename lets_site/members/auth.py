"""Passwords, login and its throttling, sessions ended everywhere, and the signed single-use
links that invite a member or reset a password."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import timedelta
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from lets_site.database import utcnow
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.mail import external_url
from lets_site.members.mailing import build_mail, mail_to
from lets_site.members.models import LoginAttempt, Member, Status, new_session_token

PASSWORD_MIN = 10
PASSWORD_MAX = 200


@cache
def _dummy_hash() -> str:
    """Checked when no member matches, so that costs what a wrong password costs. Made on
    first use, not at import: hashing takes a noticeable part of a worker's start."""
    return generate_password_hash("not a real password, only for equal timing")


class LoginThrottled(DomainError):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            _l(
                "Too many failed attempts. Wait %(minutes)d minutes and try again.",
                minutes=minutes,
            )
        )
        self.minutes = minutes


class BadToken(DomainError):
    pass


# --- Passwords ---------------------------------------------------------------------------


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip()
    return email.lower() if email else None


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise DomainError(
            _l("Choose a password of at least %(n)d characters.", n=PASSWORD_MIN),
            field="password",
        )
    if len(password) > PASSWORD_MAX:
        raise DomainError(_l("That password is too long."), field="password")


def _set_password(member: Member, password: str) -> None:
    _check_password(password)
    member.password_hash = generate_password_hash(password)
    # New password: every other session, remember cookie and pending link stops working.
    member.session_token = new_session_token()


# --- Signed single-use links ---------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"lets-{purpose}")


def _fingerprint(member: Member) -> str:
    return hashlib.sha256(member.session_token.encode()).hexdigest()[:16]


def make_token(member: Member, purpose: str) -> str:
    return _serializer(purpose).dumps({"m": member.id, "f": _fingerprint(member)})


def _max_age(purpose: str) -> int:
    config = current_app.config
    if purpose == "invite":
        return int(config["INVITATION_MAX_AGE_DAYS"]) * 86400
    return int(config["RESET_MAX_AGE_MINUTES"]) * 60


def member_for_token(token: str, purpose: str) -> Member:
    """The member a link was made for; refuses expired, forged and already used links."""
    try:
        payload = _serializer(purpose).loads(token, max_age=_max_age(purpose))
    except SignatureExpired as exc:
        raise BadToken(_l("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise BadToken(_l("This link is not valid. Check that you copied all of it.")) from exc
    if not isinstance(payload, dict):
        raise BadToken(_l("This link is not valid. Check that you copied all of it."))
    member = db.session.get(Member, payload.get("m"))
    if member is None or not hmac.compare_digest(
        str(payload.get("f", "")), _fingerprint(member)
    ):
        raise BadToken(_l("This link has already been used. Ask for a new one if you need it."))
    if member.status not in (Status.ACTIVE, Status.LEAVING):
        raise BadToken(_l("This account is not active. Contact the group's admins."))
    return member


def _send_invitation(member: Member) -> None:
    mail_to(member, _l("Your invitation: choose a password"), "members/mail/invitation.txt",
             member=member,
             url=external_url("members.set_password", token=make_token(member, "invite")),
             days=current_app.config["INVITATION_MAX_AGE_DAYS"])


def set_password_with_token(token: str, purpose: str, password: str) -> Member:
    member = member_for_token(token, purpose)
    _set_password(member, password)
    member.managed_by_admin = False
    db.session.flush()
    return member


def request_password_reset(email: str, address: str) -> None:
    """Sends a reset link if the address belongs to an active account. Says nothing either
    way, so the form does not reveal who is a member."""
    config = current_app.config
    key = normalise_email(email) or ""
    since = utcnow() - timedelta(minutes=int(config["RESET_WINDOW_MINUTES"]))
    recent_from_address = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.kind == "reset", LoginAttempt.address == address, LoginAttempt.at >= since
        )
    )
    recent_for_account = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.kind == "reset", LoginAttempt.account_key == key, LoginAttempt.at >= since
        )
    )
    if (recent_from_address or 0) >= int(config["RESET_MAX_PER_ADDRESS"]) or (
        recent_for_account or 0
    ) >= 3:
        raise LoginThrottled(int(config["RESET_WINDOW_MINUTES"]))
    db.session.add(LoginAttempt(kind="reset", account_key=key, address=address, success=False))
    db.session.flush()
    member = db.session.scalar(select(Member).where(func.lower(Member.email) == key))
    if member is None or member.status not in (Status.ACTIVE, Status.LEAVING):
        # Build the same message for nobody, so a known address is not answered slower
        # (only queueing it is left out).
        nobody = Member(display_name="", email=key)
        build_mail(nobody, _l("Reset your password"), "members/mail/reset.txt", member=nobody,
                    url=external_url("members.reset_password",
                                     token=_serializer("reset").dumps({"m": 0, "f": "0" * 16})),
                    minutes=config["RESET_MAX_AGE_MINUTES"])
        return
    mail_to(member, _l("Reset your password"), "members/mail/reset.txt", member=member,
             url=external_url("members.reset_password", token=make_token(member, "reset")),
             minutes=config["RESET_MAX_AGE_MINUTES"])


# --- Login -----------------------------------------------------------------------------------


def _failures_since(column: Any, value: str, since: Any) -> tuple[int, Any]:
    row = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.at)).where(
            LoginAttempt.kind == "login",
            LoginAttempt.success.is_(False),
            column == value,
            LoginAttempt.at >= since,
        )
    ).one()
    return int(row[0] or 0), row[1]


def _throttle_key(member: Member | None, identifier: str) -> str:
    """Failures count per member, whichever identifier was typed (e-mail or account code);
    for an identifier that matches nobody, per identifier."""
    if member is None:
        return identifier
    return (member.account_code or member.email or f"member:{member.id}").lower()[:254]


def authenticate(identifier: str, password: str, address: str) -> Member:
    """The member for an e-mail address or account code and password.

    Failed attempts are counted per member (or per identifier that matches nobody) and per
    address; past the limit, no password is checked until the window has passed."""
    config = current_app.config
    window = timedelta(minutes=int(config["LOGIN_THROTTLE_WINDOW_MINUTES"]))
    now = utcnow()
    identifier = identifier.strip().lower()[:254]
    member = db.session.scalar(
        select(Member).where(
            or_(func.lower(Member.email) == identifier,
                func.lower(Member.account_code) == identifier)
        )
    )
    key = _throttle_key(member, identifier)

    for column, value, limit in (
        (LoginAttempt.account_key, key, int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])),
        (LoginAttempt.address, address, int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"])),
    ):
        count, oldest = _failures_since(column, value, now - window)
        if count >= limit:
            wait = (oldest + window - now) if oldest is not None else window
            raise LoginThrottled(max(1, math.ceil(wait.total_seconds() / 60)))

    ok = check_password_hash(
        member.password_hash if member and member.password_hash else _dummy_hash(), password
    )
    if member is None or not ok or member.password_hash is None:
        db.session.add(LoginAttempt(kind="login", account_key=key, address=address))
        db.session.flush()
        raise DomainError(_l("That e-mail address or account code and password do not match."))
    if member.status == Status.CANDIDATE:
        raise DomainError(
            _l("Your application is waiting for approval by the group's admins.")
        )
    if member.status == Status.INACTIVE:
        raise DomainError(_l("This account is closed. Contact the group's admins."))
    # A success clears the member's failure count.
    db.session.execute(
        LoginAttempt.__table__.delete().where(
            LoginAttempt.kind == "login",
            LoginAttempt.account_key.in_({key, identifier, (member.email or "").lower(),
                                          (member.account_code or "").lower()}),
        )
    )
    db.session.flush()
    return member


def rotate_session(member: Member) -> None:
    """Logs the member out everywhere: every session and remember cookie made with the old
    token stops working (used at logout)."""
    member.session_token = new_session_token()
    db.session.flush()


def change_password(member: Member, current: str, new: str) -> None:
    if not member.password_hash or not check_password_hash(member.password_hash, current):
        raise DomainError(_l("Your current password is not right."), field="current_password")
    _set_password(member, new)
    db.session.flush()
