"""Full-text search, the same for every feature: SQLite FTS5 or PostgreSQL text search over
one text column of one table.

A feature keeps, in its table, a column of searchable text written in lower case without
accents (:func:`normalise_text`), so "cafe" finds "Café" on both databases, and describes
its index with a :class:`FullText`. The search objects are made by raw DDL, not by
models: the same statements run from the feature's migration (``install``) and from
``db.create_all()`` (:meth:`FullText.bind` adds ``after_create``/``before_drop`` events on
the table), so both give the same schema; autogenerate leaves the names starting with
``<name>`` / ``ix_<name>`` out (``register_unmanaged``).

SQLite: an external-content FTS5 table ``<name>`` kept in step by three triggers. A batch
("move and copy") migration of the table on SQLite recreates it and drops its triggers:
run ``install`` again afterwards.

Several columns, best first (``FullText(..., columns=("title", "authors", "note"))``):
FTS5 indexes each and ranks with ``bm25`` weighted by ``weights`` (kept as the table's
default ``rank``, so FTS5 still sorts the matches itself); PostgreSQL weighs them A, B, C,
D in the vector (``setweight``), and ``ts_rank`` ranks A above B above C.

PostgreSQL: a stored generated column ``<name>_vector`` = ``to_tsvector('simple', <column>)``
(not in the model: the ORM never writes it) with a GIN index ``ix_<name>``; ranking reads
the stored vector instead of parsing every matching text again.

This module belongs to the base layer: it imports no feature.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, column, event, func, literal_column, table, text
from sqlalchemy.engine import Connection

from lets_site.database import register_unmanaged

MAX_TERMS = 8
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# Up to this many distinct combining marks in a text, removing each with str.replace is
# cheaper than looking at every character.
_FEW_MARKS = 16


def normalise_text(value: str) -> str:
    """Lower case without accents: "Café" -> "cafe". Used for the search columns.

    Case-folded, decomposed (NFKD), without combining characters (canonical combining
    class other than 0). Plain ASCII text (most titles and descriptions) needs neither
    the decomposition nor the marks' removal; other text has few distinct marks (an
    acute, a grave, a cedilla ...), each removed by one ``str.replace``, instead of one
    Python step per character. The same output as ``"".join(c for c in
    normalize("NFKD", value.casefold()) if not combining(c))``
    (tests/federation/test_folding.py checks it over every code point)."""
    folded = value.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    # No combining character is below U+0300.
    marks = [c for c in set(decomposed) if c >= "\u0300" and unicodedata.combining(c)]
    if len(marks) > _FEW_MARKS:  # one pass over the text rather than one per mark
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    for mark in marks:
        decomposed = decomposed.replace(mark, "")
    return decomposed


def terms(query: str) -> list[str]:
    """The words of a search, normalised; punctuation and operators are dropped."""
    return re.findall(r"\w+", normalise_text(query))[:MAX_TERMS]


@dataclass(frozen=True)
class FullText:
    """The full-text index ``name`` over ``table_name.column_name`` (rows keyed by ``id``)."""

    name: str
    table_name: str
    column_name: str = "search_text"
    # Several columns, best first (the first is column_name when empty), and their bm25
    # weights on SQLite (PostgreSQL weighs them A, B, C, D).
    columns: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        # Names go into DDL and queries as written: only plain identifiers.
        for name in (self.name, self.table_name, self.column_name, *self.columns):
            if not _IDENTIFIER.match(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")
        if len(self.columns) > 4 or (self.columns and len(self.weights) != len(self.columns)):
            raise ValueError("up to four columns, each with its weight")
        register_unmanaged(self.name, f"ix_{self.name}")

    def _weighted_sqlite_install(self) -> tuple[str, ...]:
        n, t, cs = self.name, self.table_name, self.columns
        names = ", ".join(cs)
        new = ", ".join(f"new.{c}" for c in cs)
        old = ", ".join(f"old.{c}" for c in cs)
        weights = ", ".join(f"{w:g}" for w in self.weights)
        return (
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {n} USING fts5("
            f"{names}, content='{t}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')",
            f"INSERT INTO {n}({n}, rank) VALUES ('rank', 'bm25({weights})')",  # noqa: S608 - identifiers checked above
            f"CREATE TRIGGER IF NOT EXISTS {n}_ai AFTER INSERT ON {t} BEGIN "  # noqa: S608 - identifiers checked above
            f"INSERT INTO {n}(rowid, {names}) VALUES (new.id, {new}); END",
            f"CREATE TRIGGER IF NOT EXISTS {n}_ad AFTER DELETE ON {t} BEGIN "  # noqa: S608 - identifiers checked above
            f"INSERT INTO {n}({n}, rowid, {names}) VALUES ('delete', old.id, {old}); END",
            f"CREATE TRIGGER IF NOT EXISTS {n}_au AFTER UPDATE OF {names} ON {t} "  # noqa: S608 - identifiers checked above
            f"BEGIN INSERT INTO {n}({n}, rowid, {names}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {n}(rowid, {names}) VALUES (new.id, {new}); END",
            f"INSERT INTO {n}({n}) VALUES ('rebuild')",  # noqa: S608 - identifiers checked above
        )

    def _pg_vector(self) -> str:
        if not self.columns:
            return f"to_tsvector('simple', {self.column_name})"
        return " || ".join(f"setweight(to_tsvector('simple', {c}), '{w}')"
                           for c, w in zip(self.columns, "ABCD", strict=False))

    def sqlite_install(self) -> tuple[str, ...]:
        if self.columns:
            return self._weighted_sqlite_install()
        n, t, c = self.name, self.table_name, self.column_name
        return (
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {n} USING fts5("
            f"{c}, content='{t}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')",
            f"CREATE TRIGGER IF NOT EXISTS {n}_ai AFTER INSERT ON {t} BEGIN "  # noqa: S608 - identifiers checked above
            f"INSERT INTO {n}(rowid, {c}) VALUES (new.id, new.{c}); END",
            f"CREATE TRIGGER IF NOT EXISTS {n}_ad AFTER DELETE ON {t} BEGIN "  # noqa: S608 - identifiers checked above
            f"INSERT INTO {n}({n}, rowid, {c}) "
            f"VALUES ('delete', old.id, old.{c}); END",
            f"CREATE TRIGGER IF NOT EXISTS {n}_au AFTER UPDATE OF {c} ON {t} "  # noqa: S608 - identifiers checked above
            f"BEGIN INSERT INTO {n}({n}, rowid, {c}) "
            f"VALUES ('delete', old.id, old.{c}); "
            f"INSERT INTO {n}(rowid, {c}) VALUES (new.id, new.{c}); END",
            # Index rows that existed before the table (a no-op on an empty table).
            f"INSERT INTO {n}({n}) VALUES ('rebuild')",  # noqa: S608 - identifiers checked above
        )

    def sqlite_uninstall(self) -> tuple[str, ...]:
        n = self.name
        return (f"DROP TRIGGER IF EXISTS {n}_ai", f"DROP TRIGGER IF EXISTS {n}_ad",
                f"DROP TRIGGER IF EXISTS {n}_au", f"DROP TABLE IF EXISTS {n}")

    def pg_install(self) -> tuple[str, ...]:
        n, t = self.name, self.table_name
        return (
            f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n}_vector tsvector "
            f"GENERATED ALWAYS AS ({self._pg_vector()}) STORED",
            f"CREATE INDEX IF NOT EXISTS ix_{n} ON {t} USING gin ({n}_vector)",
        )

    def pg_uninstall(self) -> tuple[str, ...]:
        return (f"DROP INDEX IF EXISTS ix_{self.name}",
                f"ALTER TABLE {self.table_name} DROP COLUMN IF EXISTS {self.name}_vector")

    def install(self, connection: Connection) -> None:
        sqlite = connection.dialect.name == "sqlite"
        for statement in self.sqlite_install() if sqlite else self.pg_install():
            connection.exec_driver_sql(statement)

    def uninstall(self, connection: Connection) -> None:
        sqlite = connection.dialect.name == "sqlite"
        for statement in self.sqlite_uninstall() if sqlite else self.pg_uninstall():
            connection.exec_driver_sql(statement)

    def bind(self, model_table: Table) -> None:
        """Make and drop the index with the model's table (``db.create_all()``)."""

        @event.listens_for(model_table, "after_create")
        def _after_create(target: Any, connection: Connection, **kw: Any) -> None:
            self.install(connection)

        @event.listens_for(model_table, "before_drop")
        def _before_drop(target: Any, connection: Connection, **kw: Any) -> None:
            self.uninstall(connection)

    def apply(self, stmt: Select[Any], query: str, dialect: str, key: Any,
              ranked: bool = True) -> Select[Any]:
        """Restrict ``stmt`` (a select of the table's model; ``key`` its id column) to
        matches of every word (as a prefix), best match first when ``ranked``.

        On SQLite the order is FTS5's ``rank`` alone: with nothing after it, SQLite lets
        FTS5 sort the matches itself, several times faster than a sort on (rank, date) at
        100,000 rows. Equal ranks may then come in any order."""
        words = terms(query)
        if not words:
            return stmt
        if dialect == "sqlite":
            match = " ".join(f'"{w}"*' for w in words)
            fts = table(self.name, column("rowid"), column("rank"))
            stmt = stmt.join(fts, fts.c.rowid == key).where(
                text(f"{self.name} MATCH :fts_query").bindparams(fts_query=match))
            return stmt.order_by(fts.c.rank) if ranked else stmt
        tsquery = func.to_tsquery(literal_column("'simple'"),
                                  " & ".join(f"{w}:*" for w in words))
        vector = literal_column(f"{self.table_name}.{self.name}_vector")
        stmt = stmt.where(vector.op("@@")(tsquery))
        if ranked:
            stmt = stmt.order_by(func.ts_rank(vector, tsquery).desc(), key.desc())
        return stmt
