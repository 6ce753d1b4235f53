"""Order, cancellation, return and product webhooks (types 1, 11, 12; 5, 15, 16): refresh the
one record at once.

The notification only says that something changed; the handlers read the current state from the
API (order detail by id, cancellation/return search by order id) and upsert it, so a late, repeated
or reordered notification still leaves the latest state. A cancellation or return usually moves
the order's status too, so those refresh the order as well.

Registered in the marketplaces webhook registry (imported from `OrdersConfig.ready()`); the
webhook task runs them inside its transaction and records the sentence they return.
"""

from __future__ import annotations

from typing import Any

from marketplaces.adapter import StoreAPI, store_api
from marketplaces.models import Store, StoreStatus, WebhookEvent
from marketplaces.records import WebhookType
from marketplaces.services import register_webhook_handler

from . import catalog, ingest


def _order_id(event: WebhookEvent) -> str:
    data: Any = event.payload.get("data")
    value = data.get("order_id") if isinstance(data, dict) else None
    if value in (None, ""):
        raise ValueError("The notification carries no order_id.")
    return str(value)  # ids are strings, even when sent as a number


def _paused(store: Store) -> str | None:
    if store.status != StoreStatus.ACTIVE:
        return f"Ignored: sync is paused ({store.get_status_display().lower()})."
    return None


def _refresh_order(api: StoreAPI, store: Store, order_id: str) -> str:
    orders = api.orders_by_id([order_id])
    if not orders:
        return f"Order {order_id} was not found."
    ingest.orders_upsert(store=store, orders=orders)
    return f"Order {order_id} refreshed ({orders[0].status})."


@register_webhook_handler(WebhookType.ORDER_STATUS_CHANGE)
def order_status_changed(event: WebhookEvent, store: Store) -> str:
    if paused := _paused(store):
        return paused
    return _refresh_order(store_api(store), store, _order_id(event))


@register_webhook_handler(WebhookType.CANCELLATION_STATUS_CHANGE)
def cancellation_status_changed(event: WebhookEvent, store: Store) -> str:
    if paused := _paused(store):
        return paused
    order_id = _order_id(event)
    api = store_api(store)
    stored = sum(
        ingest.cancellations_upsert(store=store, cancellations=page.items)
        for page in api.cancellation_pages(order_ids=[order_id])
    )
    return f"{stored} cancellation(s) of order {order_id} refreshed. " + _refresh_order(
        api, store, order_id
    )


@register_webhook_handler(WebhookType.RETURN_STATUS_CHANGE)
def return_status_changed(event: WebhookEvent, store: Store) -> str:
    if paused := _paused(store):
        return paused
    order_id = _order_id(event)
    api = store_api(store)
    stored = sum(
        ingest.returns_upsert(store=store, returns=page.items)
        for page in api.return_pages(order_ids=[order_id])
    )
    return f"{stored} return(s) of order {order_id} refreshed. " + _refresh_order(
        api, store, order_id
    )


def _product_id(event: WebhookEvent) -> str:
    data: Any = event.payload.get("data")
    value = data.get("product_id") if isinstance(data, dict) else None
    if value in (None, ""):
        raise ValueError("The notification carries no product_id.")
    return str(value)  # "may be a JSON number" (contract §8.3)


def product_changed(event: WebhookEvent, store: Store) -> str:
    """Types 5, 15, 16: the product is read again (detail: status, SKUs, stock, image)."""
    if paused := _paused(store):
        return paused
    product_id = _product_id(event)
    product = catalog.product_refresh(store=store, product_id=product_id)
    if product is None:
        return f"Product {product_id} no longer exists; marked deleted."
    return f"Product {product_id} refreshed ({product.status}, {product.stock} in stock)."


for _topic in (
    WebhookType.PRODUCT_STATUS_CHANGE,
    WebhookType.PRODUCT_INFORMATION_CHANGE,
    WebhookType.PRODUCT_CREATION,
):
    register_webhook_handler(_topic)(product_changed)
