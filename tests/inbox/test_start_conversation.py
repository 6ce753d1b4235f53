""" "Message the buyer" on the order page, over the live sandbox: it lands in the new or the
reopened ticket, and what TikTok refuses is said plainly on the order page."""

from __future__ import annotations

import html

import pytest

from inbox.models import (
    Conversation,
    ConversationOrder,
    OrderLinkSource,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from marketplaces.adapter import store_api
from marketplaces.models import StoreStatus
from orders.ingest import orders_upsert
from orders.models import Order
from tenants.models import Membership, Role
from tests.factories import MembershipFactory
from tests.factories_marketplaces import OrderFactory, StoreAccessFactory, StoreFactory
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings):
    """A sandbox of our own: starting conversations changes its state."""
    sandbox = tiktok_sandbox_factory(days=4, orders_per_day=20)  # 26 buyers, 12 chatting
    point_settings_at(settings, sandbox)
    return sandbox


@pytest.fixture
def store(sandbox, tenant):
    return connect_store(sandbox, tenant=tenant)


def chatting_buyers(store) -> dict[str, str]:
    """buyer user id -> conversation id, for the sandbox shop's existing chats."""
    found = {}
    for page in store_api(store).conversation_pages():
        for record in page.items:
            if record.buyer is not None and record.buyer.user_id:
                found[record.buyer.user_id] = record.external_id
    return found


def synced_orders(store) -> list[Order]:
    records = next(store_api(store).order_pages(page_size=50)).items
    orders_upsert(store=store, orders=records)
    return list(Order.objects.filter(store=store).order_by("external_id"))


def start(client, order) -> object:
    return client.post(f"/orders/{order.public_id}/message-buyer/")


def flash(client, order) -> str:
    return html.unescape(client.get(f"/orders/{order.public_id}/").content.decode())


def test_a_buyer_without_a_chat_gets_a_new_ticket_with_the_order_linked(
    store, agent_client, tenant, agent
):
    chats = chatting_buyers(store)
    order = next(o for o in synced_orders(store) if o.buyer_user_id not in chats)

    response = start(agent_client, order)

    conversation = Conversation.objects.get(
        tenant=tenant, customer__buyer_user_id=order.buyer_user_id
    )
    assert response.status_code == 302
    assert response["Location"] == f"/mailbox/{conversation.public_id}/"
    assert conversation.store == store
    assert conversation.status == TicketStatus.OPEN
    assert conversation.external_id not in chats.values()
    assert conversation.external_id in chatting_buyers(store).values()  # TikTok opened it
    link = ConversationOrder.objects.get(conversation=conversation)
    assert (link.order, link.order_external_id, link.source) == (
        order,
        order.external_id,
        OrderLinkSource.STARTED_FROM_ORDER,
    )
    assert list(
        TicketEvent.objects.filter(
            conversation=conversation, kind=TicketEventKind.ORDER_LINKED
        ).values_list("actor__email", "data")
    ) == [
        (
            "agent@acme.test",
            {"order_id": order.external_id, "source": OrderLinkSource.STARTED_FROM_ORDER},
        )
    ]


def test_a_buyer_with_a_solved_ticket_lands_in_the_same_ticket_reopened(
    store, owner_client, tenant
):
    chats = chatting_buyers(store)
    order = next(o for o in synced_orders(store) if o.buyer_user_id not in chats)
    assert start(owner_client, order).status_code == 302
    conversation = Conversation.objects.get(
        tenant=tenant, customer__buyer_user_id=order.buyer_user_id
    )
    Conversation.objects.filter(pk=conversation.pk).update(status=TicketStatus.SOLVED)

    response = start(owner_client, order)

    assert response["Location"] == f"/mailbox/{conversation.public_id}/"
    assert Conversation.objects.filter(tenant=tenant).count() == 1
    conversation.refresh_from_db()
    assert conversation.status == TicketStatus.OPEN
    assert ConversationOrder.objects.filter(conversation=conversation).count() == 1


def test_criteria_not_met_is_said_plainly_on_the_order_page(store, agent_client, tenant):
    # A buyer TikTok has no history with in this shop: the platform refuses (45109003).
    order = OrderFactory(store=store, tenant=tenant, buyer_user_id="7000000000000000001")

    response = start(agent_client, order)

    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.public_id}/"
    assert (
        "TikTok Shop lets a seller start a chat only with a buyer who ordered or chatted "
        "recently; this buyer cannot be messaged from here."
    ) in flash(agent_client, order)
    assert not Conversation.objects.filter(tenant=tenant).exists()


def test_a_store_needing_reauthorization_is_said_plainly(store, sandbox, agent_client, tenant):
    order = next(iter(synced_orders(store)))
    store.status = StoreStatus.NEEDS_REAUTH
    store.save(update_fields=["status"])
    chats_before = sandbox.state()["counts"]

    response = start(agent_client, order)

    assert response["Location"] == f"/orders/{order.public_id}/"
    assert f"{store.name} needs to be reconnected before you can message its buyers." in flash(
        agent_client, order
    )
    assert not Conversation.objects.filter(tenant=tenant).exists()
    assert sandbox.state()["counts"] == chats_before  # TikTok was not asked


def test_the_order_page_shows_the_button(store, agent_client):
    order = next(iter(synced_orders(store)))

    page = agent_client.get(f"/orders/{order.public_id}/").content.decode()

    assert f'action="/orders/{order.public_id}/message-buyer/"' in page
    assert ">Message the buyer</button>" in page


def test_get_is_not_allowed(agent_client, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), tenant=tenant)

    assert agent_client.get(f"/orders/{order.public_id}/message-buyer/").status_code == 405


def test_another_tenant_gets_404_and_nothing_happens(client, other_owner, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), tenant=tenant)
    client.force_login(other_owner)

    assert start(client, order).status_code == 404
    assert not Conversation.objects.exists()


def test_an_agent_limited_to_another_store_gets_404(client, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), tenant=tenant)
    limited = MembershipFactory(tenant=tenant, role=Role.AGENT)
    StoreAccessFactory(membership=limited, store=StoreFactory(tenant=tenant))
    client.force_login(limited.user)

    assert start(client, order).status_code == 404
    assert not Conversation.objects.exists()
    assert Membership.objects.get(pk=limited.pk).role == Role.AGENT
