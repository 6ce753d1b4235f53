"""A mailbox that looks like a working day, for the layout and accessibility browser tests: two
stores, 30 tickets of different buyers (unread ones, assigned ones, every status), and one ticket
whose thread is taller than any screen, whose buyer has three orders (one linked, one with a
tracking number and a return), and whose last reply keeps failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from inbox.models import Conversation, DeliveryStatus, MessageDirection, TicketStatus
from orders.models import Order, OrderStatus
from tenants.models import Membership, Role, Tenant
from tests.factories import MembershipFactory
from tests.factories_inbox import (
    ConversationFactory,
    ConversationOrderFactory,
    MessageFactory,
    OutboxMessageFactory,
    SnippetFactory,
    TicketEventFactory,
)
from tests.factories_marketplaces import (
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    ReturnLineFactory,
    StoreFactory,
)

PREVIEWS = (
    "Hi, when will my order ship? It has been four days since I paid for it.",
    "Can I change the delivery address to my office please?",
    "Do you have this in a larger size?",
    "My parcel says delivered but I can't find it anywhere.",
    "Is there a discount if I buy two?",
    "Thank you, received it today!",
    "The colour is different from the picture.",
)


@dataclass
class World:
    ticket: Conversation
    orders: list[Order]
    members: list[Membership]


def build_world(tenant: Tenant) -> World:
    now = timezone.now()
    tenant.time_zone = "America/Los_Angeles"
    tenant.save(update_fields=["time_zone"])
    members = [
        MembershipFactory(
            tenant=tenant,
            role=Role.AGENT,
            user__email=f"{first.lower()}@acme.test",
            user__first_name=first,
            user__last_name=last,
        )
        for first, last in (("Priyanka", "Ramaswamy-Lindqvist"), ("Sam", "Okafor"))
    ]
    us = StoreFactory(tenant=tenant, name="Acme Outfitters US")
    uk = StoreFactory(tenant=tenant, name="Acme Outfitters UK", region="GB", market="UK")
    statuses = (TicketStatus.OPEN, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED)
    for n in range(30):
        ConversationFactory(
            store=us if n % 3 else uk,
            tenant=tenant,
            status=statuses[n % 4],
            last_message_at=now - timedelta(minutes=7 * n + 2),
            last_message_preview=PREVIEWS[n % len(PREVIEWS)],
            last_message_from_buyer=n % 5 != 1,
            unread_count=1 if n % 4 == 0 else 0,
            assignee=members[n % 2].user if n % 3 == 0 else None,
            # SLA clocks on some: their badges must fit the row too.
            platform_due_at=now + timedelta(hours=(n % 5) - 2) if n % 2 == 0 else None,
            sla_due_at=now + timedelta(hours=(n % 5) - 2) if n % 2 == 0 else None,
        )
    ticket = ConversationFactory(
        store=us,
        tenant=tenant,
        last_message_at=now,
        last_message_preview="Where is my order? It has been a week.",
        last_message_from_buyer=True,
        assignee=members[0].user,
        platform_due_at=now + timedelta(hours=20),
        sla_reply_due_at=now - timedelta(minutes=12),
        sla_due_at=now - timedelta(minutes=12),
    )
    buyer = ticket.customer.buyer_user_id
    linked = OrderFactory(
        store=us,
        tenant=tenant,
        buyer_user_id=buyer,
        external_id="576461413038785752",
        status=OrderStatus.IN_TRANSIT,
        placed_at=now - timedelta(days=6),
        total_amount=Decimal("59.95"),
        shipping_provider="USPS",
        tracking_number="9400111899223344556677",
        delivery_option_name="Standard shipping",
        city="Springfield",
        state="Illinois",
        postal_code="62704",
        country="US",
    )
    OrderLineFactory(
        order=linked,
        tenant=tenant,
        product_name="Vitamin C Sheet Masks (5 pack)",
        sku_name="5 pack",
    )
    OrderLineFactory(
        order=linked,
        tenant=tenant,
        product_name="Vitamin C Sheet Masks (5 pack)",
        sku_name="5 pack",
    )
    delivered = OrderFactory(
        store=us,
        tenant=tenant,
        buyer_user_id=buyer,
        external_id="576461413038700042",
        status=OrderStatus.COMPLETED,
        placed_at=now - timedelta(days=30),
        total_amount=Decimal("19.90"),
    )
    OrderLineFactory(order=delivered, tenant=tenant, product_name="Ceramic Mug", sku_name="White")
    returned = ReturnFactory(store=us, tenant=tenant, order_external_id=delivered.external_id)
    ReturnLineFactory(return_request=returned, tenant=tenant, product_name="Ceramic Mug")
    third = OrderFactory(
        store=us,
        tenant=tenant,
        buyer_user_id=buyer,
        external_id="576461413038711111",
        placed_at=now - timedelta(days=2),
        total_amount=Decimal("12.50"),
    )
    OrderLineFactory(order=third, tenant=tenant, product_name="Short Boat Invisible Socks")
    ConversationOrderFactory(conversation=ticket, tenant=tenant, order=linked)
    start = now - timedelta(hours=3)
    for n in range(24):
        at = start + timedelta(minutes=6 * n)
        if n % 3 == 2:
            OutboxMessageFactory(
                conversation=ticket,
                text=f"Thanks for waiting! Let me look into order {linked.external_id} for you.",
                delivery_status=DeliveryStatus.SENT,
                author=members[0].user,
                sent_at=at,
                created_at=at,
            )
        else:
            MessageFactory(
                conversation=ticket,
                text=PREVIEWS[n % len(PREVIEWS)] + (" " + "More details here." * (n % 4)),
                sent_at=at,
                created_at=at,
            )
    TicketEventFactory(
        conversation=ticket,
        tenant=tenant,
        body="Buyer called about this too.",
        actor=members[1].user,
        created_at=now - timedelta(minutes=20),
    )
    MessageFactory(
        conversation=ticket,
        text="Where is my order? It has been a week.",
        sent_at=now - timedelta(minutes=5),
        created_at=now - timedelta(minutes=5),
    )
    OutboxMessageFactory(
        conversation=ticket,
        direction=MessageDirection.OUTBOUND,
        text="Your parcel is with USPS; tracking 9400111899223344556677.",
        delivery_status=DeliveryStatus.QUEUED,
        author=members[0].user,
        attempts=3,
        failure_reason="Retrying: TikTok Shop is not answering (HTTP 503).",
        next_attempt_at=now + timedelta(seconds=40),
        sent_at=now - timedelta(minutes=1),
        created_at=now - timedelta(minutes=1),
    )
    SnippetFactory(
        tenant=tenant,
        title="Tracking number",
        shortcut="tracking",
        body="Your order {{ order.id }} ships with {{ order.carrier }}, tracking "
        "{{ order.tracking_number }}.",
    )
    SnippetFactory(
        tenant=tenant,
        title="Thanks",
        shortcut="thanks",
        body="Thank you for shopping with {{ store.name }}!",
    )
    return World(ticket=ticket, orders=[linked, third, delivered], members=members)
