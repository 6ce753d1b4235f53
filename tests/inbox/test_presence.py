"""Collision detection: presence on a ticket both ways, the list's "replying" marker, expiry,
another organisation's ticket, and a reply sent on a stale view of the thread (web and API)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from inbox import presence
from inbox.models import Conversation, DeliveryStatus, Message, MessageDirection
from tenants.models import Role
from tests.factories_inbox import ConversationFactory, MessageFactory, OutboxMessageFactory
from tests.factories_marketplaces import StoreFactory, member

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _own_cache(private_cache):
    """Presence lives in the cache: a private one per test."""


@pytest.fixture
def ticket(tenant):
    store = StoreFactory(tenant=tenant, name="Acme US")
    conversation = ConversationFactory(store=store, tenant=tenant)
    MessageFactory(conversation=conversation, text="Where is my parcel?")
    return conversation


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def named(tenant, first_name: str):
    user = member(tenant, Role.AGENT, email=f"{first_name.lower()}@acme.test").user
    user.first_name = first_name
    user.save()
    return user


@pytest.fixture
def ana(tenant):
    return named(tenant, "Ana")


@pytest.fixture
def ben(tenant):
    return named(tenant, "Ben")


def beat(client: Client, ticket: Conversation, state: str):
    return client.post(reverse("ticket_presence", args=[ticket.public_id]), {"state": state})


def test_two_agents_see_each_other_viewing_and_replying(ticket, ana, ben):
    ana_client, ben_client = signed_in(ana), signed_in(ben)
    first = beat(ana_client, ticket, "viewing")
    assert first.status_code == 200
    assert first.content.decode().strip() == ""  # nobody else yet
    assert "Ana is viewing" in beat(ben_client, ticket, "viewing").content.decode()
    assert "Ben is viewing" in beat(ana_client, ticket, "viewing").content.decode()
    beat(ben_client, ticket, "replying")
    assert "Ben is replying" in beat(ana_client, ticket, "viewing").content.decode()
    # The ticket page itself says so.
    page = ana_client.get(reverse("ticket_detail", args=[ticket.public_id])).content.decode()
    assert "Ben is replying" in page
    # Ben leaves: gone at once.
    beat(ben_client, ticket, "gone")
    assert beat(ana_client, ticket, "viewing").content.decode().strip() == ""


def test_presence_expires_without_heartbeats(ticket, ana, ben, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(presence.time, "time", lambda: now[0])
    beat(signed_in(ben), ticket, "replying")
    assert [p.name for p in presence.others_on(ticket.pk, user_id=ana.pk)] == ["Ben"]
    now[0] += presence.EXPIRY_SECONDS - 1
    assert presence.replying_on([ticket.pk], user_id=ana.pk) == {ticket.pk: ["Ben"]}
    now[0] += 2
    assert presence.others_on(ticket.pk, user_id=ana.pk) == []
    assert presence.replying_on([ticket.pk], user_id=ana.pk) == {}


def test_the_list_marks_tickets_a_teammate_is_replying_to_and_its_poll_redraws(ticket, ana, ben):
    ana_client = signed_in(ana)
    listing = ana_client.get(reverse("mailbox"), {"folder": "all"})
    version = re.search(r'data-list-version="([^"]+)"', listing.content.decode()).group(1)
    assert "replying" not in listing.content.decode()
    poll = reverse("mailbox_poll")
    assert ana_client.get(poll, {"folder": "all", "v": version}).status_code == 204

    beat(signed_in(ben), ticket, "replying")
    redrawn = ana_client.get(poll, {"folder": "all", "v": version})
    assert redrawn.status_code == 200
    assert "Ben replying" in redrawn.content.decode()
    # Ben's own list does not mark him.
    assert (
        "Ben replying"
        not in signed_in(ben).get(reverse("mailbox"), {"folder": "all"}).content.decode()
    )


def test_a_heartbeat_for_another_organisations_ticket_is_404_and_stores_nothing(
    ticket, other_tenant, other_owner
):
    response = beat(signed_in(other_owner), ticket, "replying")
    assert response.status_code == 404
    assert cache.get(f"presence:ticket:{ticket.pk}") is None
    assert presence.generation(other_tenant.pk) == 0


def test_an_unknown_state_is_400_and_stores_nothing(ticket, ana):
    response = beat(signed_in(ana), ticket, "typing-furiously")
    assert response.status_code == 400
    assert cache.get(f"presence:ticket:{ticket.pk}") is None


def test_a_heartbeat_needs_a_post(ticket, ana):
    assert (
        signed_in(ana).get(reverse("ticket_presence", args=[ticket.public_id])).status_code == 405
    )


# --- Stale replies ----------------------------------------------------------------------------


def seen_in(page: str) -> str:
    return re.search(r'name="last_seen_message_id" value="([^"]*)"', page).group(1)


def reply(client: Client, ticket: Conversation, text: str, seen: str):
    return client.post(
        reverse("ticket_reply", args=[ticket.public_id]),
        {"mode": "reply", "text": text, "last_seen_message_id": seen},
        **HX,
    )


@pytest.mark.parametrize("news", ["buyer", "teammate", "seller_center"])
def test_a_reply_after_new_messages_is_a_conflict_that_keeps_the_draft(ticket, ana, ben, news):
    ana_client = signed_in(ana)
    page = ana_client.get(reverse("ticket_detail", args=[ticket.public_id])).content.decode()
    seen = seen_in(page)
    assert seen == str(Message.objects.get(conversation=ticket).public_id)
    if news == "buyer":
        MessageFactory(conversation=ticket, text="Hello? Anyone?")
    elif news == "teammate":
        OutboxMessageFactory(conversation=ticket, author=ben, text="Ben here: it ships today.")
    else:
        MessageFactory(
            conversation=ticket, direction=MessageDirection.OUTBOUND, text="From Seller Center"
        )
    before = Message.objects.count()

    refused = reply(ana_client, ticket, "It shipped yesterday.", seen)
    assert refused.status_code == 409
    body = refused.content.decode()
    assert "New messages since you opened this ticket" in body
    assert ">It shipped yesterday.</textarea>" in body  # the draft is kept
    assert Message.objects.count() == before  # nothing sent
    newest = Message.objects.filter(conversation=ticket).order_by("-pk").first()
    assert seen_in(body) == str(newest.public_id)  # the thread shown now is the new one

    sent = reply(ana_client, ticket, "It shipped yesterday.", seen_in(body))
    assert sent.status_code == 200
    assert Message.objects.filter(author=ana, text="It shipped yesterday.").count() == 1


def test_the_agents_own_messages_and_notes_are_no_conflict(ticket, ana):
    ana_client = signed_in(ana)
    page = ana_client.get(reverse("ticket_detail", args=[ticket.public_id])).content.decode()
    seen = seen_in(page)
    OutboxMessageFactory(
        conversation=ticket, author=ana, text="An order card", delivery_status=DeliveryStatus.SENT
    )
    assert reply(ana_client, ticket, "And the tracking link.", seen).status_code == 200
    # A note is never refused for news.
    MessageFactory(conversation=ticket, text="Thanks!")
    note = ana_client.post(
        reverse("ticket_reply", args=[ticket.public_id]),
        {"mode": "note", "text": "Buyer happy", "last_seen_message_id": seen},
        **HX,
    )
    assert note.status_code == 200
