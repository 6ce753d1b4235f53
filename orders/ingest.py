"""Idempotent bulk upserts of marketplace records into orders, returns and cancellations.

Every function takes a batch (one API page, one detail call, one webhook refresh), writes it in
one transaction with a handful of queries whatever its size, and returns how many records it
stored. Inside a caller's transaction (the sync's page + checkpoint) it joins that transaction
without a savepoint: a failure rolls back the caller's whole unit, which is what it wants.

Rows are keyed on (store, external id) and lines on (parent, line id), so storing the same batch
twice leaves the same rows: the second write updates them in place. A parent's lines are
replaced consistently: lines still sent are updated, new ones inserted, lines the platform no
longer sends deleted.

Fields the agents own (`Order.internal_note*`) and the row's identity (`public_id`) are never
touched by a sync. Only a coarse location is kept: the records never carry a name, street or
phone, and `raw` is the record's raw dict as the adapter cleaned it.

Each upsert returns the primary keys of its rows, which is what lets lines be attached without a
read per order (see `_upsert` for the PostgreSQL path, written for the backfill's throughput).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from config.db import json_document, recordset
from marketplaces import records
from marketplaces.models import Store

from . import events as order_events
from .models import Cancellation, CancellationLine, Order, OrderLine, Return, ReturnLine

logger = logging.getLogger(__name__)

R = TypeVar("R")
Row = dict[str, Any]  # column values of one row, by attname

# Order fields the typed record does not carry yet, read from its raw dict (Unix seconds / text,
# contract §4.2). Listed here so that a missing key simply leaves the column empty.
_RAW_ORDER_TIMES = {
    "cancel_requested_at": "request_cancel_time",
    "rts_at": "rts_time",
    "collected_at": "collection_time",
    "rts_sla_at": "rts_sla_time",
    "tts_sla_at": "tts_sla_time",
    "collection_due_at": "collection_due_time",
    "delivery_sla_at": "delivery_sla_time",
    "cancel_order_sla_at": "cancel_order_sla_time",
}
_PERSONAL_RAW_KEYS = ("buyer_email",)
_RAW_ORDER_TEXTS = {
    "delivery_option_id": "delivery_option_id",
    "delivery_type": "delivery_type",
    "warehouse_id": "warehouse_id",
}


def _fields_to_update(model: type[models.Model], *, keep: Iterable[str]) -> list[str]:
    """Concrete columns a re-sync overwrites: all but the key, identity and `keep`."""
    skip = {"id", "public_id", *keep}
    return [
        field.name
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in skip
    ]


def _max_lengths(model: type[models.Model]) -> dict[str, int]:
    return {
        field.attname: field.max_length
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField) and field.max_length
    }


_ORDER_UPDATE = _fields_to_update(
    Order,
    keep=(
        "tenant",
        "store",
        "external_id",
        "internal_note",
        "internal_note_updated_at",
        "internal_note_updated_by",
    ),
)
_ORDER_LINE_UPDATE = _fields_to_update(OrderLine, keep=("tenant", "order", "external_id"))
_RETURN_UPDATE = _fields_to_update(Return, keep=("tenant", "store", "external_id"))
_RETURN_LINE_UPDATE = _fields_to_update(
    ReturnLine, keep=("tenant", "return_request", "external_id")
)
_CANCELLATION_UPDATE = _fields_to_update(Cancellation, keep=("tenant", "store", "external_id"))
_CANCELLATION_LINE_UPDATE = _fields_to_update(
    CancellationLine, keep=("tenant", "cancellation", "external_id")
)
_MAX_LENGTHS: dict[type[models.Model], dict[str, int]] = {
    model: _max_lengths(model)
    for model in (Order, OrderLine, Return, ReturnLine, Cancellation, CancellationLine)
}


# --- Small conversions ----------------------------------------------------------------------------


def _amount(money: records.Money | None) -> Decimal | None:
    return money.amount if money is not None else None


def _raw_time(raw: dict[str, Any], key: str) -> datetime | None:
    value = raw.get(key)
    try:
        seconds = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _raw_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value)


def _row(model: type[models.Model], **values: Any) -> Row:
    """Column values with text cut to its column (a long reason must not fail a whole page)."""
    for name, limit in _MAX_LENGTHS[model].items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
    return values


def _latest_by_id(items: Iterable[R], key: Callable[[R], str | None], kind: str) -> list[R]:
    """One record per id (the last one sent wins); records without an id are skipped."""
    by_id: dict[str, R] = {}
    for item in items:
        external_id = key(item)
        if not external_id:
            logger.warning("Skipping a %s without an id.", kind)
            continue
        by_id[external_id] = item
    return list(by_id.values())


# --- The upsert -----------------------------------------------------------------------------------


class Upserted(NamedTuple):
    # In the order of the rows given; None for a row skipped because the stored one is newer.
    pks: list[int | None]
    all_new: bool  # every row was inserted (none existed): they cannot have old lines

    @property
    def stored(self) -> list[int]:
        return [pk for pk in self.pks if pk is not None]


def _upsert(
    model: type[models.Model],
    rows: list[Row],
    *,
    unique_fields: list[str],
    update_fields: list[str],
    unless_older: str | None = None,
) -> Upserted:
    """INSERT ... ON CONFLICT DO UPDATE of `rows`; returns their primary keys in order.

    With `unless_older` (the platform's update time), PostgreSQL leaves a stored row alone when
    the incoming one is older: a backfill page fetched before a webhook's refresh but committed
    after it cannot undo the newer state. Such rows come back as None.

    On PostgreSQL the whole batch travels as one JSON document that the server unpacks with
    jsonb_to_recordset: one statement, one parameter, and no per-value quoting on our side (the
    array parameters of Django's UNNEST insert cost more CPU than the rest of the sync). Other
    databases use `bulk_create(update_conflicts=True)`, which sets the keys on SQLite 3.35+.
    """
    if not rows:
        return Upserted([], True)
    if connection.vendor == "postgresql":
        return _upsert_postgresql(
            model,
            rows,
            unique_fields=unique_fields,
            update_fields=update_fields,
            unless_older=unless_older,
        )
    instances = [model(**row) for row in rows]
    model.objects.bulk_create(  # type: ignore[attr-defined]
        instances,
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=update_fields,
    )
    # Other databases (SQLite: tests, local runs without PostgreSQL) write last-come.
    return Upserted([instance.pk for instance in instances], False)


# UUID columns whose value, when a row leaves it out, PostgreSQL generates (gen_random_uuid()).
_SERVER_UUIDS = frozenset({"public_id"})


def _upsert_postgresql(
    model: type[models.Model],
    rows: list[Row],
    *,
    unique_fields: list[str],
    update_fields: list[str],
    unless_older: str | None,
) -> Upserted:
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    record_type = recordset(fields, connection)
    unique = [meta.get_field(name) for name in unique_fields]
    unique_columns = ", ".join(quote(field.column) for field in unique)
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in (meta.get_field(name).column for name in update_fields)
    )
    table = quote(meta.db_table)
    condition = ""
    if unless_older:
        column = quote(meta.get_field(unless_older).column)
        condition = (
            f" WHERE {table}.{column} IS NULL OR EXCLUDED.{column} IS NULL"
            f" OR {table}.{column} <= EXCLUDED.{column}"
        )
    # A new row's public_id is drawn by the server (one urandom call per row costs more here).
    selected = ", ".join(
        f"COALESCE(batch.{quote(field.column)}, gen_random_uuid())"
        if field.column in _SERVER_UUIDS
        else f"batch.{quote(field.column)}"
        for field in fields
    )
    # xmax is 0 on a row version this statement inserted, not on one it updated.
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608 (names from the model)
        f"SELECT {selected} FROM jsonb_to_recordset(%s::jsonb) AS batch({record_type}) "
        f"ON CONFLICT ({unique_columns}) DO UPDATE SET {updates}{condition} "
        f"RETURNING {quote(meta.pk.column)}, (xmax = 0), {unique_columns}"
    )
    # Rows are keyed by attname; fill in the model defaults (public_id, internal note...).
    missing = [
        field
        for field in fields
        if field.attname not in rows[0] and field.column not in _SERVER_UUIDS
    ]
    renamed = [field for field in fields if field.attname != field.column]
    documents = []
    for row in rows:
        document = dict(row)
        for field in missing:
            document[field.column] = field.get_default()
        for field in renamed:
            document[field.column] = document.pop(field.attname)
        documents.append(document)
    payload = json_document(documents)
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        found = cursor.fetchall()
    keys = {tuple(item[2:]): item[0] for item in found}
    return Upserted(
        [keys.get(tuple(row[field.attname] for field in unique)) for row in rows],
        all(item[1] for item in found),
    )


def _replace_lines(
    model: type[models.Model],
    *,
    parent_field: str,
    parents: Upserted,
    lines: list[Row],
    update_fields: list[str],
) -> None:
    """Upsert `lines` and delete the parents' other lines, in two queries (one when the
    parents are all new: they have no other lines)."""
    kept = _upsert(
        model, lines, unique_fields=[parent_field, "external_id"], update_fields=update_fields
    ).pks
    if parents.all_new:
        return
    stale = model.objects.filter(**{f"{parent_field}_id__in": parents.stored})  # type: ignore[attr-defined]
    if kept:
        stale = stale.exclude(pk__in=kept)
    stale.delete()


# --- Orders ---------------------------------------------------------------------------------------


def _order_row(store: Store, record: records.Order, now: datetime) -> Row:
    raw = dict(record.raw)
    # Lines keep their own raw dict; holding them twice would only double the row.
    raw.pop("line_items", None)
    # The adapter's raw keeps the buyer's (masked) e-mail; Sellerdesk stores no contact details.
    for key in _PERSONAL_RAW_KEYS:
        raw.pop(key, None)
    payment = record.payment
    location = record.location
    placed_at = record.created_at or record.updated_at or now
    values: dict[str, Any] = {
        "tenant_id": store.tenant_id,
        "store_id": store.pk,
        "external_id": record.external_id,
        "buyer_user_id": record.buyer_user_id or "",
        "status": record.status,
        "placed_at": placed_at,
        "paid_at": record.paid_at,
        "updated_at": record.updated_at or placed_at,
        "cancelled_at": record.cancelled_at,
        "delivered_at": record.delivered_at,
        "shipping_due_at": record.shipping_due_at,
        "delivery_due_at": record.delivery_due_at,
        "currency": payment.currency if payment else "",
        "total_amount": _amount(payment.total_amount) if payment else None,
        "sub_total": _amount(payment.sub_total) if payment else None,
        "shipping_fee": _amount(payment.shipping_fee) if payment else None,
        "seller_discount": _amount(payment.seller_discount) if payment else None,
        "platform_discount": _amount(payment.platform_discount) if payment else None,
        "tax": _amount(payment.tax) if payment else None,
        "original_total_product_price": (
            _amount(payment.original_total_product_price) if payment else None
        ),
        "original_shipping_fee": _amount(payment.original_shipping_fee) if payment else None,
        "payment_method": record.payment_method_name,
        "is_cod": record.is_cod,
        "buyer_message": record.buyer_message,
        "seller_note": record.seller_note,
        "cancel_reason": record.cancel_reason,
        "cancellation_initiator": record.cancellation_initiator,
        "is_buyer_request_cancel": record.is_buyer_request_cancel,
        "is_on_hold_order": record.is_on_hold,
        "delivery_option_name": record.delivery_option_name,
        "shipping_provider": record.shipping_provider,
        "shipping_provider_id": record.shipping_provider_id or "",
        "tracking_number": record.tracking_number,
        "shipping_type": record.shipping_type,
        "fulfillment_type": record.fulfillment_type,
        "city": (location.city or "") if location else "",
        "state": (location.region or "") if location else "",
        "postal_code": (location.postal_code or "") if location else "",
        "country": (location.country_code or location.country or "") if location else "",
        "raw": raw,
        "synced_at": now,
    }
    for column, key in _RAW_ORDER_TIMES.items():
        values[column] = _raw_time(raw, key)
    for column, key in _RAW_ORDER_TEXTS.items():
        values[column] = _raw_text(raw, key)
    return _row(Order, **values)


def _order_line_row(order: Row, order_pk: int, line: records.OrderLine) -> Row:
    currency = next(
        (
            money.currency
            for money in (line.sale_price, line.original_price)
            if money is not None and money.currency
        ),
        order["currency"],
    )
    return _row(
        OrderLine,
        tenant_id=order["tenant_id"],
        order_id=order_pk,
        external_id=line.external_id,
        product_id=line.product_id or "",
        sku_id=line.sku_id or "",
        seller_sku=line.seller_sku,
        product_name=line.product_name,
        sku_name=line.sku_name,
        image_url=line.sku_image_url or "",
        currency=currency,
        original_price=_amount(line.original_price),
        sale_price=_amount(line.sale_price),
        seller_discount=_amount(line.seller_discount),
        platform_discount=_amount(line.platform_discount),
        display_status=line.display_status,
        package_id=line.package_id or "",
        package_status=line.package_status,
        tracking_number=line.tracking_number,
        shipping_provider_id=_raw_text(line.raw, "shipping_provider_id"),
        shipping_provider_name=line.shipping_provider_name,
        cancel_reason=line.cancel_reason,
        cancel_user=line.cancel_user,
        sku_type=line.sku_type,
        is_gift=line.is_gift,
        raw=line.raw,
    )


def orders_upsert(*, store: Store, orders: Iterable[records.Order]) -> int:
    """Store a batch of orders with their lines; returns how many were stored (an order older
    than the stored one is skipped, see `_upsert`)."""
    batch = _latest_by_id(orders, lambda order: order.external_id, "order")
    if not batch:
        return 0
    now = timezone.now()
    rows = [_order_row(store, record, now) for record in batch]
    with transaction.atomic(savepoint=False):
        before = order_events.update_times_before(
            store.tenant_id, store.pk, [row["external_id"] for row in rows]
        )
        parents = _upsert(
            Order,
            rows,
            unique_fields=["store", "external_id"],
            update_fields=_ORDER_UPDATE,
            unless_older="updated_at",
        )
        lines = [
            _order_line_row(row, pk, line)
            for row, pk, record in zip(rows, parents.pks, batch, strict=True)
            if pk is not None
            for line in _latest_by_id(record.lines, lambda line: line.external_id, "order line")
        ]
        _replace_lines(
            OrderLine,
            parent_field="order",
            parents=parents,
            lines=lines,
            update_fields=_ORDER_LINE_UPDATE,
        )
        order_events.orders_updated(
            store.tenant_id,
            [
                pk
                for row, pk in zip(rows, parents.pks, strict=True)
                if pk is not None
                and order_events.changed(before, row["external_id"], row["updated_at"])
            ],
        )
    return len(parents.stored)


# --- Returns and cancellations --------------------------------------------------------------------


def _refund_values(refund: records.RefundAmount | None) -> dict[str, Any]:
    return {
        "currency": refund.currency if refund else "",
        "refund_total": _amount(refund.total) if refund else None,
        "refund_subtotal": _amount(refund.subtotal) if refund else None,
        "refund_shipping_fee": _amount(refund.shipping_fee) if refund else None,
        "refund_tax": _amount(refund.tax) if refund else None,
    }


def _next_action_values(action: records.SellerAction | None) -> dict[str, Any]:
    return {
        "seller_next_action": action.action if action else "",
        "seller_next_action_deadline": action.deadline if action else None,
    }


def _after_sale_line_values(line: records.AfterSaleLine, position: int) -> dict[str, Any]:
    refund = line.refund
    return {
        "external_id": _line_id(line, position),
        "order_line_external_id": line.order_line_item_id or "",
        "product_name": line.product_name,
        "sku_id": line.sku_id or "",
        "sku_name": line.sku_name,
        "seller_sku": line.seller_sku,
        "image_url": line.product_image_url or "",
        "currency": refund.currency if refund else "",
        "refund_total": _amount(refund.total) if refund else None,
        "raw": line.raw,
    }


def _return_row(store: Store, record: records.Return, now: datetime) -> Row:
    return _row(
        Return,
        tenant_id=store.tenant_id,
        store_id=store.pk,
        external_id=record.external_id,
        order_external_id=record.order_id or "",
        return_type=record.return_type,
        status=record.status,
        arbitration_status=record.arbitration_status,
        role=record.role,
        reason=record.reason,
        reason_text=record.reason_text,
        requested_at=record.created_at or record.updated_at or now,
        updated_at=record.updated_at,
        shipment_type=_raw_text(record.raw, "shipment_type"),
        handover_method=_raw_text(record.raw, "handover_method"),
        tracking_number=record.return_tracking_number,
        shipping_provider=record.return_provider_name,
        can_buyer_keep_item=record.can_buyer_keep_item,
        raw=record.raw,
        synced_at=now,
        **_next_action_values(record.seller_next_action),
        **_refund_values(record.refund),
    )


def returns_upsert(*, store: Store, returns: Iterable[records.Return]) -> int:
    """Store a batch of returns/refund requests with their lines; returns how many were stored."""
    batch = _latest_by_id(returns, lambda item: item.external_id, "return")
    if not batch:
        return 0
    now = timezone.now()
    rows = [_return_row(store, record, now) for record in batch]
    with transaction.atomic(savepoint=False):
        parents = _upsert(
            Return,
            rows,
            unique_fields=["store", "external_id"],
            update_fields=_RETURN_UPDATE,
            unless_older="updated_at",
        )
        lines = [
            _row(
                ReturnLine,
                tenant_id=store.tenant_id,
                return_request_id=pk,
                **_after_sale_line_values(line, position),
            )
            for pk, record in zip(parents.pks, batch, strict=True)
            if pk is not None
            for position, line in _unique_lines(record.lines)
        ]
        _replace_lines(
            ReturnLine,
            parent_field="return_request",
            parents=parents,
            lines=lines,
            update_fields=_RETURN_LINE_UPDATE,
        )
    return len(parents.stored)


def _cancellation_row(store: Store, record: records.Cancellation, now: datetime) -> Row:
    return _row(
        Cancellation,
        tenant_id=store.tenant_id,
        store_id=store.pk,
        external_id=record.external_id,
        order_external_id=record.order_id or "",
        cancel_type=record.cancel_type,
        status=record.status,
        role=record.role,
        reason=record.reason,
        reason_text=record.reason_text,
        requested_at=record.created_at or record.updated_at or now,
        updated_at=record.updated_at,
        raw=record.raw,
        synced_at=now,
        **_next_action_values(record.seller_next_action),
        **_refund_values(record.refund),
    )


def cancellations_upsert(*, store: Store, cancellations: Iterable[records.Cancellation]) -> int:
    """Store a batch of cancellations with their lines; returns how many were stored."""
    batch = _latest_by_id(cancellations, lambda item: item.external_id, "cancellation")
    if not batch:
        return 0
    now = timezone.now()
    rows = [_cancellation_row(store, record, now) for record in batch]
    with transaction.atomic(savepoint=False):
        parents = _upsert(
            Cancellation,
            rows,
            unique_fields=["store", "external_id"],
            update_fields=_CANCELLATION_UPDATE,
            unless_older="updated_at",
        )
        lines = [
            _row(
                CancellationLine,
                tenant_id=store.tenant_id,
                cancellation_id=pk,
                **_after_sale_line_values(line, position),
            )
            for pk, record in zip(parents.pks, batch, strict=True)
            if pk is not None
            for position, line in _unique_lines(record.lines)
        ]
        _replace_lines(
            CancellationLine,
            parent_field="cancellation",
            parents=parents,
            lines=lines,
            update_fields=_CANCELLATION_LINE_UPDATE,
        )
    return len(parents.stored)


def _line_id(line: records.AfterSaleLine, position: int) -> str:
    """An after-sale line's own id, else the order line it refunds, else its position."""
    return line.external_id or line.order_line_item_id or f"#{position}"


def _unique_lines(
    lines: Iterable[records.AfterSaleLine],
) -> list[tuple[int, records.AfterSaleLine]]:
    """(position, line) with one line per line id, the last one sent winning."""
    by_id: dict[str, tuple[int, records.AfterSaleLine]] = {}
    for position, line in enumerate(lines, start=1):
        by_id[_line_id(line, position)] = (position, line)
    return list(by_id.values())
