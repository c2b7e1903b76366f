"""The notifications feature: the kinds of mail members can switch off (declared by every
feature through ``Feature.notifications``), their choices, the group's defaults, the
reminders of ``lets-site notify due``, and the addresses a mail server refused."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.notifications import commands, models, receivers, services
from lets_site.notifications.forms import EmptyForm
from lets_site.notifications.views import bp

KINDS = (
    f.NotificationKind(receivers.PAYMENT_RECEIVED, _l("A payment to me")),
    f.NotificationKind(receivers.REQUEST_WAITING,
                       _l("A payment request waiting for my answer")),
    f.NotificationKind(receivers.REQUEST_ANSWERED,
                       _l("My payment request was paid or declined")),
    f.NotificationKind(receivers.NEAR_LIMIT, _l("My balance comes near its minimum")),
    f.NotificationKind(receivers.BOOK_ACCEPTED, _l("The owner said yes to my book request")),
)


def _profile(member: Any, viewer: Any) -> dict[str, Any] | None:
    """On one's own profile: the link to the notification choices."""
    if viewer is None or member.id != viewer.id:
        return None
    return {}


def _member_admin(member: Any, viewer: Any) -> dict[str, Any] | None:
    """On the admin's page of a member: their address, if a mail server refused it."""
    flag = services.flag_of(member)
    if flag is None:
        return None
    return {"flag": flag, "member": member, "form": EmptyForm()}


def _setup(app: Flask) -> None:
    app.extensions[f.NOTIFICATION_SWITCH_KEY] = services.is_on
    app.extensions[f.ADDRESS_FLAG_KEY] = services.is_flagged
    receivers.connect()


# The audit log's words for what admins do here.
AUDIT_ACTIONS = {
    "notifications.defaults": _l("Set the group's notification defaults"),
    "notifications.clear_flag": _l("Cleared the flag of an undeliverable address"),
    "notifications.retry": _l("Queued an undeliverable mail again"),
}

FEATURE = f.Feature(
    name="notifications",
    blueprint=bp,
    admin=[
        f.AdminLink("notifications.undeliverable", _l("Undeliverable mail"), order=70,
                    count=services.undeliverable_count),
        f.AdminLink("notifications.defaults", _l("Notifications: the group's defaults"),
                    order=71),
    ],
    panels=[
        f.Panel(f.PROFILE, "notifications/_profile.html", _profile, order=90),
        f.Panel(f.MEMBER_ADMIN, "notifications/_flag.html", _member_admin, order=10),
    ],
    commands=(commands.notify,),
    notifications=KINDS,
    setup=_setup,
    audit_actions=AUDIT_ACTIONS,
    portable=f.Portable(tables=(models.NotificationDefault, models.NotificationPreference,
                                models.NotificationSent, models.AddressFlag)),
)
