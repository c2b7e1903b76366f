from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from lets_site.audit.models import AuditEntry
from lets_site.domain import PermissionDenied
from lets_site.extensions import db

if TYPE_CHECKING:
    from lets_site.members.models import Member

PAGE_SIZE = 50


def record(
    actor: Member | None,
    action: str,
    *,
    target_type: str = "",
    target_id: object = "",
    target_label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:200],
        details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def record_for_member(actor: Member | None, action: str, member: Member, **details: Any) -> None:
    record(
        actor,
        action,
        target_type="member",
        target_id=member.account_code or member.id,
        target_label=member.display_name,
        details=details,
    )


def list_entries(
    viewer: Member, *, action: str = "", page: int = 1, exact: bool = False
) -> tuple[list[AuditEntry], int]:
    """One page of the log, newest first; ``action`` filters on a key (``exact``) or on
    the start of keys ("member." for all of members)."""
    if not viewer.is_admin:
        raise PermissionDenied("admins only")
    query = select(AuditEntry)
    if action and exact:
        query = query.where(AuditEntry.action == action)
    elif action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return list(rows), total


def entries_about(target_type: str, target_id: object, limit: int = 20) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def details_of(entry: AuditEntry) -> dict[str, Any]:
    try:
        value = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
