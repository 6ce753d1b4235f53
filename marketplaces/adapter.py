"""What the rest of the product may ask of a connected store: `store_api(store)`.

`orders/` and `inbox/` call `store_api(store)` and get the `ChannelAPI` of the store's channel
(`marketplaces.channel`): plain records (`marketplaces.records`) in and out, failures as the
channel error vocabulary. Which channel answers is decided by `store.platform`, through the
channel registry; only `marketplaces/tiktok/` knows TikTok's client, signing and JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from marketplaces.channel import ChannelAPI, StoreUnavailableError, channel_for
from marketplaces.records import Coupon, SellerDecision
from marketplaces.records import WebhookEvent as WebhookRecord
from marketplaces.tiktok import aftersale, cards

from .models import Store

if TYPE_CHECKING:
    from .models import WebhookEvent

# The interface's old name, kept for type hints written against it.
StoreAPI = ChannelAPI

__all__ = [
    "CARD_TYPES",
    "StoreAPI",
    "StoreUnavailableError",
    "as_timestamp",
    "cancellation_decisions",
    "coupon_card_problems",
    "reset_default_client",
    "return_decisions",
    "store_api",
    "webhook_record",
]


def store_api(store: Store) -> ChannelAPI:
    """The channel API of `store` (raises StoreUnavailableError on use while it is not active)."""
    return channel_for(store.platform).api(store)


def webhook_record(event: WebhookEvent) -> WebhookRecord:
    """A stored webhook event's payload as a typed record (its `data` typed per topic)."""
    return channel_for(event.platform).webhook_record(event.payload)


def reset_default_client() -> None:
    """Forget the per-thread platform clients (tests that change TIKTOK_* settings call this)."""
    from marketplaces.tiktok.adapter import reset_default_client as reset_tiktok

    reset_tiktok()


def as_timestamp(value: datetime) -> int:
    return int(value.timestamp())


# --- Rules of the marketplace, as data the rest of the product shows ----------------------------
# (TikTok Shop's today; a second channel with cards or after-sale decisions adds its own.)

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
