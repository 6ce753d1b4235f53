"""Orders: an order, its lines, payment, coarse destination and tracking events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .common import JSON, Money


@dataclass(frozen=True, slots=True)
class RecipientLocation:
    """Where an order goes, coarsely: never a street, a name or a phone number."""

    country_code: str | None
    country: str | None
    region: str | None
    city: str | None
    postal_code: str | None


@dataclass(frozen=True, slots=True)
class OrderPayment:
    currency: str
    total_amount: Money | None
    sub_total: Money | None
    shipping_fee: Money | None
    seller_discount: Money | None
    platform_discount: Money | None
    original_total_product_price: Money | None
    original_shipping_fee: Money | None
    shipping_fee_seller_discount: Money | None
    shipping_fee_platform_discount: Money | None
    tax: Money | None
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class OrderLine:
    external_id: str
    product_id: str | None
    sku_id: str | None
    product_name: str
    sku_name: str
    seller_sku: str
    sku_image_url: str | None
    original_price: Money | None
    sale_price: Money | None
    seller_discount: Money | None
    platform_discount: Money | None
    display_status: str
    package_id: str | None
    package_status: str
    tracking_number: str
    shipping_provider_name: str
    cancel_reason: str
    cancel_user: str
    sku_type: str
    is_gift: bool
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class Order:
    """An order. `raw` is the API object minus the recipient's name, street, phone and tax id."""

    external_id: str
    status: str
    buyer_user_id: str | None
    buyer_nickname: str
    buyer_message: str
    seller_note: str
    created_at: datetime | None
    updated_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    delivered_at: datetime | None
    shipping_due_at: datetime | None
    delivery_due_at: datetime | None
    cancel_reason: str
    cancellation_initiator: str
    is_buyer_request_cancel: bool
    is_on_hold: bool
    is_cod: bool
    is_sample_order: bool
    is_replacement_order: bool
    replaced_order_id: str | None
    payment_method_name: str
    shipping_type: str
    fulfillment_type: str
    delivery_option_name: str
    shipping_provider: str
    shipping_provider_id: str | None
    tracking_number: str
    package_ids: list[str]
    payment: OrderPayment | None
    location: RecipientLocation | None
    lines: list[OrderLine]
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    description: str
    occurred_at: datetime | None
    raw: JSON = field(repr=False)
