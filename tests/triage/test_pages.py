"""Triage in the mailbox: the intent tag and Urgent mark on rows, the intent filter, "most urgent
first", the ticket bar's one-click correction, the composer's suggestions; another
organisation's ticket is 404 and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from inbox import sidebar
from inbox.models import Conversation, ConversationOrder, OrderLinkSource
from inbox.selectors import ListFilters, list_page, mailbox_conversations
from inbox.snippets import starter_snippets_seed
from tenants.models import Membership
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import OrderFactory, StoreFactory
from triage.models import IntentCorrection
from triage.suggestions import starter_replies_seed, ticket_suggestions

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Sunrise Outfitters")


def ticket(store, **fields) -> Conversation:
    return ConversationFactory(store=store, tenant=store.tenant, **fields)


def test_rows_show_the_intent_tag_and_the_urgent_mark(agent_client, store):
    ticket(store, intent="delivery_problem", urgent=True, last_message_preview="nothing came")
    ticket(store, intent="other", last_message_preview="hello")
    html = agent_client.get(reverse("mailbox")).content.decode()
    assert html.count('class="pill pill-sm pill-urgent"') == 1
    assert html.count('badge-intent intent-delivery_problem">Delivery problem</span>') == 1
    assert "intent-other" not in html  # "other" is no tag


def test_the_intent_filter_lists_that_intent_only(agent_client, store):
    cancel = ticket(store, intent="cancel_order")
    ticket(store, intent="order_status")
    html = agent_client.get(reverse("mailbox"), {"intent": "cancel_order"}).content.decode()
    assert html.count("data-ticket-row") == 1
    assert f"ticket-{cancel.public_id}" in html
    assert "?intent=" in html or "intent=cancel_order" in html  # links keep the filter
    everything = agent_client.get(reverse("mailbox"), {"intent": "nonsense"}).content.decode()
    assert everything.count("data-ticket-row") == 2


def test_most_urgent_first_puts_urgent_tickets_first_across_pages(tenant, agent, store):
    due_soon = ticket(store, sla_due_at=NOW + timedelta(minutes=5), last_message_at=NOW)
    urgent_late = ticket(
        store, urgent=True, sla_due_at=NOW + timedelta(hours=5), last_message_at=NOW
    )
    urgent_no_due = ticket(store, urgent=True, last_message_at=NOW - timedelta(hours=1))
    calm = ticket(store, last_message_at=NOW - timedelta(hours=2))
    membership = Membership.objects.get(user=agent, tenant=tenant)
    tickets = mailbox_conversations(
        tenant=tenant, membership=membership, filters=ListFilters(folder="all", sort="urgent")
    )
    seen, cursor = [], ""
    while True:
        page = list_page(tickets, cursor=cursor, size=1, urgent=True)
        seen += [row.pk for row in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [urgent_late.pk, urgent_no_due.pk, due_soon.pk, calm.pk]
    # A cursor written before triage (no urgent flag) still pages.
    old = f"u~{due_soon.sla_due_at.isoformat()}~{NOW.isoformat()}~{due_soon.pk}"
    assert [row.pk for row in list_page(tickets, cursor=old, size=5, urgent=True).rows] == [calm.pk]


def test_one_click_correction_from_the_ticket_bar(agent_client, agent, store):
    conversation = ticket(store, intent="order_status", intent_source="model")
    MessageFactory(conversation=conversation, text="my thing came in pieces")
    url = reverse("ticket_triage_correct", args=[conversation.public_id])
    response = agent_client.post(url, {"intent": "damaged_or_wrong_item"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-intent="damaged_or_wrong_item"' in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.intent, conversation.intent_source) == ("damaged_or_wrong_item", "agent")
    correction = IntentCorrection.objects.get()
    assert (correction.text, correction.previous_intent, correction.corrected_by) == (
        "my thing came in pieces",
        "order_status",
        agent,
    )
    # Without JavaScript: back to the ticket.
    response = agent_client.post(url, {"urgent": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket_detail", args=[conversation.public_id])
    conversation.refresh_from_db()
    assert conversation.urgent is True
    bad = agent_client.post(url, {"intent": "nonsense"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    assert "Select a valid choice" in bad.content.decode()


def test_the_ticket_page_shows_the_marker_and_loads_suggestions(agent_client, store):
    conversation = ticket(store, intent="cancel_order", language="fr", urgent=True)
    html = agent_client.get(reverse("ticket_detail", args=[conversation.public_id])).content
    html = html.decode()
    assert 'id="ticket-triage"' in html
    assert ">Cancel order</span>" in html
    assert ">FR</span>" in html
    assert reverse("ticket_suggestions", args=[conversation.public_id]) in html


def test_every_hook_of_the_ticket_page_has_a_registrant():
    """inbox.sidebar's lists of partials are filled by the apps above inbox: one nobody fills
    is a dead hook (the composer's was removed once suggestions moved to the ticket bar)."""
    hooks = {name: value for name, value in vars(sidebar).items() if name.endswith("_PARTS")}
    assert "triage/_ticket_bar.html" in hooks["TICKET_BAR_PARTS"]
    assert [name for name, parts in hooks.items() if not parts] == []


def test_suggestions_rank_the_intents_snippet_first_filled_with_the_linked_order(
    agent_client, tenant, agent, store
):
    starter_snippets_seed(tenant=tenant)
    starter_replies_seed(tenant=tenant)
    conversation = ticket(store, intent="delivery_problem")
    MessageFactory(conversation=conversation, text="tracking has not moved for a week, late!")
    order = OrderFactory(store=store, tenant=tenant, external_id="576469260282336209")
    OrderFactory(store=store, tenant=tenant)  # the buyer's newer order: the linked one wins
    ConversationOrder.objects.create(
        tenant=tenant,
        conversation=conversation,
        order=order,
        order_external_id=order.external_id,
        source=OrderLinkSource.TEXT,
    )
    membership = Membership.objects.get(user=agent, tenant=tenant)
    suggestions = ticket_suggestions(membership=membership, conversation=conversation)
    assert suggestions[0].snippet.shortcut == "delay-apology"
    assert "576469260282336209" in suggestions[0].text
    assert len(suggestions) == 3
    html = agent_client.get(reverse("ticket_suggestions", args=[conversation.public_id]))
    html = html.content.decode()
    assert 'data-suggestion="1"' in html
    assert "Delay apology" in html
    assert "576469260282336209" in html


def test_every_intent_has_a_starter_snippet(tenant, agent, store):
    from triage.labels import INTENTS
    from triage.suggestions import STARTER_INTENTS

    starter_snippets_seed(tenant=tenant)
    starter_replies_seed(tenant=tenant)
    assert set(STARTER_INTENTS.values()) == set(INTENTS)
    shortcuts = set(tenant.snippets.values_list("shortcut", flat=True))
    assert set(STARTER_INTENTS) <= shortcuts


def test_another_organisations_ticket_is_404_and_unchanged(agent_client, other_tenant):
    theirs = ticket(StoreFactory(tenant=other_tenant), intent="order_status")
    for response in (
        agent_client.post(
            reverse("ticket_triage_correct", args=[theirs.public_id]), {"intent": "other"}
        ),
        agent_client.get(reverse("ticket_suggestions", args=[theirs.public_id])),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.intent == "order_status"
    assert IntentCorrection.objects.count() == 0
