"""E-mail as a channel (`marketplaces.channel`): what a support mailbox can do for the inbox.

A mailbox has no orders, products or conversation list; its mail is read by its own poll
(`email_channel.polling`) and fed to the inbox's ingest. What the inbox asks of it through the
interface is sending a reply (`send_message`), answered over SMTP with threading headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marketplaces import channel, records
from marketplaces.channel import ChannelCapabilities, NotFoundError, StoreUnavailableError
from marketplaces.models import Platform, Store, StoreStatus

from . import keys

# An e-mail reply may be long; the limit keeps a pasted novel out of the outbox.
TEXT_MAX_CHARS = 20_000

CAPABILITIES = ChannelCapabilities(
    name="E-mail",
    message_types=frozenset({records.MessageType.TEXT}),
    text_max_chars=TEXT_MAX_CHARS,
    image=None,
    has_orders=False,
    lists_conversations=False,
    platform_reply_window=False,
    sent_index=keys.time_index,
)


class EmailStoreAPI:
    """One mailbox's channel API. Reads come from the poll, not from here: they answer empty."""

    capabilities = CAPABILITIES

    def __init__(self, store: Store) -> None:
        self.store = store

    def _check_active(self) -> None:
        # The same contract as every channel: SMTP is a network call, never made inside an open
        # transaction (a rollback after the mail left would forget a reply the buyer has).
        channel.ensure_no_transaction()
        if self.store.status != StoreStatus.ACTIVE:
            raise StoreUnavailableError(self.store)

    # --- What a mailbox does not have ---------------------------------------------------------

    def _nothing(self, **_: Any) -> Iterator[Any]:
        return iter(())

    def order_pages(self, *, page_token: str | None = None, **filters: Any) -> Iterator[Any]:
        return self._nothing()

    def orders_by_id(self, order_ids: Iterable[str]) -> list[records.Order]:
        return []

    def tracking(self, order_id: str) -> list[records.TrackingEvent]:
        raise NotFoundError("An e-mail mailbox has no orders.")

    def return_pages(self, *, page_token: str | None = None, **filters: Any) -> Iterator[Any]:
        return self._nothing()

    def cancellation_pages(self, *, page_token: str | None = None, **filters: Any) -> Iterator[Any]:
        return self._nothing()

    def after_sale_eligibility(self, order_id: str) -> records.AfterSaleEligibility:
        raise NotFoundError("An e-mail mailbox has no orders.")

    def reject_reasons(self, record_id: str) -> list[records.RejectReason]:
        return []

    def return_decide(self, return_id: str, **kwargs: Any) -> None:
        raise NotFoundError("An e-mail mailbox has no returns.")

    def cancellation_decide(self, cancel_id: str, **kwargs: Any) -> None:
        raise NotFoundError("An e-mail mailbox has no cancellations.")

    def product_pages(self, *, page_token: str | None = None, **filters: Any) -> Iterator[Any]:
        return self._nothing()

    def product(self, product_id: str) -> records.Product:
        raise NotFoundError("An e-mail mailbox has no products.")

    def coupon_pages(self, *, page_token: str | None = None, **filters: Any) -> Iterator[Any]:
        return self._nothing()

    def coupon(self, coupon_id: str) -> records.Coupon:
        raise NotFoundError("An e-mail mailbox has no coupons.")

    def conversation_pages(self, *, page_token: str | None = None, **filters: Any) -> Iterator[Any]:
        return self._nothing()

    def messages(
        self, conversation_id: str, *, after_index: str | None = None
    ) -> list[records.Message]:
        # Sent mail does not come back to be read: an unconfirmed send cannot be found again.
        return []

    def mark_read(self, conversation_id: str) -> None:
        return None

    def create_conversation(self, buyer_user_id: str) -> str:
        raise channel.PermissionDeniedError("A new e-mail to a buyer starts from their mail.")

    def upload_image(self, *, image: bytes, filename: str = "image") -> records.UploadedImage:
        raise channel.InvalidRequestError("Images are not sent by e-mail from Sellerdesk yet.")

    # --- Sending ------------------------------------------------------------------------------

    def send_message(self, conversation_id: str, *, content: records.OutgoingContent) -> str:
        """Sends the reply of ticket `conversation_id` (its token) by SMTP; the sent mail's key."""
        from .sending import reply_send

        self._check_active()
        if not isinstance(content, records.TextContent):
            raise channel.InvalidRequestError(f"E-mail cannot send a {content.type} message.")
        if len(content.text) > TEXT_MAX_CHARS:
            raise ValueError(f"An e-mail reply is limited to {TEXT_MAX_CHARS:,} characters.")
        try:
            return reply_send(store=self.store, token=conversation_id, text=content.text)
        except channel.InvalidTokenError as error:
            # Not a store to reconnect: a password to fix on the channel's settings page.
            raise channel.InvalidRequestError(
                f"{error.detail.rstrip('.')}; fix it in Settings → Channels, then retry"
            ) from error


def store_api(store: Store) -> EmailStoreAPI:
    return EmailStoreAPI(store)


def _no_webhooks(payload: dict[str, Any]) -> records.WebhookEvent:
    raise LookupError("E-mail channels receive no webhooks.")


CHANNEL = channel.Channel(
    platform=Platform.EMAIL,
    capabilities=CAPABILITIES,
    api=store_api,
    webhook_record=_no_webhooks,
)


def register() -> None:
    channel.channel_register(CHANNEL)
