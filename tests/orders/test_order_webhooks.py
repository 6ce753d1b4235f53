"""Webhook types 1, 11 and 12 end to end: the sandbox changes a record and pushes the signed
notification; it is posted to our intake as received, processed by the registry's handler, and
the one record is refreshed from the API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from marketplaces import tasks as marketplace_tasks
from marketplaces.adapter import store_api
from marketplaces.models import Store, StoreStatus, WebhookEvent, WebhookEventStatus
from marketplaces.services import webhook_event_process
from orders.ingest import cancellations_upsert, orders_upsert, returns_upsert
from orders.models import Cancellation, Order, Return
from tests.factories_marketplaces import WebhookEventFactory
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings, receiver):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    sandbox.set_webhook_url(receiver.url)
    return sandbox


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks, monkeypatch):
    """Posts a pushed notification to our intake; its processing task runs at once."""
    monkeypatch.setattr(
        marketplace_tasks.process_webhook_event,
        "delay",
        lambda event_id: webhook_event_process(event_id=event_id),
    )

    def send(body: bytes, authorization: str) -> WebhookEvent:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/webhooks/tiktok/",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=authorization,
            )
        assert response.status_code == 200
        return WebhookEvent.objects.get(notification_id=json.loads(body)["tts_notification_id"])

    return send


def first_with(pages: Iterator[Any], status_attr: str, status: str) -> Any:
    return next(
        item for page in pages for item in page.items if getattr(item, status_attr) == status
    )


def test_order_status_change_refreshes_the_order(sandbox, receiver, deliver, tenant, other_tenant):
    store = connect_store(sandbox, tenant=tenant)
    theirs = connect_store(sandbox, tenant=other_tenant, market="ROW")
    their_page = next(store_api(theirs).order_pages(page_size=5)).items
    orders_upsert(store=theirs, orders=their_page)
    their_rows = list(Order.objects.filter(store=theirs).values_list("pk", "status", "synced_at"))
    order = first_with(store_api(store).order_pages(page_size=100), "status", "AWAITING_SHIPMENT")
    orders_upsert(store=store, orders=[order])

    sandbox.advance_order(order.external_id)
    event = deliver(*receiver.wait_for(1, order_id=order.external_id))

    assert (event.status, event.store_id) == (WebhookEventStatus.PROCESSED, store.pk)
    assert event.result == f"Order {order.external_id} refreshed (AWAITING_COLLECTION)."
    row = Order.objects.get(store=store, external_id=order.external_id)
    assert row.status == "AWAITING_COLLECTION"
    assert Order.objects.filter(store=store).count() == 1
    assert list(Order.objects.filter(store=theirs).values_list("pk", "status", "synced_at")) == (
        their_rows
    )


def test_a_webhook_for_an_order_not_synced_yet_stores_it(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    order = next(store_api(store).order_pages(page_size=1)).items[0]
    event = WebhookEventFactory(
        type=1,
        shop_id=store.external_shop_id,
        payload={
            "type": 1,
            "tts_notification_id": "7380066284010030890",
            "shop_id": store.external_shop_id,
            "timestamp": int(time.time()),
            # The order id as a JSON number: still read as the string id.
            "data": {"order_id": int(order.external_id), "order_status": order.status},
        },
    )

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.PROCESSED

    row = Order.objects.get(store=store)
    assert (row.external_id, row.status, row.tenant_id) == (
        order.external_id,
        order.status,
        tenant.pk,
    )
    assert row.lines.count() == len(order.lines)


def test_cancellation_status_change_refreshes_the_cancellation_and_its_order(
    sandbox, receiver, deliver, tenant
):
    store = connect_store(sandbox, tenant=tenant)
    api = store_api(store)
    pending = first_with(api.cancellation_pages(), "status", "CANCELLATION_REQUEST_PENDING")
    cancellations_upsert(store=store, cancellations=[pending])

    sandbox.control("POST", f"/_sandbox/cancellations/{pending.external_id}/advance")
    event = deliver(*receiver.wait_for(11, cancel_id=pending.external_id))

    assert event.status == WebhookEventStatus.PROCESSED
    row = Cancellation.objects.get(store=store, external_id=pending.external_id)
    assert row.status == "CANCELLATION_REQUEST_SUCCESS"
    assert row.seller_next_action == ""  # the seller has nothing left to do
    in_sandbox = api.cancellation_pages(order_ids=[pending.order_id])
    assert sorted(
        Cancellation.objects.filter(store=store).values_list("external_id", flat=True)
    ) == (sorted(c.external_id for page in in_sandbox for c in page.items))
    order = Order.objects.get(store=store, external_id=pending.order_id)
    assert order.status == api.orders_by_id([pending.order_id])[0].status
    assert event.result.startswith(f"{Cancellation.objects.filter(store=store).count()} ")


def test_return_status_change_refreshes_the_return(sandbox, receiver, deliver, tenant):
    store = connect_store(sandbox, tenant=tenant)
    api = store_api(store)
    pending = first_with(api.return_pages(), "status", "RETURN_OR_REFUND_REQUEST_PENDING")
    returns_upsert(store=store, returns=[pending])

    sandbox.control("POST", f"/_sandbox/returns/{pending.external_id}/advance")
    event = deliver(*receiver.wait_for(12, return_id=pending.external_id))

    assert event.status == WebhookEventStatus.PROCESSED
    fresh = next(
        r
        for page in api.return_pages(order_ids=[pending.order_id])
        for r in page.items
        if r.external_id == pending.external_id
    )
    assert fresh.status != "RETURN_OR_REFUND_REQUEST_PENDING"
    row = Return.objects.get(store=store, external_id=pending.external_id)
    assert (row.status, row.updated_at) == (fresh.status, fresh.updated_at)
    assert Order.objects.filter(store=store, external_id=pending.order_id).count() == 1


def test_a_store_that_needs_reauthorization_ignores_order_webhooks(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    order = next(store_api(store).order_pages(page_size=1)).items[0]
    Store.objects.filter(pk=store.pk).update(status=StoreStatus.NEEDS_REAUTH)
    events = [
        WebhookEventFactory(
            type=webhook_type,
            shop_id=store.external_shop_id,
            payload={
                "type": webhook_type,
                "tts_notification_id": f"738006628401003089{webhook_type % 10}",
                "shop_id": store.external_shop_id,
                "timestamp": int(time.time()),
                "data": {"order_id": order.external_id},
            },
        )
        for webhook_type in (1, 11, 12)
    ]

    for event in events:
        assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.PROCESSED
        event.refresh_from_db()
        assert event.result == "Ignored: sync is paused (needs re-authorization)."
    assert not Order.objects.filter(store=store).exists()


def test_a_notification_without_an_order_id_fails_visibly(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    event = WebhookEventFactory(type=1, shop_id=store.external_shop_id)

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED

    event.refresh_from_db()
    assert event.last_error == "ValueError: The notification carries no order_id."
