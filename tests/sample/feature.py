"""A feature that exists only in the tests: one folder and no edit of any central file.

It offers a menu link, an admin link, panels on the home page, in the header, on
organisation pages and on member profiles, a demo step, a section of the member data
download and items. Tests register it with ``create_app(config, features=[FEATURE])``
(tests/sample/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template

from lets_site import features as f
from lets_site.web.security import admin_required

bp = Blueprint("sample", __name__, template_folder="templates")

# Newer than anything the tests make, so it leads "new on the site".
CREATED = datetime(2100, 1, 1, tzinfo=UTC)


@bp.route("/sample/")
def index() -> str:
    return render_template("sample/index.html")


@bp.route("/admin/sample")
@admin_required
def admin() -> str:
    return render_template("sample/index.html")


def items(viewer: Any, limit: int) -> list[f.Item]:
    found = [f.Item(id="urn:sample:public", kind="sample", title="Sample public item",
                    url=f.item_url("sample.index"), visibility=f.PUBLIC,
                    created=CREATED, updated=CREATED)]
    if viewer is not None:
        found.append(f.Item(id="urn:sample:members", kind="sample", title="Sample members item",
                            url=f.item_url("sample.index"), visibility=f.MEMBERS_ONLY,
                            created=CREATED, updated=CREATED))
    return found[:limit]


def _demo(ctx: f.DemoContext) -> None:
    # Runs after the features listed before it: their data is there.
    ctx.made["sample"] = len(ctx.made["members"])
    ctx.logins.append(("sample", "SAMPLE", "sample@example.org", "-"))


FEATURE = f.Feature(
    name="sample",
    blueprint=bp,
    menu=[f.MenuLink("sample.index", "Sample menu link", order=15)],
    admin=[f.AdminLink("sample.admin", "Sample admin link", order=5, count=lambda: 42)],
    panels=[
        f.Panel(f.HOME, "sample/_home.html",
                lambda _s, viewer: {"who": viewer.display_name if viewer else "visitor"}),
        f.Panel(f.HEADER, "sample/_header.html", lambda _s, _v: {}),
        f.Panel(f.ORGANISATION, "sample/_organisation.html",
                lambda org, _v: {"name": org.name}),
        f.Panel(f.PROFILE, "sample/_profile.html",
                lambda member, _v: {"code": member.account_code}),
    ],
    demo=f.DemoStep(99, _demo),
    export=f.ExportSection("sample", lambda member: {"code": member.account_code}),
    items=items,
)
