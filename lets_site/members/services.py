"""Business rules for members: joining, approval, login, tokens, profiles, directory."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from lets_site import codes, features, signals
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import Mail, external_url, send_after_commit
from lets_site.members.models import (
    LoginAttempt,
    Member,
    MemberRole,
    Role,
    Status,
    Visibility,
    new_session_token,
)
from lets_site.paging import Page

PAGE_SIZE = 20
PASSWORD_MIN = 10
PASSWORD_MAX = 200
_DUMMY_HASH = generate_password_hash("not a real password, only for equal timing")


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


@dataclass
class ProfileData:
    display_name: str
    full_name: str
    email: str | None
    phone: str = ""
    address: str = ""
    postcode: str = ""
    languages: str = ""
    bio: str = ""
    email_visibility: str = Visibility.MEMBERS
    phone_visibility: str = Visibility.MEMBERS
    address_visibility: str = Visibility.MEMBERS
    profile_public: bool = False


# --- Account codes -----------------------------------------------------------------------


def member_code_taken(code: str) -> bool:
    return db.session.scalar(select(Member.id).where(Member.account_code == code)) is not None


def suggest_account_code(prefix: str) -> str:
    """The next free code with this prefix, e.g. IE-043 after IE-042."""
    prefix = codes.normalise(prefix) or "LE"
    existing = db.session.scalars(
        select(Member.account_code).where(Member.account_code.like(f"{prefix}-%"))
    ).all()
    numbers = [int(c.split("-", 1)[1]) for c in existing if c and c.split("-", 1)[1].isdigit()]
    n = max(numbers, default=0) + 1
    while codes.is_taken(f"{prefix}-{n:03d}"):
        n += 1
    return f"{prefix}-{n:03d}"


# --- Look-ups ------------------------------------------------------------------------------


def get_by_code(code: str) -> Member:
    member = db.session.scalar(select(Member).where(Member.account_code == codes.normalise(code)))
    if member is None:
        raise NotFound(_l("No member with that account code."))
    return member


MAX_ID = 2**31 - 1  # an id beyond the database's integer range is simply not there


def get_by_id(member_id: int) -> Member:
    member = db.session.get(Member, member_id) if 0 < member_id <= MAX_ID else None
    if member is None:
        raise NotFound(_l("No such member."))
    return member


def load_for_session(token: str) -> Member | None:
    member = db.session.scalar(select(Member).where(Member.session_token == token))
    if member is None or not member.is_active:
        return None
    return member


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip()
    return email.lower() if email else None


def _email_taken(email: str | None, except_id: int | None = None) -> bool:
    if not email:
        return False
    query = select(Member.id).where(func.lower(Member.email) == email.lower())
    if except_id is not None:
        query = query.where(Member.id != except_id)
    return db.session.scalar(query) is not None


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


def _apply_profile(member: Member, data: ProfileData) -> dict[str, Any]:
    email = normalise_email(data.email)
    if _email_taken(email, except_id=member.id):
        raise DomainError(
            _l("Another account already uses this e-mail address."), field="email"
        )
    changed: dict[str, Any] = {}
    values = dict(data.__dict__, email=email)
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(member, name) != value:
            changed[name] = value
            setattr(member, name, value)
    return changed


def _build_mail(recipient: Member, subject: Any, template: str, **context: Any) -> Mail:
    """A message to a member, written in their own language."""
    with force_locale(recipient.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return Mail(to=recipient.email or "", subject=str(subject),
                    body=render_template(template, **context))


def _mail_to(recipient: Member, subject: Any, template: str, **context: Any) -> None:
    """Queue a message to a member, written in their own language."""
    if not recipient.email:
        return
    send_after_commit(_build_mail(recipient, subject, template, **context))


# --- Joining and approval ----------------------------------------------------------------


def register_candidate(data: ProfileData, password: str, address: str = "") -> Member | None:
    """The public join form: a candidate who can log in once an admin approves them.

    For an address that already has an account nothing is created and the answer is the
    same (the form must not tell who is a member): that member gets a message instead.
    Joins are limited per client ``address``."""
    config = current_app.config
    email = normalise_email(data.email)
    if not email:
        raise DomainError(_l("We need an e-mail address to contact you."), field="email")
    window = int(config["JOIN_WINDOW_MINUTES"])
    if address:
        recent = db.session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.kind == "join", LoginAttempt.address == address,
                LoginAttempt.at >= utcnow() - timedelta(minutes=window),
            )
        )
        if (recent or 0) >= int(config["JOIN_MAX_PER_ADDRESS"]):
            raise DomainError(
                _l("Too many applications from your connection. Try again in %(minutes)d "
                   "minutes, or contact the group.", minutes=window)
            )
        db.session.add(LoginAttempt(kind="join", account_key=email, address=address[:64],
                                    success=True))
    _check_password(password)
    existing = db.session.scalar(select(Member).where(func.lower(Member.email) == email))
    if existing is not None:
        # The same work as a real application (a password hash, a message queued).
        generate_password_hash(password)
        _mail_to(existing, _l("Someone tried to join with your e-mail address"),
                 "members/mail/join_existing.txt", member=existing,
                 login_url=external_url("members.login"),
                 reset_url=external_url("members.forgot_password"))
        db.session.flush()
        return None
    member = Member(status=Status.CANDIDATE, display_name="", full_name="")
    _apply_profile(member, data)
    _set_password(member, password)
    member.set_roles([Role.MEMBER])
    db.session.add(member)
    db.session.flush()
    _notify_admins_of_candidate(member)
    signals.member_applied.send(member)
    return member


def _admins() -> list[Member]:
    return list(
        db.session.scalars(
            select(Member)
            .join(MemberRole)
            .where(MemberRole.role == Role.ADMIN, Member.status == Status.ACTIVE)
        )
    )


def _notify_admins_of_candidate(candidate: Member) -> None:
    url = external_url("members.admin_members", status="candidate")
    for admin in _admins():
        _mail_to(admin, _l("New candidate: %(name)s", name=candidate.display_name),
                 "members/mail/new_candidate.txt", candidate=candidate, url=url)


def approve_candidate(actor: Member, member: Member, account_code: str) -> Member:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins approve members."))
    if member.status != Status.CANDIDATE:
        raise DomainError(_l("This member is not a candidate."))
    member.account_code = codes.check_new(account_code)
    member.status = Status.ACTIVE
    member.joined_on = date.today()
    db.session.flush()
    audit.record_for_member(actor, "member.approve", member, account_code=member.account_code)
    _mail_to(member, _l("Welcome: your account is ready"), "members/mail/approved.txt",
             member=member, url=external_url("members.login"))
    return member


def create_member(
    actor: Member, data: ProfileData, account_code: str, *, managed_by_admin: bool = False
) -> Member:
    """An admin adds a member directly (active). With an e-mail address, an invitation to
    set a password is sent; without one, the admin manages the account."""
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins add members."))
    member = Member(
        status=Status.ACTIVE, display_name="", full_name="", joined_on=date.today()
    )
    _apply_profile(member, data)
    member.account_code = codes.check_new(account_code)
    member.managed_by_admin = managed_by_admin or not member.email
    member.set_roles([Role.MEMBER])
    db.session.add(member)
    db.session.flush()
    audit.record_for_member(
        actor, "member.create", member, managed_by_admin=member.managed_by_admin
    )
    if member.email:
        _send_invitation(member)
    return member


def create_first_admin(email: str, name: str, account_code: str | None, prefix: str) -> Member:
    """An admin made from the command line on a fresh site (no actor to check)."""
    address = normalise_email(email)
    if not address or _email_taken(address):
        raise DomainError(_l("A member with this e-mail address exists already."), field="email")
    member = Member(display_name=name, full_name=name, email=address, status=Status.ACTIVE,
                    joined_on=date.today())
    member.account_code = codes.check_new(account_code or suggest_account_code(prefix))
    member.set_roles([Role.MEMBER, Role.ADMIN])
    db.session.add(member)
    db.session.flush()
    audit.record_for_member(None, "member.create_admin", member, via="command line")
    return member


def invite(actor: Member, member: Member) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins send invitations."))
    if not member.email:
        raise DomainError(_l("This member has no e-mail address."))
    _send_invitation(member)
    audit.record_for_member(actor, "member.invite", member)


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
    _mail_to(member, _l("Your invitation: choose a password"), "members/mail/invitation.txt",
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
        _build_mail(nobody, _l("Reset your password"), "members/mail/reset.txt", member=nobody,
                    url=external_url("members.reset_password",
                                     token=_serializer("reset").dumps({"m": 0, "f": "0" * 16})),
                    minutes=config["RESET_MAX_AGE_MINUTES"])
        return
    _mail_to(member, _l("Reset your password"), "members/mail/reset.txt", member=member,
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
        member.password_hash if member and member.password_hash else _DUMMY_HASH, password
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


# --- Profiles, status and roles -----------------------------------------------------------


def update_profile(
    actor: Member, member: Member, data: ProfileData, current_password: str | None = None
) -> Member:
    """Saves a profile. Members changing their own e-mail address confirm it with their
    current password (an admin's change is audited instead); the old address is told."""
    if not member.can_edit(actor):
        raise PermissionDenied(_l("You can only edit your own profile."))
    if not data.email and member.email and actor.id == member.id:
        raise DomainError(_l("Keep an e-mail address: you log in and get mail with it."),
                          field="email")
    old_email = member.email
    if actor.id == member.id and normalise_email(data.email) != old_email and not (
        member.password_hash and check_password_hash(member.password_hash, current_password or "")
    ):
        raise DomainError(
            _l("Fill in your current password to change your e-mail address."),
            field="current_password",
        )
    changed = _apply_profile(member, data)
    db.session.flush()
    if actor.id != member.id and changed:
        audit.record_for_member(actor, "member.edit", member, fields=sorted(changed))
    if "email" in changed and old_email:
        with force_locale(member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            send_after_commit(Mail(
                to=old_email, subject=str(_l("Your e-mail address was changed")),
                body=render_template("members/mail/email_changed.txt", member=member,
                                     by_admin=actor.id != member.id, actor=actor),
            ))
    return member


def set_locale(member: Member, locale: str) -> None:
    member.locale = locale
    db.session.flush()


def set_status(actor: Member, member: Member, status: str) -> Member:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins change a member's status."))
    if status not in set(Status):
        raise DomainError(_l("Unknown status."), field="status")
    if member.id == actor.id and status not in (Status.ACTIVE, Status.LEAVING):
        raise DomainError(_l("You cannot close your own admin account."), field="status")
    if status != Status.CANDIDATE and not member.account_code:
        raise DomainError(_l("Approve the candidate with an account code first."), field="status")
    old = member.status
    if old == status:
        return member
    member.status = status
    if status == Status.INACTIVE:
        member.session_token = new_session_token()
    db.session.flush()
    audit.record_for_member(actor, "member.status", member, old=old, new=status)
    return member


def set_roles(actor: Member, member: Member, roles: set[str]) -> Member:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins change roles."))
    unknown = roles - set(Role)
    if unknown:
        raise DomainError(_l("Unknown role."), field="roles")
    roles = roles | {Role.MEMBER}
    old = member.roles
    if Role.ADMIN in old and Role.ADMIN not in roles and len(_admins()) <= 1:
        raise DomainError(_l("The group needs at least one admin."), field="roles")
    if old == roles:
        return member
    member.set_roles(roles)
    db.session.flush()
    audit.record_for_member(actor, "member.roles", member, old=sorted(old), new=sorted(roles))
    return member


def request_closure(member: Member) -> Member:
    """The member asks to close their account; admins settle it (ledger balance, listings)."""
    if member.status not in (Status.ACTIVE, Status.LEAVING):
        raise DomainError(_l("This account is not active."))
    member.status = Status.LEAVING
    member.close_requested_at = utcnow()
    db.session.flush()
    audit.record_for_member(member, "member.close_request", member)
    url = external_url("members.profile", code=member.account_code)
    for admin in _admins():
        if admin.id != member.id:
            _mail_to(admin, _l("%(name)s asks to close their account", name=member.display_name),
                     "members/mail/close_request.txt", member=member, url=url)
    return member


# --- Directory --------------------------------------------------------------------------------


@dataclass
class DirectoryQuery:
    q: str = ""
    status: str = ""
    page: int = 1
    extra: dict[str, str] = field(default_factory=dict)


def search_directory(viewer: Member | None, query: DirectoryQuery) -> Page:
    """Members only. Admins can filter by status (candidates to approve, for example)."""
    if viewer is None or not viewer.is_authenticated:
        raise PermissionDenied(_l("Log in to see the member directory."))
    stmt = select(Member)
    if viewer.is_admin and query.status in set(Status):
        stmt = stmt.where(Member.status == query.status)
    elif viewer.is_admin and query.status == "all":
        pass
    else:
        stmt = stmt.where(Member.status.in_((Status.ACTIVE, Status.LEAVING)))
    text = query.q.strip()[:80]
    if text:
        needle = text.lower()
        stmt = stmt.where(
            or_(
                func.lower(Member.display_name).contains(needle, autoescape=True),
                func.lower(Member.full_name).contains(needle, autoescape=True),
                func.lower(Member.account_code).contains(needle, autoescape=True),
                and_(func.lower(Member.postcode).startswith(needle, autoescape=True),
                     Member.address_visible_clause(Member, viewer)),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, query.page)
    items = db.session.scalars(
        stmt.order_by(func.lower(Member.display_name), Member.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page(items=list(items), total=total, page=page)


def count_candidates() -> int:
    return db.session.scalar(
        select(func.count(Member.id)).where(Member.status == Status.CANDIDATE)
    ) or 0


# --- Data download ----------------------------------------------------------------------------


def export_data(actor: Member, member: Member) -> dict[str, Any]:
    if not member.can_edit(actor):
        raise PermissionDenied(_l("You can only download your own data."))
    data: dict[str, Any] = {
        "format": "lets-site member export 1",
        "exported_at": utcnow().isoformat(),
        "member": {
            "account_code": member.account_code,
            "display_name": member.display_name,
            "full_name": member.full_name,
            "email": member.email,
            "phone": member.phone,
            "address": member.address,
            "postcode": member.postcode,
            "languages": member.languages,
            "bio": member.bio,
            "status": member.status,
            "roles": sorted(member.roles),
            "joined_on": member.joined_on.isoformat() if member.joined_on else None,
            "created_at": member.created_at.isoformat(),
            "privacy": {
                "email": member.email_visibility,
                "phone": member.phone_visibility,
                "address": member.address_visibility,
                "profile_public": member.profile_public,
            },
            "interface_language": member.locale,
        },
    }
    for section in features.export_sections():  # the other features' parts
        data[section.name] = section.build(member)
    if actor.id != member.id:
        audit.record_for_member(actor, "member.export", member)
    return data
