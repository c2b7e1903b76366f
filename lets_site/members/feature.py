"""The members feature: joining, logging in, profiles, the directory, member admin."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.extensions import login_manager
from lets_site.members import commands, demo, models, services
from lets_site.members.views import bp


def _home(_subject: Any, viewer: Any) -> dict[str, Any]:
    return {"viewer": viewer}


def _setup(_app: Flask) -> None:
    login_manager.login_view = "members.login"
    login_manager.user_loader(services.load_for_session)


# The audit log's words for what this feature records.
AUDIT_ACTIONS = {
    "member.create": _l("Added a member"),
    "member.create_admin": _l("Made an admin on the command line"),
    "member.approve": _l("Approved a membership application"),
    "member.invite": _l("Sent a new invitation"),
    "member.edit": _l("Changed a member's details"),
    "member.status": _l("Changed a member's status"),
    "member.roles": _l("Changed a member's roles"),
    "member.close_request": _l("Asked to close their account"),
    "member.export": _l("Downloaded a member's data"),
}

FEATURE = f.Feature(
    name="members",
    blueprint=bp,
    menu=[
        f.MenuLink("members.directory", _l("Members"), f.MEMBERS, order=30),
        f.MenuLink("members.me", _l("My profile"), f.MEMBERS, order=40),
        f.MenuLink("members.logout", _l("Log out"), f.MEMBERS, order=100, post=True),
        f.MenuLink("members.join", _l("Join"), f.VISITORS, order=110),
        f.MenuLink("members.login", _l("Log in"), f.VISITORS, order=120),
    ],
    admin=[
        f.AdminLink("members.admin_members", _l("Candidates to approve"), order=10,
                    values={"status": "candidate"}, count=services.count_candidates),
        f.AdminLink("members.admin_members", _l("All members"), order=11),
        f.AdminLink("members.admin_new_member", _l("Add a member"), order=12),
    ],
    panels=[f.Panel(f.HOME, "members/_home.html", _home, order=20)],
    demo=f.DemoStep(20, demo.seed),
    account_codes=services.member_code_taken,
    commands=commands.COMMANDS,
    setup=_setup,
    audit_actions=AUDIT_ACTIONS,
    notifications=(f.NotificationKind(services.NEW_CANDIDATE, _l("Someone asks to join"),
                                      audience=f.ADMINS),),
    portable=f.Portable(
        tables=(models.Member, models.MemberRole),
        # A new token at load: everybody logs in again on the new site. Password hashes
        # travel, so members keep their password.
        secret_columns={"member": ("session_token",)},
        left_out={"login_attempt": "failed logins counted for throttling; they expire"},
    ),
)
