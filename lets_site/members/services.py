"""Business rules for members: joining, approval, profiles, status and roles, directory, data
download. Passwords, login, throttling and the signed links (invitation, reset) are in
:mod:`lets_site.members.auth`; their names are also importable from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from lets_site import codes, features, signals
from lets_site.audit import services as audit
from lets_site.database import utcnow
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.mail import Mail, external_url, send_after_commit
from lets_site.members.auth import PASSWORD_MAX as PASSWORD_MAX
from lets_site.members.auth import PASSWORD_MIN as PASSWORD_MIN
from lets_site.members.auth import BadToken as BadToken
from lets_site.members.auth import LoginThrottled as LoginThrottled
from lets_site.members.auth import _check_password, _send_invitation, _set_password
from lets_site.members.auth import authenticate as authenticate
from lets_site.members.auth import change_password as change_password
from lets_site.members.auth import make_token as make_token
from lets_site.members.auth import member_for_token as member_for_token
from lets_site.members.auth import normalise_email as normalise_email
from lets_site.members.auth import request_password_reset as request_password_reset
from lets_site.members.auth import rotate_session as rotate_session
from lets_site.members.auth import set_password_with_token as set_password_with_token
from lets_site.members.mailing import mail_to
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
from lets_site.settings import detached_copy, shared

PAGE_SIZE = 20
# The notification kinds this feature sends (members may switch them off; feature.py).
NEW_CANDIDATE = "members.new_candidate"


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
    """The logged-in member of this request. This runs on every logged-in request: the
    member and their roles are read in one query and kept per process until any process
    commits a write (lets_site/settings.py ``shared``: a login, a logout, a change of
    status or roles are writes). Each request gets its own instance, merged into its
    session without a query, so what a request changes on it is saved as before."""
    kept = shared(f"members.session.{token}", lambda: _session_member(token))
    if kept is None:
        return None
    member = db.session.merge(kept, load=False)
    if not member.is_active:
        return None
    return member


def _session_member(token: str) -> Member | None:
    member = db.session.scalars(
        select(Member).where(Member.session_token == token)
        .options(joinedload(Member.role_rows))
    ).unique().first()
    if member is None:
        return None
    copy = detached_copy(member)
    set_committed_value(copy, "role_rows", [detached_copy(row) for row in member.role_rows])
    return copy


def _email_taken(email: str | None, except_id: int | None = None) -> bool:
    if not email:
        return False
    query = select(Member.id).where(func.lower(Member.email) == email.lower())
    if except_id is not None:
        query = query.where(Member.id != except_id)
    return db.session.scalar(query) is not None


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
        mail_to(existing, _l("Someone tried to join with your e-mail address"),
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
        mail_to(admin, _l("New candidate: %(name)s", name=candidate.display_name),
                 "members/mail/new_candidate.txt", candidate=candidate, url=url,
                 kind=NEW_CANDIDATE)


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
    mail_to(member, _l("Welcome: your account is ready"), "members/mail/approved.txt",
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
    if "email" in changed:
        signals.member_email_changed.send(member, old=old_email, actor=actor)
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
            mail_to(admin, _l("%(name)s asks to close their account", name=member.display_name),
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
