"""Database helpers the ORM lacks.

`rows_update` writes many loaded rows, each with its own values, in one statement. Django's
`bulk_update` does the same with a CASE expression per field, which it builds and resolves in
Python for every row: about 3 ms per ticket, more than everything else a webhook burst costs.
On PostgreSQL this is one `UPDATE … FROM (VALUES …)`; elsewhere (SQLite in the default test run)
it is `bulk_update`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet


def _cast_type(column: Field, connection: BaseDatabaseWrapper) -> str:
    """The column's type for casting its VALUES entry; varchar without its length, so that a
    value too long for the column is refused by the assignment instead of cut by the cast."""
    return re.sub(r"^varchar\(\d+\)$", "varchar", column.db_type(connection) or "")


def rows_update(queryset: QuerySet, rows: Sequence[Model], fields: Sequence[str]) -> int:
    """Saves `fields` of `rows` in one statement; only rows `queryset` matches are written (so a
    filter such as "still claimed by this worker" holds). Returns the number of rows written.

    Like `bulk_update`: no `save()`, no signals, `auto_now` fields are not touched (set them).
    """
    if not rows:
        return 0
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.bulk_update(rows, fields)
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    row_sql = "(" + ", ".join(["%s"] * (1 + len(columns))) + ")"
    params: list[object] = []
    for row in rows:
        params.append(pk.get_db_prep_value(row.pk, connection))
        params.extend(
            column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns
        )
    names = ", ".join(["pk", *(f"c{n}" for n in range(len(columns)))])
    assignments = ", ".join(
        f"{quote(column.column)} = v.c{n}::{_cast_type(column, connection)}"
        for n, column in enumerate(columns)
    )
    matched_sql, matched_params = (
        queryset.filter(pk__in=[row.pk for row in rows])
        .values("pk")
        .query.get_compiler(connection=connection)
        .as_sql()
    )
    table = quote(meta.db_table)
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - names come from the model
        f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({names}) "
        f"WHERE {table}.{quote(pk.column)} = v.pk::{pk.db_type(connection)} "
        f"AND {table}.{quote(pk.column)} IN ({matched_sql})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *matched_params])
        return cursor.rowcount
