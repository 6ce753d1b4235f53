"""Cards an agent sends from a ticket: order, product, coupon, logistics and return/refund cards.

A card is a Message like a reply: stored QUEUED first (shown at once), sent by the outbox once
(claimed, retried with backoff, reconciled with the conversation after an unconfirmed send), then
SENT with its platform id or FAILED with a reason and Retry. Its `content` is the marketplace's
card content (`{"order_id": ...}`), so the platform's copy of it, coming back by webhook or poll,
has the same shape and is recognised.

What may be sent is checked here, before anything is stored: the order, product or coupon must be
of the ticket's store (and an order the ticket's buyer's own), the product live, the coupon one the
marketplace accepts as a card, and a return/refund card's SKU open to after-sale on the platform
(asked live, before the transaction). The views resolve every object through a selector first, so
another organisation's object is a 404 before this module sees it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplaces.adapter import CARD_TYPES, StoreUnavailableError, store_api
from marketplaces.channel import ChannelError
from marketplaces.records import (
    CouponCardContent,
    LogisticsCardContent,
    MessageType,
    OrderCardContent,
    OutgoingContent,
    ProductCardContent,
    ReturnRefundCardContent,
)
from orders.models import Coupon, Order, Product
from tenants.models import Membership
from tenants.principals import KeyMember, actor_name

from . import services
from .models import Conversation, DeliveryStatus, Message, MessageDirection

CARD_NAMES = {
    MessageType.ORDER_CARD: "Order card",
    MessageType.PRODUCT_CARD: "Product card",
    MessageType.COUPON_CARD: "Coupon card",
    MessageType.LOGISTICS_CARD: "Shipping card",
    MessageType.RETURN_REFUND_CARD: "Return/refund card",
}
ORDER_CARDS = (MessageType.ORDER_CARD, MessageType.LOGISTICS_CARD, MessageType.RETURN_REFUND_CARD)
# Before an order ships there is no parcel to follow, nor anything to return.
NOT_SHIPPED = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "CANCELLED")


class CardInvalidError(services.InboxActionError):
    """A card that cannot be sent; the message says why, for the agent."""


@dataclass(frozen=True, slots=True)
class CardRequest:
    """What the agent picked; the objects were found with the agent's own selectors."""

    card_type: str
    order: Order | None = None
    product: Product | None = None
    coupon: Coupon | None = None
    package_id: str = ""
    sku_id: str = ""


def is_card(message_type: str) -> bool:
    return message_type in CARD_TYPES


def outgoing_content(message: Message) -> OutgoingContent:
    """The marketplace content of a stored card (the outbox sends this)."""
    content = message.content if isinstance(message.content, dict) else {}

    def field(key: str) -> str:
        return str(content.get(key) or "")

    kind = message.type
    if kind == MessageType.ORDER_CARD:
        return OrderCardContent(order_id=field("order_id"))
    if kind == MessageType.PRODUCT_CARD:
        return ProductCardContent(product_id=field("product_id"))
    if kind == MessageType.COUPON_CARD:
        return CouponCardContent(coupon_id=field("coupon_id"))
    if kind == MessageType.LOGISTICS_CARD:
        return LogisticsCardContent(order_id=field("order_id"), package_id=field("package_id"))
    if kind == MessageType.RETURN_REFUND_CARD:
        return ReturnRefundCardContent(order_id=field("order_id"), sku_id=field("sku_id"))
    raise ValueError(f"{kind} is not a card type")


def card_ids(content: OutgoingContent) -> dict[str, Any]:
    """The ids a card carries (what its platform copy is recognised by)."""
    return content.to_content()


# --- Checks -----------------------------------------------------------------------------------


def _order_content(conversation: Conversation, request: CardRequest) -> dict[str, Any]:
    order = request.order
    if order is None:
        raise CardInvalidError("Choose the order to send.")
    if order.store_id != conversation.store_id:
        raise CardInvalidError(
            f"Order {order.external_id} is from another store; a card can show only an order of "
            f"{conversation.store.name}."
        )
    buyer = conversation.customer.buyer_user_id if conversation.customer else ""
    if not buyer or order.buyer_user_id != buyer:
        raise CardInvalidError(
            f"Order {order.external_id} is not this buyer's: only the buyer's own orders can be "
            "sent to them."
        )
    content: dict[str, Any] = {"order_id": order.external_id}
    if request.card_type == MessageType.LOGISTICS_CARD:
        if order.status in NOT_SHIPPED:
            raise CardInvalidError(
                f"Order {order.external_id} has not shipped, so there is no shipment to show."
            )
        packages = {line.package_id for line in order.lines.all() if line.package_id}
        packages.update(str(p.get("id")) for p in order.raw.get("packages") or [] if p.get("id"))
        if request.package_id:
            if request.package_id not in packages:
                raise CardInvalidError(
                    f"Package {request.package_id} is not part of order {order.external_id}."
                )
            content["package_id"] = request.package_id
    if request.card_type == MessageType.RETURN_REFUND_CARD:
        skus = {line.sku_id for line in order.lines.all() if line.sku_id}
        if request.sku_id not in skus:
            raise CardInvalidError("Choose one of the order's items for the return/refund card.")
        content["sku_id"] = request.sku_id
    return content


def _product_content(conversation: Conversation, product: Product | None) -> dict[str, Any]:
    if product is None:
        raise CardInvalidError("Choose the product to send.")
    if product.store_id != conversation.store_id:
        raise CardInvalidError(
            f"“{product.title}” is sold by another store; send a product of "
            f"{conversation.store.name}."
        )
    if not product.is_live:
        raise CardInvalidError(
            f"“{product.title}” is not live ({product.status_label.lower()}): buyers could not "
            "open it."
        )
    return {"product_id": product.external_id}


def _coupon_content(conversation: Conversation, coupon: Coupon | None) -> dict[str, Any]:
    if coupon is None:
        raise CardInvalidError("Choose the coupon to send.")
    if coupon.store_id != conversation.store_id:
        raise CardInvalidError(
            f"The coupon “{coupon.title}” belongs to another store; send one of "
            f"{conversation.store.name}."
        )
    if coupon.card_problems:
        raise CardInvalidError(
            f"The coupon “{coupon.title}” cannot be sent as a card: "
            + " ".join(coupon.card_problems)
        )
    return {"coupon_id": coupon.external_id}


def _check_after_sale(conversation: Conversation, order: Order, sku_id: str) -> None:
    """Asks the platform whether the SKU is open to a return or refund (no transaction open)."""
    try:
        eligibility = store_api(conversation.store).after_sale_eligibility(order.external_id)
    except StoreUnavailableError as error:
        raise CardInvalidError(str(error)) from error
    except ChannelError as error:
        raise CardInvalidError(
            f"{conversation.store.get_platform_display()} could not say whether this order is "
            f"open to a return or refund ({error.detail}). Try again in a moment."
        ) from error
    if sku_id in eligibility.card_sku_ids():
        return
    found = eligibility.sku(sku_id)
    why = found.refusal("REFUND", "RETURN_AND_REFUND") if found else ""
    raise CardInvalidError(
        f"Order {order.external_id} is not open to a return or refund for this item"
        + (f": {why}" if why else ".")
    )


def card_content(conversation: Conversation, request: CardRequest) -> dict[str, Any]:
    """The card's content if it may be sent from this ticket, else CardInvalidError."""
    if request.card_type not in CARD_TYPES:
        raise CardInvalidError("Choose a card to send.")
    if request.card_type in ORDER_CARDS:
        return _order_content(conversation, request)
    if request.card_type == MessageType.PRODUCT_CARD:
        return _product_content(conversation, request.product)
    return _coupon_content(conversation, request.coupon)


def card_preview(card_type: str, title: str) -> str:
    name = CARD_NAMES.get(card_type, "Card")
    return f"[{name}: {title}]" if title else f"[{name}]"


def _title(request: CardRequest) -> str:
    if request.product is not None:
        return request.product.title
    if request.coupon is not None:
        return request.coupon.title
    return f"order {request.order.external_id}" if request.order is not None else ""


# --- Sending ----------------------------------------------------------------------------------


def card_send(
    *,
    membership: Membership | KeyMember,
    conversation: Conversation,
    request: CardRequest,
    client_token: uuid.UUID | None = None,
) -> Message:
    """Stores the card QUEUED and sends it after commit; a resubmission with the same
    `client_token` returns the card already stored (nothing is sent twice)."""
    services._require_serves(
        membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id
    )
    if client_token is not None:
        existing = Message.objects.filter(
            tenant_id=conversation.tenant_id, client_token=client_token
        ).first()
        if existing is not None:
            if existing.conversation_id != conversation.pk:
                raise services.TicketAccessError("That card belongs to another ticket.")
            return existing
    if not conversation.can_send_message:
        raise CardInvalidError(
            "TikTok Shop does not allow sending messages in this conversation any more."
        )
    content = card_content(conversation, request)
    if request.card_type == MessageType.RETURN_REFUND_CARD and request.order is not None:
        _check_after_sale(conversation, request.order, request.sku_id)

    now = timezone.now()
    message = Message(
        tenant_id=conversation.tenant_id,
        store_id=conversation.store_id,
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        sender_role="CUSTOMER_SERVICE",
        sender_name=actor_name(membership),
        type=request.card_type,
        text="",
        content=content,
        sent_at=now,
        created_at=now,
        author=membership.user,  # None for an API key: sender_name names it
        client_token=client_token or uuid.uuid4(),
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=now,
    )
    try:
        with transaction.atomic():
            Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
            message.save()
            updates = {
                "awaiting_reply_since": None,
                "unread_count": 0,
                "last_message_at": now,
                "last_message_preview": card_preview(request.card_type, _title(request))[:255],
                "last_message_from_buyer": False,
                "updated_at": now,
            }
            Conversation.objects.filter(pk=conversation.pk).update(**updates)
            for name, value in updates.items():
                setattr(conversation, name, value)
            services._on_commit_task("send_reply", message.pk)
    except IntegrityError:
        if client_token is None:
            raise
        return Message.objects.get(tenant_id=conversation.tenant_id, client_token=client_token)
    return message
