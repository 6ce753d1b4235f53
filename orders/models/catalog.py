"""A store's products (with their SKUs) and coupons, as the agent workbench shows them.

Kept current by `orders.catalog` (at connect, on a schedule, and on product webhooks). Statuses are
stored as the platform sent them. `Product.search_text` is what the workbench's search box reads:
title, seller SKUs and the product id in one column, under a trigram index on PostgreSQL.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Tenant

from .orders import _label, _money


class ProductStatus(models.TextChoices):
    """Contract §7.1."""

    DRAFT = "DRAFT", "Draft"
    PENDING = "PENDING", "In review"
    FAILED = "FAILED", "Failed review"
    ACTIVATE = "ACTIVATE", "Live"
    SELLER_DEACTIVATED = "SELLER_DEACTIVATED", "Deactivated by the seller"
    PLATFORM_DEACTIVATED = "PLATFORM_DEACTIVATED", "Deactivated by TikTok Shop"
    FREEZE = "FREEZE", "Frozen"
    DELETED = "DELETED", "Deleted"


class Product(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField("product id", max_length=64)
    title = models.CharField(max_length=512)
    status = models.CharField(max_length=32, choices=ProductStatus.choices)
    image_url = models.URLField(max_length=2048, blank=True, help_text="First main image.")
    currency = models.CharField(max_length=3, blank=True)
    min_price = _money("lowest SKU price")
    max_price = _money("highest SKU price")
    stock = models.IntegerField(default=0, help_text="Units over every SKU and warehouse.")
    search_text = models.TextField(
        blank=True, help_text="Title, seller SKUs and product id, lower-cased."
    )
    created_at = models.DateTimeField(null=True, blank=True, help_text="create_time")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="update_time")
    # The platform update time whose detail (image) was read: a newer update reads it again.
    detail_updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], name="product_store_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "store", "status", "title"], name="product_store_title"),
            models.Index(fields=["tenant", "external_id"], name="product_tenant_external"),
        ]
        # PostgreSQL also has `product_search_trgm`, a trigram GIN index on search_text (stored
        # lower-cased), which `search_text__contains` (LIKE '%q%') uses. It is made by
        # migration 0003 on PostgreSQL only (SQLite has no GIN), so it is not declared here.
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def status_label(self) -> str:
        return _label(ProductStatus, self.status)

    @property
    def is_live(self) -> bool:
        return self.status == ProductStatus.ACTIVATE

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class ProductSku(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    external_id = models.CharField("SKU id", max_length=64)
    seller_sku = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True, help_text="Its sales attributes.")
    currency = models.CharField(max_length=3, blank=True)
    price = _money("sale price")
    list_price = _money()
    stock = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "external_id"], name="productsku_product_external_unique"
            )
        ]
        ordering = ["product", "id"]

    def __str__(self) -> str:
        return self.seller_sku or self.external_id


class CouponStatus(models.TextChoices):
    """Contract §7.2."""

    NOT_START = "NOT_START", "Not started"
    ONGOING = "ONGOING", "Ongoing"
    EXPIRED = "EXPIRED", "Expired"
    DEACTIVATED = "DEACTIVATED", "Deactivated"


class Coupon(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="coupons")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField("coupon id", max_length=64)
    title = models.CharField(max_length=255)
    display_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32, choices=CouponStatus.choices)
    creation_source = models.CharField(max_length=32, blank=True)
    target_buyer_segment = models.CharField(max_length=32, blank=True)
    promo_code = models.CharField(max_length=64, blank=True)
    claim_starts_at = models.DateTimeField(null=True, blank=True)
    claim_ends_at = models.DateTimeField(null=True, blank=True)
    redemption_ends_at = models.DateTimeField(null=True, blank=True)
    discount_type = models.CharField(max_length=32, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    reduction_amount = _money()
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    max_discount = _money()
    min_spend = _money()
    # Why the marketplace would refuse it as a chat card (empty: it can be sent), in the
    # seller's words, from the adapter when the coupon was stored.
    card_problems = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], name="coupon_store_external_unique"
            )
        ]
        indexes = [models.Index(fields=["tenant", "store", "status"], name="coupon_store_status")]
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def status_label(self) -> str:
        return _label(CouponStatus, self.status)

    @property
    def can_be_sent(self) -> bool:
        return not self.card_problems


class CatalogSync(models.Model):
    """Where a store's product and coupon sync stands; one row per store.

    Products: a full pass walks create-time windows (split while a window holds more than the
    search can page through), a page at a time, resumable from `products_windows` and
    `products_page_token`; later passes read what changed since `products_changed_since`.
    """

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, primary_key=True, related_name="catalog_sync"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    lease_until = models.DateTimeField(null=True, blank=True)
    products_full_done = models.BooleanField(default=False)
    products_windows = models.JSONField(default=list, blank=True)
    products_page_token = models.TextField(blank=True)
    products_pass_started_at = models.DateTimeField(null=True, blank=True)
    products_changed_since = models.DateTimeField(null=True, blank=True)
    products_synced_at = models.DateTimeField(null=True, blank=True)
    coupons_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"catalog sync of store {self.store_id}"
