"""Many rows, one driver call: the inserts under group commit and imports.

Why not `conn.execute(insert(Model), rows)`: SQLAlchemy processes every parameter of every row
in Python, which costs several times the insert itself, and asyncpg's executemany runs one
INSERT per row on the server. Here each database gets one statement whatever the number of rows:

- SQLite: one `executemany` of tuples encoded by the column types' own SQLAlchemy bind
  processors (so stored exactly as the ORM would store them); a caller that repeats a value
  across rows (the organisation, the response of eleven answer rows) encodes it once.
- PostgreSQL: `INSERT … SELECT (r->>0)::uuid, … FROM jsonb_array_elements($1)`, the rows sent as
  one JSON text that msgspec writes in C. Sending arrays instead (`unnest($1::uuid[], …)`)
  makes asyncpg encode and type-check every element in Python, which cost more than the
  whole rest of a submission.
- PostgreSQL, many rows in a transaction (imports): `stage` COPYs them (binary, encoded by
  asyncpg in C) into a temporary table emptied at each commit, and the INSERT selects from it:
  the server then neither parses JSON nor casts text per value.

The SQL is built from table metadata only (quoted names, compiled types), never from input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import JSON, Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.util import await_only

from feedback.db import Base

Encode = Callable[[Any], Any]


@lru_cache(maxsize=64)
def _encoders(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[Encode | None, ...]:
    if dialect.name == "postgresql":
        # Plain values: they travel as JSON (see `Rows.select`), which casts them itself.
        return (None,) * len(names)
    return tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)


class Rows:
    """Rows for one table's `names` columns, encoded for the connection's driver."""

    def __init__(self, conn: Connection, model: type[Base], names: Sequence[str]) -> None:
        table = model.__table__
        assert isinstance(table, Table)
        self.table = table
        self.names = tuple(names)
        self.dialect = conn.dialect
        self._encoders = _encoders(self.dialect, table, self.names)
        self._by_name = dict(zip(self.names, self._encoders, strict=True))
        self.rows: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def encode(self, name: str, value: Any) -> Any:
        """One value as the driver takes it for column `name`."""
        encode = self._by_name[name]
        return value if encode is None else encode(value)

    def add(self, *values: Any) -> None:
        """A row of values already encoded (with `encode`), in `names` order."""
        self.rows.append(values)

    def add_row(self, *values: Any) -> None:
        """A row of plain values, in `names` order."""
        self.rows.append(
            tuple(
                value if encode is None else encode(value)
                for value, encode in zip(values, self._encoders, strict=True)
            )
        )

    def target(self) -> str:
        quote = self.dialect.identifier_preparer.quote
        return f"{quote(self.table.name)} ({', '.join(quote(n) for n in self.names)})"

    def encoded(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """The first len(values) columns' values, encoded."""
        return tuple(
            value if encode is None else encode(value)
            for value, encode in zip(values, self._encoders, strict=False)
        )

    @property
    def encoders(self) -> tuple[Encode | None, ...]:
        return self._encoders

    def select(self, param: int) -> tuple[str, str]:
        """PostgreSQL: `SELECT … FROM jsonb_array_elements($param)` yielding the rows under
        their column names, and the parameter: the rows as one JSON array of arrays."""
        select_sql = _select_sql(self.dialect, self.table, self.names, param, None)
        return select_sql, msgspec.json.encode(self.rows).decode()


class ChildRows:
    """Rows that repeat their parent's columns (an answer row repeats its response's): each
    parent's values are given once with its children's.

    On PostgreSQL they travel nested, `[[parent values…, [[child values…], …]], …]`, and are
    expanded by the statement (`Rows.select`'s JSON, with a lateral join), so neither Python
    nor the JSON repeats a parent's values per child: an answer row costs no Python at all.
    On SQLite they are flat rows for `executemany`, the parent's values encoded once.
    """

    def __init__(
        self, conn: Connection, model: type[Base], parents: Sequence[str], children: Sequence[str]
    ) -> None:
        self.flat = Rows(conn, model, [*parents, *children])
        self.parent_count = len(parents)
        self.nested = conn.dialect.name == "postgresql"
        self.rows: list[Any] = []

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def dialect(self) -> Dialect:
        return self.flat.dialect

    @property
    def names(self) -> tuple[str, ...]:
        return self.flat.names

    def add(self, parent: Sequence[Any], children: Sequence[Sequence[Any]]) -> None:
        """One parent's values (plain) and its children's (plain, in `children` order)."""
        if not children:
            return
        if self.nested:
            self.rows.append([*parent, children])
            return
        encoded = self.flat.encoded(parent)
        child_encoders = self.flat.encoders[self.parent_count :]
        self.rows += [
            (
                *encoded,
                *(v if e is None else e(v) for v, e in zip(child, child_encoders, strict=True)),
            )
            for child in children
        ]

    def keep(self, column: str, values: set[Any]) -> None:
        """Keep only the rows whose parent `column` (a plain value) is in `values`."""
        i = self.flat.names.index(column)
        encoded = {self.flat.encode(column, v) for v in values}
        self.rows = [row for row in self.rows if row[i] in encoded]

    def target(self) -> str:
        return self.flat.target()

    def select(self, param: int) -> tuple[str, str]:
        """PostgreSQL: the rows, expanded, under their column names; and the parameter."""
        flat = self.flat
        select_sql = _select_sql(flat.dialect, flat.table, flat.names, param, self.parent_count)
        return select_sql, msgspec.json.encode(self.rows).decode()


def stage(conn: Connection, rows: ChildRows) -> str:
    """PostgreSQL, inside a transaction: COPY `rows` (flattened) into a temporary table of
    their columns, emptied when the transaction ends; a SELECT of them under their names.

    The COPY goes through the driver's own connection, in the transaction SQLAlchemy began
    (the CREATE below makes sure it has begun)."""
    assert rows.nested, "PostgreSQL only"
    flat = rows.flat
    quote = flat.dialect.identifier_preparer.quote
    name = f"stage_{flat.table.name}"
    columns = ", ".join(quote(n) for n in flat.names)
    create = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} ON COMMIT DELETE ROWS "  # noqa: S608
        f"AS SELECT {columns} FROM {quote(flat.table.name)} WITH NO DATA"
    )
    conn.exec_driver_sql(create)
    # Empty already, unless this transaction staged rows before (a batch redone on _Stale).
    conn.exec_driver_sql(f"DELETE FROM {quote(name)}")  # noqa: S608
    driver = conn.connection.driver_connection
    assert driver is not None
    cut = rows.parent_count
    records: list[tuple[Any, ...]] = []
    for parent in rows.rows:
        head = tuple(parent[:cut])
        records += [head + child for child in parent[cut]]  # children are (named) tuples
    await_only(driver.copy_records_to_table(name, records=records, columns=list(flat.names)))
    return f"SELECT {columns} FROM {quote(name)}"  # noqa: S608


@lru_cache(maxsize=256)
def _select_sql(
    dialect: Dialect, table: Table, names: tuple[str, ...], param: int, parents: int | None
) -> str:
    """PostgreSQL: `SELECT (r->>0)::uuid AS "id", … FROM jsonb_array_elements($param) r`.

    `parents`: the rows are nested (see ChildRows), the first `parents` columns read from the
    parent element `p` and the others from each child `c` of its last element. Built once
    per shape (compiling the column types costs more than the rest of a small batch)."""
    quote = dialect.identifier_preparer.quote

    def column(alias: str, i: int, name: str) -> str:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            return f"({alias}->{i})::jsonb AS {quote(name)}"
        return f"({alias}->>{i})::{column_type.compile(dialect=dialect)} AS {quote(name)}"

    if parents is None:
        columns = [column("r", i, name) for i, name in enumerate(names)]
        source = f"jsonb_array_elements(${param}::text::jsonb) r"
    else:
        columns = [column("p", i, name) for i, name in enumerate(names[:parents])]
        columns += [column("c", i, name) for i, name in enumerate(names[parents:])]
        source = (
            f"jsonb_array_elements(${param}::text::jsonb) p "
            f"CROSS JOIN LATERAL jsonb_array_elements(p->{parents}) c"
        )
    return f"SELECT {', '.join(columns)} FROM {source}"  # noqa: S608


def insert(
    conn: Connection, rows: Rows | ChildRows, *, skip_conflicts_on: Sequence[str] = ()
) -> int:
    """Insert `rows`; the number of rows inserted (conflicts skipped are not counted)."""
    if not rows.rows:
        return 0
    quote = rows.dialect.identifier_preparer.quote
    conflict = ""
    if skip_conflicts_on:
        conflict = f" ON CONFLICT ({', '.join(quote(n) for n in skip_conflicts_on)}) DO NOTHING"
    if rows.dialect.name == "postgresql":
        select_sql, param = rows.select(1)
        sql = f"INSERT INTO {rows.target()} {select_sql}{conflict}"
        return int(conn.exec_driver_sql(sql, (param,)).rowcount)
    marks = ", ".join("?" * len(rows.names))
    sql = f"INSERT INTO {rows.target()} VALUES ({marks}){conflict}"  # noqa: S608
    return int(conn.exec_driver_sql(sql, rows.rows).rowcount)
