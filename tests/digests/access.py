from __future__ import annotations

from tests.access import ADMINS_ONLY, Table, everyone

TABLE = Table(
    routes={
        # A link token that is not valid: a clear page for everyone, logged in or not.
        "/digest/unsubscribe/{token}": everyone(400),
        "/admin/digest": ADMINS_ONLY,
        "/admin/digest/paper": ADMINS_ONLY,
        "/admin/digest/paper/digests": ADMINS_ONLY,
    },
    post_only={"/digest/preferences/<token>", "/digest/member/<int:member_id>"},
    rules={"/digest/unsubscribe/<token>": "/digest/unsubscribe/{token}"},
)
