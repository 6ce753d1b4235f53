"""Set-based writes the ORM lacks, for the hot ingest paths on PostgreSQL.

A batch travels as one JSON document that the server unpacks with `jsonb_to_recordset`: one
statement, one parameter. Django's `bulk_update` builds a CASE expression per field and row in
Python (about 3 ms a row), and its `bulk_create` quotes every value through psycopg (a third of
an ingest's CPU under the profiler); both are what other databases (SQLite in the default test
run) still use.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
from django.db import connections
from django.db.models import Field, JSONField, Model, QuerySet


def without_nul(value: Any) -> Any:
    """`value` with every U+0000 removed from its strings (and a JSON document's keys).

    PostgreSQL's text and jsonb cannot hold a NUL character (SQLite can): what comes from outside
    (a buyer's message, a webhook) loses its NULs the same way on both databases, and is stored
    rather than refused."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact: numeric parses the text
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def recordset(fields: Sequence[Field], connection: Any) -> str:
    """The column list of `jsonb_to_recordset(...) AS batch(<this>)` for these fields."""
    quote = connection.ops.quote_name
    return ", ".join(
        f"{quote(field.column)} {field.db_type(connection).split('(')[0]}" for field in fields
    )


def json_document(documents: Sequence[dict[str, Any]]) -> str:
    """The batch as the JSON text `jsonb_to_recordset` reads (datetimes, UUIDs, Decimals)."""
    try:
        return orjson.dumps(list(documents), default=_json_default).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which a platform's JSON content may hold.
        return json.dumps(list(documents), default=_any_default)


def _any_default(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _document(row: Model, fields: Sequence[Field]) -> dict[str, Any]:
    return {
        field.column: getattr(row, field.attname)
        if isinstance(field, JSONField)
        else field.get_prep_value(getattr(row, field.attname))
        for field in fields
    }


@dataclass(frozen=True)
class Computed:
    """A column `rows_update` computes in the database (PostgreSQL only) rather than copies:
    `sql` is its new value, an expression over `{table}.<columns>` and `batch.<inputs>`, whose
    values come per row pk (a row without values gets NULL inputs)."""

    column: str
    sql: str
    inputs: Mapping[str, str]  # batch column -> SQL type
    values: Mapping[Any, Mapping[str, Any]] = dataclass_field(default_factory=dict)


def rows_update(
    queryset: QuerySet,
    rows: Sequence[Model],
    fields: Sequence[str],
    *,
    computed: Sequence[Computed] = (),
) -> int:
    """Saves `fields` of `rows` in one statement; only rows `queryset` matches are written (so a
    filter such as "still claimed by this worker" holds). Returns the number of rows written.
    `computed` columns are assigned in the same statement (PostgreSQL; ignored elsewhere).

    Like `bulk_update`: no `save()`, no signals, `auto_now` fields are not touched (set them).
    """
    if not rows:
        return 0
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.bulk_update(rows, fields) if fields else 0
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    table = quote(meta.db_table)
    assignments = ", ".join(
        [
            *(f"{quote(column.column)} = batch.{quote(column.column)}" for column in columns[1:]),
            *(f"{quote(extra.column)} = {extra.sql.format(table=table)}" for extra in computed),
        ]
    )
    inputs = {name: kind for extra in computed for name, kind in extra.inputs.items()}
    matched_sql, matched_params = (
        queryset.filter(pk__in=[row.pk for row in rows])
        .values("pk")
        .query.get_compiler(connection=connection)
        .as_sql()
    )
    pk = quote(meta.pk.column)
    batch_columns = recordset(columns, connection) + "".join(
        f", {quote(name)} {kind}" for name, kind in inputs.items()
    )
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - names come from the model and code
        f"FROM jsonb_to_recordset(%s::jsonb) AS batch({batch_columns}) "
        f"WHERE {table}.{pk} = batch.{pk} AND {table}.{pk} IN ({matched_sql})"
    )
    documents = []
    for row in rows:
        document = _document(row, columns)
        for extra in computed:
            document.update(extra.values.get(row.pk, {}))
        documents.append(document)
    document = json_document(documents)
    with connection.cursor() as cursor:
        cursor.execute(sql, [document, *matched_params])
        return cursor.rowcount


def rows_insert_new(model: type[Model], rows: Sequence[Model], *, conflict: str) -> list[Model]:
    """Inserts the rows that do not exist yet, in one statement on PostgreSQL; returns those it
    inserted, with their primary keys set. `conflict` is the ON CONFLICT target (column list and
    index predicate) of the unique constraint that says a row exists already.

    Elsewhere: `bulk_create(ignore_conflicts=True)`, then the rows read back by `public_id`
    (on SQLite that ignores a conflict on any unique constraint, not only `conflict`'s).
    """
    if not rows:
        return []
    connection = connections[model.objects.db]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        stored = dict(
            model.objects.filter(public_id__in=[row.public_id for row in rows]).values_list(
                "public_id", "pk"
            )
        )
    else:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        columns = ", ".join(quote(field.column) for field in fields)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - from the model
            f"SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) "
            f"AS batch({recordset(fields, connection)}) "
            f"ON CONFLICT {conflict} DO NOTHING "
            f"RETURNING {quote(meta.get_field('public_id').column)}, {quote(meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [json_document([_document(row, fields) for row in rows])])
            stored = dict(cursor.fetchall())
    inserted = []
    for row in rows:
        pk = stored.get(row.public_id)
        if pk is not None:
            row.pk = pk
            row._state.adding = False
            row._state.db = connection.alias
            inserted.append(row)
    return inserted
