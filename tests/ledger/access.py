from __future__ import annotations

from tests.access import AD, ADMINS_ONLY, LOGIN, MEMBERS_ONLY, A, I, M, O, Table

TABLE = Table(
    routes={
        "/ledger/": MEMBERS_ONLY,
        "/ledger/pay": MEMBERS_ONLY,
        "/ledger/requests": MEMBERS_ONLY,
        "/ledger/requests/new": MEMBERS_ONLY,
        "/ledger/payees": MEMBERS_ONLY,
        # Without a code to pick (the pick itself is tested in test_payees.py).
        "/ledger/payees/pick": {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
        "/ledger/requests/{token}/confirm": {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
        "/ledger/requests/{token}/decline": {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
        "/ledger/group": MEMBERS_ONLY,
        "/ledger/transfers/{token}": {A: LOGIN, M: 404, I: 404, AD: 404, O: 404},
        "/ledger/accounts/{member}": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/ledger/accounts/{org_code}": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
        "/ledger/accounts/{member}/statement.csv": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/ledger/accounts/{member}/print": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/admin/ledger": ADMINS_ONLY,
        "/admin/ledger/settings": ADMINS_ONLY,
        "/admin/ledger/book": ADMINS_ONLY,
        "/admin/ledger/mass": ADMINS_ONLY,
        "/admin/ledger/transfers/{token}/reverse": {A: LOGIN, M: 403, I: 403, AD: 404, O: 403},
        "/admin/ledger/accounts/{member}/limits": ADMINS_ONLY,
    },
    post_only={
        "/ledger/requests/<uid>/cancel",
    },
    rules={
        "/ledger/transfers/<uid>": "/ledger/transfers/{token}",
        "/ledger/requests/<uid>/confirm": "/ledger/requests/{token}/confirm",
        "/ledger/requests/<uid>/decline": "/ledger/requests/{token}/decline",
        "/ledger/accounts/<code>": "/ledger/accounts/{member}",
        "/ledger/accounts/<code>/statement.csv": "/ledger/accounts/{member}/statement.csv",
        "/ledger/accounts/<code>/print": "/ledger/accounts/{member}/print",
        "/admin/ledger/transfers/<uid>/reverse": "/admin/ledger/transfers/{token}/reverse",
        "/admin/ledger/accounts/<code>/limits": "/admin/ledger/accounts/{member}/limits",
    },
)
