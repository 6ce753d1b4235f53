"""The mailbox pages: list (folders, filters, search, unread, order, pages, query count), the
ticket page (each kind of thread entry), the composer (errors keep the draft), ticket actions,
the order workbench, snippets, polling (204 when nothing changed), store limits, and another
tenant's 404 on every URL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox import display, selectors
from inbox.models import (
    Conversation,
    DeliveryStatus,
    MessageDirection,
    TicketEventKind,
    TicketStatus,
)
from search.index import documents_rebuild
from tenants.models import Membership, Role
from tests.factories_inbox import (
    ConversationFactory,
    ConversationOrderFactory,
    MessageFactory,
    OutboxMessageFactory,
    TicketEventFactory,
)
from tests.factories_marketplaces import (
    BASE_TIME,
    CancellationFactory,
    CancellationLineFactory,
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    ReturnLineFactory,
    StoreFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Acme US")


@pytest.fixture
def owner_membership(owner):
    return Membership.objects.get(user=owner)


def ticket(store, **kwargs) -> Conversation:
    return ConversationFactory(store=store, tenant=store.tenant, **kwargs)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A private cache per test: folder counts are cached per change stamp."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def html(response) -> str:
    return response.content.decode()


# --- List -----------------------------------------------------------------------------------


def test_folder_counts_are_exact_and_one_query(
    tenant, store, owner, owner_membership, django_assert_num_queries
):
    teammate = member(tenant, Role.AGENT).user
    now = timezone.now()
    ticket(store, status=TicketStatus.OPEN, assignee=owner, sla_due_at=now - timedelta(hours=3))
    ticket(store, status=TicketStatus.OPEN, assignee=teammate, sla_due_at=now + timedelta(hours=3))
    ticket(store, status=TicketStatus.OPEN, sla_due_at=now + timedelta(minutes=20))
    ticket(store, status=TicketStatus.PENDING, assignee=owner, sla_due_at=now - timedelta(days=2))
    ticket(store, status=TicketStatus.PENDING)
    ticket(store, status=TicketStatus.SOLVED, assignee=owner)
    ticket(StoreFactory(), status=TicketStatus.OPEN, sla_due_at=now)  # another tenant's

    with django_assert_num_queries(1):
        counts = selectors.folder_counts(tenant=tenant, membership=owner_membership)

    assert counts == {
        "open": 3,
        "pending": 2,
        "solved": 1,
        "mine": 2,
        "unassigned": 2,
        "due_soon": 1,  # within SLA_DUE_SOON_MINUTES (60)
        "overdue": 2,
        "all": 6,
    }


def test_list_page_shows_rows_newest_first_with_unread_marker_and_counts(
    owner_client, store, owner
):
    older = ticket(
        store,
        last_message_at=BASE_TIME,
        last_message_preview="Where is my parcel?",
        last_message_from_buyer=True,
        unread_count=2,
    )
    newer = ticket(
        store,
        last_message_at=BASE_TIME + timedelta(hours=1),
        last_message_preview="Thanks, all good",
        last_message_from_buyer=False,
        assignee=owner,
    )
    ticket(store, status=TicketStatus.SOLVED)

    response = owner_client.get(reverse("mailbox"))

    assert response.status_code == 200
    page = html(response)
    assert page.index(f'id="ticket-{newer.public_id}"') < page.index(
        f'id="ticket-{older.public_id}"'
    )
    assert page.count('class="ticket-row') == 2  # Open folder: the solved one is not listed
    assert page.count('class="ticket-row is-unread"') == 1
    assert 'title="2 unread"' in page
    assert "Where is my parcel?" in page
    assert "You: Thanks, all good" in page
    assert (
        f'title="Assigned to {owner.display_name}"><span aria-hidden="true">{owner.initials}'
        f'</span><span class="visually-hidden">Assigned to {owner.display_name}</span>' in page
    )
    assert '<span class="folder-count" data-count="open">2</span>' in page
    assert '<span class="folder-count" data-count="solved">1</span>' in page
    assert '<span class="folder-count" data-count="all">3</span>' in page
    assert older.customer.display_name in page


def test_list_filters_by_folder_store_and_assignee(tenant, owner_client, store, owner):
    other_store = StoreFactory(tenant=tenant, name="Acme UK")
    teammate = member(tenant, Role.AGENT)
    mine = ticket(store, assignee=owner)
    theirs = ticket(store, assignee=teammate.user, status=TicketStatus.PENDING)
    elsewhere = ticket(other_store)
    solved = ticket(store, status=TicketStatus.SOLVED)

    def listed(**params) -> set:
        page = html(owner_client.get(reverse("mailbox"), params))
        return {
            t.number
            for t in (mine, theirs, elsewhere, solved)
            if f'id="ticket-{t.public_id}"' in page
        }

    assert listed() == {mine.number, elsewhere.number}
    assert listed(folder="pending") == {theirs.number}
    assert listed(folder="solved") == {solved.number}
    assert listed(folder="mine") == {mine.number}
    assert listed(folder="unassigned") == {elsewhere.number}
    assert listed(folder="all") == {mine.number, theirs.number, elsewhere.number, solved.number}
    assert listed(folder="all", store=str(other_store.public_id)) == {elsewhere.number}
    assert listed(folder="all", assignee=str(teammate.public_id)) == {theirs.number}
    # The rail counts follow the store filter.
    page = html(owner_client.get(reverse("mailbox"), {"store": str(other_store.public_id)}))
    assert '<span class="folder-count" data-count="all">1</span>' in page


def test_search_by_order_id_buyer_and_message_text(tenant, owner_client, store):
    linked = ticket(store)
    ConversationOrderFactory(conversation=linked, order_external_id="576461413038785752")
    buyer_order = ticket(store)
    OrderFactory(
        store=store,
        external_id="576461413038700999",
        buyer_user_id=buyer_order.customer.buyer_user_id,
    )
    by_text = ticket(store)
    MessageFactory(conversation=by_text, text="The zipper broke after one day")
    by_buyer = ticket(store)
    nothing = ticket(store)
    MessageFactory(conversation=nothing, text="Hello")
    # Factories write rows directly, past the services that keep search documents current.
    documents_rebuild(list(Conversation.objects.values_list("pk", flat=True)))

    def found(q: str) -> set:
        page = html(owner_client.get(reverse("mailbox"), {"folder": "all", "q": q}))
        everyone = (linked, buyer_order, by_text, by_buyer, nothing)
        return {t.number for t in everyone if f'id="ticket-{t.public_id}"' in page}

    assert found("576461413038785752") == {linked.number}
    assert found("576461413038700999") == {buyer_order.number}
    assert found("ZIPPER broke") == {by_text.number}
    label = by_buyer.customer.display_name  # "TikTok Shop Customer 853d82…"
    assert found(label) == {by_buyer.number}
    assert found(label.removeprefix("TikTok Shop Customer ").rstrip("…")) == {by_buyer.number}
    assert found("nothing like this") == set()
    page = html(owner_client.get(reverse("mailbox"), {"folder": "all", "q": "nothing like this"}))
    assert "Nothing in All matches “nothing like this”" in page


def test_list_pages_with_a_keyset_cursor(owner_client, store):
    tickets = [ticket(store, last_message_at=BASE_TIME + timedelta(minutes=n)) for n in range(55)]
    first = html(owner_client.get(reverse("mailbox")))
    assert first.count('class="ticket-row') == 50
    assert "Older conversations" in first
    cursor = selectors.encode_cursor(tickets[5])
    assert f"before={cursor}".replace("+", "%2B").replace(":", "%3A") in first

    second = html(owner_client.get(reverse("mailbox"), {"before": cursor}))
    shown = [t for t in tickets if f'id="ticket-{t.public_id}"' in second]
    assert shown == tickets[:5]
    assert "Older conversations" not in second
    assert "hx-trigger=" not in second.split('id="ticket-rows"')[1].split(">")[0]  # no polling


def test_list_query_count_does_not_grow_with_the_page(
    tenant, owner_client, store, django_assert_num_queries
):
    other_store = StoreFactory(tenant=tenant)
    ticket(store, assignee=member(tenant).user)
    owner_client.get(reverse("mailbox"))  # warm: the session's first request loads more
    ticket(other_store)  # a change: the folder counts are computed again
    with CaptureQueriesContext(connection) as few:
        owner_client.get(reverse("mailbox"))
    for n in range(40):
        ticket(store if n % 2 else other_store, assignee=member(tenant).user if n % 3 else None)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("mailbox"))
    assert html(response).count('class="ticket-row') == 42
    # Nothing changed since: the counts come from the cache, one query fewer.
    with django_assert_num_queries(len(few.captured_queries) - 1):
        again = owner_client.get(reverse("mailbox"))
    assert '<span class="folder-count" data-count="open">42</span>' in html(again)


# --- Ticket page ----------------------------------------------------------------------------


def test_ticket_page_renders_each_kind_of_entry_in_the_tenants_zone(
    tenant, owner_client, store, owner
):
    tenant.time_zone = "Europe/London"
    tenant.save()
    conversation = ticket(store, unread_count=1)
    MessageFactory(conversation=conversation, text="Where is my order?", sent_at=BASE_TIME)
    MessageFactory(
        conversation=conversation,
        type="IMAGE",
        text="",
        content={"url": "https://p16.tiktokcdn.test/photo.jpeg", "width": "304", "height": "290"},
    )
    MessageFactory(
        conversation=conversation,
        type="ORDER_CARD",
        text="",
        content={"order_id": "576461413038785752"},
    )
    MessageFactory(
        conversation=conversation,
        type="PRODUCT_CARD",
        text="",
        content={"product_id": "1729592969712207012"},
    )
    MessageFactory(
        conversation=conversation, type="VIDEO", text="", content={"url": "https://v.test/v.mp4"}
    )
    MessageFactory(conversation=conversation, text="hidden from agents", is_visible=False)
    MessageFactory(
        conversation=conversation,
        type="ALLOCATED_SERVICE",
        direction=MessageDirection.SYSTEM,
        sender_role="SYSTEM",
        text="",
        content={"content": "Agent Sam joined the chat"},
    )
    MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        sender_role="CUSTOMER_SERVICE",
        author=owner,
        text="It ships today.",
        delivery_status=DeliveryStatus.SENT,
    )
    failed = OutboxMessageFactory(
        conversation=conversation,
        author=owner,
        text="Sorry for the wait",
        delivery_status=DeliveryStatus.FAILED,
        failure_reason="The store needs to be re-authorized.",
    )
    OutboxMessageFactory(
        conversation=conversation,
        author=owner,
        text="On its way",
        created_at=BASE_TIME + timedelta(hours=2),
    )
    TicketEventFactory(
        conversation=conversation,
        actor=owner,
        body="Buyer is a repeat customer",
        created_at=BASE_TIME + timedelta(hours=1),
    )
    TicketEventFactory(
        conversation=conversation,
        actor=owner,
        kind=TicketEventKind.STATUS,
        body="",
        data={"from": "open", "to": "pending"},
        created_at=BASE_TIME + timedelta(hours=1, minutes=1),
    )

    response = owner_client.get(reverse("ticket_detail", args=[conversation.public_id]))

    assert response.status_code == 200
    page = html(response)
    label = conversation.customer.display_name
    code = label.removeprefix("TikTok Shop Customer ").removesuffix("…")
    assert (
        f'<h2 title="{label}"><span class="ticket-buyer">Customer {code}</span>'
        f'<span class="visually-hidden"> ({label})</span></h2>' in page
    )
    assert f'<span class="ticket-number">#{conversation.number}</span>' in page
    assert '<div class="bubble bubble-buyer"' in page
    assert '<p class="bubble-text">Where is my order?</p>' in page
    # 08:00 UTC on 12 Sep 2026 is 09:00 in London (summer time).
    assert 'datetime="2026-09-12T09:00:00+01:00">12 Sep 2026, 09:00 BST</time>' in page
    assert (
        '<img class="thread-image" src="https://p16.tiktokcdn.test/photo.jpeg" '
        'alt="Image from the buyer" loading="lazy">' in page
    )
    assert (
        '<a class="thread-image-link" href="https://p16.tiktokcdn.test/photo.jpeg" target="_blank"'
        in page
    )
    assert '<p class="small muted mb-0">Order card</p>' in page
    assert (
        '<span class="order-id">576461413038785752<button class="copy-btn" type="button" '
        'data-copy="576461413038785752">Copy</button></span>' in page
    )
    assert '<p class="small muted mb-0">Product card</p>' in page
    # Neither is synced here: each card says so and shows its id to copy (inbox/_cards.html).
    assert (
        '<span class="order-id">1729592969712207012<button class="copy-btn" type="button" '
        'data-copy="1729592969712207012">Copy</button></span>' in page
    )
    assert page.count("Not synced yet: ") == 2
    placeholder = display.placeholder_text("VIDEO", from_buyer=True)
    assert f'<p class="bubble-text placeholder">{placeholder}</p>' in page
    assert "hidden from agents" not in page
    assert '<p class="system-event">Agent Sam joined the chat · ' in page
    assert '<div class="bubble bubble-agent"' in page
    assert f'<span class="bubble-author">{owner.display_name}</span>' in page
    assert '<span class="delivery delivery-sent">Sent</span>' in page
    assert '<span class="delivery delivery-queued">Queued</span>' in page
    assert (
        '<span class="delivery delivery-failed">Failed: The store needs to be re-authorized.</span>'
        in page
    )
    assert reverse("reply_retry", args=[conversation.public_id, failed.public_id]) in page
    assert '<div class="bubble bubble-note">' in page
    assert '<p class="bubble-label">Internal note</p>' in page
    assert "Buyer is a repeat customer" in page
    assert f'<p class="system-event">{owner.display_name} set the status to Pending · ' in page
    # Order: messages by index, events by time between them, queued replies last.
    assert (
        page.index("Where is my order?")
        < page.index("It ships today.")
        < page.index("Buyer is a repeat customer")
        < page.index("set the status to Pending")
        < page.index("On its way")
    )
    # Opening the ticket read it.
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_opening_a_ticket_already_read_writes_nothing(owner_client, store, owner):
    conversation = ticket(store, unread_count=1)
    url = reverse("ticket_detail", args=[conversation.public_id])
    owner_client.get(url)
    conversation.refresh_from_db()
    read_at = conversation.updated_at
    assert conversation.unread_count == 0

    with CaptureQueriesContext(connection) as again:
        response = owner_client.get(url)

    assert response.status_code == 200
    assert not [q for q in again.captured_queries if not q["sql"].lstrip().startswith("SELECT")]
    conversation.refresh_from_db()
    assert (conversation.unread_count, conversation.updated_at) == (0, read_at)


# What a ticket opened by URL costs, one query each (the session comes from the cache): user,
# the person's memberships (with the organisation switcher's); the ticket; the thread window's
# messages and events; the workbench's order links, orders (lines prefetched), returns and their
# lines, cancellations and theirs; the thread's version stamp with its newest message (the
# composer's newest-seen id); the assignee picker; the snippets; the list's change stamp and the
# rail's stores; the store and webhook banners; the ticket's escalations. As an HTMX pane:
# without the rail, the list stamp and the two banners. A new part of the page pays for its query
# here, on purpose.
TICKET_PAGE_QUERIES = 20
TICKET_PANE_QUERIES = 16


def test_ticket_page_query_count_is_pinned_whatever_the_thread_and_orders(
    tenant, owner_client, store, owner, django_assert_num_queries
):
    conversation = ticket(store)
    url = reverse("ticket_detail", args=[conversation.public_id])
    pane = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "thread-pane"}
    owner_client.get(url)  # warm: the session's first request loads more
    for orders in (1, 6):
        for _ in range(orders):
            order = OrderFactory(store=store, buyer_user_id=conversation.customer.buyer_user_id)
            OrderLineFactory(order=order)
            ConversationOrderFactory(
                conversation=conversation, order=order, order_external_id=order.external_id
            )
            ReturnLineFactory(
                return_request=ReturnFactory(store=store, order_external_id=order.external_id)
            )
            CancellationLineFactory(
                cancellation=CancellationFactory(store=store, order_external_id=order.external_id)
            )
        for _ in range(orders * 10):
            MessageFactory(conversation=conversation)
            OutboxMessageFactory(conversation=conversation, author=owner)
            TicketEventFactory(conversation=conversation, actor=owner)
        member(tenant, Role.AGENT)
        with django_assert_num_queries(TICKET_PAGE_QUERIES):
            page = html(owner_client.get(url))
        assert 'id="mailbox-rail"' in page
        with django_assert_num_queries(TICKET_PANE_QUERIES):
            page = html(owner_client.get(url, **pane))
        assert 'id="mailbox-rail"' not in page
        entries = page.count('<div class="bubble ') + page.count('<p class="system-event">')
        assert entries == {1: 30, 6: 50}[orders]


def test_ticket_page_query_count_does_not_grow_with_the_thread(
    tenant, owner_client, store, owner, django_assert_num_queries
):
    conversation = ticket(store)
    MessageFactory(conversation=conversation)
    first = OrderFactory(store=store, buyer_user_id=conversation.customer.buyer_user_id)
    OrderLineFactory(order=first)
    ReturnLineFactory(
        return_request=ReturnFactory(store=store, order_external_id=first.external_id)
    )
    CancellationLineFactory(
        cancellation=CancellationFactory(store=store, order_external_id=first.external_id)
    )
    url = reverse("ticket_detail", args=[conversation.public_id])
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    for _ in range(30):
        MessageFactory(conversation=conversation)
        OutboxMessageFactory(conversation=conversation, author=owner)
        TicketEventFactory(conversation=conversation, actor=owner)
    for _ in range(5):
        order = OrderFactory(store=store, buyer_user_id=conversation.customer.buyer_user_id)
        OrderLineFactory(order=order)
        ReturnLineFactory(
            return_request=ReturnFactory(store=store, order_external_id=order.external_id)
        )
        CancellationLineFactory(
            cancellation=CancellationFactory(store=store, order_external_id=order.external_id)
        )
    member(tenant, Role.AGENT)
    member(tenant, Role.ADMIN)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(url)
    page = html(response)
    # 91 entries: the newest 50 are drawn, the rest one click away.
    assert page.count('<div class="bubble ') + page.count('<p class="system-event">') == 50
    assert "Show 41 earlier entries</a>" in page
    # The link without JavaScript: the page before and everything after, in as many queries.
    before = page.split(f"{url}?earlier=", 1)[1].split('"', 1)[0]
    with django_assert_num_queries(len(few.captured_queries)):
        everything = html(owner_client.get(url, {"earlier": before}))
    assert everything.count('<div class="bubble bubble-agent"') == 30
    assert everything.count('<div class="bubble bubble-buyer"') == 31
    assert "earlier entries" not in everything
    assert f"?v={selectors.thread_version(conversation=conversation)}" in everything


def test_htmx_navigation_swaps_only_the_pane_that_changes(owner_client, store):
    conversation = ticket(store)
    MessageFactory(conversation=conversation, text="Is it in stock?")
    documents_rebuild([conversation.pk])  # the factory wrote past the services
    ticket_url = reverse("ticket_detail", args=[conversation.public_id])

    panes = html(owner_client.get(ticket_url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="thread-pane"))
    assert panes.lstrip().startswith('<section id="thread-pane"')
    assert "Is it in stock?" in panes
    assert 'id="sidebar" class="mailbox-sidebar" aria-label="Workbench" hx-swap-oob="true"' in panes
    assert 'id="mailbox-rail"' not in panes and "<html" not in panes

    rows = html(
        owner_client.get(
            reverse("mailbox"),
            {"q": "in stock"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="ticket-rows",
        )
    )
    assert rows.lstrip().startswith('<div id="ticket-rows"')
    assert f'id="ticket-{conversation.public_id}"' in rows
    assert "<html" not in rows


def test_a_folder_link_with_htmx_swaps_the_list_and_the_rail(owner_client, store):
    pending = ticket(store, status=TicketStatus.PENDING)
    response = owner_client.get(
        reverse("mailbox"),
        {"folder": "pending"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="list-pane",
    )
    page = html(response)
    assert page.lstrip().startswith('<section class="mailbox-list" id="list-pane"')
    assert f'id="ticket-{pending.public_id}"' in page
    assert '<h1 id="list-title">Pending</h1>' in page
    assert (
        '<nav class="mailbox-rail" id="mailbox-rail" aria-label="Folders" hx-swap-oob="true">'
        in page
    )
    assert 'data-folder="pending" aria-current="page"' in page
    assert 'id="thread-pane"' not in page


def test_the_assignee_filter_lists_teammates_and_keeps_the_choice(tenant, owner_client, store):
    teammate = member(tenant, Role.AGENT)
    theirs = ticket(store, assignee=teammate.user)
    page = html(owner_client.get(reverse("mailbox"), {"assignee": str(teammate.public_id)}))
    # The filter menu names the choice and links to every teammate, the choice marked.
    assert (
        f'aria-label="Filter and order: {teammate.user.display_name}">' in page
        and f'href="/mailbox/?folder=open&amp;assignee={teammate.public_id}"' in page
    )
    chosen = page.split(f'assignee={teammate.public_id}"')[2].split("</a>")[0]
    assert 'aria-current="true"' in chosen
    assert f'id="ticket-{theirs.public_id}"' in page
    assert page.count('class="ticket-row') == 1


# --- A ticket opened by URL: the list pane loads itself ---------------------------------------


def lazy_list_pane(page: str) -> str:
    """The list pane of a ticket page opened by URL, up to the end of its opening tag."""
    start = page.index('<section class="mailbox-list" id="list-pane"')
    return page[start : page.index(">", start) + 1]


def test_a_ticket_opened_by_url_draws_no_rows_but_a_list_pane_that_loads_itself(
    tenant, owner_client, store
):
    pending = ticket(store, status=TicketStatus.PENDING)
    MessageFactory(conversation=pending, text="Is it in stock?")
    ticket(store, status=TicketStatus.PENDING)
    ticket(store, status=TicketStatus.OPEN)
    other_store = StoreFactory(tenant=tenant, name="Acme UK")

    later = MessageFactory(conversation=pending)  # the ticket's own "earlier" is no list filter
    page = html(
        owner_client.get(
            reverse("ticket_detail", args=[pending.public_id]),
            {"folder": "pending", "store": str(store.public_id), "earlier": str(later.public_id)},
        )
    )

    # The thread, sidebar and composer are drawn; the list's rows are not.
    assert "Is it in stock?" in page
    assert 'id="composer-text"' in page and 'id="sidebar"' in page
    assert "data-ticket-row" not in page
    # The list pane asks for the list with the page's filters and this ticket selected, once
    # the page has loaded; without JavaScript it is a link to that list.
    list_url = (
        f"/mailbox/?folder=pending&amp;store={store.public_id}&amp;selected={pending.public_id}"
    )
    assert lazy_list_pane(page) == (
        '<section class="mailbox-list" id="list-pane" aria-labelledby="list-title" '
        'aria-busy="true" data-lazy-list\n'
        f'         hx-get="{list_url}" hx-trigger="load" hx-swap="outerHTML">'
    )
    assert (
        '<h1 id="list-title">Pending <span class="list-title-store">· Acme US</span></h1>' in page
    )
    assert (
        f'<noscript><div class="pane-body list-fallback"><a class="btn btn-secondary btn-sm" '
        f'href="{list_url}">Show the conversation list</a></div></noscript>'
    ) in page
    # The rail is drawn with the page: folders with counts, stores.
    assert '<span class="folder-count" data-count="pending">2</span>' in page
    assert 'data-folder="pending" aria-current="page"' in page
    assert f"store={other_store.public_id}" in page


def test_the_list_pane_a_ticket_page_loads_highlights_its_row(owner_client, store):
    opened = ticket(store, last_message_at=BASE_TIME, unread_count=1)
    newer = ticket(store, last_message_at=BASE_TIME + timedelta(hours=1))
    page = html(owner_client.get(reverse("ticket_detail", args=[opened.public_id])))
    list_url = lazy_list_pane(page).split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert list_url == f"/mailbox/?selected={opened.public_id}"

    response = owner_client.get(list_url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-pane")

    assert response.status_code == 200
    pane = html(response)
    assert pane.lstrip().startswith('<section class="mailbox-list" id="list-pane"')
    assert pane.count('class="ticket-row') == 2
    opened_row = pane.split(f'id="ticket-{opened.public_id}"')[1].split(">")[0]
    newer_row = pane.split(f'id="ticket-{newer.public_id}"')[1].split(">")[0]
    assert 'aria-current="true"' in opened_row
    assert "aria-current" not in newer_row
    # Opening the ticket read it: the row says so.
    assert 'class="ticket-row is-unread"' not in pane
    # Row links, the older-page link and the list's polling carry the filters, not the selection.
    assert f'href="/mailbox/{opened.public_id}/"' in pane
    version = selectors.list_stamp(
        tenant=store.tenant, membership=Membership.objects.get(tenant=store.tenant)
    )
    assert f'hx-get="/mailbox/poll/?v={version}"' in pane
    assert "selected=" not in pane
    # The page drew the rail: the pane does not draw it again.
    assert 'id="mailbox-rail"' not in pane and "<html" not in pane


def test_the_list_with_a_selected_ticket_without_htmx_is_the_whole_mailbox(owner_client, store):
    """The no-JavaScript way from a ticket page to its list: the list, the row highlighted."""
    opened = ticket(store)
    page = html(owner_client.get(reverse("mailbox"), {"selected": str(opened.public_id)}))
    assert "<html" in page and 'id="mailbox-rail"' in page
    row = page.split(f'id="ticket-{opened.public_id}"')[1].split(">")[0]
    assert 'aria-current="true"' in row


def test_the_lazy_list_pane_query_count_does_not_grow_with_the_page(
    tenant, owner_client, store, django_assert_num_queries
):
    opened = ticket(store)
    url = f"{reverse('mailbox')}?selected={opened.public_id}"
    lazy = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-pane"}
    owner_client.get(url, **lazy)  # warm: the session's first request loads more
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url, **lazy)
    for n in range(40):
        ticket(store, assignee=member(tenant).user if n % 3 else None)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(url, **lazy)
    assert html(response).count('class="ticket-row') == 41


def test_no_mailbox_page_reads_the_search_document(owner_client, store):
    """A ticket's search document (kilobytes of tsvector on a long ticket) is searched in, never
    shown: the list, a search, the ticket page, its pane, its poll and the list pane a ticket
    page loads select every column but that one."""
    conversation = ticket(store)
    MessageFactory(conversation=conversation, text="where is my parcel")
    documents_rebuild([conversation.pk])
    assert Conversation.objects.filter(pk=conversation.pk, search_document__isnull=False).exists()
    page = reverse("ticket_detail", args=[conversation.public_id])
    pane = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "thread-pane"}
    list_pane = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-pane"}
    for url, headers in (
        (reverse("mailbox"), {}),
        (reverse("mailbox") + "?folder=all&q=parcel", {}),
        (page, {}),
        (page, pane),
        (reverse("ticket_poll", args=[conversation.public_id]) + "?v=old", {}),
        (reverse("mailbox") + f"?selected={conversation.public_id}", list_pane),
    ):
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url, **headers).status_code == 200, url
        selected = [query["sql"].split(" FROM ")[0] for query in captured.captured_queries]
        assert selected and not [s for s in selected if "search_document" in s], url
