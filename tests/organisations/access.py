from __future__ import annotations

from tests.access import AD, ADMINS_ONLY, LOGIN, A, I, M, O, Table, everyone

TABLE = Table(
    routes={
        "/organisations/": everyone(200),
        "/organisations/{org}": everyone(200),
        "/organisations/{org}/edit": {A: LOGIN, M: 403, I: 200, AD: 200, O: 403},
        "/admin/organisations/new": ADMINS_ONLY,
        "/admin/organisations/{org}": ADMINS_ONLY,
    },
    post_only={"/admin/organisations/<slug>/remove"},
    rules={
        "/organisations/<slug>": "/organisations/{org}",
        "/organisations/<slug>/edit": "/organisations/{org}/edit",
        "/admin/organisations/<slug>": "/admin/organisations/{org}",
    },
)
