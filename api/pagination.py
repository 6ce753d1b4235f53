"""Cursor pagination for every list: keyset, opaque, stable under inserts.

A list is ordered by a view's `ordering` — fields in one direction, ending with `id` so that the
order is total (`("-last_message_at", "-id")`, `("updated_at", "id")`). The `cursor` of the next
page is the last row's values of those fields, encoded; the next page is the rows strictly after
it. No OFFSET and no COUNT: a page deep in a million rows costs what the first one does, and rows
inserted meanwhile never shift or repeat what the next page shows.

    GET /api/v1/tickets/?page_size=50
        -> {"results": [...], "next_cursor": "eyJ...", "next": "https://…/?cursor=eyJ...&…"}
    GET /api/v1/tickets/?cursor=eyJ...&page_size=50

`page_size` is 1-100 (default 50). With `updated_since`, lists that support it are ordered
oldest change first (`updated_at`, `id`), so following `next` until it is null and remembering the
newest `updated_at` seen is an incremental sync that misses nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def _encode(values: list[Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return {"t": value.isoformat()}
        if isinstance(value, UUID | Decimal):
            return str(value)
        return value

    raw = json.dumps([plain(value) for value in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    invalid = exceptions.ValidationError({"cursor": ["This cursor is not valid for this list."]})
    if len(cursor) > 512:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(values, list) or len(values) != size:
        raise invalid
    decoded: list[Any] = []
    for value in values:
        if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
            try:
                value = datetime.fromisoformat(value["t"])
            except ValueError:
                raise invalid from None
            if value.tzinfo is None:
                raise invalid
        elif not isinstance(value, str | int) or isinstance(value, bool):
            raise invalid
        decoded.append(value)
    return decoded


def _typed(queryset: QuerySet, ordering: tuple[str, ...], values: list[Any]) -> list[Any]:
    """The cursor's values as the ordering fields' types; a value of another type is a 400."""
    typed = []
    for name, value in zip(ordering, values, strict=True):
        annotation = queryset.query.annotations.get(name.lstrip("-"))
        field = (
            annotation.output_field
            if annotation is not None
            else queryset.model._meta.get_field(name.lstrip("-"))
        )
        try:
            converted = field.to_python(value)
            if converted is None:
                raise ValueError(name)
            field.get_prep_value(converted)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise exceptions.ValidationError(
                {"cursor": ["This cursor is not valid for this list."]}
            ) from None
        typed.append(converted)
    return typed


def page_size_of(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise exceptions.ValidationError(
            {"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]}
        )
    return size


def after(queryset: QuerySet, ordering: tuple[str, ...], values: list[Any]) -> QuerySet:
    """The rows strictly after `values` in `ordering`."""
    return queryset.filter(_after(ordering, values))


def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
    """One direction for all fields: a range on the first field minus the ties already passed
    (not an OR of the fields), which an index on the fields serves as one range scan. A longer
    ordering is a rank before such a pair (a search's exact matches first, in either direction):
    the rows of a later rank, or of the same rank and after the pair."""
    if len(ordering) > 2:
        rank = ordering[0].lstrip("-")
        later = "lt" if ordering[0].startswith("-") else "gt"
        return Q(**{f"{rank}__{later}": values[0]}) | (
            Q(**{rank: values[0]}) & _after(ordering[1:], values[1:])
        )
    descending = ordering[0].startswith("-")
    names = [name.lstrip("-") for name in ordering]
    first = names[0]
    bound = "lte" if descending else "gte"
    passed = "gte" if descending else "lte"
    within = Q(**{f"{first}__{bound}": values[0]})
    if len(names) == 1:
        return within & ~Q(**{first: values[0]})
    # Ties on the first field that are at or before the cursor on the second.
    return within & ~Q(**{first: values[0], f"{names[1]}__{passed}": values[1]})


class KeysetPagination(BasePagination):
    """The view sets `ordering` (or answers `get_ordering()`); see the module docstring."""

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Model]:
        ordering = tuple(view.get_ordering() if hasattr(view, "get_ordering") else view.ordering)
        self.request = request
        self.ordering = ordering
        self.size = page_size_of(request)
        cursor = request.query_params.get(self.cursor_query_param, "")
        if cursor:
            values = _typed(queryset, ordering, _decode(cursor, len(ordering)))
            queryset = after(queryset, ordering, values)
        rows = list(queryset.order_by(*ordering)[: self.size + 1])
        self.has_next = len(rows) > self.size
        rows = rows[: self.size]
        self.next_cursor = None
        if self.has_next and rows:
            last = rows[-1]
            self.next_cursor = _encode([_value(last, name.lstrip("-")) for name in ordering])
        return rows

    def next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {"results": data, "next_cursor": self.next_cursor, "next": self.next_link()}
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next_cursor", "next"],
            "properties": {
                "results": schema,
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page; null on the last page.",
                },
                "next": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "The next page's URL; null on the last page.",
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The `next_cursor` of the previous page.",
                "schema": {"type": "string", "maxLength": 512},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1-{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


def _value(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


__all__ = ["KeysetPagination", "after", "page_size_of", "remove_query_param"]
