"""TikTok Shop as a channel: the `ChannelAPI` of one connected store, its capabilities, and the
mapping of TikTok's errors onto the channel vocabulary (`marketplaces.channel`).

The store's decrypted token and shop cipher go with every call; an expired token is refreshed
once and the call carries on (page iterators resume from the page they were on); token errors
are counted so that a store whose access is really gone is marked "needs re-authorization" and
sync pauses. Whatever goes wrong leaves here as a `ChannelError`, never as a TikTok type.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from marketplaces import channel, records
from marketplaces.channel import ChannelCapabilities, ImageLimits
from marketplaces.models import Platform, Store, StoreStatus

from . import errors, mapping
from .client import IMAGE_ACCEPT_LIMIT, IMAGE_FORMATS, TikTokClient

logger = logging.getLogger(__name__)

T = TypeVar("T")
_local = threading.local()

CAPABILITIES = ChannelCapabilities(
    name="TikTok Shop",
    # Contract §6.2: the types a seller may send.
    message_types=frozenset(
        {
            records.MessageType.TEXT,
            records.MessageType.IMAGE,
            records.MessageType.VIDEO,
            records.MessageType.PRODUCT_CARD,
            records.MessageType.ORDER_CARD,
            records.MessageType.RETURN_REFUND_CARD,
            records.MessageType.COUPON_CARD,
            records.MessageType.LOGISTICS_CARD,
        }
    ),
    text_max_chars=records.TEXT_MAX_CHARS,  # §6.2: 2,000 characters
    image=ImageLimits(
        max_bytes=IMAGE_ACCEPT_LIMIT,
        formats=IMAGE_FORMATS,
        extensions={"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"},
    ),
    # An IMAGE message carries no text: a reply with both is sent as two messages.
    text_and_image_in_one_message=False,
    has_orders=True,
)


# --- Errors -------------------------------------------------------------------------------------


def channel_error(exc: errors.TikTokError) -> channel.ChannelError:
    """The channel's name for what TikTok answered (the TikTok error stays as `__cause__`)."""
    details: dict[str, Any] = {
        "code": exc.code,
        "request_id": exc.request_id,
        "http_status": exc.http_status,
    }
    message = exc.message
    if isinstance(exc, errors.OutcomeUnknownError):
        return channel.OutcomeUnknownError(message, **details)
    if isinstance(exc, errors.RateLimitedError):
        return channel.RateLimitedError(message, retry_after=exc.retry_after, **details)
    if isinstance(exc, errors.ServerError):  # transport failures included
        return channel.UnavailableError(message, **details)
    if isinstance(exc, errors.InvalidTokenError):
        return channel.InvalidTokenError(message, **details)
    if isinstance(exc, errors.QuotaExceededError):
        return channel.QuotaExceededError(message, **details)
    if isinstance(exc, errors.PermissionDeniedError):
        if exc.code == errors.ORDER_NOT_OWNED:
            # "Another seller's order": for this store, an order that does not exist.
            return channel.NotFoundError(message, **details)
        return channel.PermissionDeniedError(message, **details)
    if isinstance(exc, errors.NotFoundError):
        return channel.NotFoundError(message, **details)
    if "page_token" in message.lower() and not isinstance(exc, errors.InvalidCredentialsError):
        # The sandbox answers 40006 "Invalid parameter. `page_token` is invalid."; TikTok's own
        # code for a cursor it no longer accepts is not documented, its wording names the field.
        return channel.PageTokenInvalidError(message, **details)
    return channel.InvalidRequestError(message, **details)


# --- One store's API ----------------------------------------------------------------------------


def default_client() -> TikTokClient:
    """One client (one pooled HTTP session) per thread, built from settings."""
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = TikTokClient.from_settings()
    return client


def reset_default_client() -> None:
    """Forget the per-thread client (tests that change TIKTOK_* settings call this)."""
    client = getattr(_local, "client", None)
    if client is not None:
        client.close()
        _local.client = None


class TikTokStoreAPI:
    capabilities = CAPABILITIES

    def __init__(self, store: Store, *, client: TikTokClient | None = None) -> None:
        self.store = store
        self.client = client or default_client()

    # --- The mechanism ------------------------------------------------------------------------

    def _check_active(self) -> None:
        channel.ensure_no_transaction()
        if self.store.status != StoreStatus.ACTIVE:
            raise channel.StoreUnavailableError(self.store)

    def _credentials(self) -> dict[str, str]:
        return {"access_token": self.store.access_token, "shop_cipher": self.store.shop_cipher}

    def _on_token_error(self, exc: errors.TikTokError) -> None:
        from marketplaces import services

        services.store_record_error(
            store=self.store,
            message=f"TikTok Shop refused the store's access: {exc}",
            token_error=True,
        )

    def _on_success(self) -> None:
        if self.store.token_error_count:
            Store.objects.filter(pk=self.store.pk).update(token_error_count=0)
            self.store.token_error_count = 0

    def _refresh(self) -> None:
        """A fresh access token for the store (its own durable transaction, see tokens)."""
        from marketplaces import tokens

        try:
            tokens.store_tokens_refresh(store=self.store, client=self.client)
        except errors.TikTokApiError as exc:
            if tokens.is_refusal(exc):
                raise channel.InvalidTokenError(
                    f"TikTok Shop refused to refresh the store's access: {exc.message}",
                    code=exc.code,
                    request_id=exc.request_id,
                    http_status=exc.http_status,
                ) from exc
            raise channel_error(exc) from exc

    def _recover(self, exc: errors.TikTokError, *, refreshed: bool) -> None:
        """After a failed call: an expired token is refreshed once and the caller tries again;
        anything else leaves as the channel's error (token refusals counted first)."""
        if isinstance(exc, errors.TokenExpiredError) and not refreshed:
            self._refresh()
            return
        if isinstance(exc, errors.InvalidTokenError):
            self._on_token_error(exc)
        raise channel_error(exc) from exc

    def call(self, operation: Callable[..., T], **kwargs: Any) -> T:
        """Run one client operation with this store's credentials; refresh once on expiry."""
        self._check_active()
        refreshed = False
        while True:
            try:
                result = operation(**self._credentials(), **kwargs)
            except errors.TikTokError as exc:
                self._recover(exc, refreshed=refreshed)
                refreshed = True
            else:
                self._on_success()
                return result

    def pages(
        self,
        operation: Callable[..., Iterator[records.Page[T]]],
        *,
        page_token: str | None = None,
        **kwargs: Any,
    ) -> Iterator[records.Page[T]]:
        """Pages of a search; an expired token mid-way is refreshed and paging resumes in place."""
        self._check_active()
        refreshed = False
        while True:
            try:
                for page in operation(**self._credentials(), page_token=page_token, **kwargs):
                    self._on_success()
                    refreshed = False
                    yield page
                    page_token = page.next_page_token or None
                    if page_token is None:
                        return
                    # The caller may have opened a transaction while holding the page.
                    channel.ensure_no_transaction()
                return
            except errors.TikTokError as exc:
                self._recover(exc, refreshed=refreshed)
                refreshed = True

    # --- Orders, returns, cancellations -------------------------------------------------------

    def order_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Order]]:
        return self.pages(self.client.order_pages, page_token=page_token, **filters)

    def orders_by_id(self, order_ids: Iterable[str]) -> list[records.Order]:
        return self.call(self.client.order_details, order_ids=list(order_ids))

    def tracking(self, order_id: str) -> list[records.TrackingEvent]:
        return self.call(self.client.tracking, order_id=order_id)

    def return_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Return]]:
        return self.pages(self.client.return_pages, page_token=page_token, **filters)

    def cancellation_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Cancellation]]:
        return self.pages(self.client.cancellation_pages, page_token=page_token, **filters)

    def after_sale_eligibility(self, order_id: str) -> records.AfterSaleEligibility:
        return self.call(self.client.aftersale_eligibility, order_id=order_id)

    def reject_reasons(self, record_id: str) -> list[records.RejectReason]:
        """What the platform accepts as the reason to reject this return or cancellation."""
        return self.call(self.client.reject_reasons, return_or_cancel_id=record_id)

    def return_decide(
        self,
        return_id: str,
        *,
        decision: records.SellerDecision,
        idempotency_key: str,
        reject_reason: str = "",
        comment: str = "",
    ) -> None:
        """Take one of the decisions `return_decisions` offered; the key makes a retry safe."""
        if decision.approve:
            self.call(
                self.client.return_approve,
                return_id=return_id,
                decision=decision.code,
                buyer_keep_item=decision.buyer_keep_item,
                idempotency_key=idempotency_key,
            )
        else:
            self.call(
                self.client.return_reject,
                return_id=return_id,
                decision=decision.code,
                reject_reason=reject_reason,
                comment=comment,
                idempotency_key=idempotency_key,
            )

    def cancellation_decide(
        self,
        cancel_id: str,
        *,
        decision: records.SellerDecision,
        idempotency_key: str,
        reject_reason: str = "",
        comment: str = "",
    ) -> None:
        if decision.approve:
            self.call(
                self.client.cancellation_approve,
                cancel_id=cancel_id,
                idempotency_key=idempotency_key,
            )
        else:
            self.call(
                self.client.cancellation_reject,
                cancel_id=cancel_id,
                reject_reason=reject_reason,
                comment=comment,
                idempotency_key=idempotency_key,
            )

    # --- Products and coupons -----------------------------------------------------------------

    def product_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Product]]:
        return self.pages(self.client.product_pages, page_token=page_token, **filters)

    def product(self, product_id: str) -> records.Product:
        return self.call(self.client.product, product_id=product_id)

    def coupon_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Coupon]]:
        return self.pages(self.client.coupon_pages, page_token=page_token, **filters)

    def coupon(self, coupon_id: str) -> records.Coupon:
        return self.call(self.client.coupon, coupon_id=coupon_id)

    # --- Customer service ---------------------------------------------------------------------

    def conversation_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Conversation]]:
        return self.pages(self.client.conversation_pages, page_token=page_token, **filters)

    def messages(
        self, conversation_id: str, *, after_index: str | None = None
    ) -> list[records.Message]:
        """Oldest first by index; with `after_index`, only messages newer than it."""
        return self.call(
            self.client.messages, conversation_id=conversation_id, after_index=after_index
        )

    def send_message(self, conversation_id: str, *, content: records.OutgoingContent) -> str:
        return self.call(self.client.send_message, conversation_id=conversation_id, content=content)

    def mark_read(self, conversation_id: str) -> None:
        self.call(self.client.mark_read, conversation_id=conversation_id)

    def create_conversation(self, buyer_user_id: str) -> str:
        return self.call(self.client.create_conversation, buyer_user_id=buyer_user_id)

    def upload_image(self, *, image: bytes, filename: str = "image") -> records.UploadedImage:
        """Raises ValueError (before any request) for a file the product's limits refuse."""
        return self.call(self.client.upload_image, image=image, filename=filename)


def store_api(store: Store, *, client: TikTokClient | None = None) -> TikTokStoreAPI:
    return TikTokStoreAPI(store, client=client)


CHANNEL = channel.Channel(
    platform=Platform.TIKTOK,
    capabilities=CAPABILITIES,
    api=store_api,
    webhook_record=mapping.webhook_event,
)


def register() -> None:
    channel.channel_register(CHANNEL)
