"""Webhooks: the envelope (§8.2) and the data of the topics Sellerdesk reads (§8.3)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from marketplaces.records import (
    JSON,
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
    WebhookType,
)

from .customer_service import message
from .scalars import (
    CANCEL_STATUS_ALIASES,
    ORDER_STATUS_ALIASES,
    RETURN_STATUS_ALIASES,
    _dict,
    enum_value,
    flag,
    ident,
    integer,
    text,
    timestamp,
)

# --- Webhooks -----------------------------------------------------------------------------------

EVENT_TYPE_NAMES = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
}


def _webhook_data(kind: int | None, data: JSON) -> WebhookData | None:
    if kind == WebhookType.ORDER_STATUS_CHANGE:
        return OrderStatusChanged(
            order_id=ident(data.get("order_id")),
            order_status=enum_value(data.get("order_status"), ORDER_STATUS_ALIASES),
            is_on_hold_order=flag(data.get("is_on_hold_order")),
            updated_at=timestamp(data.get("update_time")),
        )
    if kind == WebhookType.SELLER_DEAUTHORIZATION:
        return ShopDeauthorized(message=text(data.get("message")))
    if kind == WebhookType.UPCOMING_AUTHORIZATION_EXPIRATION:
        return AuthorizationExpiring(
            message=text(data.get("message")), expires_at=timestamp(data.get("expiration_time"))
        )
    if kind == WebhookType.CANCELLATION_STATUS_CHANGE:
        return CancellationStatusChanged(
            order_id=ident(data.get("order_id")),
            cancel_id=ident(data.get("cancel_id")),
            role=enum_value(data.get("cancellations_role")),
            cancel_status=enum_value(data.get("cancel_status"), CANCEL_STATUS_ALIASES),
            created_at=timestamp(data.get("create_time")),
        )
    if kind == WebhookType.RETURN_STATUS_CHANGE:
        return ReturnStatusChanged(
            order_id=ident(data.get("order_id")),
            return_id=ident(data.get("return_id")),
            role=enum_value(data.get("return_role")),
            return_type=enum_value(data.get("return_type")),
            return_status=enum_value(data.get("return_status"), RETURN_STATUS_ALIASES),
            created_at=timestamp(data.get("create_time")),
            updated_at=timestamp(data.get("update_time")),
        )
    if kind == WebhookType.NEW_CONVERSATION:
        return ConversationChanged(
            conversation_id=ident(data.get("conversation_id")),
            created_at=timestamp(data.get("create_time")),
        )
    if kind == WebhookType.NEW_MESSAGE:
        return NewMessage(message=message(data))
    if kind in _PRODUCT_TOPICS:
        # `product_id` "may be a JSON number" (§8.3): ident() makes it a string either way.
        return ProductChanged(
            product_id=ident(data.get("product_id")),
            status=enum_value(data.get("status")),
            suspended_reason=text(data.get("suspended_reason")),
            updated_at=timestamp(data.get("update_time")),
        )
    return None


_PRODUCT_TOPICS = frozenset(
    {
        WebhookType.PRODUCT_STATUS_CHANGE,
        WebhookType.PRODUCT_INFORMATION_CHANGE,
        WebhookType.PRODUCT_CREATION,
    }
)


def webhook_event(payload: Mapping[str, Any]) -> WebhookEvent:
    """A webhook envelope (§8.2). Verify the signature on the raw bytes before calling this."""
    kind = integer(payload.get("type"))
    return WebhookEvent(
        type=kind if kind is not None else 0,
        event_type=EVENT_TYPE_NAMES.get(kind, f"UNKNOWN_{payload.get('type')}")
        if kind is not None
        else "UNKNOWN",
        notification_id=ident(payload.get("tts_notification_id")) or "",
        shop_id=ident(payload.get("shop_id")),
        sent_at=timestamp(payload.get("timestamp")),
        data=_webhook_data(kind, _dict(payload.get("data"))),
        raw=dict(payload),
    )


def webhook_from_body(body: bytes) -> WebhookEvent:
    """Parse a verified webhook body. Raises ValueError when it is not a JSON object."""
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("A webhook body must be a JSON object.")
    return webhook_event(payload)
