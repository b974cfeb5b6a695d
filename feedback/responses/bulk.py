"""Many rows, one driver call: the inserts under group commit and imports.

Why not `conn.execute(insert(Model), rows)`: SQLAlchemy processes every parameter of every row
in Python, which costs several times the insert itself, and asyncpg's executemany runs one
INSERT per row on the server. Here rows are tuples of values already encoded for the driver by
the column types' own SQLAlchemy bind processors (so they are stored exactly as the ORM would
store them), and a caller that repeats a value across rows (the organisation, the response of
eleven answer rows) encodes it once. SQLite then gets one `executemany`; PostgreSQL one
`INSERT … SELECT … FROM unnest($1::type[], …)` whatever the number of rows.

The SQL is built from table metadata only (quoted names, compiled types), never from input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.engine import Dialect

from feedback.db import Base

Encode = Callable[[Any], Any]


@lru_cache(maxsize=64)
def _encoders(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[Encode | None, ...]:
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

    def unnest(self, first_param: int) -> tuple[str, list[Any]]:
        """PostgreSQL: `SELECT … FROM unnest($n::type[], …)` yielding the rows under their
        column names, and its parameters (numbered from `first_param`).

        A column with one value in every row goes as one scalar parameter: asyncpg encodes
        arrays element by element in Python, and such columns are most of the elements.
        """
        quote = self.dialect.identifier_preparer.quote
        params: list[Any] = []
        arrays, aliases, selected = [], [], []
        for i, name in enumerate(self.names):
            column_type = self.table.c[name].type
            # JSON travels as text and is cast, so no array codec is needed for jsonb.
            is_json = isinstance(column_type, JSON)
            kind = "text" if is_json else column_type.compile(dialect=self.dialect)
            cast = "::jsonb" if is_json else ""
            values = [row[i] for row in self.rows]
            number = first_param + len(params)
            if all(v == values[0] for v in values):
                params.append(values[0])
                selected.append(f"${number}::{kind}{cast} AS {quote(name)}")
            else:
                params.append(values)
                arrays.append(f"${number}::{kind}[]")
                aliases.append(f"c{i}")
                selected.append(f"c{i}{cast} AS {quote(name)}")
        if arrays:
            source = f"unnest({', '.join(arrays)}) AS t({', '.join(aliases)})"
        else:  # every row alike (or just one), still one row each
            source = f"generate_series(1, {len(self.rows)})"
        return f"SELECT {', '.join(selected)} FROM {source}", params  # noqa: S608


def insert(conn: Connection, rows: Rows, *, skip_conflicts_on: Sequence[str] = ()) -> int:
    """Insert `rows`; the number of rows inserted (conflicts skipped are not counted)."""
    if not rows.rows:
        return 0
    quote = rows.dialect.identifier_preparer.quote
    conflict = ""
    if skip_conflicts_on:
        conflict = f" ON CONFLICT ({', '.join(quote(n) for n in skip_conflicts_on)}) DO NOTHING"
    if rows.dialect.name == "postgresql":
        select_sql, params = rows.unnest(1)
        sql = f"INSERT INTO {rows.target()} {select_sql}{conflict}"
        return int(conn.exec_driver_sql(sql, tuple(params)).rowcount)
    marks = ", ".join("?" * len(rows.names))
    sql = f"INSERT INTO {rows.target()} VALUES ({marks}){conflict}"  # noqa: S608
    return int(conn.exec_driver_sql(sql, rows.rows).rowcount)
