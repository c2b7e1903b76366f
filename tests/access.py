"""Route-by-role tables: each feature keeps its own in ``tests/<feature>/access.py`` (a
``TABLE``), and the global matrix (tests/test_routes.py) gathers the tables of the features
the app lists. A new feature adds its table in its own folder.

Statuses: 200 shown; 302 sent to the login page; 403 refused; 404 hidden; 400 bad token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from tests.conftest import ROLES

LOGIN = 302
A, M, I, AD, O = ROLES  # noqa: E741 - anonymous, member, intermediary, admin, other org

MEMBERS_ONLY = {A: LOGIN, M: 200, I: 200, AD: 200, O: 200}
ADMINS_ONLY = {A: LOGIN, M: 403, I: 403, AD: 200, O: 403}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


@dataclass
class Table:
    # path template -> expected status per role. {member}, {org} etc. are filled from
    # `people` (tests/test_routes.py) and from ``values``.
    routes: dict[str, dict[str, int]] = field(default_factory=dict)
    # Routes that only accept POST: walked by their feature's tests; GET gives 405.
    post_only: set[str] = field(default_factory=set)
    # URL rule -> path template, for rules with variables.
    rules: dict[str, str] = field(default_factory=dict)
    # people -> {name: value} for the objects a feature's paths need.
    values: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def gather(feature_names: Iterable[str]) -> Table:
    """One table from the ``tests.<feature>.access`` of each feature that has one."""
    merged = Table()
    extra: list[Callable[[dict[str, Any]], dict[str, Any]]] = []
    for name in feature_names:
        try:
            module = import_module(f"tests.{name}.access")
        except ModuleNotFoundError as error:
            if error.name not in (f"tests.{name}", f"tests.{name}.access"):
                raise
            continue
        table: Table = module.TABLE
        clash = set(table.routes) & set(merged.routes)
        assert not clash, f"routes listed twice: {clash}"
        merged.routes.update(table.routes)
        merged.post_only |= table.post_only
        merged.rules.update(table.rules)
        if table.values is not None:
            extra.append(table.values)

    def values(people: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for function in extra:
            result.update(function(people))
        return result

    merged.values = values
    return merged
