"""TikTok Shop API JSON -> Sellerdesk records (`marketplaces.records`).

Lenient by design (contract "How to use this sheet"): ids may come as JSON numbers, money as
"5000" or "1.5", image sizes as strings, a field may be missing or null, a status may be one we
have never seen. None of that crashes a sync: unknown values are kept as sent, every record keeps
its `raw` dict, and where the contract lists two spellings of one value the enum's spelling is
stored.

Layout: `scalars.py` (the lenient readers every area uses, and the second spellings of statuses),
then one module per API area: `authorization.py`, `orders.py`, `returns.py` (returns and
cancellations), `products.py` (products and coupons), `customer_service.py` and `webhooks.py`.
Callers keep calling `mapping.order(...)`, `mapping.text(...)`: every reader is exported here.
"""

from __future__ import annotations

from .authorization import shop, token_grant
from .customer_service import (
    agent_settings,
    conversation,
    message,
    message_content,
    message_sender,
    participant,
    uploaded_image,
)
from .orders import order, order_line, order_payment, recipient_location, tracking_event
from .products import coupon, product, product_sku
from .returns import (
    after_sale_line,
    cancellation,
    refund_amount,
    return_discount,
    return_order,
    return_shipping_fee,
    seller_actions,
)
from .scalars import (
    CANCEL_STATUS_ALIASES,
    ORDER_STATUS_ALIASES,
    RETURN_STATUS_ALIASES,
    decimal,
    dicts,
    enum_value,
    flag,
    ident,
    index_key,
    integer,
    money,
    text,
    timestamp,
    timestamp_millis,
)
from .webhooks import EVENT_TYPE_NAMES, webhook_event, webhook_from_body

__all__ = [
    "CANCEL_STATUS_ALIASES",
    "EVENT_TYPE_NAMES",
    "ORDER_STATUS_ALIASES",
    "RETURN_STATUS_ALIASES",
    "after_sale_line",
    "agent_settings",
    "cancellation",
    "conversation",
    "coupon",
    "decimal",
    "dicts",
    "enum_value",
    "flag",
    "ident",
    "index_key",
    "integer",
    "message",
    "message_content",
    "message_sender",
    "money",
    "order",
    "order_line",
    "order_payment",
    "participant",
    "product",
    "product_sku",
    "recipient_location",
    "refund_amount",
    "return_discount",
    "return_order",
    "return_shipping_fee",
    "seller_actions",
    "shop",
    "text",
    "timestamp",
    "timestamp_millis",
    "token_grant",
    "tracking_event",
    "uploaded_image",
    "webhook_event",
    "webhook_from_body",
]
