"""The common agenda's page and calendar walk an index in their order instead of sorting
the events (migration 0023_agenda_index; the plans on 20,000 events: docs/performance.md)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from lets_site.extensions import db
from tests.federation.test_agenda_budget import _fill

INDEX = "ix_federation_item_agenda_order"


def _ordered_queries(client: Any, path: str) -> list[tuple[str, Any]]:
    """The statements (and their parameters) that read the events in the page's order:
    for the page, its count (which stops at agenda.COUNT_LIMIT) and its rows; for the
    calendar, its rows and its ETag's fingerprint of them."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM federation_item" in statement and "ORDER BY federation_item.start_at" \
                in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 2, seen
    return seen


def _plan(statement: str, parameters: Any) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[3]) for row in rows)
    # A test's table is small: PostgreSQL would rather read it all and sort it. The
    # question is whether an index can give the page's order at all: with sorting
    # priced out, a plan still sorts only if no index can.
    for setting in ("enable_seqscan", "enable_sort", "enable_incremental_sort"):
        connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize("path", ["/agenda/", "/agenda/?page=3", "/agenda.ics"])
def test_the_agenda_walks_its_index_without_sorting(client: Any, app: Any, path: str) -> None:
    app.config["PAGE_CACHE_SECONDS"] = 0
    _fill(200)
    for statement, parameters in _ordered_queries(client, path):
        plan = _plan(statement, parameters)
        assert INDEX in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
