from __future__ import annotations

from tests.access import AD, ADMINS_ONLY, LOGIN, MEMBERS_ONLY, A, I, M, O, Table, everyone

TABLE = Table(
    routes={
        "/login": {A: 200, M: 303, I: 303, AD: 303, O: 303},
        "/join": everyone(200),
        "/join/thanks": everyone(200),
        "/password/forgot": everyone(200),
        "/password/reset/{token}": everyone(400),
        "/invitation/{token}": everyone(400),
        "/members/": MEMBERS_ONLY,
        "/members/me": {A: LOGIN, M: 303, I: 303, AD: 303, O: 303},
        "/members/me/password": MEMBERS_ONLY,
        "/members/me/close": MEMBERS_ONLY,
        "/members/{member}": MEMBERS_ONLY,
        "/members/{member}/edit": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/members/{member}/export": {A: LOGIN, M: 200, I: 403, AD: 200, O: 403},
        "/admin/members/": ADMINS_ONLY,
        "/admin/members/new": ADMINS_ONLY,
        "/admin/members/{member_id}": ADMINS_ONLY,
    },
    post_only={
        "/logout",
        "/admin/members/<int:member_id>/approve",
        "/admin/members/<int:member_id>/status",
        "/admin/members/<int:member_id>/roles",
        "/admin/members/<int:member_id>/invite",
    },
    rules={
        "/members/<code>": "/members/{member}",
        "/members/<code>/edit": "/members/{member}/edit",
        "/members/<code>/export": "/members/{member}/export",
        "/admin/members/<int:member_id>": "/admin/members/{member_id}",
        "/password/reset/<token>": "/password/reset/{token}",
        "/invitation/<token>": "/invitation/{token}",
    },
)
