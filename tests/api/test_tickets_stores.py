"""Stores and tickets: what each key sees and may do, for both organisations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from inbox.models import Conversation, TicketEvent, TicketEventKind
from search.index import documents_rebuild
from tests.api.conftest import error_of
from tests.factories_inbox import ConversationFactory, ConversationOrderFactory, MessageFactory
from tests.factories_marketplaces import BASE_TIME

pytestmark = pytest.mark.django_db


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_each_organisation_lists_only_its_own_stores_and_tickets(world, side):
    client = world.write if side == "ours" else world.other
    mine = getattr(world, side)
    assert sorted(_ids(client.get("/api/v1/stores/"))) == sorted(
        str(s.public_id) for s in mine.stores
    )
    assert sorted(_ids(client.get("/api/v1/tickets/"))) == sorted(
        str(t.public_id) for t in mine.tickets
    )


def test_a_store_limited_key_sees_only_its_stores_tickets(world):
    store = world.ours.stores[0]
    assert _ids(world.limited.get("/api/v1/stores/")) == [str(store.public_id)]
    assert _ids(world.limited.get("/api/v1/tickets/")) == [str(world.ours.tickets[0].public_id)]
    hidden = world.ours.tickets[1]
    assert world.limited.get(f"/api/v1/tickets/{hidden.public_id}/").status_code == 404
    assert world.limited.get(f"/api/v1/stores/{world.ours.stores[1].public_id}/").status_code == 404


def test_ticket_detail_shape(world):
    ticket = world.ours.tickets[0]
    body = world.read.get(f"/api/v1/tickets/{ticket.public_id}/").json()
    assert body["id"] == str(ticket.public_id)
    assert body["number"] == ticket.number
    assert body["status"] == "open"
    assert body["store"] == {
        "id": str(ticket.store.public_id),
        "name": ticket.store.name,
        "market": "us",
        "channel": "tiktok",
    }
    assert body["buyer"]["id"] == str(ticket.customer.public_id)
    assert body["buyer"]["name"] == ticket.customer.display_name
    assert body["assignee"] is None
    assert body["unread_count"] == 1


def test_store_detail_shows_sync_state(world):
    from tests.factories_marketplaces import SyncJobFactory

    store = world.ours.stores[0]
    SyncJobFactory(store=store, tenant=store.tenant, items_fetched=40, total_estimate=80)
    body = world.read.get(f"/api/v1/stores/{store.public_id}/").json()
    assert body["name"] == store.name
    assert body["shop_id"] == store.external_shop_id
    assert body["sync"]["items_fetched"] == 40
    assert body["sync"]["progress_percent"] == 50
    assert "access_token" not in str(body) and "cipher" not in str(body)


def test_filters(world):
    tenant = world.ours.tenant
    store_one, store_two = world.ours.stores
    first, second = world.ours.tickets
    solved = ConversationFactory(store=store_two, tenant=tenant, status="solved", unread_count=0)
    mine = ConversationFactory(store=store_one, tenant=tenant, assignee=world.ours.agent.user)

    def ids(**params):
        return sorted(_ids(world.read.get("/api/v1/tickets/", params)))

    assert ids(status="solved") == [str(solved.public_id)]
    assert ids(store=store_two.public_id) == sorted([str(second.public_id), str(solved.public_id)])
    assert ids(assignee=world.ours.agent.user.public_id) == [str(mine.public_id)]
    assert ids(assignee="none") == sorted(str(t.public_id) for t in (first, second, solved))
    assert ids(unread="true") == sorted([str(first.public_id), str(second.public_id)])
    later = timezone.now() + timedelta(seconds=1)
    Conversation.objects.filter(pk=second.pk).update(updated_at=later + timedelta(seconds=1))
    assert ids(updated_since=later.isoformat()) == [str(second.public_id)]
    text = world.ours.messages[0].text
    assert ids(q=text) == [str(first.public_id)]


def test_q_ranks_exact_matches_first_then_newest_first_in_each_organisation(world):
    """Given an older ticket linked to an order and one numbered 987654, and newer tickets that
    only mention them; the other organisation holding the same order id and words."""
    order_id = "576461413038785752"
    store = world.ours.stores[0]
    linked = ConversationFactory(store=store, tenant=store.tenant, last_message_at=BASE_TIME)
    ConversationOrderFactory(conversation=linked, order_external_id=order_id)
    numbered = ConversationFactory(
        store=store, tenant=store.tenant, number=987654, last_message_at=BASE_TIME
    )
    mentions = ConversationFactory(
        store=store, tenant=store.tenant, last_message_at=BASE_TIME + timedelta(days=2)
    )
    MessageFactory(conversation=mentions, text=f"Is {order_id} shipped? See ticket 987654")
    rival_store = world.theirs.stores[0]
    rival = ConversationFactory(
        store=rival_store, tenant=rival_store.tenant, last_message_at=BASE_TIME
    )
    ConversationOrderFactory(conversation=rival, order_external_id=order_id)
    MessageFactory(conversation=rival, text=f"{order_id} and 987654")
    documents_rebuild([linked.pk, numbered.pk, mentions.pk, rival.pk])

    def ids(client, **params) -> list[str]:
        return _ids(client.get("/api/v1/tickets/", params))

    # When searched: the exact match comes first, though the mention is newer.
    assert ids(world.read, q=order_id) == [str(linked.public_id), str(mentions.public_id)]
    assert ids(world.read, q="#987654") == [str(numbered.public_id), str(mentions.public_id)]
    assert ids(world.read, q="987654") == [str(numbered.public_id), str(mentions.public_id)]
    # The other organisation finds only its own ticket, by the same id and words.
    assert ids(world.other, q=order_id) == [str(rival.public_id)]
    assert ids(world.other, q="987654") == [str(rival.public_id)]
    # Page by page (a page each), the cursor carries the rank: nothing skipped or repeated.
    first = world.read.get("/api/v1/tickets/", {"q": order_id, "page_size": 1}).json()
    assert [row["id"] for row in first["results"]] == [str(linked.public_id)]
    second = world.read.get(
        "/api/v1/tickets/", {"q": order_id, "page_size": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [row["id"] for row in second["results"]] == [str(mentions.public_id)]
    assert second["next_cursor"] is None
    # Words alone: newest first, as before.
    assert ids(world.read, q="shipped") == [str(mentions.public_id)]


def test_q_in_the_overdue_folder_ranks_exact_matches_before_the_most_urgent(world):
    """Given three overdue tickets: the most urgent only mentions an order id, the least urgent
    is linked to it. The exact match comes first, then the most urgent; page by page too."""
    order_id = "576461413038785752"
    store = world.ours.stores[0]
    now = timezone.now()

    def overdue(hours: int, text: str) -> Conversation:
        ticket = ConversationFactory(
            store=store, tenant=store.tenant, sla_due_at=now - timedelta(hours=hours)
        )
        MessageFactory(conversation=ticket, text=text)
        return ticket

    linked = overdue(1, "Hello")
    ConversationOrderFactory(conversation=linked, order_external_id=order_id)
    urgent = overdue(5, f"Where is {order_id}?")
    later = overdue(3, f"{order_id} again")
    documents_rebuild([linked.pk, urgent.pk, later.pk])
    expected = [str(linked.public_id), str(urgent.public_id), str(later.public_id)]

    params = {"q": order_id, "folder": "overdue"}
    assert _ids(world.read.get("/api/v1/tickets/", params)) == expected
    seen, cursor = [], None
    for _ in range(len(expected) + 1):  # a page each, and a bound should a cursor repeat
        page = world.read.get(
            "/api/v1/tickets/", {**params, "page_size": 1, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [row["id"] for row in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, cursor) == (expected, None)
    assert _ids(world.other.get("/api/v1/tickets/", params)) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"unread": "maybe"}, "unread"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2026-01-01T00:00:00"}, "updated_since"),
    ],
)
def test_bad_filters_are_400(world, params, field):
    response = world.read.get("/api/v1/tickets/", params)
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


def test_filters_naming_another_organisations_store_or_person_are_404(world):
    theirs = world.theirs
    assert (
        world.read.get("/api/v1/tickets/", {"store": theirs.stores[0].public_id}).status_code == 404
    )
    assert (
        world.read.get("/api/v1/tickets/", {"assignee": theirs.agent.user.public_id}).status_code
        == 404
    )


def test_change_status_assign_and_mark_read_through_the_services(world):
    ticket = world.ours.tickets[0]
    base = f"/api/v1/tickets/{ticket.public_id}"
    solved = world.write.post(f"{base}/status/", {"status": "solved"})
    assert solved.status_code == 200
    assert solved.json()["status"] == "solved"
    assigned = world.write.post(
        f"{base}/assign/", {"assignee_id": str(world.ours.agent.user.public_id)}
    )
    assert assigned.json()["assignee"]["id"] == str(world.ours.agent.user.public_id)
    read = world.write.post(f"{base}/read/")
    assert read.json()["unread_count"] == 0
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.unread_count) == (
        "solved",
        world.ours.agent.user_id,
        0,
    )
    # History says which key acted.
    events = TicketEvent.objects.filter(conversation=ticket).exclude(kind=TicketEventKind.NOTE)
    assert [(e.kind, e.actor_id, e.data["via"]["name"]) for e in events.order_by("id")] == [
        ("status", None, "ERP"),
        ("assignment", None, "ERP"),
    ]
    unassigned = world.write.post(f"{base}/assign/", {"assignee_id": None})
    assert unassigned.json()["assignee"] is None


def test_ticket_history_in_the_mailbox_says_via_api_key(world, client):
    ticket = world.ours.tickets[0]
    world.write.post(f"/api/v1/tickets/{ticket.public_id}/status/", {"status": "pending"})
    client.force_login(world.ours.owner.user)
    page = client.get(f"/mailbox/{ticket.public_id}/", {"all": "1"})
    assert page.status_code == 200
    assert "An integration set the status to Pending via API key ERP" in page.content.decode()


def test_assigning_someone_outside_the_organisation_or_the_store_is_400(world):
    ticket = world.ours.tickets[0]
    url = f"/api/v1/tickets/{ticket.public_id}/assign/"
    stranger = world.write.post(url, {"assignee_id": str(world.theirs.owner.user.public_id)})
    assert stranger.status_code == 400
    assert error_of(stranger)["fields"] == {"assignee_id": ["No such member in this organisation."]}
    from marketplaces.models import StoreAccess

    StoreAccess.objects.create(
        tenant=world.ours.tenant, membership=world.ours.agent, store=world.ours.stores[1]
    )
    elsewhere = world.write.post(url, {"assignee_id": str(world.ours.agent.user.public_id)})
    assert elsewhere.status_code == 400
    ticket.refresh_from_db()
    assert ticket.assignee_id is None


def test_the_command_prints_the_key_alone_on_its_last_line(world, capsys):
    call_command(
        "api_key_create", "--tenant", world.ours.tenant.slug, "--name", "CLI", "--scope", "write"
    )
    out = capsys.readouterr().out.strip().splitlines()
    secret = out[-1]
    from tests.api.conftest import KeyClient

    response = KeyClient(secret).post(
        f"/api/v1/tickets/{world.ours.tickets[0].public_id}/status/", {"status": "pending"}
    )
    assert response.status_code == 200


def test_the_command_refuses_an_unknown_tenant(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organisation"):
        call_command("api_key_create", "--tenant", "nope", "--name", "x")
