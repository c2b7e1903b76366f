from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from lets_site import codes
from lets_site.audit import services as audit
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import db
from lets_site.members import services as members
from lets_site.members.models import Member, Status
from lets_site.organisations.models import Intermediary, Organisation
from lets_site.slugs import slugify

__all__ = ["slugify"]  # kept here for its callers; it lives in lets_site/slugs.py


@dataclass
class OrganisationData:
    name: str
    description: str = ""
    website: str = ""


def org_code_taken(code: str) -> bool:
    return (
        db.session.scalar(select(Organisation.id).where(Organisation.account_code == code))
        is not None
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)
    slug, n = base, 2
    while db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_website(url: str) -> str:
    url = url.strip()
    if url and not re.match(r"^https?://[^\s/$.?#].[^\s]*$", url, re.IGNORECASE):
        raise DomainError(_l("A website address starts with http:// or https://."),
                          field="website")
    return url


def get_by_slug(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(_l("No such organisation."))
    return org


def list_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.status == "active").order_by(Organisation.name)
        )
    )


def organisations_for(member: Member) -> list[Organisation]:
    """The organisations this member is an intermediary for."""
    return list(
        db.session.scalars(
            select(Organisation)
            .join(Intermediary)
            .where(Intermediary.member_id == member.id, Organisation.status == "active")
            .order_by(Organisation.name)
        )
    )


def create_organisation(actor: Member, data: OrganisationData, account_code: str) -> Organisation:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins add member organisations."))
    if not data.name.strip():
        raise DomainError(_l("Fill in the organisation's name."), field="name")
    code = codes.check_new(account_code)
    org = Organisation(
        slug=_unique_slug(data.name),
        name=data.name.strip(),
        account_code=code,
        description=data.description,
        website=_check_website(data.website),
    )
    db.session.add(org)
    db.session.flush()
    audit.record(actor, "organisation.create", target_type="organisation", target_id=org.slug,
                 target_label=org.name, details={"account_code": code})
    return org


def update_organisation(actor: Member, org: Organisation, data: OrganisationData) -> Organisation:
    if not org.can_act_for(actor):
        raise PermissionDenied(_l("Only the organisation's intermediaries can edit it."))
    if not data.name.strip():
        raise DomainError(_l("Fill in the organisation's name."), field="name")
    org.name = data.name.strip()
    org.description = data.description
    org.website = _check_website(data.website)
    db.session.flush()
    audit.record(actor, "organisation.edit", target_type="organisation", target_id=org.slug,
                 target_label=org.name)
    return org


def add_intermediary(actor: Member, org: Organisation, member_code: str) -> Intermediary:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins assign intermediaries."))
    try:
        member = members.get_by_code(member_code)
    except NotFound as exc:
        raise DomainError(_l("No member with that account code."), field="account_code") from exc
    if member.status not in (Status.ACTIVE, Status.LEAVING):
        raise DomainError(_l("Only active members can be intermediaries."),
                          field="account_code")
    if org.has_intermediary(member):
        raise DomainError(_l("%(name)s is already an intermediary.", name=member.display_name),
                          field="account_code")
    link = Intermediary(member_id=member.id)
    org.intermediaries.append(link)
    db.session.flush()
    audit.record(actor, "organisation.intermediary_add", target_type="organisation",
                 target_id=org.slug, target_label=org.name,
                 details={"member": member.account_code})
    return link


def remove_intermediary(actor: Member, org: Organisation, member_id: int) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins remove intermediaries."))
    link = next((i for i in org.intermediaries if i.member_id == member_id), None)
    if link is None:
        raise DomainError(_l("That member is not an intermediary of this organisation."))
    code = link.member.account_code
    org.intermediaries.remove(link)
    db.session.flush()
    audit.record(actor, "organisation.intermediary_remove", target_type="organisation",
                 target_id=org.slug, target_label=org.name, details={"member": code})


def newest(limit: int) -> list[Organisation]:
    """The newest active organisations (their pages are public)."""
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.status == "active")
            .options(lazyload(Organisation.intermediaries))  # a list of names and links
            .order_by(Organisation.created_at.desc(), Organisation.id.desc()).limit(limit)
        )
    )
