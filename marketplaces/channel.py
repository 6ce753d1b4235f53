"""The channel interface: what the product may ask of a store's channel, whatever the channel is.

A channel is where a store's buyers write and where its orders come from: TikTok Shop
(`marketplaces/tiktok/`) today, e-mail next. `inbox/` and `orders/` know channels only through
this module and `marketplaces.adapter` (which hands out a store's `ChannelAPI`):

- the error vocabulary below: every channel maps its own failures onto these types, so the product
  decides what to do (retry later, pause, ask for a reconnect, show a sentence) without knowing
  the platform's codes;
- `ChannelCapabilities`: what a reply may contain on that channel (message types, text and image
  limits), declared by the channel rather than read from its client;
- `ChannelAPI`: the operations (pages of orders, conversations, messages, sending ...) with plain
  records (`marketplaces.records`) in and out;
- a registry, filled by each channel's package when the app starts (`MarketplacesConfig.ready`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from marketplaces import records
    from marketplaces.models import Store


# --- Errors -------------------------------------------------------------------------------------


class ChannelError(Exception):
    """Anything that went wrong asking a channel. `code`, `request_id` and `http_status` are the
    platform's own, kept so that a log line or a failed row can be matched with its records;
    `detail` is the platform's message."""

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        request_id: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.detail = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [f"code={self.code}"] if self.code is not None else []
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return f"{self.detail} ({', '.join(parts)})" if parts else self.detail


class RateLimitedError(ChannelError):
    """Too many requests; `retry_after` is the channel's hint in seconds (None: unknown)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnavailableError(ChannelError):
    """The channel did not answer usefully (server error, timeout, no connection): try later."""


class OutcomeUnknownError(ChannelError):
    """A call that is not idempotent (sending a message, opening a conversation) may or may not
    have happened. The caller reconciles (looks for the result) before trying again."""


class InvalidTokenError(ChannelError):
    """The store's access was refused (revoked, expired past refreshing): reconnect the store."""


class PermissionDeniedError(ChannelError):
    """The store may not do this (a missing scope, a buyer it may not message)."""


class NotFoundError(ChannelError):
    """The object does not exist in this store (unknown, or another store's)."""


class QuotaExceededError(ChannelError):
    """A quota that does not come back within seconds (a daily limit)."""


class InvalidRequestError(ChannelError):
    """The channel refused the request itself (a parameter, the content): repeating it as it is
    cannot help."""


class PageTokenInvalidError(InvalidRequestError):
    """A page position the channel handed out earlier is no longer accepted: page again from the
    start of the same search."""


class StoreUnavailableError(ChannelError):
    """The store is not active (needs re-authorization or disconnected): nothing is called."""

    def __init__(self, store: Store) -> None:
        from marketplaces.models import StoreStatus

        problem = {
            StoreStatus.NEEDS_REAUTH: f"needs to be reconnected to {store.get_platform_display()}",
            StoreStatus.DISCONNECTED: "is disconnected",
        }.get(store.status, "is not active")
        super().__init__(f"{store.name} {problem}.")
        self.store = store


# Worth trying again after a while, as they are.
TRANSIENT_ERRORS: tuple[type[ChannelError], ...] = (RateLimitedError, UnavailableError)


class TransactionOpenError(RuntimeError):
    """A channel was called inside an open database transaction. The rule: call the channel,
    then write what it answered in a short transaction of its own (a rotated token written in
    the caller's transaction would be lost with the caller's rollback)."""


def ensure_no_transaction(using: str | None = None) -> None:
    """Raises TransactionOpenError inside an open transaction (the test case's own wrapping
    transaction excepted, as Django's durable blocks except it)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    blocks = connections[using or DEFAULT_DB_ALIAS].atomic_blocks
    if any(not getattr(block, "_from_testcase", False) for block in blocks):
        raise TransactionOpenError(
            "A channel is called inside an open database transaction: call it first, then "
            "write what it answered in a transaction of its own."
        )


# --- Capabilities -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What an outgoing image may be. `formats` maps Pillow's format names to content types;
    the product checks an image by opening it, never by its name."""

    max_bytes: int
    formats: Mapping[str, str]
    extensions: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ChannelCapabilities:
    """What a reply may be on a channel, declared by the channel.

    `text_and_image_in_one_message`: False when a reply with text and an image becomes two
    platform messages (an image message, then a text message), each with its own id.
    """

    name: str
    message_types: frozenset[str]
    text_max_chars: int
    image: ImageLimits | None = None
    text_and_image_in_one_message: bool = True
    has_orders: bool = True
    # False for a channel whose conversations are not listed by the inbox's poll (e-mail polls
    # its own mailbox): `conversation_pages` is never asked for.
    lists_conversations: bool = True
    # True when the platform holds the seller to a reply window (TikTok's 24 h or 12 h, the
    # "platform" SLA clock); a mailbox has none, only the team's own policies.
    platform_reply_window: bool = True
    # A channel whose sent messages never come back to be read (e-mail) places a reply in its
    # thread by the time it was sent: the index of a message sent at that time. None: the
    # channel's copy brings the index (TikTok).
    sent_index: Callable[[datetime], str] | None = None

    def can_send(self, message_type: str) -> bool:
        return message_type in self.message_types


# --- The interface ------------------------------------------------------------------------------


class ChannelAPI(Protocol):
    """One store's channel. Every call may raise a ChannelError (above); page iterators resume
    from a stored `page_token` and yield `records.Page`s."""

    store: Store
    capabilities: ChannelCapabilities

    def order_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Order]]: ...
    def orders_by_id(self, order_ids: Iterable[str]) -> list[records.Order]: ...
    def tracking(self, order_id: str) -> list[records.TrackingEvent]: ...
    def return_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Return]]: ...
    def cancellation_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Cancellation]]: ...
    def after_sale_eligibility(self, order_id: str) -> records.AfterSaleEligibility: ...
    def reject_reasons(self, record_id: str) -> list[records.RejectReason]: ...
    def return_decide(
        self,
        return_id: str,
        *,
        decision: records.SellerDecision,
        idempotency_key: str,
        reject_reason: str = "",
        comment: str = "",
    ) -> None: ...
    def cancellation_decide(
        self,
        cancel_id: str,
        *,
        decision: records.SellerDecision,
        idempotency_key: str,
        reject_reason: str = "",
        comment: str = "",
    ) -> None: ...
    def product_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Product]]: ...
    def product(self, product_id: str) -> records.Product: ...
    def coupon_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Coupon]]: ...
    def coupon(self, coupon_id: str) -> records.Coupon: ...
    def conversation_pages(
        self, *, page_token: str | None = None, **filters: Any
    ) -> Iterator[records.Page[records.Conversation]]: ...
    def messages(
        self, conversation_id: str, *, after_index: str | None = None
    ) -> list[records.Message]: ...
    def send_message(self, conversation_id: str, *, content: records.OutgoingContent) -> str: ...
    def mark_read(self, conversation_id: str) -> None: ...
    def create_conversation(self, buyer_user_id: str) -> str: ...
    def upload_image(self, *, image: bytes, filename: str = "image") -> records.UploadedImage: ...


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel as registered: its platform value (`Store.platform`), what it can send, how to
    get a store's API, and how to read one of its stored webhook payloads."""

    platform: str
    capabilities: ChannelCapabilities
    api: Callable[[Store], ChannelAPI]
    webhook_record: Callable[[dict[str, Any]], records.WebhookEvent] = field(repr=False)


_CHANNELS: dict[str, Channel] = {}


def channel_register(channel: Channel) -> Channel:
    """Adds a channel (its package calls this from MarketplacesConfig.ready)."""
    _CHANNELS[channel.platform] = channel
    return channel


def channel_for(platform: str) -> Channel:
    try:
        return _CHANNELS[platform]
    except KeyError:
        raise LookupError(f"No channel is registered for platform {platform!r}.") from None


def capabilities_for(platform: str) -> ChannelCapabilities:
    return channel_for(platform).capabilities


def registered_channels() -> list[Channel]:
    return list(_CHANNELS.values())


def platforms_with_orders() -> list[str]:
    """Platforms whose stores have orders, returns and products to sync."""
    return [c.platform for c in _CHANNELS.values() if c.capabilities.has_orders]


def platforms_listing_conversations() -> list[str]:
    """Platforms whose stores the inbox's poll reads conversation by conversation."""
    return [c.platform for c in _CHANNELS.values() if c.capabilities.lists_conversations]
