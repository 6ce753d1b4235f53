"""SLA in the REST API: a ticket's clocks and recorded breaches, the Due soon / Overdue folders
(most urgent first), and a folder that does not exist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def _due(ticket: Conversation, due, breached: int = 0) -> None:
    Conversation.objects.filter(pk=ticket.pk).update(
        platform_due_at=due, sla_due_at=due, sla_breached=breached
    )


def test_tickets_carry_their_clocks_and_the_due_folders_list_most_urgent_first(world):
    now = timezone.now()
    first, second = world.ours.tickets
    _due(first, now - timedelta(hours=3), breached=1)
    _due(second, now + timedelta(minutes=20))
    theirs = world.theirs.tickets[0]
    _due(theirs, now - timedelta(hours=1))

    body = world.read.get(f"/api/v1/tickets/{first.public_id}/").json()
    assert body["sla_breached"] == ["platform"]
    assert body["platform_due_at"] == body["sla_due_at"]
    assert body["sla_reply_due_at"] is None

    overdue = world.read.get("/api/v1/tickets/", {"folder": "overdue"}).json()
    assert [t["id"] for t in overdue["results"]] == [str(first.public_id)]
    soon = world.read.get("/api/v1/tickets/", {"folder": "due_soon"}).json()
    assert [t["id"] for t in soon["results"]] == [str(second.public_id)]
    # A store-limited key (the first store) sees the due tickets of its store only.
    assert world.limited.get("/api/v1/tickets/", {"folder": "due_soon"}).json()["results"] == []
    limited = world.limited.get("/api/v1/tickets/", {"folder": "overdue"}).json()
    assert [t["id"] for t in limited["results"]] == [str(first.public_id)]


def test_an_unknown_folder_is_400(world):
    response = world.read.get("/api/v1/tickets/", {"folder": "late"})
    assert response.status_code == 400
    assert "folder" in error_of(response)["fields"]


def test_a_reply_on_a_stale_view_of_the_thread_is_409_and_nothing_is_stored(world):
    from inbox.models import Message
    from tests.factories_inbox import MessageFactory

    ticket = world.ours.tickets[0]
    url = f"/api/v1/tickets/{ticket.public_id}/messages/"
    seen = world.write.get(url).json()["results"][-1]["id"]
    MessageFactory(conversation=ticket, text="Still waiting!")
    before = Message.objects.count()

    refused = world.write.post(url, {"text": "On its way", "last_seen_message_id": seen})
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "stale_thread"
    assert Message.objects.count() == before

    newest = world.write.get(url).json()["results"][-1]["id"]
    sent = world.write.post(url, {"text": "On its way", "last_seen_message_id": newest})
    assert sent.status_code == 201, sent.content
    # Without the field a reply is sent as before; an id from another ticket is a 400.
    other = str(world.ours.messages[-1].public_id)
    bad = world.write.post(url, {"text": "Hi", "last_seen_message_id": other})
    assert bad.status_code == 400
    assert "last_seen_message_id" in error_of(bad)["fields"]
    assert world.write.post(url, {"text": "Hello again"}).status_code == 201
