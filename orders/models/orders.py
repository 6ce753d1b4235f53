"""Orders, their lines, returns and cancellations: what the agent workbench shows.

Conventions:
- Times named `*_at` without a prefix are the platform's (create_time -> placed_at, update_time ->
  updated_at, ...); `synced_at` is when Sellerdesk last wrote the row.
- Status fields store the platform's value as it came (an unknown value is kept, not coerced);
  the TextChoices list the values the contract documents, for labels and filters.
- Money is Decimal with its currency; an amount the platform did not send is NULL, not 0.
- Privacy: only a coarse location is kept (city, state, postal code, country). The `raw` JSON is
  what the mapping layer kept *after* removing the recipient's name, street, phone and e-mail.
- Every row carries `tenant`; uniqueness is (store, external id), so bulk upserts are idempotent.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Tenant


def _money(verbose_name: str | None = None) -> models.DecimalField:
    # 14 digits hold IDR/VND totals in the millions of millions; amounts are major units.
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, null=True, blank=True)


def _label(choices: type[models.TextChoices], value: str) -> str:
    """The documented label, or the raw value made readable when the platform sent a new one."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value.replace("_", " ").capitalize()


class OrderStatus(models.TextChoices):
    """Contract §4.3."""

    UNPAID = "UNPAID", "Unpaid"
    ON_HOLD = "ON_HOLD", "On hold"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT", "Awaiting shipment"
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING", "Partially shipped"
    AWAITING_COLLECTION = "AWAITING_COLLECTION", "Awaiting collection"
    IN_TRANSIT = "IN_TRANSIT", "In transit"
    DELIVERED = "DELIVERED", "Delivered"
    COMPLETED = "COMPLETED", "Completed"
    CANCELLED = "CANCELLED", "Cancelled"


class Initiator(models.TextChoices):
    """Who started a cancellation or a return (`cancellation_initiator`, `role`, `cancel_user`)."""

    BUYER = "BUYER", "Buyer"
    SELLER = "SELLER", "Seller"
    SYSTEM = "SYSTEM", "System"


class Order(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="orders")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField("order id", max_length=64)
    buyer_user_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, choices=OrderStatus.choices)

    placed_at = models.DateTimeField(help_text="create_time")
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(help_text="update_time on the platform")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    rts_at = models.DateTimeField("ready to ship at", null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    # SLA / due times (contract §4.4).
    rts_sla_at = models.DateTimeField("ship by (seller SLA)", null=True, blank=True)
    tts_sla_at = models.DateTimeField("TikTok shipping SLA", null=True, blank=True)
    shipping_due_at = models.DateTimeField(null=True, blank=True)
    collection_due_at = models.DateTimeField(null=True, blank=True)
    delivery_due_at = models.DateTimeField(null=True, blank=True)
    delivery_sla_at = models.DateTimeField(null=True, blank=True)
    cancel_order_sla_at = models.DateTimeField(null=True, blank=True)

    currency = models.CharField(max_length=3, blank=True)
    total_amount = _money("total")
    sub_total = _money("subtotal")
    shipping_fee = _money()
    seller_discount = _money()
    platform_discount = _money()
    tax = _money()
    original_total_product_price = _money()
    original_shipping_fee = _money()

    payment_method = models.CharField(max_length=64, blank=True)
    is_cod = models.BooleanField("cash on delivery", default=False)
    buyer_message = models.TextField(blank=True)
    seller_note = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    cancellation_initiator = models.CharField(max_length=16, choices=Initiator.choices, blank=True)
    is_buyer_request_cancel = models.BooleanField(default=False)
    is_on_hold_order = models.BooleanField(default=False)

    delivery_option_id = models.CharField(max_length=64, blank=True)
    delivery_option_name = models.CharField(max_length=255, blank=True)
    delivery_type = models.CharField(max_length=32, blank=True)
    shipping_provider = models.CharField(max_length=255, blank=True)
    shipping_provider_id = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=128, blank=True)
    shipping_type = models.CharField(max_length=16, blank=True, help_text="TIKTOK or SELLER")
    fulfillment_type = models.CharField(max_length=32, blank=True)
    warehouse_id = models.CharField(max_length=64, blank=True)

    # Coarse location only: no name, street, phone or e-mail is ever stored.
    city = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=128, blank=True)
    postal_code = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=64, blank=True, help_text="region_code, e.g. US")

    raw = models.JSONField(default=dict, blank=True)

    internal_note = models.TextField(blank=True, help_text="For agents only; never sent.")
    internal_note_updated_at = models.DateTimeField(null=True, blank=True)
    internal_note_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], name="order_store_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "external_id"], name="order_tenant_external"),
            models.Index(fields=["tenant", "-placed_at"], name="order_tenant_placed"),
            models.Index(
                fields=["tenant", "status", "-placed_at"], name="order_tenant_status_placed"
            ),
            models.Index(fields=["store", "-placed_at"], name="order_store_placed"),
            models.Index(fields=["store", "-updated_at"], name="order_store_updated"),
            models.Index(
                fields=["store", "buyer_user_id", "-placed_at"], name="order_store_buyer_placed"
            ),
        ]
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"Order {self.external_id}"

    @property
    def status_label(self) -> str:
        return _label(OrderStatus, self.status)

    @property
    def location(self) -> str:
        return ", ".join(p for p in (self.city, self.state, self.postal_code, self.country) if p)


class OrderLine(models.Model):
    """One line item; the platform sends one line per unit (there is no quantity field)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField("line item id", max_length=64)
    product_id = models.CharField(max_length=64, blank=True)
    sku_id = models.CharField(max_length=64, blank=True)
    seller_sku = models.CharField(max_length=255, blank=True)
    product_name = models.CharField(max_length=512, blank=True)
    sku_name = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=2048, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    original_price = _money()
    sale_price = _money()
    seller_discount = _money()
    platform_discount = _money()
    display_status = models.CharField(max_length=32, blank=True)
    package_id = models.CharField(max_length=64, blank=True)
    package_status = models.CharField(max_length=32, blank=True)
    tracking_number = models.CharField(max_length=128, blank=True)
    shipping_provider_id = models.CharField(max_length=64, blank=True)
    shipping_provider_name = models.CharField(max_length=255, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    cancel_user = models.CharField(max_length=16, blank=True)
    sku_type = models.CharField(max_length=32, blank=True)
    is_gift = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"], name="orderline_order_external_unique"
            )
        ]
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.product_name} ({self.sku_name})" if self.sku_name else self.product_name


class ReturnType(models.TextChoices):
    REFUND = "REFUND", "Refund only"
    RETURN_AND_REFUND = "RETURN_AND_REFUND", "Return and refund"
    REPLACEMENT = "REPLACEMENT", "Replacement"


class ReturnStatus(models.TextChoices):
    """Contract §5.1 and the RETURN_STATUS_CHANGE webhook; both spellings where two exist."""

    REQUEST_PENDING = "RETURN_OR_REFUND_REQUEST_PENDING", "Request pending"
    REQUEST_REJECT = "REFUND_OR_RETURN_REQUEST_REJECT", "Request rejected"
    REQUEST_REJECT_ALT = "RETURN_OR_REFUND_REQUEST_REJECT", "Request rejected"
    AWAITING_BUYER_SHIP = "AWAITING_BUYER_SHIP", "Awaiting buyer shipment"
    BUYER_SHIPPED_ITEM = "BUYER_SHIPPED_ITEM", "Buyer shipped the item"
    REJECT_RECEIVE_PACKAGE = "REJECT_RECEIVE_PACKAGE", "Returned package rejected"
    REQUEST_SUCCESS = "RETURN_OR_REFUND_REQUEST_SUCCESS", "Refunded"
    REQUEST_CANCEL = "RETURN_OR_REFUND_REQUEST_CANCEL", "Request cancelled"
    REQUEST_CANCELLED_ALT = "RETURN_OR_REFUND__REQUEST_CANCELLED", "Request cancelled"
    REQUEST_COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE", "Completed"
    AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE", "Awaiting buyer response"
    REPLACEMENT_PENDING = "REPLACEMENT_REQUEST_PENDING", "Replacement pending"
    REPLACEMENT_REJECT = "REPLACEMENT_REQUEST_REJECT", "Replacement rejected"
    REPLACEMENT_REFUND_SUCCESS = "REPLACEMENT_REQUEST_REFUND_SUCCESS", "Replacement refunded"
    REPLACEMENT_CANCEL = "REPLACEMENT_REQUEST_CANCEL", "Replacement cancelled"
    REPLACEMENT_COMPLETE = "REPLACEMENT_REQUEST_COMPLETE", "Replacement completed"


class Return(models.Model):
    """A return or refund request. Linked to its order by id, which may not be synced yet."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="returns")
    external_id = models.CharField("return id", max_length=64)
    order_external_id = models.CharField("order id", max_length=64)
    return_type = models.CharField(max_length=32, choices=ReturnType.choices, blank=True)
    status = models.CharField(max_length=64, choices=ReturnStatus.choices)
    arbitration_status = models.CharField(max_length=32, blank=True)
    role = models.CharField("initiator", max_length=16, choices=Initiator.choices, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    reason_text = models.TextField(blank=True)
    requested_at = models.DateTimeField(help_text="create_time")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="update_time")
    shipment_type = models.CharField(max_length=32, blank=True)
    handover_method = models.CharField(max_length=32, blank=True)
    tracking_number = models.CharField(max_length=128, blank=True)
    shipping_provider = models.CharField(max_length=255, blank=True)
    can_buyer_keep_item = models.BooleanField(null=True, blank=True)
    seller_next_action = models.CharField(max_length=64, blank=True)
    seller_next_action_deadline = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    refund_total = _money()
    refund_subtotal = _money()
    refund_shipping_fee = _money()
    refund_tax = _money()
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], name="return_store_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["store", "order_external_id"], name="return_store_order"),
            models.Index(fields=["tenant", "-requested_at"], name="return_tenant_requested"),
        ]
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Return {self.external_id} of order {self.order_external_id}"

    @property
    def status_label(self) -> str:
        return _label(ReturnStatus, self.status)


class ReturnLine(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField("return line item id", max_length=64)
    order_line_external_id = models.CharField("order line item id", max_length=64, blank=True)
    product_name = models.CharField(max_length=512, blank=True)
    sku_id = models.CharField(max_length=64, blank=True)
    sku_name = models.CharField(max_length=255, blank=True)
    seller_sku = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=2048, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    refund_total = _money()
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "external_id"], name="returnline_return_external_unique"
            )
        ]
        ordering = ["return_request", "id"]

    def __str__(self) -> str:
        return self.product_name or self.external_id


class CancelType(models.TextChoices):
    CANCEL = "CANCEL", "Cancelled by seller or system"
    BUYER_CANCEL = "BUYER_CANCEL", "Buyer cancellation request"


class CancellationStatus(models.TextChoices):
    """Contract §5.2; the webhook spells the cancelled state `..._CANCELLED`: both kept."""

    REQUEST_PENDING = "CANCELLATION_REQUEST_PENDING", "Request pending"
    REQUEST_SUCCESS = "CANCELLATION_REQUEST_SUCCESS", "Cancelled"
    REQUEST_CANCEL = "CANCELLATION_REQUEST_CANCEL", "Request withdrawn"
    REQUEST_CANCELLED_ALT = "CANCELLATION_REQUEST_CANCELLED", "Request withdrawn"
    REQUEST_COMPLETE = "CANCELLATION_REQUEST_COMPLETE", "Completed"


class Cancellation(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="cancellations")
    external_id = models.CharField("cancel id", max_length=64)
    order_external_id = models.CharField("order id", max_length=64)
    cancel_type = models.CharField(max_length=16, choices=CancelType.choices, blank=True)
    status = models.CharField(max_length=64, choices=CancellationStatus.choices)
    role = models.CharField("initiator", max_length=16, choices=Initiator.choices, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    reason_text = models.TextField(blank=True)
    requested_at = models.DateTimeField(help_text="create_time")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="update_time")
    seller_next_action = models.CharField(max_length=64, blank=True)
    seller_next_action_deadline = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    refund_total = _money()
    refund_subtotal = _money()
    refund_shipping_fee = _money()
    refund_tax = _money()
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], name="cancellation_store_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["store", "order_external_id"], name="cancellation_store_order"),
            models.Index(fields=["tenant", "-requested_at"], name="cancellation_tenant_requested"),
        ]
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Cancellation {self.external_id} of order {self.order_external_id}"

    @property
    def status_label(self) -> str:
        return _label(CancellationStatus, self.status)


class CancellationLine(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    cancellation = models.ForeignKey(Cancellation, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField("cancel line item id", max_length=64)
    order_line_external_id = models.CharField("order line item id", max_length=64, blank=True)
    product_name = models.CharField(max_length=512, blank=True)
    sku_id = models.CharField(max_length=64, blank=True)
    sku_name = models.CharField(max_length=255, blank=True)
    seller_sku = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=2048, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    refund_total = _money()
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cancellation", "external_id"],
                name="cancellationline_cancel_external_unique",
            )
        ]
        ordering = ["cancellation", "id"]

    def __str__(self) -> str:
        return self.product_name or self.external_id
