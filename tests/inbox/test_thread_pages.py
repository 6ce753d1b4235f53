"""A long thread in pages: the ticket opens on its newest entries, "Show earlier" adds the page
before the oldest one on screen (HTMX) or redraws the ticket from that page on (no JavaScript),
the pages fit together with no gap and no entry twice even when messages arrive between clicks,
and the thread's poll keeps what was added. Bad or foreign ids fall back or answer 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox import selectors, thread_pages
from inbox.views import THREAD_WINDOW
from tests.factories import TenantFactory
from tests.factories_inbox import (
    ConversationFactory,
    MessageFactory,
    TicketEventFactory,
    long_thread,
)
from tests.factories_marketplaces import BASE_TIME, StoreFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
EARLIER_LINK = re.compile(r'hx-get="[^"]+/poll/\?earlier=([0-9a-f-]+)"')
ENTRY = re.compile(
    r'<div class="bubble [^"]*" id="message-([0-9a-f-]+)"'
    r'|<div class="bubble bubble-note">\s*<p class="bubble-label">Internal note</p>\s*'
    r'<p class="bubble-text">([^<]*)</p>'
)


def entries_of(body: str) -> list[str]:
    """The thread's entries in a page or fragment, in order: message ids and note texts."""
    return [message or note.strip() for message, note in ENTRY.findall(body)]


def whole(conversation) -> list[str]:
    return [
        str(entry.message.public_id) if entry.message is not None else entry.event.body
        for entry in selectors.thread(conversation=conversation)
    ]


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant)


def test_show_earlier_pages_fit_together_into_the_whole_thread(owner_client, store):
    conversation = long_thread(store)
    ticket_url = reverse("ticket_detail", args=[conversation.public_id])
    poll_url = reverse("ticket_poll", args=[conversation.public_id])
    page = html(owner_client.get(ticket_url))
    shown = entries_of(page)
    assert 0 < len(shown) <= THREAD_WINDOW
    assert shown == whole(conversation)[-len(shown) :]
    assert not shown[0].startswith("Note"), "a page starts at a message"
    hidden = len(whole(conversation)) - len(shown)
    assert f"Show {hidden} earlier entries</a>" in page
    clicks = 0
    while match := EARLIER_LINK.search(page):
        assert match.group(1) == next(e for e in shown if not e.startswith("Note"))
        page = html(owner_client.get(poll_url, {"earlier": match.group(1)}, **HX))
        added = entries_of(page)
        assert 0 < len(added) <= THREAD_WINDOW + 1  # a page may take in the note before it
        assert 'id="thread-from"' in page and 'id="thread-earlier"' in page
        shown = added + shown
        clicks += 1
    assert "earlier entries" not in page
    assert shown == whole(conversation), "the pages have a gap or an entry twice"
    assert clicks == 2


def test_a_message_arriving_between_clicks_does_not_shift_the_pages(owner_client, store):
    conversation = long_thread(store)
    poll_url = reverse("ticket_poll", args=[conversation.public_id])
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    shown = entries_of(page)
    for n in range(3):  # the buyer writes on while the agent reads back
        moment = BASE_TIME + timedelta(days=1, minutes=n)
        MessageFactory(conversation=conversation, sent_at=moment, created_at=moment)
    before = EARLIER_LINK.search(page).group(1)
    added = entries_of(html(owner_client.get(poll_url, {"earlier": before}, **HX)))
    everything = whole(conversation)
    start = everything.index(added[0])
    assert everything[start : start + len(added) + len(shown)] == added + shown


def test_a_poll_that_finds_changes_keeps_what_show_earlier_added(owner_client, store):
    conversation = long_thread(store)
    ticket_url = reverse("ticket_detail", args=[conversation.public_id])
    poll_url = reverse("ticket_poll", args=[conversation.public_id])
    page = html(owner_client.get(ticket_url))
    assert 'hx-include="#thread-from"' in page
    added = html(owner_client.get(poll_url, {"earlier": EARLIER_LINK.search(page).group(1)}, **HX))
    oldest = re.search(r'id="thread-from" name="from" value="([0-9a-f-]+)"', added).group(1)
    newest = MessageFactory(conversation=conversation, text="Any news on my parcel?")
    redrawn = html(owner_client.get(poll_url, {"v": "stale", "from": oldest}, **HX))
    everything = whole(conversation)
    assert entries_of(redrawn) == everything[everything.index(oldest) :]
    assert "Any news on my parcel?" in redrawn and str(newest.public_id) in redrawn
    assert f"Show {everything.index(oldest)} earlier entries</a>" in redrawn
    assert f'value="{oldest}"' in redrawn


def test_without_javascript_the_link_redraws_the_ticket_from_the_page_before(owner_client, store):
    conversation = long_thread(store)
    ticket_url = reverse("ticket_detail", args=[conversation.public_id])
    page = html(owner_client.get(ticket_url))
    shown = entries_of(page)
    before = EARLIER_LINK.search(page).group(1)
    assert f'href="{ticket_url}?earlier={before}"' in page
    again = html(owner_client.get(ticket_url, {"earlier": before}))
    everything = whole(conversation)
    more = entries_of(again)
    assert more[-len(shown) :] == shown
    assert more == everything[-len(more) :]
    assert len(shown) < len(more) <= len(shown) + THREAD_WINDOW + 1
    # The thread's own parameter is not a list filter: the list pane and Back do not carry it.
    assert "earlier=" not in again.split('id="thread-messages"')[0].replace(
        f"{ticket_url}?earlier=", ""
    )
    assert 'id="composer-text"' in again  # the whole ticket page, composer and all


def test_a_short_thread_shows_everything_and_no_link(owner_client, store):
    conversation = ConversationFactory(store=store, tenant=store.tenant)
    TicketEventFactory(conversation=conversation, body="Note before any message")
    for _ in range(3):
        MessageFactory(conversation=conversation)
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    assert entries_of(page) == whole(conversation)
    assert "earlier entr" not in page
    first = whole(conversation)[1]
    # A poll from its first message keeps the note before it: nothing to page there.
    redrawn = html(
        owner_client.get(
            reverse("ticket_poll", args=[conversation.public_id]), {"from": first}, **HX
        )
    )
    assert entries_of(redrawn) == whole(conversation)


@pytest.mark.parametrize("bad", ["nonsense", "00000000-0000-0000-0000-000000000000", "\x00", "'"])
def test_bad_ids_fall_back_to_the_newest_entries_or_answer_404(owner_client, store, bad):
    conversation = long_thread(store, messages=60)
    ticket_url = reverse("ticket_detail", args=[conversation.public_id])
    poll_url = reverse("ticket_poll", args=[conversation.public_id])
    newest = entries_of(html(owner_client.get(ticket_url)))
    assert entries_of(html(owner_client.get(ticket_url, {"earlier": bad}))) == newest
    assert entries_of(html(owner_client.get(poll_url, {"from": bad}, **HX))) == newest
    assert owner_client.get(poll_url, {"earlier": bad}, **HX).status_code == 404


def test_another_tickets_or_tenants_message_is_not_a_page_of_this_one(owner_client, store):
    conversation = long_thread(store, messages=60)
    ticket_url = reverse("ticket_detail", args=[conversation.public_id])
    poll_url = reverse("ticket_poll", args=[conversation.public_id])
    newest = entries_of(html(owner_client.get(ticket_url)))
    sibling = MessageFactory(conversation=ConversationFactory(store=store, tenant=store.tenant))
    other_store = StoreFactory(tenant=TenantFactory())
    stranger = MessageFactory(
        conversation=ConversationFactory(store=other_store, tenant=other_store.tenant),
        text="Another organisation's buyer",
    )
    for foreign in (sibling, stranger):
        fid = str(foreign.public_id)
        assert owner_client.get(poll_url, {"earlier": fid}, **HX).status_code == 404
        assert entries_of(html(owner_client.get(ticket_url, {"earlier": fid}))) == newest
        assert entries_of(html(owner_client.get(poll_url, {"from": fid}, **HX))) == newest
    # And another organisation's ticket is a 404 whatever is asked of it.
    stranger_poll = reverse("ticket_poll", args=[stranger.conversation.public_id])
    response = owner_client.get(stranger_poll, {"earlier": str(stranger.public_id)}, **HX)
    assert response.status_code == 404
    assert "Another organisation" not in response.content.decode()


def test_show_earlier_reads_the_same_number_of_queries_whatever_the_length(owner_client, store):
    counts = []
    for messages in (60, 180):
        conversation = long_thread(store, messages=messages)
        poll_url = reverse("ticket_poll", args=[conversation.public_id])
        page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
        before = EARLIER_LINK.search(page).group(1)
        with CaptureQueriesContext(connection) as queries:
            html(owner_client.get(poll_url, {"earlier": before}, **HX))
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_a_window_starting_on_a_note_hands_it_to_the_earlier_page(owner_client, store):
    conversation = long_thread(store, messages=125)  # the newest 50 entries start on a note
    entries, hidden = selectors.thread_window(conversation=conversation, newest=THREAD_WINDOW)
    assert entries[0].message is None, "the data no longer puts a note first in the window"
    sliced = thread_pages.starting_at_a_message(entries, hidden)
    assert sliced.entries[0].message is not None
    assert sliced.entries == entries[1:] and sliced.hidden == hidden + 1
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    before = EARLIER_LINK.search(page).group(1)
    added = entries_of(
        html(
            owner_client.get(
                reverse("ticket_poll", args=[conversation.public_id]), {"earlier": before}, **HX
            )
        )
    )
    assert added[-1] == entries[0].event.body  # the note sits at the end of the page before


def test_an_earlier_page_of_notes_alone_keeps_the_pages_on_a_redraw(owner_client, store):
    conversation = ConversationFactory(store=store, tenant=store.tenant)
    for n in range(3):
        TicketEventFactory(
            conversation=conversation,
            body=f"Note {n} before the buyer wrote",
            created_at=BASE_TIME - timedelta(hours=1, minutes=-n),
        )
    for n in range(THREAD_WINDOW - 2):  # every message fits the window, not every note
        moment = BASE_TIME + timedelta(minutes=n)
        MessageFactory(conversation=conversation, sent_at=moment, created_at=moment)
    poll_url = reverse("ticket_poll", args=[conversation.public_id])
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    assert "Show 3 earlier entries" in page
    first_page = html(
        owner_client.get(poll_url, {"earlier": EARLIER_LINK.search(page).group(1)}, **HX)
    )
    assert entries_of(first_page) == [f"Note {n} before the buyer wrote" for n in range(3)]
    oldest = re.search(r'id="thread-from" name="from" value="([0-9a-f-]*)"', first_page).group(1)
    assert oldest, "the page of notes names no message: a redraw would drop the pages"
    redrawn = html(owner_client.get(poll_url, {"v": "stale", "from": oldest}, **HX))
    assert entries_of(redrawn) == whole(conversation)
