"""Reads about orders, returns and cancellations. Every function takes the tenant explicitly.

Pass the viewer's `membership` wherever a person is looking: an agent limited to some stores then
sees only those stores' records, and anything else is a 404 like another tenant's object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connections
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from marketplaces.models import Store
from marketplaces.selectors import allowed_store_ids
from tenants.models import Membership, Tenant

from . import catalog_search
from .models import (
    Cancellation,
    CancellationLine,
    Coupon,
    Order,
    OrderLine,
    OrderTracking,
    Product,
    ProductSku,
    ProductStatus,
    Return,
    ReturnLine,
)


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such order.") from exc


def _visible(queryset: QuerySet, *, tenant: Tenant, membership: Membership | None) -> QuerySet:
    queryset = queryset.filter(tenant=tenant)
    if membership is None:
        return queryset
    if membership.tenant_id != tenant.pk:
        return queryset.none()
    allowed = allowed_store_ids(membership)
    return queryset if allowed is None else queryset.filter(store_id__in=allowed)


def orders_of_tenant(
    *,
    tenant: Tenant,
    membership: Membership | None = None,
    store: Store | None = None,
    status: str | None = None,
    placed_from: datetime | None = None,
    placed_before: datetime | None = None,
) -> QuerySet[Order]:
    """Newest first; filters are optional (`placed_before` is exclusive)."""
    orders = _visible(Order.objects.all(), tenant=tenant, membership=membership)
    if store is not None:
        orders = orders.filter(store=store)
    if status:
        orders = orders.filter(status=status)
    if placed_from is not None:
        orders = orders.filter(placed_at__gte=placed_from)
    if placed_before is not None:
        orders = orders.filter(placed_at__lt=placed_before)
    return orders.select_related("store").order_by("-placed_at", "-id")


def order_get(*, tenant: Tenant, public_id: object, membership: Membership | None = None) -> Order:
    """The order with its lines, or 404 (another tenant's, or a store this member cannot see)."""
    order = (
        _visible(Order.objects.all(), tenant=tenant, membership=membership)
        .select_related("store")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def tracking_of_order(*, order: Order) -> OrderTracking | None:
    """The order's stored tracking (its events as last fetched), or None if never asked for."""
    return OrderTracking.objects.filter(order=order, tenant_id=order.tenant_id).first()


def order_find(
    *, tenant: Tenant, external_id: str, membership: Membership | None = None
) -> Order | None:
    """Search by exact order id across the member's stores; None when not synced (yet)."""
    external_id = external_id.strip()
    if not external_id:
        return None
    return (
        _visible(Order.objects.all(), tenant=tenant, membership=membership)
        .select_related("store")
        .filter(external_id=external_id)
        .order_by("-placed_at")
        .first()
    )


def orders_of_buyer(
    *,
    tenant: Tenant,
    store: Store,
    buyer_user_id: str,
    exclude: Order | None = None,
    limit: int = 20,
) -> list[Order]:
    """The buyer's other orders in this store, newest first (the order page's side list)."""
    if not buyer_user_id or store.tenant_id != tenant.pk:
        return []
    orders = Order.objects.filter(tenant=tenant, store=store, buyer_user_id=buyer_user_id)
    if exclude is not None:
        orders = orders.exclude(pk=exclude.pk)
    return list(orders.prefetch_related("lines").order_by("-placed_at", "-id")[:limit])


def returns_of_order(*, tenant: Tenant, order: Order) -> QuerySet[Return]:
    return (
        Return.objects.filter(
            tenant=tenant, store_id=order.store_id, order_external_id=order.external_id
        )
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.order_by("id")))
        .order_by("-requested_at", "-id")
    )


def cancellations_of_order(*, tenant: Tenant, order: Order) -> QuerySet[Cancellation]:
    return (
        Cancellation.objects.filter(
            tenant=tenant, store_id=order.store_id, order_external_id=order.external_id
        )
        .prefetch_related(Prefetch("lines", queryset=CancellationLine.objects.order_by("id")))
        .order_by("-requested_at", "-id")
    )


def with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The same orders with their lines loaded in one more query, whatever their number (list
    pages show each order's first product)."""
    return orders.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))


# A position in a newest-first list of orders: the (placed_at, id) of an order on the page.
Cursor = tuple[datetime, int]


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    newer: Cursor | None  # pass as `after` for the page before this one; None on the first
    older: Cursor | None  # pass as `before` for the next page; None on the last


def orders_page(
    orders: QuerySet[Order], *, size: int, before: Cursor | None = None, after: Cursor | None = None
) -> OrderPage:
    """One page of `orders`, newest first, with their lines: keyset pagination on
    (placed_at, id), so a page deep in 500,000 orders costs what the first one does (no OFFSET).
    Two queries whatever `size`."""
    orders = with_lines(orders)
    if after is not None:
        at, pk = after
        # A range on placed_at (the index) minus the ties already shown; an OR would not use it.
        newer_first = orders.filter(placed_at__gte=at).exclude(placed_at=at, id__lte=pk)
        rows = list(newer_first.order_by("placed_at", "id")[: size + 1])
        has_newer, has_older = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        if before is not None:
            at, pk = before
            orders = orders.filter(placed_at__lte=at).exclude(placed_at=at, id__gte=pk)
        rows = list(orders.order_by("-placed_at", "-id")[: size + 1])
        has_newer, has_older = before is not None, len(rows) > size
        rows = rows[:size]
    if not rows:
        return OrderPage(orders=[], newer=None, older=None)
    return OrderPage(
        orders=rows,
        newer=(rows[0].placed_at, rows[0].pk) if has_newer else None,
        older=(rows[-1].placed_at, rows[-1].pk) if has_older else None,
    )


def orders_count(orders: QuerySet[Order], *, cap: int) -> int:
    """How many orders, counting no further than `cap` (an exact count of a whole tenant's
    orders is the slowest query of the list page)."""
    return orders.order_by()[:cap].count()


# --- Products and coupons -------------------------------------------------------------------------

PRODUCT_QUERY_MAX = 100
# A term matching at most this many products is selective: its matches are read through the
# trigram index and sorted, instead of walking the title index and filtering.
PRODUCT_SELECTIVE_MATCHES = 500


def products_search(
    *,
    tenant: Tenant,
    membership: Membership | None = None,
    store: Store | None = None,
    query: str = "",
    live_only: bool = True,
    after: tuple[str, int] | None = None,
    limit: int = 20,
) -> list[Product]:
    """Products by name, product id or seller SKU (one search box, any case), by title, with
    their SKUs.

    `after` is the (title, id) of the last product of the previous page. On PostgreSQL one
    statement whatever the term and `limit` (orders.catalog_search); elsewhere two queries, three
    with a search term.
    """
    products = _visible(Product.objects.all(), tenant=tenant, membership=membership)
    if store is not None:
        products = products.filter(store=store)
    if live_only:
        products = products.filter(status=ProductStatus.ACTIVATE)
    wanted = " ".join(query.split())[:PRODUCT_QUERY_MAX].lower()
    if after is not None:
        title, pk = after
        products = products.filter(Q(title__gt=title) | Q(title=title, id__gt=pk))
    if connections[products.db].vendor == "postgresql":
        return catalog_search.products_page(
            products, wanted=wanted, limit=limit, one_store=store is not None
        )
    return _products_search_orm(products, wanted=wanted, limit=limit, with_store=store is None)


def _products_search_orm(
    products: QuerySet[Product], *, wanted: str, limit: int, with_store: bool
) -> list[Product]:
    """products_search with the ORM: databases without the trigram index (SQLite in
    development), and the yardstick the PostgreSQL statement is tested against."""
    if wanted:
        # search_text is stored lower-cased (title, seller SKUs, product id): a plain LIKE
        # '%…%' on the column itself, which the trigram index serves and whose statistics let
        # the planner tell a rare term (index) from a common one (the title order, stopping at
        # the page's end). UPPER(col) LIKE … had no statistics: the planner guessed, and a rare
        # two-word term read every row in title order (117 ms at 20,000 products).
        products = products.filter(search_text__contains=wanted)
        # The planner's estimate for a phrase is poor ('%silk mask%': 152 rows expected, 35
        # found), so it walked the title index and filtered 15,777 rows (59 ms). The matches'
        # ids first, unordered (the trigram index), capped: when the term is selective the
        # page is sorted from those alone; a common term keeps the title walk, which stops at
        # the page's end.
        matches = list(
            products.order_by().values_list("id", flat=True)[: PRODUCT_SELECTIVE_MATCHES + 1]
        )
        if len(matches) <= PRODUCT_SELECTIVE_MATCHES:
            products = Product.objects.filter(id__in=matches)
    if with_store:
        products = products.select_related("store").only(*_PRODUCT_SHOWN, "store__name")
    else:
        products = products.only(*_PRODUCT_SHOWN)  # the tab's store is the ticket's
    return list(
        products.prefetch_related(Prefetch("skus", queryset=_SKUS_SHOWN)).order_by("title", "id")[
            :limit
        ]
    )


_PRODUCT_SHOWN = catalog_search.PRODUCT_SHOWN
_SKUS_SHOWN = ProductSku.objects.only(*catalog_search.SKU_SHOWN).order_by("id")


def product_get(
    *, tenant: Tenant, public_id: object, membership: Membership | None = None
) -> Product:
    product = (
        _visible(Product.objects.all(), tenant=tenant, membership=membership)
        .select_related("store")
        .prefetch_related(Prefetch("skus", queryset=ProductSku.objects.order_by("id")))
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if product is None:
        raise Http404("No such product.")
    return product


def _coupon_rank(coupon: Coupon) -> tuple[int, int, float, str]:
    """Sendable first, then ongoing ones, then by when they stop being claimable."""
    ends = coupon.claim_ends_at.timestamp() if coupon.claim_ends_at else float("inf")
    return (
        0 if coupon.can_be_sent else 1,
        0 if coupon.status == "ONGOING" else 1,
        ends,
        coupon.title,
    )


def coupons_of_tenant(
    *,
    tenant: Tenant,
    membership: Membership | None = None,
    store: Store | None = None,
    limit: int = 500,
) -> list[Coupon]:
    """Coupons, the ones that can be sent as a chat card first (one query)."""
    coupons = _visible(Coupon.objects.all(), tenant=tenant, membership=membership)
    if store is not None:
        coupons = coupons.filter(store=store)
    return sorted(coupons.select_related("store").order_by("title", "id")[:limit], key=_coupon_rank)


def coupon_get(
    *, tenant: Tenant, public_id: object, membership: Membership | None = None
) -> Coupon:
    coupon = (
        _visible(Coupon.objects.all(), tenant=tenant, membership=membership)
        .select_related("store")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if coupon is None:
        raise Http404("No such coupon.")
    return coupon
