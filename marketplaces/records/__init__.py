"""Plain typed records that a marketplace adapter hands to the rest of Sellerdesk.

`orders/` and `inbox/` store these; they never see a marketplace's JSON. Every record keeps the
`raw` dict it was made from, so a field that is not modelled yet can be read later without a
re-sync (personal data and credentials are the exception: see `Order.raw` and `TokenGrant.raw`).

Statuses are plain strings: the enums (`statuses.py`) list the values TikTok Shop documents (they
become `TextChoices` in the models), but a value the marketplace adds tomorrow is stored as sent
instead of crashing a sync. Where the platform spells one value two ways the adapter stores the
enum's spelling and `raw` keeps what was sent.

Layout, one module a section: `statuses.py` (the enums), `common.py` (JSON, Money, Page), then one
module per API area: `authorization.py`, `orders.py`, `returns.py` (returns and cancellations),
`products.py` (products and coupons), `customer_service.py` (messages, conversations, outgoing
content) and `webhooks.py`. Import the records from here: `from marketplaces.records import Order`.
"""

from __future__ import annotations

from .authorization import Shop, TokenGrant
from .common import JSON, Money, Page
from .customer_service import (
    TEXT_MAX_CHARS,
    AgentSettings,
    Conversation,
    CouponCardContent,
    ImageContent,
    LogisticsCardContent,
    Message,
    MessageSender,
    OrderCardContent,
    OutgoingContent,
    Participant,
    ProductCardContent,
    ReturnRefundCardContent,
    TextContent,
    UploadedImage,
    VideoContent,
)
from .orders import Order, OrderLine, OrderPayment, RecipientLocation, TrackingEvent
from .products import Coupon, Image, Product, ProductSku, StockLevel
from .returns import (
    AFTER_SALE_CARD_REQUESTS,
    AfterSaleEligibility,
    AfterSaleLine,
    Cancellation,
    LineEligibility,
    RefundAmount,
    RejectReason,
    Return,
    ReturnDiscount,
    ReturnShippingFee,
    SellerAction,
    SellerDecision,
    SkuEligibility,
)
from .statuses import (
    ActorRole,
    AfterSaleRequestType,
    ArbitrationStatus,
    CancelStatus,
    CancelType,
    CouponDisplayType,
    CouponStatus,
    LineItemStatus,
    MessageType,
    OrderStatus,
    ProductStatus,
    ReturnDecision,
    ReturnStatus,
    ReturnType,
    SellerType,
    SenderRole,
    WebhookType,
)
from .webhooks import (
    AuthorizationExpiring,
    CancellationStatusChanged,
    ConversationChanged,
    NewMessage,
    OrderStatusChanged,
    ProductChanged,
    ReturnStatusChanged,
    ShopDeauthorized,
    WebhookData,
    WebhookEvent,
)

__all__ = [
    "AFTER_SALE_CARD_REQUESTS",
    "JSON",
    "TEXT_MAX_CHARS",
    "ActorRole",
    "AfterSaleEligibility",
    "AfterSaleLine",
    "AfterSaleRequestType",
    "AgentSettings",
    "ArbitrationStatus",
    "AuthorizationExpiring",
    "CancelStatus",
    "CancelType",
    "Cancellation",
    "CancellationStatusChanged",
    "Conversation",
    "ConversationChanged",
    "Coupon",
    "CouponCardContent",
    "CouponDisplayType",
    "CouponStatus",
    "Image",
    "ImageContent",
    "LineEligibility",
    "LineItemStatus",
    "LogisticsCardContent",
    "Message",
    "MessageSender",
    "MessageType",
    "Money",
    "NewMessage",
    "Order",
    "OrderCardContent",
    "OrderLine",
    "OrderPayment",
    "OrderStatus",
    "OrderStatusChanged",
    "OutgoingContent",
    "Page",
    "Participant",
    "Product",
    "ProductCardContent",
    "ProductChanged",
    "ProductSku",
    "ProductStatus",
    "RecipientLocation",
    "RefundAmount",
    "RejectReason",
    "Return",
    "ReturnDecision",
    "ReturnDiscount",
    "ReturnRefundCardContent",
    "ReturnShippingFee",
    "ReturnStatus",
    "ReturnStatusChanged",
    "ReturnType",
    "SellerAction",
    "SellerDecision",
    "SellerType",
    "SenderRole",
    "Shop",
    "ShopDeauthorized",
    "SkuEligibility",
    "StockLevel",
    "TextContent",
    "TokenGrant",
    "TrackingEvent",
    "UploadedImage",
    "VideoContent",
    "WebhookData",
    "WebhookEvent",
    "WebhookType",
]
