from __future__ import annotations

from tests.access import ADMINS_ONLY, Table, everyone

TABLE = Table(routes={"/sample/": everyone(200), "/admin/sample": ADMINS_ONLY})
