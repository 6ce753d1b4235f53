"""Webhooks (contract §8.2/8.3): the envelope and the data of the topics Sellerdesk reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .common import JSON
from .customer_service import Message


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
