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
"""

from __future__ import annotations

import enum
import io
import json
import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests
from urllib3.exceptions import NewConnectionError

from marketplaces.records import (
    JSON,
    TEXT_MAX_CHARS,
    AfterSaleEligibility,
    AgentSettings,
    Cancellation,
    Conversation,
    Coupon,
    Message,
    Order,
    OutgoingContent,
    Page,
    Product,
    RejectReason,
    Return,
    Shop,
    TextContent,
    TokenGrant,
    TrackingEvent,
    UploadedImage,
)
from marketplaces.tiktok import aftersale, mapping
from marketplaces.tiktok.config import TikTokConfig
from marketplaces.tiktok.errors import (
    RETRYABLE,
    OutcomeUnknownError,
    PaginationError,
    RateLimitedError,
    ServerError,
    TikTokApiError,
    TikTokError,
    TransportError,
    classify,
)
from marketplaces.tiktok.signing import sign_request

logger = logging.getLogger(__name__)

_SECRET_QUERY = re.compile(r"(app_secret|auth_code|refresh_token|access_token)=[^&\s\"']+")


class _RedactSecrets(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included; the token endpoints
    carry the app secret, the auth code and the refresh token there (§1.2/1.3)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_QUERY.sub(r"\1=***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())

T = TypeVar("T")
Timestamp = datetime | int

ORDER_DETAIL_BATCH = 50  # §4.2: `ids` takes at most 50
ORDER_PAGE_SIZE = 100  # §4.1: 1-100
RETURN_PAGE_SIZE = 50  # §3.4: returns 10-50
CANCELLATION_PAGE_SIZE = 50  # §3.4: 1-50
PRODUCT_PAGE_SIZE = 100  # §7.1: 1-100
CONVERSATION_PAGE_SIZE = 20  # §6.1: max 20
MESSAGE_PAGE_SIZE = 10  # §6.1: max 10
# UNVERIFIED: the contract gives no page_size range for coupon search; 20 is a common default.
COUPON_PAGE_SIZE = 20
# A Retry-After longer than this is not slept through in a worker: the error is raised with its
# `retry_after` so the caller can reschedule.
RETRY_AFTER_LIMIT = 60.0


class Market(enum.StrEnum):
    """Which consent page a seller is sent to (§0): the US one, or the rest of the world's."""

    US = "US"
    ROW = "ROW"


class _ConnectFailed(TransportError):
    """The connection never opened, so the request was certainly not received."""


def _seconds(value: Timestamp) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _time_filters(**bounds: Timestamp | None) -> JSON:
    return {key: _seconds(value) for key, value in bounds.items() if value is not None}


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP-date; the computed backoff applies


# Outgoing images (contract "How to use this sheet"): the product accepts up to 15 MB, the limit
# TikTok's own helpdesk connector documents; two secondary sources give 10 MB for the upload API,
# so anything larger is recompressed to fit both.
IMAGE_ACCEPT_LIMIT = 15 * 1024 * 1024
IMAGE_UPLOAD_LIMIT = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# Decoding costs memory by pixels, not bytes: a 12,000 x 12,000 PNG of one colour is a few MB on
# disk and ~1.7 GB once decoded and recompressed. Read from the header, refused before decoding
# (the IMAGE_MAX_PIXELS setting; the composer applies the same limit, inbox/validation.py).
IMAGE_MAX_PIXELS = 25_000_000


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    recompressed: bool

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg"}.get(self.content_type, self.content_type.split("/")[-1])


def prepare_image(image: bytes, *, max_pixels: int = IMAGE_MAX_PIXELS) -> PreparedImage:
    """Check an outgoing image by its content and make it fit the upload limit.

    Over 10 MB it becomes a JPEG (quality, then size, stepped down; an animated GIF keeps its
    first frame). Raises ValueError for a file over 15 MB, one with more than `max_pixels`
    pixels (told by its header, before anything is decoded), or one that is not a supported image.
    """
    from PIL import Image as PILImage

    if len(image) > IMAGE_ACCEPT_LIMIT:
        raise ValueError("Images are limited to 15 MB.")
    too_many = f"Images are limited to {max_pixels / 1_000_000:g} megapixels."
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own limit; ours is lower and checked just below.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            opened = PILImage.open(io.BytesIO(image))
    except PILImage.DecompressionBombError as exc:
        raise ValueError(too_many) from exc
    except OSError as exc:
        raise ValueError("The file is not an image that can be sent.") from exc
    try:
        with opened:
            kind, (width, height) = opened.format or "", opened.size
            if kind not in IMAGE_FORMATS:
                raise ValueError("Only JPEG, PNG, GIF and WEBP images can be sent.")
            if width * height > max_pixels:
                raise ValueError(too_many)
            if len(image) <= IMAGE_UPLOAD_LIMIT:
                return PreparedImage(image, IMAGE_FORMATS[kind], width, height, recompressed=False)
            picture = opened.convert("RGBA")
    except (OSError, PILImage.DecompressionBombError) as exc:
        raise ValueError("The file is not an image that can be sent.") from exc
    flat = PILImage.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.getchannel("A"))  # transparency onto white, as chat shows it
    for quality, scale in ((85, 1.0), (75, 1.0), (75, 0.75), (70, 0.5), (65, 0.35), (60, 0.25)):
        size = (max(1, int(flat.width * scale)), max(1, int(flat.height * scale)))
        resized = flat if scale == 1.0 else flat.resize(size, PILImage.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= IMAGE_UPLOAD_LIMIT:
            return PreparedImage(buffer.getvalue(), "image/jpeg", *resized.size, recompressed=True)
    raise ValueError("The image could not be made small enough to send.")


class TikTokClient:
    def __init__(
        self,
        config: TikTokConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    @classmethod
    def from_settings(cls, **kwargs: Any) -> TikTokClient:
        return cls(TikTokConfig.from_settings(), **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Authorization (§1) ---------------------------------------------------------------------

    def authorize_url(self, *, market: Market | str, state: str) -> str:
        """The consent page a seller opens; TikTok redirects back with `code` and `state`."""
        base = {
            Market.US: self.config.authorize_url_us,
            Market.ROW: self.config.authorize_url_row,
        }[Market(str(market).upper())]
        query = urlencode({"service_id": self.config.service_id, "state": state})
        return f"{base}{'&' if '?' in base else '?'}{query}"

    def get_token(self, *, auth_code: str) -> TokenGrant:
        """Exchange the callback's `code` for tokens (§1.2; grant type `authorized_code`)."""
        return mapping.token_grant(
            self._auth_call(
                "/api/v2/token/get", {"auth_code": auth_code, "grant_type": "authorized_code"}
            )
        )

    def refresh_token(self, *, refresh_token: str) -> TokenGrant:
        """New access and refresh tokens (§1.3): persist both."""
        return mapping.token_grant(
            self._auth_call(
                "/api/v2/token/refresh",
                {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            )
        )

    def authorized_shops(self, *, access_token: str) -> list[Shop]:
        """The shops a token may act for (§1.5); signed, without `shop_cipher`."""
        data = self._call("GET", "/authorization/202309/shops", access_token=access_token)
        return [mapping.shop(item) for item in mapping.dicts(data.get("shops"))]

    # --- Orders (§4) ----------------------------------------------------------------------------

    def order_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        create_time_ge: Timestamp | None = None,
        create_time_lt: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_lt: Timestamp | None = None,
        status: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        page_token: str | None = None,
        page_size: int = ORDER_PAGE_SIZE,
    ) -> Iterator[Page[Order]]:
        """Order search, page by page, resumable from a stored `page_token` (§4.1)."""
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_lt=create_time_lt,
            update_time_ge=update_time_ge,
            update_time_lt=update_time_lt,
        )
        if status:
            body["order_status"] = status
        return self._pages(
            "POST",
            "/order/202309/orders/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="orders",
            to_record=mapping.order,
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
            body=body,
        )

    def orders(self, **filters: Any) -> Iterator[Order]:
        """Every order matching `order_pages` filters, across all pages."""
        for page in self.order_pages(**filters):
            yield from page.items

    def order_details(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        order_ids: Iterable[str],
        version: str = "202309",
    ) -> list[Order]:
        """Order detail in batches of 50 ids (§4.2); `version` "202507" reads the newer path."""
        if version not in ("202309", "202507"):
            raise ValueError(f"Unsupported order detail version: {version}")
        ids = list(dict.fromkeys(str(order_id) for order_id in order_ids))
        found: list[Order] = []
        for start in range(0, len(ids), ORDER_DETAIL_BATCH):
            batch = ids[start : start + ORDER_DETAIL_BATCH]
            data = self._call(
                "GET",
                f"/order/{version}/orders",
                access_token=access_token,
                shop_cipher=shop_cipher,
                query={"ids": ",".join(batch)},
            )
            for failure in mapping.dicts(data.get("errors")):
                logger.warning(
                    "TikTok order detail: item failed code=%s message=%s",
                    failure.get("code"),
                    failure.get("message"),
                )
            found.extend(mapping.order(item) for item in mapping.dicts(data.get("orders")))
        return found

    def tracking(
        self, *, access_token: str, shop_cipher: str, order_id: str
    ) -> list[TrackingEvent]:
        """Tracking events of an order, as sent (§4.5)."""
        data = self._call(
            "GET",
            f"/fulfillment/202309/orders/{order_id}/tracking",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return [mapping.tracking_event(item) for item in mapping.dicts(data.get("tracking"))]

    # --- Returns and cancellations (§5) ---------------------------------------------------------

    def return_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        order_ids: Iterable[str] = (),
        return_ids: Iterable[str] = (),
        buyer_user_ids: Iterable[str] = (),
        statuses: Iterable[str] = (),
        return_types: Iterable[str] = (),
        create_time_ge: Timestamp | None = None,
        create_time_lt: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_lt: Timestamp | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        page_token: str | None = None,
        page_size: int = RETURN_PAGE_SIZE,
    ) -> Iterator[Page[Return]]:
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_lt=create_time_lt,
            update_time_ge=update_time_ge,
            update_time_lt=update_time_lt,
        )
        body.update(
            _lists(
                order_ids=order_ids,
                return_ids=return_ids,
                buyer_user_ids=buyer_user_ids,
                return_status=statuses,
                return_types=return_types,
            )
        )
        return self._pages(
            "POST",
            "/return_refund/202309/returns/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="return_orders",
            to_record=mapping.return_order,
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
            body=body,
        )

    def returns(self, **filters: Any) -> Iterator[Return]:
        for page in self.return_pages(**filters):
            yield from page.items

    def cancellation_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        order_ids: Iterable[str] = (),
        cancel_ids: Iterable[str] = (),
        buyer_user_ids: Iterable[str] = (),
        statuses: Iterable[str] = (),
        cancel_types: Iterable[str] = (),
        create_time_ge: Timestamp | None = None,
        create_time_lt: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_lt: Timestamp | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        page_token: str | None = None,
        page_size: int = CANCELLATION_PAGE_SIZE,
    ) -> Iterator[Page[Cancellation]]:
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_lt=create_time_lt,
            update_time_ge=update_time_ge,
            update_time_lt=update_time_lt,
        )
        body.update(
            _lists(
                order_ids=order_ids,
                cancel_ids=cancel_ids,
                buyer_user_ids=buyer_user_ids,
                cancel_status=statuses,
                cancel_types=cancel_types,
            )
        )
        return self._pages(
            "POST",
            "/return_refund/202309/cancellations/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="cancellations",
            to_record=mapping.cancellation,
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
            body=body,
        )

    def cancellations(self, **filters: Any) -> Iterator[Cancellation]:
        for page in self.cancellation_pages(**filters):
            yield from page.items

    def aftersale_eligibility(
        self, *, access_token: str, shop_cipher: str, order_id: str
    ) -> AfterSaleEligibility:
        """Which after-sale requests each SKU of an order allows (§5.1; shape: aftersale.py)."""
        data = self._call(
            "GET",
            f"/return_refund/202309/orders/{order_id}/aftersale_eligibility",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return aftersale.eligibility(data, order_id)

    def reject_reasons(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        return_or_cancel_id: str,
        locale: str | None = None,
    ) -> list[RejectReason]:
        """The reasons the platform accepts to reject this return or cancellation (§5.1)."""
        query = {"return_or_cancel_id": return_or_cancel_id}
        if locale:
            query["locale"] = locale
        data = self._call(
            "GET",
            "/return_refund/202309/reject_reasons",
            access_token=access_token,
            shop_cipher=shop_cipher,
            query=query,
        )
        return aftersale.reject_reasons(data)

    # Seller decisions (§5.1/5.2). Each carries an `idempotency_key` (query, at most 255
    # characters): the platform acts once per key, so these are retried like reads, and the
    # caller keeps one key per decision across its own retries.

    def return_approve(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        return_id: str,
        decision: str,
        idempotency_key: str,
        buyer_keep_item: bool = False,
    ) -> None:
        body: JSON = {"decision": decision}
        if buyer_keep_item:
            body["buyer_keep_item"] = True  # lywzx ApproveReturn.ts; only with APPROVE_RETURN
        self._decide(
            f"/return_refund/202309/returns/{return_id}/approve",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=body,
        )

    def return_reject(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        return_id: str,
        decision: str,
        reject_reason: str,
        idempotency_key: str,
        comment: str = "",
    ) -> None:
        body: JSON = {"decision": decision, "reject_reason": reject_reason}
        if comment:
            body["comment"] = comment
        self._decide(
            f"/return_refund/202309/returns/{return_id}/reject",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=body,
        )

    def cancellation_approve(
        self, *, access_token: str, shop_cipher: str, cancel_id: str, idempotency_key: str
    ) -> None:
        self._decide(
            f"/return_refund/202309/cancellations/{cancel_id}/approve",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=None,
        )

    def cancellation_reject(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        cancel_id: str,
        reject_reason: str,
        idempotency_key: str,
        comment: str = "",
    ) -> None:
        body: JSON = {"reject_reason": reject_reason}
        if comment:
            body["comment"] = comment
        self._decide(
            f"/return_refund/202309/cancellations/{cancel_id}/reject",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=body,
        )

    def _decide(
        self,
        path: str,
        *,
        access_token: str,
        shop_cipher: str,
        idempotency_key: str,
        body: JSON | None,
    ) -> None:
        if not idempotency_key or len(idempotency_key) > 255:
            raise ValueError("An idempotency key of 1 to 255 characters is required.")
        self._call(
            "POST",
            path,
            access_token=access_token,
            shop_cipher=shop_cipher,
            query={"idempotency_key": idempotency_key},
            body=body,
        )

    # --- Products and coupons (§7) --------------------------------------------------------------

    def product_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        status: str | None = None,
        seller_skus: Iterable[str] = (),
        sku_ids: Iterable[str] = (),
        create_time_ge: Timestamp | None = None,
        create_time_le: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_le: Timestamp | None = None,
        page_token: str | None = None,
        page_size: int = PRODUCT_PAGE_SIZE,
        version: str = "202502",
    ) -> Iterator[Page[Product]]:
        """Product search (§7.1; 202502 by default, "202309" accepted). No images in results.

        Time bounds are inclusive at both ends here (`_ge`/`_le`), unlike orders' `_lt`.
        """
        if version not in ("202309", "202502"):
            raise ValueError(f"Unsupported product search version: {version}")
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_le=create_time_le,
            update_time_ge=update_time_ge,
            update_time_le=update_time_le,
        )
        body.update(_lists(seller_skus=seller_skus, sku_ids=sku_ids))
        if status:
            body["status"] = status
        return self._pages(
            "POST",
            f"/product/{version}/products/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="products",
            to_record=mapping.product,
            page_size=page_size,
            page_token=page_token,
            body=body,
        )

    def products(self, **filters: Any) -> Iterator[Product]:
        for page in self.product_pages(**filters):
            yield from page.items

    def product(self, *, access_token: str, shop_cipher: str, product_id: str) -> Product:
        """Product detail with images and description (§7.1)."""
        data = self._call(
            "GET",
            f"/product/202309/products/{product_id}",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return mapping.product(data)

    def coupon_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        statuses: Iterable[str] = (),
        display_types: Iterable[str] = (),
        title_keyword: str | None = None,
        page_token: str | None = None,
        page_size: int = COUPON_PAGE_SIZE,
    ) -> Iterator[Page[Coupon]]:
        """Coupon search (§7.2). UNVERIFIED: the item key; `coupons` is assumed."""
        body: JSON = _lists(status=statuses, display_type=display_types)
        if title_keyword:
            body["title_keyword"] = title_keyword
        return self._pages(
            "POST",
            "/promotion/202406/coupons/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="coupons",
            to_record=mapping.coupon,
            page_size=page_size,
            page_token=page_token,
            body=body,
        )

    def coupons(self, **filters: Any) -> Iterator[Coupon]:
        for page in self.coupon_pages(**filters):
            yield from page.items

    def coupon(self, *, access_token: str, shop_cipher: str, coupon_id: str) -> Coupon:
        """Coupon detail. UNVERIFIED: whether `data` is the coupon or wraps it in `coupon`."""
        data = self._call(
            "GET",
            f"/promotion/202406/coupons/{coupon_id}",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        inner = data.get("coupon")
        return mapping.coupon(inner if isinstance(inner, dict) else data)

    # --- Customer service (§6) ------------------------------------------------------------------

    def conversation_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        page_token: str | None = None,
        locale: str | None = None,
        page_size: int = CONVERSATION_PAGE_SIZE,
    ) -> Iterator[Page[Conversation]]:
        return self._pages(
            "GET",
            "/customer_service/202309/conversations",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="conversations",
            to_record=mapping.conversation,
            page_size=page_size,
            page_token=page_token,
            extra_query={"locale": locale} if locale else None,
        )

    def conversations(
        self, *, access_token: str, shop_cipher: str, locale: str | None = None
    ) -> list[Conversation]:
        """All conversations of the shop, across pages (a conversation seen twice counts once)."""
        seen: dict[str, Conversation] = {}
        for page in self.conversation_pages(
            access_token=access_token, shop_cipher=shop_cipher, locale=locale
        ):
            for item in page.items:
                seen.setdefault(item.external_id, item)
        return list(seen.values())

    def messages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        conversation_id: str,
        after_index: str | None = None,
        locale: str | None = None,
        page_size: int = MESSAGE_PAGE_SIZE,
    ) -> list[Message]:
        """Messages of a conversation, oldest first by `index` (§6.3).

        Pages are asked newest first, so with `after_index` (the newest index already stored)
        paging stops at the first page that reaches it and only newer messages are returned.
        Reading messages does not mark them read (§6.1).
        """
        query = {"sort_field": "index", "sort_order": "DESC"}
        if locale:
            query["locale"] = locale
        cursor = mapping.index_key(after_index) if after_index else None
        found: dict[str, Message] = {}
        for page in self._pages(
            "GET",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="messages",
            to_record=lambda item: mapping.message(item, conversation_id),
            page_size=page_size,
            extra_query=query,
        ):
            reached_cursor = False
            for item in page.items:
                if cursor is not None and mapping.index_key(item.index) <= cursor:
                    reached_cursor = True
                    continue
                found.setdefault(item.external_id or item.index, item)
            if reached_cursor:
                break
        return sorted(found.values(), key=lambda item: mapping.index_key(item.index))

    def send_message(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        conversation_id: str,
        content: OutgoingContent,
    ) -> str:
        """Send one message (§6.2) and return its id. `content` goes as a JSON *string*.

        Raises OutcomeUnknownError when the platform may have sent it (timeout, 5xx).
        """
        if isinstance(content, TextContent) and len(content.text) > TEXT_MAX_CHARS:
            raise ValueError(f"A text message is limited to {TEXT_MAX_CHARS} characters.")
        body = {
            "type": str(content.type),
            "content": json.dumps(content.to_content(), ensure_ascii=False, separators=(",", ":")),
        }
        data = self._call(
            "POST",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            access_token=access_token,
            shop_cipher=shop_cipher,
            body=body,
            idempotent=False,
        )
        return mapping.ident(data.get("message_id")) or ""

    def mark_read(self, *, access_token: str, shop_cipher: str, conversation_id: str) -> None:
        """Mark the buyer's messages read (§6.1: no body)."""
        self._call(
            "POST",
            f"/customer_service/202309/conversations/{conversation_id}/messages/read",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )

    def create_conversation(
        self, *, access_token: str, shop_cipher: str, buyer_user_id: str
    ) -> str:
        """Open (or reopen) a conversation with a buyer (order `user_id`); returns its id."""
        data = self._call(
            "POST",
            "/customer_service/202309/conversations",
            access_token=access_token,
            shop_cipher=shop_cipher,
            body={"buyer_user_id": buyer_user_id},
            idempotent=False,
        )
        return mapping.ident(data.get("conversation_id")) or ""

    def upload_image(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        image: bytes,
        filename: str = "image",
    ) -> UploadedImage:
        """Upload an image for an IMAGE message (§6.1): multipart field `data`, body not signed.

        The product's limits are applied first (`prepare_image`): JPEG/PNG/GIF/WEBP up to 15 MB,
        recompressed when over 10 MB. Raises ValueError for anything else, before any request.
        """
        prepared = prepare_image(image, max_pixels=self.config.image_max_pixels)
        stem = filename.rsplit(".", 1)[0] if "." in filename else filename
        data = self._call(
            "POST",
            "/customer_service/202309/images/upload",
            access_token=access_token,
            shop_cipher=shop_cipher,
            files={"data": (f"{stem}.{prepared.extension}", prepared.data, prepared.content_type)},
        )
        return mapping.uploaded_image(data)

    def agent_settings(self, *, access_token: str, shop_cipher: str) -> AgentSettings:
        data = self._call(
            "GET",
            "/customer_service/202309/agents/settings",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return mapping.agent_settings(data)

    def update_agent_settings(
        self, *, access_token: str, shop_cipher: str, can_accept_chat: bool
    ) -> None:
        self._call(
            "PUT",
            "/customer_service/202309/agents/settings",
            access_token=access_token,
            shop_cipher=shop_cipher,
            body={"can_accept_chat": can_accept_chat},
        )

    # --- Transport ------------------------------------------------------------------------------

    def _pages(
        self,
        method: str,
        path: str,
        *,
        access_token: str,
        shop_cipher: str,
        items_key: str,
        to_record: Callable[[JSON], T],
        page_size: int,
        page_token: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        extra_query: Mapping[str, str] | None = None,
        body: JSON | None = None,
    ) -> Iterator[Page[T]]:
        """Cursor pagination (§3.4): paging params in the query, filters in the JSON body."""
        query: dict[str, str] = {"page_size": str(page_size), **(extra_query or {})}
        if sort_field:
            query["sort_field"] = sort_field
        if sort_order:
            query["sort_order"] = sort_order
        token = page_token or None
        while True:
            page_query = {**query, "page_token": token} if token else query
            data = self._call(
                method,
                path,
                access_token=access_token,
                shop_cipher=shop_cipher,
                query=page_query,
                body=body if method != "GET" else None,
            )
            next_token = mapping.text(data.get("next_page_token"))
            yield Page(
                items=[to_record(item) for item in mapping.dicts(data.get(items_key))],
                next_page_token=next_token,
                total_count=mapping.integer(data.get("total_count")),
                page_token=token,
            )
            if not next_token:
                return
            if next_token == token:
                raise PaginationError(f"{path} returned the same page token again", http_status=200)
            token = next_token

    def _call(
        self,
        method: str,
        path: str,
        *,
        access_token: str,
        shop_cipher: str | None = None,
        query: Mapping[str, str] | None = None,
        body: JSON | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        idempotent: bool = True,
    ) -> JSON:
        """One signed Open API call with retries; returns the envelope's `data`."""
        payload = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            if body is not None
            else None
        )
        headers = {"x-tts-access-token": access_token}
        if files is None:
            headers["Content-Type"] = "application/json"

        def attempt() -> requests.Response:
            params = {"app_key": self.config.app_key, "timestamp": str(int(self._clock()))}
            if shop_cipher:
                params["shop_cipher"] = shop_cipher
            params.update(query or {})
            # Multipart bodies are not signed (§2.1 step 5); JSON bodies are, byte for byte.
            params["sign"] = sign_request(self.config.app_secret, path, params, payload)
            return self.session.request(
                method,
                self.config.api_base_url.rstrip("/") + path,
                params=params,
                data=payload,
                files=files,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )

        return self._with_retries(method, path, attempt, idempotent=idempotent)

    def _auth_call(self, path: str, params: Mapping[str, str]) -> JSON:
        """Token endpoints on the auth host: unsigned, app secret in the query (§1.2/1.3)."""
        query = {"app_key": self.config.app_key, "app_secret": self.config.app_secret, **params}

        def attempt() -> requests.Response:
            return self.session.get(
                self.config.auth_base_url.rstrip("/") + path,
                params=query,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )

        return self._with_retries("GET", path, attempt, idempotent=True)

    def _with_retries(
        self,
        method: str,
        path: str,
        attempt: Callable[[], requests.Response],
        *,
        idempotent: bool,
    ) -> JSON:
        attempts = self.config.max_retries + 1
        for number in range(attempts):
            try:
                return self._parse(self._send(method, path, attempt))
            except TikTokError as error:
                retryable = isinstance(error, RETRYABLE) and (
                    idempotent or isinstance(error, RateLimitedError | _ConnectFailed)
                )
                delay = self._backoff(number, error)
                if retryable and number + 1 < attempts and delay is not None:
                    logger.warning(
                        "TikTok %s %s failed (%s); retry %d/%d in %.2fs",
                        method,
                        path,
                        error,
                        number + 1,
                        attempts - 1,
                        delay,
                    )
                    self._sleep(delay)
                    continue
                logger.warning(
                    "TikTok %s %s failed (%s) after %d attempt(s)", method, path, error, number + 1
                )
                if (
                    not idempotent
                    and isinstance(error, ServerError)
                    and not (isinstance(error, _ConnectFailed))
                ):
                    raise OutcomeUnknownError(
                        f"{method} {path}: the platform may or may not have done it", cause=error
                    ) from error
                raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _backoff(self, number: int, error: TikTokError) -> float | None:
        """Jittered exponential delay (§3.3); None when Retry-After is too long to wait here."""
        ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2.0**number)
        delay = ceiling / 2 + self._jitter() * ceiling / 2
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            if error.retry_after > RETRY_AFTER_LIMIT:
                return None
            delay = max(delay, error.retry_after)
        return delay

    def _send(
        self, method: str, path: str, attempt: Callable[[], requests.Response]
    ) -> requests.Response:
        """Run one attempt; network failures become TransportError without the URL (secrets)."""
        try:
            return attempt()
        except requests.exceptions.ConnectTimeout:
            error: TransportError = _ConnectFailed(f"{method} {path}: connect timeout")
        except requests.exceptions.ReadTimeout:
            error = TransportError(f"{method} {path}: read timeout")
        except requests.exceptions.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, NewConnectionError):
                error = _ConnectFailed(f"{method} {path}: connection refused")
            else:
                error = TransportError(f"{method} {path}: connection error")
        except requests.exceptions.RequestException as exc:
            error = TransportError(f"{method} {path}: {type(exc).__name__}")
        raise error

    @staticmethod
    def _parse(response: requests.Response) -> JSON:
        status = response.status_code
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            if status >= 400:  # a proxy's error page: typed by the status alone
                raise classify(
                    None,
                    f"HTTP {status} without a JSON body",
                    http_status=status,
                    retry_after=_retry_after(response),
                )
            # A 2xx that is not an envelope: nothing can be read from it, so it is transient.
            raise TransportError(
                f"HTTP {status}: the body is not a JSON object", http_status=status
            )
        code = mapping.integer(envelope.get("code"))
        request_id = mapping.text(envelope.get("request_id"))
        if code == 0 and status < 400:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        message = mapping.text(envelope.get("message")) or f"HTTP {status}"
        if code is None and status < 400:
            raise TikTokApiError(
                f"Response without a code: {message}", request_id=request_id, http_status=status
            )
        raise classify(
            code,
            message,
            request_id=request_id,
            http_status=status,
            retry_after=_retry_after(response),
        )


def _lists(**values: Iterable[str]) -> JSON:
    """Body filters that are arrays; empty ones are left out."""
    lists = {key: [str(item) for item in items] for key, items in values.items()}
    return {key: items for key, items in lists.items() if items}
