from __future__ import annotations

from tests.access import ADMINS_ONLY, Table, everyone

TABLE = Table(
    routes={
        "/": everyone(200),
        "/language": everyone(200),
        "/admin/": ADMINS_ONLY,
        "/admin/settings": ADMINS_ONLY,
    },
)
