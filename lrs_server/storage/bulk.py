"""Many rows into one table through the driver's own executemany.

SQLAlchemy's executemany builds a parameter dict per row and calls a bind processor per value; for
a 1,000-row chunk of learners (some 25 columns) and its key, decision and access-log rows that
cost more than the database's own work. Here each column's bind processor (dates and times on
SQLite; none on PostgreSQL) is looked up once and applied only to the columns that have one, and
the rows go to the driver as tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # sqlite3; psycopg


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    name: str = "",
    upsert_on: Sequence[str] = (),
) -> None:
    """INSERT ``rows`` (values in ``columns`` order) into ``table`` (or into ``name``, another table
    of the same shape). ``upsert_on``: the unique columns of an ON CONFLICT ... DO UPDATE that sets
    the other columns (the same syntax on SQLite and PostgreSQL)."""
    sql, processors = _plan(connection.dialect, table, tuple(columns), name, tuple(upsert_on))
    params = [_processed(row, processors) if processors else tuple(row) for row in rows]
    if not params:
        return
    connection.exec_driver_sql(sql, params)


@cache
def _plan(
    dialect: Dialect, table: Table, columns: tuple[str, ...], name: str, upsert_on: tuple[str, ...]
) -> tuple[str, tuple[tuple[int, Any], ...]]:
    """The INSERT's SQL and the columns' bind processors, worked out once per statement shape."""
    processors = tuple(
        (index, processor)
        for index, column in enumerate(columns)
        if (processor := table.c[column].type.bind_processor(dialect)) is not None
    )
    marks = ", ".join([_MARKS[dialect.paramstyle]] * len(columns))
    sql = f"INSERT INTO {name or table.name} ({', '.join(columns)}) VALUES ({marks})"
    if upsert_on:
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in upsert_on)
        sql += f" ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET {updates}"
    return sql, processors


def _processed(row: Sequence[Any], processors: Sequence[tuple[int, Any]]) -> tuple[Any, ...]:
    values = list(row)
    for index, processor in processors:
        values[index] = processor(values[index])
    return tuple(values)
