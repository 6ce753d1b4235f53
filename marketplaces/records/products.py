"""Products and coupons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .common import JSON, Money
from .statuses import CouponDisplayType, CouponStatus


@dataclass(frozen=True, slots=True)
class Image:
    url: str | None
    width: int | None
    height: int | None
    uri: str | None = None
    urls: list[str] = field(default_factory=list)
    thumb_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StockLevel:
    warehouse_id: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class ProductSku:
    external_id: str
    seller_sku: str
    price: Money | None
    tax_exclusive_price: Money | None
    list_price: Money | None
    stock: list[StockLevel]
    raw: JSON = field(repr=False)

    @property
    def quantity(self) -> int:
        return sum(level.quantity for level in self.stock)


@dataclass(frozen=True, slots=True)
class Product:
    external_id: str
    title: str
    status: str
    description: str
    created_at: datetime | None
    updated_at: datetime | None
    sales_regions: list[str]
    audit_status: str
    images: list[Image]
    skus: list[ProductSku]
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class Coupon:
    external_id: str
    title: str
    display_type: str
    status: str
    creation_source: str
    target_buyer_segment: str
    promo_code: str
    claim_starts_at: datetime | None
    claim_ends_at: datetime | None
    redemption_starts_at: datetime | None
    redemption_ends_at: datetime | None
    discount_type: str
    reduction_amount: Money | None
    percentage: Decimal | None
    max_discount: Money | None
    min_spend: Money | None
    raw: JSON = field(repr=False)

    @property
    def can_be_sent_in_chat(self) -> bool:
        """The conditions a COUPON_CARD message puts on its coupon (contract §6.2)."""
        return (
            self.display_type in (CouponDisplayType.CHAT, CouponDisplayType.REGULAR)
            and self.status == CouponStatus.ONGOING
            and self.creation_source == "SELLER_CENTER"
            and self.target_buyer_segment != "REPEAT_CUSTOMERS"
        )
