"""The TikTok Shop Partner API client production uses (contract: docs/tiktok-shop-api.md).

One `TikTokClient` per process is enough: it holds the app credentials and a pooled
`requests.Session`; the store's access token and shop cipher are passed to each call, so a Celery
task loads its store and calls straight through. Every attempt is signed afresh (new timestamp,
§2.1) and JSON bodies are serialised once, so the bytes signed are the bytes sent.

Retries: rate-limit and server errors are retried with jittered exponential backoff up to
`max_retries`; everything else raises at once. Sending a message and creating a conversation are
not idempotent, so after a timeout or a server error they raise `OutcomeUnknownError` instead of
sending twice; only a certain rejection (429, or a connection that never opened) is retried.

Nothing here logs or puts in an exception message a URL, a header or a body: the token endpoints
carry the app secret and tokens in the query string (§1.2).

Layout: `transport.py` (the base class: signing, retries, pagination, parsing, the log filter),
`images.py` (outgoing images), and one mixin per API area of the contract: `authorization.py`
(§1), `orders.py` (§4), `returns.py` (§5), `products.py` (§7), `customer_service.py` (§6).
"""

from __future__ import annotations

from .authorization import AuthorizationApi, Market
from .customer_service import CONVERSATION_PAGE_SIZE, MESSAGE_PAGE_SIZE, CustomerServiceApi
from .images import (
    IMAGE_ACCEPT_LIMIT,
    IMAGE_FORMATS,
    IMAGE_MAX_PIXELS,
    IMAGE_UPLOAD_LIMIT,
    PreparedImage,
    prepare_image,
)
from .orders import ORDER_DETAIL_BATCH, ORDER_PAGE_SIZE, OrdersApi
from .products import COUPON_PAGE_SIZE, PRODUCT_PAGE_SIZE, ProductsApi
from .returns import CANCELLATION_PAGE_SIZE, RETURN_PAGE_SIZE, ReturnsApi
from .transport import RETRY_AFTER_LIMIT, Timestamp, Transport

__all__ = [
    "CANCELLATION_PAGE_SIZE",
    "CONVERSATION_PAGE_SIZE",
    "COUPON_PAGE_SIZE",
    "IMAGE_ACCEPT_LIMIT",
    "IMAGE_FORMATS",
    "IMAGE_MAX_PIXELS",
    "IMAGE_UPLOAD_LIMIT",
    "MESSAGE_PAGE_SIZE",
    "ORDER_DETAIL_BATCH",
    "ORDER_PAGE_SIZE",
    "PRODUCT_PAGE_SIZE",
    "RETRY_AFTER_LIMIT",
    "RETURN_PAGE_SIZE",
    "Market",
    "PreparedImage",
    "TikTokClient",
    "Timestamp",
    "Transport",
    "prepare_image",
]


class TikTokClient(AuthorizationApi, OrdersApi, ReturnsApi, ProductsApi, CustomerServiceApi):
    """The whole client: the transport (`Transport`) and every API area of the contract."""
