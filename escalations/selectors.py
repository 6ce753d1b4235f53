"""Reads about escalation cases. Every function takes the tenant (and the viewer) explicitly.

A case belongs to one store: an agent limited to some stores sees only their cases, and any other
case answers 404, exactly like a case of another organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from inbox.models import Conversation, ConversationOrder, Message
from marketplaces.channel import platforms_with_orders
from marketplaces.models import Store, SyncJob
from marketplaces.selectors import allowed_store_ids, stores_visible_to
from orders.models import Cancellation, CatalogSync, Order, OrderLine, Product, Return
from orders.selectors import orders_of_tenant
from tenants.models import Membership, Tenant

from .models import Escalation, EscalationAttachment, EscalationEvent, EscalationSettings

# A ticket or an order shows at most this many of its cases (a link leads to all of them).
SHOWN_WITH_TICKET = 5


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such escalation.") from exc


def escalations_visible(*, tenant: Tenant, membership: Membership) -> QuerySet[Escalation]:
    if membership.tenant_id != tenant.pk:
        return Escalation.objects.none()
    cases = Escalation.objects.filter(tenant=tenant)
    allowed = allowed_store_ids(membership)
    return cases if allowed is None else cases.filter(store_id__in=allowed)


def is_escalatable(store: Store) -> bool:
    """Cases are about a marketplace shop (partners ask for its shop id), not an e-mail mailbox."""
    return store.platform in platforms_with_orders()


def escalation_stores(*, membership: Membership) -> QuerySet[Store]:
    """The stores this member may open cases about: the marketplace stores they serve."""
    return stores_visible_to(membership).filter(platform__in=platforms_with_orders())


def not_escalatable_message(store: Store) -> str:
    return (
        f"{store.name} is an e-mail mailbox, not a marketplace store: escalations are about a "
        "shop's problems (partners ask for its shop id). Open the case about the shop's store."
    )


@dataclass(frozen=True)
class ListFilters:
    status: str = ""
    kind: str = ""
    store: Store | None = None
    conversation: Conversation | None = None


def escalation_list(
    *, tenant: Tenant, membership: Membership, filters: ListFilters = ListFilters()
) -> QuerySet[Escalation]:
    """Newest first, with what a list row shows (its store, its ticket) in the same query."""
    cases = escalations_visible(tenant=tenant, membership=membership)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.store is not None:
        cases = cases.filter(store=filters.store)
    if filters.conversation is not None:
        cases = cases.filter(conversation=filters.conversation)
    # Only what a row shows: not the values (JSON), nor the store's tokens and sync state.
    return (
        cases.select_related("store", "conversation")
        .only(
            "public_id",
            "kind",
            "status",
            "summary",
            "created_at",
            "store__name",
            "store__external_shop_id",
            "conversation__public_id",
            "conversation__number",
        )
        .order_by("-created_at", "-id")
    )


def escalation_page_ids(cases: QuerySet[Escalation]) -> QuerySet[Escalation, int]:
    """The ids of `escalation_list(...)` in its order, for the Paginator to count and slice: a
    page deep in the list is read from the (tenant, -created_at, -id) index alone (OFFSET over
    ids), not from a join of every case with its store and ticket sorted before the OFFSET."""
    return cases.values_list("pk", flat=True)


def escalations_in_order(cases: QuerySet[Escalation], ids: Iterable[int]) -> list[Escalation]:
    """The page's rows with what they show (`cases` is `escalation_list(...)`), in its order."""
    return list(cases.filter(pk__in=list(ids)))


def escalation_get(*, tenant: Tenant, membership: Membership, public_id: object) -> Escalation:
    """The case with its store, ticket, order and author, or 404."""
    case = (
        escalations_visible(tenant=tenant, membership=membership)
        .select_related("store", "conversation", "order", "created_by")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if case is None:
        raise Http404("No such escalation.")
    return case


def escalation_history(*, escalation: Escalation) -> list[EscalationEvent]:
    return list(
        EscalationEvent.objects.filter(tenant_id=escalation.tenant_id, escalation=escalation)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def attachments_of(*, escalation: Escalation) -> list[EscalationAttachment]:
    return list(
        EscalationAttachment.objects.filter(
            tenant_id=escalation.tenant_id, escalation=escalation
        ).order_by("id")
    )


def attachment_get(*, escalation: Escalation, public_id: object) -> EscalationAttachment:
    attachment = EscalationAttachment.objects.filter(
        tenant_id=escalation.tenant_id, escalation=escalation, public_id=_as_uuid(public_id)
    ).first()
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment


def staged_attachments(
    *, membership: Membership, public_ids: list[str]
) -> list[EscalationAttachment]:
    """Files this person uploaded with a refused form and asked to keep; anyone else's ids are
    ignored."""
    ids = []
    for value in public_ids:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not ids:
        return []
    return list(
        EscalationAttachment.objects.filter(
            tenant_id=membership.tenant_id,
            escalation=None,
            uploaded_by_id=membership.user_id,
            public_id__in=ids,
        ).order_by("id")
    )


def escalations_of_conversation(*, tenant: Tenant, conversation: Conversation) -> list[Escalation]:
    """The cases opened from this ticket, newest first (its workbench shows them): one query.
    The caller has access-checked the ticket; its cases are of its store."""
    return list(
        Escalation.objects.filter(tenant=tenant, conversation=conversation)
        .only("public_id", "kind", "status", "summary", "created_at")
        .order_by("-created_at", "-id")[:SHOWN_WITH_TICKET]
    )


def escalations_of_order(*, tenant: Tenant, order: Order) -> list[Escalation]:
    """The cases about this order (its page shows them), as above."""
    return list(
        Escalation.objects.filter(tenant=tenant, order=order)
        .only("public_id", "kind", "status", "summary", "created_at")
        .order_by("-created_at", "-id")[:SHOWN_WITH_TICKET]
    )


def escalation_settings_get(*, tenant: Tenant) -> EscalationSettings | None:
    return EscalationSettings.objects.filter(tenant=tenant).first()


# --- What Sellerdesk already knows (the pre-fill) -------------------------------------------


def _orders_with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("store").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def ticket_orders(*, tenant: Tenant, conversation: Conversation) -> list[Order]:
    """The orders a ticket is about: those linked to it, oldest link first; without any, the
    buyer's newest order in the ticket's store."""
    linked_ids = list(
        ConversationOrder.objects.filter(tenant=tenant, conversation=conversation)
        .order_by("created_at", "id")
        .values_list("order_external_id", flat=True)
    )
    store_orders = Order.objects.filter(tenant=tenant, store_id=conversation.store_id)
    if linked_ids:
        found = {
            o.external_id: o
            for o in _orders_with_lines(store_orders.filter(external_id__in=linked_ids))
        }
        return [found[i] for i in linked_ids if i in found]
    buyer = conversation.customer.buyer_user_id if conversation.customer_id else ""
    if not buyer:
        return []
    newest = _orders_with_lines(store_orders.filter(buyer_user_id=buyer)).order_by("-placed_at")
    return list(newest[:1])


def _last_error(store: Store) -> str:
    """The error of the store's last failed sync (orders, returns, cancellations, products) or
    authorization: the newest of them."""
    candidates: list[tuple[datetime, str]] = []
    if store.last_error and store.last_error_at:
        candidates.append((store.last_error_at, store.last_error))
    for failed in (
        SyncJob.objects.filter(tenant_id=store.tenant_id, store=store),  # orders, returns…
        CatalogSync.objects.filter(tenant_id=store.tenant_id, store=store),  # products, coupons
    ):
        row = (
            failed.exclude(last_error="")
            .exclude(last_error_at=None)
            .order_by("-last_error_at")
            .only("last_error", "last_error_at")
            .first()
        )
        if row is not None:
            candidates.append((row.last_error_at, row.last_error))
    if not candidates:
        return store.last_error or store.status_reason
    return max(candidates, key=lambda item: item[0])[1]


def _product_card_id(conversation: Conversation) -> str:
    """The product id of the newest product card in the ticket (or of the product the buyer
    came from)."""
    message = (
        Message.objects.filter(
            conversation=conversation, type__in=("PRODUCT_CARD", "BUYER_ENTER_FROM_PRODUCT")
        )
        .order_by("-created_at", "-id")
        .only("content")
        .first()
    )
    if message is None or not isinstance(message.content, dict):
        return ""
    return str(message.content.get("product_id") or "")


def _join(values: list[str]) -> str:
    return ", ".join(dict.fromkeys(v for v in values if v))


def known_facts(
    *,
    tenant: Tenant,
    store: Store,
    conversation: Conversation | None = None,
    order: Order | None = None,
) -> dict[str, Any]:
    """What a new case can be pre-filled with, keyed as `kinds.FieldSpec.prefill` names it:
    order ids, dates, tracking number, SKUs and product ids of the ticket's or the order's
    orders, the last failed sync or authorization's error, the return or cancellation."""
    orders = [order] if order is not None else []
    if conversation is not None and order is None:
        orders = ticket_orders(tenant=tenant, conversation=conversation)
    facts: dict[str, Any] = {}
    error = _last_error(store)
    if error:
        facts["store.error"] = error
        facts["store.authorization_error"] = store.status_reason or error
    elif store.status_reason:
        facts["store.authorization_error"] = store.status_reason
    if orders:
        first = orders[0]
        facts["order.external_id"] = first.external_id
        facts["order.public_id"] = str(first.public_id)
        facts["order.placed_at"] = first.placed_at
        if first.tracking_number:
            facts["order.tracking_number"] = first.tracking_number
        if len(orders) > 1:
            facts["orders.external_ids"] = "\n".join(o.external_id for o in orders)
        lines = [line for o in orders for line in o.lines.all()]
        for key, values in (
            ("product.name", [line.product_name for line in lines]),
            ("product.id", [line.product_id for line in lines]),
            ("product.seller_sku", [line.seller_sku for line in lines]),
        ):
            if _join(values):
                facts[key] = _join(values)
        product_ids = list(dict.fromkeys(line.product_id for line in lines if line.product_id))
        if len(product_ids) == 1:
            product = (
                Product.objects.filter(tenant=tenant, store=store, external_id=product_ids[0])
                .only("stock")
                .first()
            )
            if product is not None:
                facts["product.stock"] = product.stock
        after_sale = _after_sale(tenant=tenant, order=first)
        if after_sale is not None:
            facts["after_sale.external_id"] = after_sale.external_id
            reason = after_sale.reason_text or after_sale.reason
            if reason:
                facts["after_sale.reason"] = reason
    if conversation is not None and "product.id" not in facts:
        product_id = _product_card_id(conversation)
        if product_id:
            facts["product.id"] = product_id
    return facts


def _after_sale(*, tenant: Tenant, order: Order) -> Return | Cancellation | None:
    newest: list[Return | Cancellation] = []
    for model in (Return, Cancellation):
        record = (
            model.objects.filter(
                tenant=tenant, store_id=order.store_id, order_external_id=order.external_id
            )
            .order_by("-requested_at", "-id")
            .first()
        )
        if record is not None:
            newest.append(record)
    return max(newest, key=lambda r: r.requested_at) if newest else None


def orders_by_external_id(
    *, tenant: Tenant, store: Store, external_ids: list[str]
) -> dict[str, Order]:
    """The case's orders that Sellerdesk has, with their lines (orders.csv): two queries."""
    if not external_ids:
        return {}
    orders = _orders_with_lines(
        orders_of_tenant(tenant=tenant).filter(store=store, external_id__in=external_ids)
    )
    return {order.external_id: order for order in orders}
