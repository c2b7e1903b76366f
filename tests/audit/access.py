from __future__ import annotations

from tests.access import ADMINS_ONLY, Table

TABLE = Table(routes={"/admin/audit": ADMINS_ONLY})
