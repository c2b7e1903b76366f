from __future__ import annotations

from tests.access import ADMINS_ONLY, MEMBERS_ONLY, Table

TABLE = Table(
    routes={
        "/members/me/notifications": MEMBERS_ONLY,
        "/admin/notifications": ADMINS_ONLY,
        "/admin/notifications/undeliverable": ADMINS_ONLY,
    },
    post_only={
        "/admin/notifications/undeliverable/<int:mail_id>/retry",
        "/admin/notifications/flags/<int:member_id>/clear",
    },
)
