"""A store's products and coupons: stored from the marketplace at connect, on a schedule, and when
a product webhook says one changed.

Products: the first pass reads every product by create-time windows (a window whose search holds
more than the platform pages through, §7.1's 10,000, is split in two first); later passes read what
changed since the previous pass began, less an overlap. A page is fetched, the detail of each
product that is new or changed since its detail was last read is fetched (search results carry no
images), and then the page and its checkpoint are written in one short transaction: a worker killed
mid-way resumes exactly after the last stored page. One worker per store, by a lease.

Coupons: few per store, read whole on every pass; a coupon the platform no longer lists is removed.
Whether each could be sent as a chat card, and why not, comes from the adapter when it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplaces import records
from marketplaces.adapter import StoreAPI, coupon_card_problems, store_api
from marketplaces.channel import NotFoundError, platforms_with_orders
from marketplaces.models import Store, StoreStatus
from tenants.safety import http_url

from .models import CatalogSync, Coupon, Product, ProductSku

logger = logging.getLogger(__name__)

PRODUCT_PAGE_SIZE = 100  # §7.1: 1-100
SEARCH_CAP = 10_000  # §7.1: search results cannot exceed 10,000 (12052180)
CHANGE_OVERLAP = timedelta(minutes=2)
LEASE = timedelta(minutes=15)
DEFAULT_INTERVAL_SECONDS = 900


def interval_seconds() -> int:
    """Seconds between a store's catalog passes (setting CATALOG_SYNC_INTERVAL_SECONDS)."""
    return int(getattr(settings, "CATALOG_SYNC_INTERVAL_SECONDS", DEFAULT_INTERVAL_SECONDS))


# --- Storing records ------------------------------------------------------------------------------


def _money(value: records.Money | None) -> Decimal | None:
    return value.amount if value is not None else None


def _sku_name(sku: records.ProductSku) -> str:
    attributes = sku.raw.get("sales_attributes") if isinstance(sku.raw, dict) else None
    names = [
        str(item.get("value_name"))
        for item in attributes or []
        if isinstance(item, dict) and item.get("value_name")
    ]
    return ", ".join(names)[:255]


def _product_values(record: records.Product) -> dict[str, Any]:
    prices = [sku.price for sku in record.skus if sku.price is not None]
    amounts = [price.amount for price in prices]
    return {
        "title": record.title[:512],
        "status": record.status[:32],
        "currency": prices[0].currency[:3] if prices else "",
        "min_price": min(amounts) if amounts else None,
        "max_price": max(amounts) if amounts else None,
        "stock": sum(sku.quantity for sku in record.skus),
        # Lower-cased once here, so the search compares plainly (see selectors.products_search).
        "search_text": "\n".join(
            [record.title, " ".join(sku.seller_sku for sku in record.skus), record.external_id]
        ).lower(),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "synced_at": timezone.now(),
    }


PRODUCT_FIELDS = [
    "title",
    "status",
    "currency",
    "min_price",
    "max_price",
    "stock",
    "search_text",
    "created_at",
    "updated_at",
    "synced_at",
    "image_url",
    "detail_updated_at",
]


def products_upsert(
    *,
    store: Store,
    products: Iterable[records.Product],
    details: dict[str, records.Product] | None = None,
) -> list[Product]:
    """Store a page of products (search results), with the detail read for some of them (their
    image, and their SKUs' names). Idempotent on (store, product id); SKUs are replaced."""
    details = details or {}
    latest: dict[str, records.Product] = {}
    for record in products:
        if record.external_id:
            latest[record.external_id] = details.get(record.external_id, record)
    if not latest:
        return []
    with transaction.atomic():
        existing = {
            product.external_id: product
            for product in Product.objects.filter(store=store, external_id__in=list(latest))
        }
        to_create, to_update = [], []
        for external_id, record in latest.items():
            values = _product_values(record)
            detail = details.get(external_id)
            if detail is not None:
                image = detail.images[0] if detail.images else None
                values["image_url"] = http_url(image.url if image else "")[:2048]
                values["detail_updated_at"] = detail.updated_at
            product = existing.get(external_id)
            if product is None:
                to_create.append(
                    Product(
                        tenant_id=store.tenant_id, store=store, external_id=external_id, **values
                    )
                )
                continue
            for name, value in values.items():
                setattr(product, name, value)
            to_update.append(product)
        Product.objects.bulk_create(to_create)
        Product.objects.bulk_update(to_update, PRODUCT_FIELDS)
        stored = [*to_create, *to_update]
        ProductSku.objects.filter(product__in=stored).delete()
        ProductSku.objects.bulk_create(
            [
                ProductSku(
                    tenant_id=store.tenant_id,
                    product=product,
                    external_id=sku.external_id[:64],
                    seller_sku=sku.seller_sku[:255],
                    name=_sku_name(sku),
                    currency=sku.price.currency[:3] if sku.price else "",
                    price=_money(sku.price),
                    list_price=_money(sku.list_price),
                    stock=sku.quantity,
                )
                for product in stored
                for sku in {s.external_id: s for s in latest[product.external_id].skus}.values()
                if sku.external_id
            ]
        )
    return stored


def _needs_detail(store: Store, page: Iterable[records.Product]) -> list[str]:
    """Products whose detail (image) was never read, or was read for an older update."""
    page = list(page)
    known = dict(
        Product.objects.filter(
            store=store, external_id__in=[record.external_id for record in page]
        ).values_list("external_id", "detail_updated_at")
    )
    return [
        record.external_id
        for record in page
        if record.external_id
        and (
            record.external_id not in known
            or known[record.external_id] is None
            or known[record.external_id] != record.updated_at
        )
    ]


def _details(api: StoreAPI, product_ids: Iterable[str]) -> dict[str, records.Product]:
    found = {}
    for product_id in product_ids:
        try:
            found[product_id] = api.product(product_id)
        except NotFoundError:
            logger.info("product %s disappeared between search and detail", product_id)
    return found


def product_refresh(*, store: Store, product_id: str) -> Product | None:
    """Read one product again (a product webhook, a card naming an unknown product)."""
    api = store_api(store)
    try:
        record = api.product(product_id)
    except NotFoundError:
        Product.objects.filter(store=store, external_id=product_id).update(
            status="DELETED", synced_at=timezone.now()
        )
        return None
    stored = products_upsert(store=store, products=[record], details={record.external_id: record})
    return stored[0] if stored else None


def _coupon_values(record: records.Coupon) -> dict[str, Any]:
    amounts = [m for m in (record.reduction_amount, record.max_discount, record.min_spend) if m]
    return {
        "title": record.title[:255],
        "display_type": record.display_type[:32],
        "status": record.status[:32],
        "creation_source": record.creation_source[:32],
        "target_buyer_segment": record.target_buyer_segment[:32],
        "promo_code": record.promo_code[:64],
        "claim_starts_at": record.claim_starts_at,
        "claim_ends_at": record.claim_ends_at,
        "redemption_ends_at": record.redemption_ends_at,
        "discount_type": record.discount_type[:32],
        "currency": amounts[0].currency[:3] if amounts else "",
        "reduction_amount": _money(record.reduction_amount),
        "percentage": record.percentage,
        "max_discount": _money(record.max_discount),
        "min_spend": _money(record.min_spend),
        "card_problems": coupon_card_problems(record),
        "raw": record.raw,
        "synced_at": timezone.now(),
    }


def coupons_replace(*, store: Store, coupons: Iterable[records.Coupon]) -> int:
    """The store's whole coupon list as the platform gave it: upserted, the others removed."""
    latest = {record.external_id: record for record in coupons if record.external_id}
    with transaction.atomic():
        for external_id, record in latest.items():
            Coupon.objects.update_or_create(
                store=store,
                external_id=external_id,
                defaults={"tenant_id": store.tenant_id, **_coupon_values(record)},
            )
        Coupon.objects.filter(store=store).exclude(external_id__in=list(latest)).delete()
    return len(latest)


# --- Passes ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogResult:
    status: str  # "done", "busy" (another worker has the lease), "skipped", "failed"
    products: int = 0
    coupons: int = 0
    error: str = ""


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _claim(store: Store, now: datetime) -> CatalogSync | None:
    state, _ = CatalogSync.objects.get_or_create(store=store, defaults={"tenant": store.tenant})
    claimed = CatalogSync.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=state.pk
    ).update(lease_until=now + LEASE)
    return CatalogSync.objects.get(pk=state.pk) if claimed else None


def _start_pass(state: CatalogSync, now: datetime) -> None:
    """The windows of a new pass: everything by create time first, then changes only."""
    if state.products_windows:
        return  # a pass is under way: resume it
    end = _seconds(now)
    if state.products_full_done and state.products_changed_since is not None:
        start = _seconds(state.products_changed_since - CHANGE_OVERLAP)
        window = {"field": "update_time", "ge": start, "le": end}
    else:
        window = {"field": "create_time", "ge": 0, "le": end}
    state.products_windows = [window]
    state.products_page_token = ""
    state.products_pass_started_at = now
    CatalogSync.objects.filter(pk=state.pk).update(
        products_windows=state.products_windows,
        products_page_token="",
        products_pass_started_at=now,
    )


def _products_pass(api: StoreAPI, store: Store, state: CatalogSync) -> int:
    stored = 0
    while state.products_windows:
        window = state.products_windows[0]
        field = window["field"]
        filters = {f"{field}_ge": window["ge"], f"{field}_le": window["le"]}
        token = state.products_page_token or None
        page = next(
            api.product_pages(page_token=token, page_size=PRODUCT_PAGE_SIZE, **filters), None
        )
        windows = list(state.products_windows)
        if (
            page is not None
            and token is None
            and (page.total_count or 0) > SEARCH_CAP
            and window["le"] > window["ge"]
        ):
            middle = (window["ge"] + window["le"]) // 2
            windows[0:1] = [
                {**window, "le": middle},
                {**window, "ge": middle + 1},
            ]
            CatalogSync.objects.filter(pk=state.pk).update(products_windows=windows)
            state.products_windows = windows
            continue
        items = page.items if page is not None else []
        details = _details(api, _needs_detail(store, items))
        next_token = page.next_page_token if page is not None else ""
        if not next_token:
            windows.pop(0)
        with transaction.atomic():
            products_upsert(store=store, products=items, details=details)
            CatalogSync.objects.filter(pk=state.pk).update(
                products_windows=windows, products_page_token=next_token
            )
        state.products_windows, state.products_page_token = windows, next_token
        stored += len(items)
    return stored


def catalog_sync(*, store_id: int, now: datetime | None = None) -> CatalogResult:
    """One pass over a store's products (resumed, or from its last change) and its coupons."""
    store = Store.objects.filter(pk=store_id, status=StoreStatus.ACTIVE).first()
    if store is None:
        return CatalogResult("skipped")
    now = now or timezone.now()
    state = _claim(store, now)
    if state is None:
        return CatalogResult("busy")
    api = store_api(store)
    try:
        _start_pass(state, now)
        products = _products_pass(api, store, state)
        coupons = [coupon for page in api.coupon_pages() for coupon in page.items]
        coupon_count = coupons_replace(store=store, coupons=coupons)
    except Exception as exc:
        logger.warning("Catalog sync of store %s failed: %s", store_id, exc)
        message = f"{type(exc).__name__}: {exc}"[:2000]
        CatalogSync.objects.filter(pk=state.pk).update(
            lease_until=None, last_error=message, last_error_at=timezone.now()
        )
        return CatalogResult("failed", error=message)
    finished = timezone.now()
    CatalogSync.objects.filter(pk=state.pk).update(
        lease_until=None,
        products_full_done=True,
        products_changed_since=state.products_pass_started_at or now,
        products_synced_at=finished,
        coupons_synced_at=finished,
        last_error="",
        last_error_at=None,
    )
    return CatalogResult("done", products=products, coupons=coupon_count)


def catalogs_due(*, now: datetime | None = None) -> list[int]:
    """Active stores whose last catalog pass finished more than the interval ago (or never)."""
    now = now or timezone.now()
    recent = CatalogSync.objects.filter(
        products_synced_at__gt=now - timedelta(seconds=interval_seconds())
    ).values("store_id")
    return list(
        Store.objects.filter(status=StoreStatus.ACTIVE, platform__in=platforms_with_orders())
        .exclude(pk__in=recent)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def catalog_sync_start(*, store: Store) -> None:
    """Connect flow: the first pass, after the transaction commits."""
    store_id = store.pk

    def dispatch() -> None:
        from .tasks import sync_catalog

        try:
            sync_catalog.delay(store_id)
        except Exception:
            logger.exception("Could not enqueue the catalog sync of store %s", store_id)

    transaction.on_commit(dispatch)
