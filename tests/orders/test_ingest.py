"""orders.ingest: bulk upserts of sandbox records are idempotent, replace lines consistently,
keep the agents' fields, and store money, ids and a coarse location only."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplaces.adapter import store_api
from marketplaces.records import Order as OrderRecord
from orders.ingest import cancellations_upsert, orders_upsert, returns_upsert
from orders.models import Cancellation, CancellationLine, Order, OrderLine, Return, ReturnLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(connect_sandbox_store, tenant):
    return connect_sandbox_store(tenant=tenant)


@pytest.fixture
def page(store) -> list[OrderRecord]:
    return next(store_api(store).order_pages(page_size=50)).items


def test_storing_a_page_twice_leaves_the_same_rows(store, page, tenant):
    assert orders_upsert(store=store, orders=page) == 50
    orders = list(Order.objects.order_by("pk").values_list("pk", "public_id", "external_id"))
    lines = list(OrderLine.objects.order_by("pk").values_list("pk", "order_id", "external_id"))

    assert orders_upsert(store=store, orders=page) == 50

    assert list(Order.objects.order_by("pk").values_list("pk", "public_id", "external_id")) == (
        orders
    )
    assert list(OrderLine.objects.order_by("pk").values_list("pk", "order_id", "external_id")) == (
        lines
    )
    assert sorted(external_id for _, _, external_id in orders) == sorted(
        record.external_id for record in page
    )
    assert len(lines) == sum(len(record.lines) for record in page)
    assert set(Order.objects.values_list("tenant_id", flat=True)) == {tenant.pk}
    assert set(OrderLine.objects.values_list("tenant_id", flat=True)) == {tenant.pk}


def test_the_order_row_holds_the_records_values(store, page):
    record = page[0]
    orders_upsert(store=store, orders=[record])
    row = Order.objects.get(store=store, external_id=record.external_id)
    payment = record.payment
    assert payment is not None and record.location is not None
    assert row.status == record.status
    assert (row.placed_at, row.updated_at, row.paid_at) == (
        record.created_at,
        record.updated_at,
        record.paid_at,
    )
    assert (row.currency, row.total_amount, row.sub_total, row.tax) == (
        payment.currency,
        payment.total_amount.amount,
        payment.sub_total.amount,
        payment.tax.amount,
    )
    assert isinstance(row.total_amount, Decimal)
    assert (row.city, row.state, row.postal_code, row.country) == (
        record.location.city,
        record.location.region,
        record.location.postal_code,
        record.location.country_code,
    )
    assert row.rts_sla_at is not None
    assert int(row.rts_sla_at.timestamp()) == record.raw["rts_sla_time"]
    assert row.delivery_option_id == record.raw["delivery_option_id"]
    assert row.buyer_user_id == record.buyer_user_id
    # Lines keep their own raw; the buyer's e-mail is never stored.
    assert "line_items" not in row.raw
    assert "buyer_email" not in row.raw
    assert "buyer_email" in record.raw
    assert row.raw["id"] == record.external_id
    first = record.lines[0]
    line = row.lines.get(external_id=first.external_id)
    assert (line.sku_id, line.product_name, line.sale_price, line.currency) == (
        first.sku_id,
        first.product_name,
        first.sale_price.amount,
        first.sale_price.currency,
    )


def test_lines_are_replaced_consistently(store, page):
    record = next(r for r in page if len(r.lines) >= 2)
    orders_upsert(store=store, orders=[record])
    kept, dropped = record.lines[0], record.lines[1]
    kept_pk = OrderLine.objects.get(order__store=store, external_id=kept.external_id).pk
    repriced = dataclasses.replace(
        kept,
        sale_price=dataclasses.replace(kept.sale_price, amount=Decimal("1.23")),
        display_status="CANCELLED",
    )

    orders_upsert(store=store, orders=[dataclasses.replace(record, lines=[repriced])])

    lines = list(OrderLine.objects.filter(order__store=store))
    assert [(line.pk, line.external_id) for line in lines] == [(kept_pk, kept.external_id)]
    assert (lines[0].sale_price, lines[0].display_status) == (Decimal("1.23"), "CANCELLED")
    assert not OrderLine.objects.filter(external_id=dropped.external_id).exists()


def test_a_sync_keeps_the_agents_internal_note(store, page, owner):
    orders_upsert(store=store, orders=page[:1])
    Order.objects.update(internal_note="Call before shipping", internal_note_updated_by=owner)
    changed = dataclasses.replace(page[0], status="COMPLETED", seller_note="Packed")

    orders_upsert(store=store, orders=[changed])

    row = Order.objects.get()
    assert (row.status, row.seller_note) == ("COMPLETED", "Packed")
    assert (row.internal_note, row.internal_note_updated_by_id) == (
        "Call before shipping",
        owner.pk,
    )


def test_a_batch_with_repeats_and_a_record_without_id(store, page):
    older = dataclasses.replace(page[0], status="AWAITING_SHIPMENT")
    newer = dataclasses.replace(page[0], status="IN_TRANSIT")
    no_id = dataclasses.replace(page[1], external_id="")

    assert orders_upsert(store=store, orders=[older, no_id, newer]) == 1

    assert list(Order.objects.values_list("external_id", "status")) == [
        (page[0].external_id, "IN_TRANSIT")
    ]


def test_text_longer_than_its_column_is_cut_not_fatal(store, page):
    long_reason = "x" * 400
    orders_upsert(store=store, orders=[dataclasses.replace(page[0], cancel_reason=long_reason)])
    assert Order.objects.get().cancel_reason == "x" * 255


def test_an_empty_batch_writes_nothing(store):
    assert orders_upsert(store=store, orders=[]) == 0
    assert returns_upsert(store=store, returns=iter(())) == 0
    assert cancellations_upsert(store=store, cancellations=[]) == 0
    assert Order.objects.count() == 0


def test_returns_and_cancellations_with_lines(store):
    api = store_api(store)
    returns = [r for p in api.return_pages() for r in p.items]
    cancellations = [c for p in api.cancellation_pages() for c in p.items]

    assert returns_upsert(store=store, returns=returns) == len(returns) == 16
    assert cancellations_upsert(store=store, cancellations=cancellations) == len(cancellations)
    assert returns_upsert(store=store, returns=returns) == 16

    assert Return.objects.filter(store=store).count() == 16
    assert ReturnLine.objects.count() == sum(len(r.lines) for r in returns)
    assert Cancellation.objects.filter(store=store).count() == len(cancellations)
    assert CancellationLine.objects.count() == sum(len(c.lines) for c in cancellations)
    record = next(r for r in returns if r.refund and r.refund.total and r.seller_next_action)
    row = Return.objects.get(external_id=record.external_id)
    assert (row.order_external_id, row.status, row.return_type) == (
        record.order_id,
        record.status,
        record.return_type,
    )
    assert (row.refund_total, row.currency) == (record.refund.total.amount, record.refund.currency)
    assert (row.seller_next_action, row.seller_next_action_deadline) == (
        record.seller_next_action.action,
        record.seller_next_action.deadline,
    )
    assert row.requested_at == record.created_at
    line = record.lines[0]
    assert row.lines.get(order_line_external_id=line.order_line_item_id).external_id == (
        line.external_id
    )


@pytest.mark.postgres
def test_an_older_copy_never_overwrites_a_newer_row(store, page):
    # A backfill page fetched before a webhook refresh but committed after it.
    record = next(r for r in page if len(r.lines) >= 2)
    newer = dataclasses.replace(
        record,
        status="DELIVERED",
        updated_at=record.updated_at + timedelta(minutes=5),
        lines=record.lines[:1],
    )
    assert orders_upsert(store=store, orders=[newer]) == 1

    assert orders_upsert(store=store, orders=[record, page[1]]) == 1

    row = Order.objects.get(external_id=record.external_id)
    assert (row.status, row.updated_at) == ("DELIVERED", newer.updated_at)
    assert list(row.lines.values_list("external_id", flat=True)) == [record.lines[0].external_id]
    assert Order.objects.filter(external_id=page[1].external_id).exists()
    # The same update time is not older: it is written (a change the platform did not stamp).
    same_time = dataclasses.replace(newer, seller_note="Gift")
    assert orders_upsert(store=store, orders=[same_time]) == 1
    assert Order.objects.get(pk=row.pk).seller_note == "Gift"
