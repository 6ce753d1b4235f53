"""The Orders page's search box: the mailbox's search (search.tickets), answered with orders.

What an agent types finds the same tickets it finds in the mailbox (a ticket number, an order id,
a buyer, words the buyer wrote); the Orders page lists those tickets' orders: the orders linked to
them and their buyers' orders in their stores. An order id is also looked up exactly, in the
database only (`orders.services.order_lookup`): a GET never asks the stores; the page offers a
POST ("Look it up in your stores", `orders.services.order_fetch`) for an id not synced yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from inbox.models import ConversationOrder
from inbox.selectors import conversations_visible
from marketplaces.selectors import stores_visible_to
from orders.models import Order, OrderLine
from orders.services import OrderLookup, is_order_id, order_lookup
from tenants.models import Membership

from .query import SearchQuery, parse
from .tickets import ticket_search

# The tickets whose orders a search lists, newest activity first; and the orders shown.
MAX_TICKETS = 50
MAX_ORDERS = 100
_HAS_DIGIT = re.compile(r"\d")


@dataclass
class OrderSearch:
    query: SearchQuery
    lookup: OrderLookup | None = None  # the exact order id lookup, when the text can be one
    orders: list[Order] = field(default_factory=list)


def order_search(*, membership: Membership, text: object) -> OrderSearch:
    """The orders `text` finds for this member (only in the stores they may serve)."""
    query = parse(text)
    found = OrderSearch(query=query)
    if not query:
        return found
    tenant = membership.tenant
    token = query.text.strip()
    if (
        " " not in token
        and _HAS_DIGIT.search(token)
        and is_order_id(token)
        and not (query.buyer_label)
    ):
        found.lookup = order_lookup(membership=membership, external_id=token)
    stores = list(stores_visible_to(membership).only("pk", "region"))
    search = ticket_search(tenant=tenant, stores=stores, text=query.text)
    tickets = list(
        conversations_visible(tenant=tenant, membership=membership)
        .filter(search.matches())
        .order_by("-last_message_at", "-id")
        .values_list("pk", "customer__store_id", "customer__buyer_user_id")[:MAX_TICKETS]
    )
    match = Q(pk__in=[])
    if found.lookup is not None and found.lookup.order is not None:
        match |= Q(pk=found.lookup.order.pk)
    for _, store_id, buyer_user_id in tickets:
        if store_id is not None and buyer_user_id:
            match |= Q(store_id=store_id, buyer_user_id=buyer_user_id)
    if tickets:
        linked = ConversationOrder.objects.filter(
            tenant=tenant, conversation_id__in=[pk for pk, _, _ in tickets]
        ).values("order_external_id")
        match |= Q(external_id__in=linked)
    found.orders = list(
        Order.objects.filter(tenant=tenant, store__in=[store.pk for store in stores])
        .filter(match)
        .select_related("store")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-placed_at", "-id")[:MAX_ORDERS]
    )
    return found
