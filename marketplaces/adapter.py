"""What the rest of the product may ask of a connected store's marketplace.

`orders/` and `inbox/` call `store_api(store)` and get plain records (`marketplaces.records`);
only this module and `marketplaces/tiktok/` know TikTok's client, signing and JSON. The adapter
supplies the store's decrypted token and shop cipher to every call, refreshes an expired token
once and carries on (page iterators resume from the page they were on), and counts token errors
so that a store whose access is really gone is marked "needs re-authorization" and sync pauses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from marketplaces.records import (
    AfterSaleEligibility,
    Cancellation,
    Conversation,
    Coupon,
    Message,
    Order,
    Page,
    Product,
    RejectReason,
    Return,
    SellerDecision,
    TrackingEvent,
    UploadedImage,
)
from marketplaces.records import WebhookEvent as WebhookRecord
from marketplaces.tiktok import aftersale, cards, mapping
from marketplaces.tiktok.client import TikTokClient
from marketplaces.tiktok.errors import InvalidTokenError, TikTokError, TokenExpiredError

from . import services, tokens
from .models import Store, StoreStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")
_local = threading.local()


class StoreUnavailableError(Exception):
    """The store is not active (needs re-authorization or disconnected): nothing is called."""

    def __init__(self, store: Store) -> None:
        problem = {
            StoreStatus.NEEDS_REAUTH: "needs to be reconnected to TikTok Shop",
            StoreStatus.DISCONNECTED: "is disconnected",
        }.get(store.status, "is not active")
        super().__init__(f"{store.name} {problem}.")
        self.store = store


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


class StoreAPI:
    def __init__(self, store: Store, *, client: TikTokClient | None = None) -> None:
        self.store = store
        self.client = client or default_client()

    # --- The mechanism ------------------------------------------------------------------------

    def _check_active(self) -> None:
        if self.store.status != StoreStatus.ACTIVE:
            raise StoreUnavailableError(self.store)

    def _credentials(self) -> dict[str, str]:
        return {"access_token": self.store.access_token, "shop_cipher": self.store.shop_cipher}

    def _on_token_error(self, exc: TikTokError) -> None:
        services.store_record_error(
            store=self.store,
            message=f"TikTok Shop refused the store's access: {exc}",
            token_error=True,
        )

    def _on_success(self) -> None:
        if self.store.token_error_count:
            Store.objects.filter(pk=self.store.pk).update(token_error_count=0)
            self.store.token_error_count = 0

    def call(self, operation: Callable[..., T], **kwargs: Any) -> T:
        """Run one client operation with this store's credentials; refresh once on expiry."""
        self._check_active()
        refreshed = False
        while True:
            try:
                result = operation(**self._credentials(), **kwargs)
            except TokenExpiredError as exc:
                if refreshed:
                    self._on_token_error(exc)
                    raise
                tokens.store_tokens_refresh(store=self.store, client=self.client)
                refreshed = True
            except InvalidTokenError as exc:
                self._on_token_error(exc)
                raise
            else:
                self._on_success()
                return result

    def pages(
        self,
        operation: Callable[..., Iterator[Page[T]]],
        *,
        page_token: str | None = None,
        **kwargs: Any,
    ) -> Iterator[Page[T]]:
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
                return
            except TokenExpiredError as exc:
                if refreshed:
                    self._on_token_error(exc)
                    raise
                tokens.store_tokens_refresh(store=self.store, client=self.client)
                refreshed = True
            except InvalidTokenError as exc:
                self._on_token_error(exc)
                raise

    # --- Orders, returns, cancellations -------------------------------------------------------

    def order_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[Page[Order]]:
        return self.pages(self.client.order_pages, page_token=page_token, **filters)

    def orders_by_id(self, order_ids: Iterable[str]) -> list[Order]:
        return self.call(self.client.order_details, order_ids=list(order_ids))

    def tracking(self, order_id: str) -> list[TrackingEvent]:
        return self.call(self.client.tracking, order_id=order_id)

    def return_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[Page[Return]]:
        return self.pages(self.client.return_pages, page_token=page_token, **filters)

    def cancellation_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[Page[Cancellation]]:
        return self.pages(self.client.cancellation_pages, page_token=page_token, **filters)

    def after_sale_eligibility(self, order_id: str) -> AfterSaleEligibility:
        return self.call(self.client.aftersale_eligibility, order_id=order_id)

    def reject_reasons(self, record_id: str) -> list[RejectReason]:
        """What the platform accepts as the reason to reject this return or cancellation."""
        return self.call(self.client.reject_reasons, return_or_cancel_id=record_id)

    def return_decide(
        self,
        return_id: str,
        *,
        decision: SellerDecision,
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
        decision: SellerDecision,
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
    ) -> Iterator[Page[Product]]:
        return self.pages(self.client.product_pages, page_token=page_token, **filters)

    def product(self, product_id: str) -> Product:
        return self.call(self.client.product, product_id=product_id)

    def coupon_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[Page[Coupon]]:
        return self.pages(self.client.coupon_pages, page_token=page_token, **filters)

    def coupon(self, coupon_id: str) -> Coupon:
        return self.call(self.client.coupon, coupon_id=coupon_id)

    # --- Customer service ---------------------------------------------------------------------

    def conversation_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[Page[Conversation]]:
        return self.pages(self.client.conversation_pages, page_token=page_token, **filters)

    def messages(self, conversation_id: str, *, after_index: str | None = None) -> list[Message]:
        """Oldest first by index; with `after_index`, only messages newer than it."""
        return self.call(
            self.client.messages, conversation_id=conversation_id, after_index=after_index
        )

    def send_message(self, conversation_id: str, **kwargs: Any) -> str:
        return self.call(self.client.send_message, conversation_id=conversation_id, **kwargs)

    def mark_read(self, conversation_id: str) -> None:
        self.call(self.client.mark_read, conversation_id=conversation_id)

    def create_conversation(self, buyer_user_id: str) -> str:
        return self.call(self.client.create_conversation, buyer_user_id=buyer_user_id)

    def upload_image(self, **kwargs: Any) -> UploadedImage:
        return self.call(self.client.upload_image, **kwargs)


def store_api(store: Store, *, client: TikTokClient | None = None) -> StoreAPI:
    return StoreAPI(store, client=client)


def webhook_record(payload: dict[str, Any]) -> WebhookRecord:
    """A stored webhook event's payload as a typed record (its `data` typed per topic)."""
    return mapping.webhook_event(payload)


def as_timestamp(value: datetime) -> int:
    return int(value.timestamp())


# --- Rules of the marketplace, as data the rest of the product shows ----------------------------

# The card types a ticket can send (§6.2).
CARD_TYPES: tuple[str, ...] = tuple(str(kind) for kind in cards.CARD_TYPES)


def coupon_card_problems(coupon: Coupon) -> list[str]:
    """Why the marketplace would refuse this coupon as a chat card; empty when it would not."""
    return cards.coupon_card_problems(coupon)


def return_decisions(
    *, status: str, return_type: str, next_actions: Iterable[str], can_buyer_keep_item: bool | None
) -> list[SellerDecision]:
    """The decisions the marketplace offers on a return in this state (empty: none is due)."""
    return aftersale.return_decisions(
        status=status,
        return_type=return_type,
        next_actions=next_actions,
        can_buyer_keep_item=can_buyer_keep_item,
    )


def cancellation_decisions(
    *, status: str, cancel_type: str, next_actions: Iterable[str]
) -> list[SellerDecision]:
    return aftersale.cancellation_decisions(
        status=status, cancel_type=cancel_type, next_actions=next_actions
    )
