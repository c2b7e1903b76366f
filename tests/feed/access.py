from __future__ import annotations

from tests.access import ADMINS_ONLY, Table, everyone

TABLE = Table(routes={"/feed.json": everyone(200), "/feed.atom": everyone(200),
                      "/feed/spec": everyone(200), "/admin/feed": ADMINS_ONLY})
