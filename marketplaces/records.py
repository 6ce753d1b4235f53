"""Plain typed records that a marketplace adapter hands to the rest of Sellerdesk.

`orders/` and `inbox/` store these; they never see a marketplace's JSON. Every record keeps the
`raw` dict it was made from, so a field that is not modelled yet can be read later without a
re-sync (personal data and credentials are the exception: see `Order.raw` and `TokenGrant.raw`).

Statuses are plain strings: the enums below list the values TikTok Shop documents (they become
`TextChoices` in the models), but a value the marketplace adds tomorrow is stored as sent instead
of crashing a sync. Where the platform spells one value two ways the adapter stores the enum's
spelling and `raw` keeps what was sent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")


# --- Status values -------------------------------------------------------------------------------


class OrderStatus(enum.StrEnum):
    UNPAID = "UNPAID"
    ON_HOLD = "ON_HOLD"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"
    AWAITING_COLLECTION = "AWAITING_COLLECTION"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class LineItemStatus(enum.StrEnum):
    UNPAID = "UNPAID"
    TO_SHIP = "TO_SHIP"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    AWAITING_COLLECTION = "AWAITING_COLLECTION"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ReturnType(enum.StrEnum):
    REFUND = "REFUND"
    RETURN_AND_REFUND = "RETURN_AND_REFUND"
    REPLACEMENT = "REPLACEMENT"


class ReturnStatus(enum.StrEnum):
    RETURN_OR_REFUND_REQUEST_PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
    REFUND_OR_RETURN_REQUEST_REJECT = "REFUND_OR_RETURN_REQUEST_REJECT"
    AWAITING_BUYER_SHIP = "AWAITING_BUYER_SHIP"
    BUYER_SHIPPED_ITEM = "BUYER_SHIPPED_ITEM"
    REJECT_RECEIVE_PACKAGE = "REJECT_RECEIVE_PACKAGE"
    RETURN_OR_REFUND_REQUEST_SUCCESS = "RETURN_OR_REFUND_REQUEST_SUCCESS"
    RETURN_OR_REFUND_REQUEST_CANCEL = "RETURN_OR_REFUND_REQUEST_CANCEL"
    RETURN_OR_REFUND_REQUEST_COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"
    AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"
    REPLACEMENT_REQUEST_PENDING = "REPLACEMENT_REQUEST_PENDING"
    REPLACEMENT_REQUEST_REJECT = "REPLACEMENT_REQUEST_REJECT"
    REPLACEMENT_REQUEST_REFUND_SUCCESS = "REPLACEMENT_REQUEST_REFUND_SUCCESS"
    REPLACEMENT_REQUEST_CANCEL = "REPLACEMENT_REQUEST_CANCEL"
    REPLACEMENT_REQUEST_COMPLETE = "REPLACEMENT_REQUEST_COMPLETE"


class ArbitrationStatus(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUPPORT_BUYER = "SUPPORT_BUYER"
    SUPPORT_SELLER = "SUPPORT_SELLER"
    CLOSED = "CLOSED"


class CancelType(enum.StrEnum):
    CANCEL = "CANCEL"
    BUYER_CANCEL = "BUYER_CANCEL"


class CancelStatus(enum.StrEnum):
    CANCELLATION_REQUEST_PENDING = "CANCELLATION_REQUEST_PENDING"
    CANCELLATION_REQUEST_SUCCESS = "CANCELLATION_REQUEST_SUCCESS"
    CANCELLATION_REQUEST_CANCEL = "CANCELLATION_REQUEST_CANCEL"
    CANCELLATION_REQUEST_COMPLETE = "CANCELLATION_REQUEST_COMPLETE"


class ActorRole(enum.StrEnum):
    """Who started a return or cancellation."""

    BUYER = "BUYER"
    SELLER = "SELLER"
    SYSTEM = "SYSTEM"


class SellerType(enum.StrEnum):
    LOCAL = "LOCAL"
    CROSS_BORDER = "CROSS_BORDER"


class ProductStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PENDING = "PENDING"
    FAILED = "FAILED"
    ACTIVATE = "ACTIVATE"
    SELLER_DEACTIVATED = "SELLER_DEACTIVATED"
    PLATFORM_DEACTIVATED = "PLATFORM_DEACTIVATED"
    FREEZE = "FREEZE"
    DELETED = "DELETED"


class CouponStatus(enum.StrEnum):
    NOT_START = "NOT_START"
    ONGOING = "ONGOING"
    EXPIRED = "EXPIRED"
    DEACTIVATED = "DEACTIVATED"


class CouponDisplayType(enum.StrEnum):
    REGULAR = "REGULAR"
    LIVE = "LIVE"
    CREATOR_EXCLUSIVE = "CREATOR_EXCLUSIVE"
    CHAT = "CHAT"
    PROMO_CODE = "PROMO_CODE"


class MessageType(enum.StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    PRODUCT_CARD = "PRODUCT_CARD"
    ORDER_CARD = "ORDER_CARD"
    RETURN_REFUND_CARD = "RETURN_REFUND_CARD"
    COUPON_CARD = "COUPON_CARD"
    LOGISTICS_CARD = "LOGISTICS_CARD"
    EMOTICONS = "EMOTICONS"
    ALLOCATED_SERVICE = "ALLOCATED_SERVICE"
    NOTIFICATION = "NOTIFICATION"
    BUYER_ENTER_FROM_TRANSFER = "BUYER_ENTER_FROM_TRANSFER"
    BUYER_ENTER_FROM_PRODUCT = "BUYER_ENTER_FROM_PRODUCT"
    BUYER_ENTER_FROM_ORDER = "BUYER_ENTER_FROM_ORDER"
    OTHER = "OTHER"


class SenderRole(enum.StrEnum):
    BUYER = "BUYER"
    SHOP = "SHOP"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    SYSTEM = "SYSTEM"
    ROBOT = "ROBOT"


class WebhookType(enum.IntEnum):
    """Webhook topics Sellerdesk reads (contract §8.3); the others are stored but not typed."""

    ORDER_STATUS_CHANGE = 1
    PRODUCT_STATUS_CHANGE = 5
    SELLER_DEAUTHORIZATION = 6
    UPCOMING_AUTHORIZATION_EXPIRATION = 7
    CANCELLATION_STATUS_CHANGE = 11
    RETURN_STATUS_CHANGE = 12
    NEW_CONVERSATION = 13
    NEW_MESSAGE = 14
    PRODUCT_INFORMATION_CHANGE = 15
    PRODUCT_CREATION = 16


class ReturnDecision(enum.StrEnum):
    """A seller's answer to a return (§5.1 approve `decision`; the reject values are those of the
    Reject Return page, lywzx RejectReturn.ts, a source the contract cites)."""

    APPROVE_REFUND = "APPROVE_REFUND"
    APPROVE_RETURN = "APPROVE_RETURN"
    APPROVE_RECEIVED_PACKAGE = "APPROVE_RECEIVED_PACKAGE"
    APPROVE_REPLACEMENT = "APPROVE_REPLACEMENT"
    ISSUE_REPLACEMENT_REFUND = "ISSUE_REPLACEMENT_REFUND"
    OFFER_PARTIAL_REFUND = "OFFER_PARTIAL_REFUND"
    REJECT_REFUND = "REJECT_REFUND"
    REJECT_RETURN = "REJECT_RETURN"
    REJECT_RECEIVED_PACKAGE = "REJECT_RECEIVED_PACKAGE"
    REJECT_REPLACEMENT = "REJECT_REPLACEMENT"


class AfterSaleRequestType(enum.StrEnum):
    """What a buyer may ask for on an order line (Get Aftersale Eligibility)."""

    CANCEL = "CANCEL"
    REFUND = "REFUND"
    RETURN_AND_REFUND = "RETURN_AND_REFUND"


# --- Common -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paginated listing.

    `page_token` is the token this page was requested with (None for the first page) and
    `next_page_token` the one to resume from; "" means this was the last page. A caller that
    stores `next_page_token` as its checkpoint resumes exactly after this page.
    """

    items: list[T]
    next_page_token: str
    total_count: int | None
    page_token: str | None = None

    @property
    def is_last(self) -> bool:
        return not self.next_page_token


# --- Authorization ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """Tokens from token get/refresh; `raw` has the tokens removed so it can be stored as is."""

    access_token: str = field(repr=False)
    access_token_expires_at: datetime | None
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: datetime | None
    open_id: str
    seller_name: str
    seller_base_region: str
    user_type: int | None
    granted_scopes: list[str]
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class Shop:
    external_id: str
    name: str
    region: str
    seller_type: str
    cipher: str
    code: str
    raw: JSON = field(repr=False)


# --- Orders -------------------------------------------------------------------------------------


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


# --- Returns and cancellations ------------------------------------------------------------------


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


# --- Products and coupons -----------------------------------------------------------------------


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


# --- Customer service ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageSender:
    im_user_id: str | None
    role: str
    nickname: str
    avatar_url: str | None


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message. `content` is the decoded content object, `content_raw` the string sent.

    The typed fields below are filled for the types that carry them; a type Sellerdesk does not
    know keeps `type` and `content` as sent, so the mailbox can show a placeholder.
    """

    external_id: str
    conversation_id: str | None
    index: str
    type: str
    created_at: datetime | None
    is_visible: bool
    sender: MessageSender
    content: JSON
    content_raw: str
    text: str | None
    image: Image | None
    product_id: str | None
    order_id: str | None
    sku_id: str | None
    coupon_id: str | None
    package_id: str | None
    video_id: str | None
    raw: JSON = field(repr=False)

    @property
    def is_known_type(self) -> bool:
        return self.type in MessageType.__members__


@dataclass(frozen=True, slots=True)
class Participant:
    im_user_id: str | None
    user_id: str | None
    role: str
    nickname: str
    avatar_url: str | None
    buyer_platform: str


@dataclass(frozen=True, slots=True)
class Conversation:
    external_id: str
    participant_count: int | None
    can_send_message: bool
    unread_count: int
    created_at: datetime | None
    participants: list[Participant]
    latest_message: Message | None
    raw: JSON = field(repr=False)

    @property
    def buyer(self) -> Participant | None:
        return next((p for p in self.participants if p.role == SenderRole.BUYER), None)


@dataclass(frozen=True, slots=True)
class UploadedImage:
    url: str
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class AgentSettings:
    can_accept_chat: bool
    raw: JSON = field(repr=False)


# --- Outgoing message content (contract §6.2) ---------------------------------------------------

TEXT_MAX_CHARS = 2000


@dataclass(frozen=True, slots=True)
class TextContent:
    text: str
    type = MessageType.TEXT

    def __post_init__(self) -> None:
        # The length limit is the channel's (`ChannelCapabilities.text_max_chars`): TikTok's
        # client checks its 2,000 characters, an e-mail may be longer.
        if not self.text.strip():
            raise ValueError("A text message cannot be empty.")

    def to_content(self) -> JSON:
        return {"content": self.text}


@dataclass(frozen=True, slots=True)
class ImageContent:
    url: str
    width: int
    height: int
    type = MessageType.IMAGE

    def to_content(self) -> JSON:
        return {"url": self.url, "width": self.width, "height": self.height}


@dataclass(frozen=True, slots=True)
class VideoContent:
    vid: str
    type = MessageType.VIDEO

    def to_content(self) -> JSON:
        return {"vid": self.vid}


@dataclass(frozen=True, slots=True)
class ProductCardContent:
    product_id: str
    type = MessageType.PRODUCT_CARD

    def to_content(self) -> JSON:
        return {"product_id": self.product_id}


@dataclass(frozen=True, slots=True)
class OrderCardContent:
    order_id: str
    type = MessageType.ORDER_CARD

    def to_content(self) -> JSON:
        return {"order_id": self.order_id}


@dataclass(frozen=True, slots=True)
class ReturnRefundCardContent:
    order_id: str
    sku_id: str
    type = MessageType.RETURN_REFUND_CARD

    def to_content(self) -> JSON:
        return {"order_id": self.order_id, "sku_id": self.sku_id}


@dataclass(frozen=True, slots=True)
class CouponCardContent:
    coupon_id: str
    type = MessageType.COUPON_CARD

    def to_content(self) -> JSON:
        return {"coupon_id": self.coupon_id}


@dataclass(frozen=True, slots=True)
class LogisticsCardContent:
    order_id: str
    package_id: str | None = None
    type = MessageType.LOGISTICS_CARD

    def to_content(self) -> JSON:
        content: JSON = {"order_id": self.order_id}
        if self.package_id:
            content["package_id"] = self.package_id
        return content


OutgoingContent = (
    TextContent
    | ImageContent
    | VideoContent
    | ProductCardContent
    | OrderCardContent
    | ReturnRefundCardContent
    | CouponCardContent
    | LogisticsCardContent
)


# --- Webhooks (contract §8.2/8.3) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    order_id: str | None
    order_status: str
    is_on_hold_order: bool
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ShopDeauthorized:
    message: str


@dataclass(frozen=True, slots=True)
class AuthorizationExpiring:
    message: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class CancellationStatusChanged:
    order_id: str | None
    cancel_id: str | None
    role: str
    cancel_status: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReturnStatusChanged:
    order_id: str | None
    return_id: str | None
    role: str
    return_type: str
    return_status: str
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConversationChanged:
    conversation_id: str | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewMessage:
    message: Message


@dataclass(frozen=True, slots=True)
class ProductChanged:
    """Types 5 (PRODUCT_STATUS_CHANGE), 15 and 16: a product to read again.

    Only type 5 documents its data (`product_id`, `status`, `suspended_reason`, `update_time`);
    15 and 16 are read the same way (UNVERIFIED: the contract lists no fields for them).
    """

    product_id: str | None
    status: str
    suspended_reason: str
    updated_at: datetime | None


WebhookData = (
    OrderStatusChanged
    | ProductChanged
    | ShopDeauthorized
    | AuthorizationExpiring
    | CancellationStatusChanged
    | ReturnStatusChanged
    | ConversationChanged
    | NewMessage
)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A pushed notification. `data` is None for topics Sellerdesk does not read yet."""

    type: int
    event_type: str
    notification_id: str
    shop_id: str | None
    sent_at: datetime | None
    data: WebhookData | None
    raw: JSON = field(repr=False)
