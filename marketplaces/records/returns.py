"""Returns and cancellations: the requests, their lines and amounts, eligibility, decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .common import JSON, Money
from .statuses import AfterSaleRequestType


@dataclass(frozen=True, slots=True)
class SellerAction:
    """What the seller must do next on a return or cancellation, and by when."""

    action: str
    deadline: datetime | None


@dataclass(frozen=True, slots=True)
class RefundAmount:
    currency: str
    total: Money | None
    subtotal: Money | None
    shipping_fee: Money | None
    tax: Money | None
    retail_delivery_fee: Money | None
    buyer_service_fee: Money | None


@dataclass(frozen=True, slots=True)
class ReturnDiscount:
    product_platform_discount: Money | None
    product_seller_discount: Money | None
    shipping_fee_platform_discount: Money | None
    shipping_fee_seller_discount: Money | None


@dataclass(frozen=True, slots=True)
class ReturnShippingFee:
    seller_paid: Money | None
    buyer_paid: Money | None
    platform_paid: Money | None


@dataclass(frozen=True, slots=True)
class AfterSaleLine:
    """One line of a return or a cancellation."""

    external_id: str | None
    order_line_item_id: str | None
    sku_id: str | None
    sku_name: str
    product_name: str
    seller_sku: str
    product_image_url: str | None
    refund: RefundAmount | None
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class Return:
    external_id: str | None
    order_id: str | None
    return_type: str
    status: str
    arbitration_status: str
    role: str
    reason: str
    reason_text: str
    created_at: datetime | None
    updated_at: datetime | None
    return_tracking_number: str
    return_provider_name: str
    can_buyer_keep_item: bool | None
    seller_actions: list[SellerAction]
    refund: RefundAmount | None
    discount: ReturnDiscount | None
    return_shipping_fee: ReturnShippingFee | None
    partial_refund: Money | None
    lines: list[AfterSaleLine]
    raw: JSON = field(repr=False)

    @property
    def seller_next_action(self) -> SellerAction | None:
        return self.seller_actions[0] if self.seller_actions else None


@dataclass(frozen=True, slots=True)
class Cancellation:
    external_id: str | None
    order_id: str | None
    cancel_type: str
    status: str
    role: str
    reason: str
    reason_text: str
    created_at: datetime | None
    updated_at: datetime | None
    seller_actions: list[SellerAction]
    refund: RefundAmount | None
    lines: list[AfterSaleLine]
    raw: JSON = field(repr=False)

    @property
    def seller_next_action(self) -> SellerAction | None:
        return self.seller_actions[0] if self.seller_actions else None


@dataclass(frozen=True, slots=True)
class LineEligibility:
    """Whether a request of one type may be started on some lines of an order."""

    request_type: str
    order_line_item_ids: list[str]
    eligible: bool
    ineligible_code: int | None
    ineligible_reason: str


@dataclass(frozen=True, slots=True)
class SkuEligibility:
    sku_id: str
    lines: list[LineEligibility]

    def allows(self, *request_types: str) -> bool:
        return any(line.eligible and line.request_type in request_types for line in self.lines)

    def refusal(self, *request_types: str) -> str:
        """Why none of `request_types` is allowed, in the platform's words ("" when one is)."""
        if self.allows(*request_types):
            return ""
        reasons = [
            line.ineligible_reason
            for line in self.lines
            if line.request_type in request_types and line.ineligible_reason
        ]
        return reasons[0] if reasons else ""


# A return/refund card needs a SKU the buyer may ask a refund or a return for (§6.2).
AFTER_SALE_CARD_REQUESTS = (AfterSaleRequestType.REFUND, AfterSaleRequestType.RETURN_AND_REFUND)


@dataclass(frozen=True, slots=True)
class AfterSaleEligibility:
    """Get Aftersale Eligibility of one order: per SKU, per request type."""

    order_id: str
    skus: list[SkuEligibility]
    raw: JSON = field(repr=False)

    def sku(self, sku_id: str) -> SkuEligibility | None:
        return next((item for item in self.skus if item.sku_id == sku_id), None)

    def card_sku_ids(self) -> list[str]:
        """SKUs a RETURN_REFUND_CARD may name."""
        return [item.sku_id for item in self.skus if item.allows(*AFTER_SALE_CARD_REQUESTS)]


@dataclass(frozen=True, slots=True)
class RejectReason:
    """One reason a seller may give to reject a return or a cancellation (Get Reject Reasons)."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class SellerDecision:
    """A decision the platform offers the seller on a return or cancellation right now.

    `needs_reason`: a reject, which takes one of the platform's reject reasons. `outcome`: what
    the buyer gets if the seller takes it, in the seller's words (the confirmation step says it).
    """

    code: str
    approve: bool
    label: str
    outcome: str
    buyer_keep_item: bool = False

    @property
    def needs_reason(self) -> bool:
        return not self.approve
