"""`order.updated` for outbound webhooks: the orders as GET /api/v1/orders/<id>/ shows them
(lines, returns, cancellations), built only when a subscription wants them.

Only a change is announced: an order seen for the first time, or one whose platform update
time moved forward. Syncs read overlapping windows and a backfill re-reads orders a webhook
already brought, so the same version of an order is stored many times; integrators get it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from integrations.events import emit_many, wanted


def order_objects(pks: Sequence[int]) -> list[dict[str, Any]]:
    from django.db.models import Prefetch

    from .api import OrderDetailSerializer
    from .models import Cancellation, Order, OrderLine, Return

    orders = {
        order.pk: order
        for order in Order.objects.select_related("store")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .filter(pk__in=pks)
    }
    keys = {(o.store_id, o.external_id) for o in orders.values()}
    stores = {store for store, _ in keys}
    ids = [external for _, external in keys]
    after = {key: {"returns": [], "cancellations": []} for key in keys}
    for model, name in ((Return, "returns"), (Cancellation, "cancellations")):
        for record in (
            model.objects.filter(store_id__in=stores, order_external_id__in=ids)
            .prefetch_related("lines")
            .order_by("-requested_at", "-id")
        ):
            key = (record.store_id, record.order_external_id)
            if key in after:
                after[key][name].append(record)
    rows = []
    for pk in pks:
        order = orders[pk]
        order.returns = after[(order.store_id, order.external_id)]["returns"]
        order.cancellations = after[(order.store_id, order.external_id)]["cancellations"]
        rows.append(dict(OrderDetailSerializer(order).data))
    return rows


def update_times_before(
    tenant_id: int, store_id: int, external_ids: Sequence[str]
) -> dict[str, datetime | None] | None:
    """The stored update time of each of these orders (absent: not stored yet), read in the
    upsert's transaction before it writes; None when no subscription wants `order.updated`
    (nothing to compare, nothing read)."""
    if not wanted(tenant_id, "order.updated"):
        return None
    from .models import Order

    return dict(
        Order.objects.filter(store_id=store_id, external_id__in=external_ids).values_list(
            "external_id", "updated_at"
        )
    )


def changed(
    before: dict[str, datetime | None] | None, external_id: str, updated_at: datetime | None
) -> bool:
    """Whether storing this version of an order changes what an integrator has seen."""
    if before is None or external_id not in before:
        return True
    stored = before[external_id]
    return stored is None or updated_at is None or updated_at > stored


def orders_updated(tenant_id: int, pks: Sequence[int]) -> None:
    if pks:
        wanted = list(pks)
        emit_many(
            tenant_id=tenant_id, event="order.updated", subjects=lambda: order_objects(wanted)
        )
