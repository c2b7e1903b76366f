from __future__ import annotations

from tests.access import ADMINS_ONLY, Table, everyone

TABLE = Table(
    routes={
        "/": everyone(200),
        "/language": everyone(200),
        # The tests' database was never migrated and their instance has no backup.
        "/healthz": everyone(503),
        "/admin/": ADMINS_ONLY,
        "/admin/settings": ADMINS_ONLY,
    },
)
