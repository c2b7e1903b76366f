from __future__ import annotations

from tests.access import ADMINS_ONLY, LOGIN, Table
from tests.conftest import ROLES

A, M, I, AD, O = ROLES  # noqa: E741 - anonymous, member, intermediary, admin, other org

UNKNOWN = "/admin/import/check/" + "A" * 32

TABLE = Table(
    routes={
        "/admin/import": ADMINS_ONLY,
        "/admin/import/done": ADMINS_ONLY,
        "/admin/export": ADMINS_ONLY,
        "/admin/export.zip": ADMINS_ONLY,
        # An upload nobody made: not found, also for an admin.
        UNKNOWN: {A: LOGIN, M: 403, I: 403, AD: 404, O: 403},
    },
    post_only={"/admin/import/invite"},
    rules={"/admin/import/check/<token>": UNKNOWN},
)
