"""An empty folder says what it is in words and what to do next ("No tickets assigned to you",
never "No mine conversations"); filters are named in the same sentence."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from inbox.models import TicketStatus
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db


def empty_state(client, **query) -> tuple[str, str]:
    page = client.get(reverse("mailbox"), query).content.decode()
    found = re.search(
        r'<div class="empty-state empty-state-compact">\s*<h2>(.*?)</h2>\s*<p>(.*?)</p>', page, re.S
    )
    assert found, page
    return html.unescape(found.group(1)), html.unescape(found.group(2))


@pytest.mark.parametrize(
    ("folder", "title", "hint"),
    [
        ("mine", "No tickets assigned to you", "Take a ticket with Assign to me (or a)"),
        ("open", "No open tickets", "All caught up."),
        ("pending", "No pending tickets", "Tickets waiting for the buyer's answer wait here"),
        ("unassigned", "No unassigned tickets", "Every ticket has someone on it."),
    ],
)
def test_an_empty_folder_says_what_it_is_in_words(agent_client, tenant, folder, title, hint):
    store = StoreFactory(tenant=tenant, name="Acme US")
    # Something elsewhere, so the mailbox is not the "no stores, no tickets" welcome.
    ConversationFactory(store=store, tenant=tenant, status=TicketStatus.SOLVED)

    shown_title, shown_hint = empty_state(agent_client, folder=folder)

    assert shown_title == title
    assert shown_hint.startswith(hint)
    assert "No mine" not in shown_title and "conversations" not in shown_title


def test_an_empty_folder_names_the_store_filter(agent_client, tenant):
    store = StoreFactory(tenant=tenant, name="Acme US")
    ConversationFactory(store=store, tenant=tenant, status=TicketStatus.SOLVED)

    assert empty_state(agent_client, folder="mine", store=str(store.public_id)) == (
        "No tickets assigned to you in Acme US",
        "Clear the store or assignee filter to see more.",
    )
