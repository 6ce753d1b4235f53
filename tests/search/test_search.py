"""Search (issue 11): one reading of the search box for the mailbox, the Orders page and the API's
`q`; ranking, highlighting, folder counts, bad input, store limits and organisations, and the
index kept current by every write path (ingest, replies, notes, a buyer found later)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox import services, views
from inbox.models import Conversation, TicketStatus
from marketplaces.models import StoreAccess
from search.index import documents_rebuild, search_config
from search.query import MAX_CHARS, parse
from tenants.models import Membership, Role
from tests.factories_inbox import ConversationFactory, ConversationOrderFactory, MessageFactory
from tests.factories_marketplaces import BASE_TIME, OrderFactory, StoreFactory, member
from tests.inbox.test_ingest import conversation, ingest, message

pytestmark = pytest.mark.django_db

BAD_INPUT = [
    '"',
    "zipper & | !",
    "zipper:*",
    '"unbalanced zipper',
    "((zipper",
    "a" * 1000,
    "zip\x00per",
    "the of and",
    "😀",
    "zipper 😀",
    "'; DROP TABLE inbox_message; --",
    "\\",
    "%_%",
]


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Acme US", region="US")


def ticket(store, **kwargs) -> Conversation:
    return ConversationFactory(store=store, tenant=store.tenant, **kwargs)


def indexed() -> None:
    """Factories write rows directly, past the services that keep the documents current."""
    documents_rebuild(list(Conversation.objects.values_list("pk", flat=True)))


def shown(response) -> list[int]:
    """Ticket numbers in the order the rows show them."""
    return [
        int(n) for n in re.findall(r'<span class="ticket-number">#(\d+)</span>', body(response))
    ]


def body(response) -> str:
    return response.content.decode()


def search(client, q: str, **params):
    return client.get(reverse("mailbox"), {"folder": "all", "q": q, **params})


# --- Reading the box ----------------------------------------------------------------------------


def test_parse_reads_words_ids_and_labels():
    assert parse("  Zipper   BROKE! ").words == ("zipper", "broke")
    assert parse("#42").ticket_number == 42
    assert parse("576461413038785752").order_id == "576461413038785752"
    assert parse("TikTok Shop Customer 853d82…").words == ("853d82",)
    assert parse("tiktok shop customer 853d82").buyer_label == "853d82"
    assert not parse('"&|:*')
    assert not parse("😀")
    assert not parse(None)
    assert len(parse("a " * 1000).text) == MAX_CHARS
    assert parse("zip\x00per").words == ("zip", "per")


def test_store_language_by_region():
    assert search_config("US") == "english"
    assert search_config("id") == "indonesian"
    assert search_config("") == "simple"
    assert search_config("XX") == "simple"


# --- The mailbox --------------------------------------------------------------------------------


def test_words_match_by_stem_in_messages_and_notes(owner_client, store, db_vendor):
    in_message = ticket(store)
    MessageFactory(conversation=in_message, text="The zipper broke after one day")
    in_note = ticket(store)
    MessageFactory(conversation=in_note, text="Hello")
    services.note_add(
        membership=Membership.objects.get(user__email__startswith="owner"),
        conversation=in_note,
        body="Buyer says the ZIPPERS are broken",
    )
    other = ticket(store)
    MessageFactory(conversation=other, text="Where is my parcel?")
    indexed()

    assert set(shown(search(owner_client, "zipper"))) == {in_message.number, in_note.number}
    assert shown(search(owner_client, "parcel")) == [other.number]
    assert shown(search(owner_client, "nothing like this")) == []
    if db_vendor == "postgresql":  # stems: "zippers" finds "zipper", "broken" finds "broke"
        assert set(shown(search(owner_client, "zippers"))) == {in_message.number, in_note.number}


def test_exact_matches_rank_first_then_newest_first(owner_client, store):
    older = ticket(store, last_message_at=BASE_TIME)
    MessageFactory(conversation=older, text="order 576461413038785752 never came")
    newer = ticket(store, last_message_at=BASE_TIME + timedelta(hours=2))
    MessageFactory(conversation=newer, text="is 576461413038785752 shipped?")
    linked = ticket(store, last_message_at=BASE_TIME - timedelta(days=3))
    ConversationOrderFactory(conversation=linked, order_external_id="576461413038785752")
    buyer = ticket(store, last_message_at=BASE_TIME - timedelta(days=5))
    OrderFactory(
        store=store, external_id="576461413038785752", buyer_user_id=buyer.customer.buyer_user_id
    )
    indexed()

    # The linked ticket and the buyer's (no link) come first, then the words, newest first.
    assert shown(search(owner_client, "576461413038785752")) == [
        linked.number,
        buyer.number,
        newer.number,
        older.number,
    ]
    assert shown(search(owner_client, f"#{older.number}"))[0] == older.number
    assert shown(search(owner_client, "576461413038785999")) == []


def test_rows_mark_the_matches_and_escape_the_text(owner_client, store):
    found = ticket(store)
    MessageFactory(conversation=found, text="<b>Zipper</b> & button broke")
    indexed()

    page = body(search(owner_client, "zipper"))

    preview = re.findall(r'class="preview">(.*?)</span>', page)
    # PostgreSQL's snippet leaves markup out (ts_headline), SQLite's shows it escaped.
    assert preview in (
        ["<mark>Zipper</mark> &amp; button broke"],
        ["&lt;b&gt;<mark>Zipper</mark>&lt;/b&gt; &amp; button broke"],
    )


def test_the_rail_counts_the_search_and_offers_all_folders(owner_client, store):
    for status in (TicketStatus.SOLVED, TicketStatus.SOLVED, TicketStatus.PENDING):
        MessageFactory(conversation=ticket(store, status=status), text="refund please")
    MessageFactory(conversation=ticket(store, status=TicketStatus.OPEN), text="hello")
    indexed()

    open_folder = body(owner_client.get(reverse("mailbox"), {"folder": "open", "q": "refund"}))

    assert '<span class="folder-count" data-count="solved">2</span>' in open_folder
    assert '<span class="folder-count" data-count="pending">1</span>' in open_folder
    assert '<span class="folder-count" data-count="open">0</span>' in open_folder
    assert '<span class="folder-count" data-count="all">3</span>' in open_folder
    assert "Nothing in Open matches “refund”" in open_folder
    assert 'href="/mailbox/?folder=all&amp;q=refund" ' in open_folder
    assert "Search all folders" in open_folder
    # The rows alone (the search box): with the rail's counts out of band.
    rows = owner_client.get(
        reverse("mailbox"),
        {"folder": "pending", "q": "refund"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="ticket-rows",
    )
    assert body(rows).lstrip().startswith('<div id="ticket-rows"')
    assert 'id="mailbox-rail"' in body(rows) and 'hx-swap-oob="true"' in body(rows)
    assert len(shown(rows)) == 1


@pytest.mark.parametrize("text", BAD_INPUT)
def test_bad_input_is_a_result_or_an_empty_list(owner_client, store, text):
    found = ticket(store)
    MessageFactory(conversation=found, text="The zipper broke")
    indexed()

    response = search(owner_client, text)
    api = owner_client.get("/api/v1/tickets/", {"q": text})  # session: not an API key

    assert response.status_code == 200
    assert shown(response) in ([], [found.number])
    assert api.status_code in (200, 401, 403)
    orders = owner_client.get(reverse("order_list"), {"q": text})
    assert orders.status_code == 200
    rows = owner_client.get(
        reverse("mailbox"), {"q": text}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-rows"
    )
    assert rows.status_code == 200


def test_a_long_query_searches_its_beginning(owner_client, store):
    found = ticket(store)
    MessageFactory(conversation=found, text="The zipper broke")
    indexed()

    assert shown(search(owner_client, "zipper " + "x" * 1000)) == []  # every word must match
    assert shown(search(owner_client, "zipper" + " " * 1000)) == [found.number]


# --- Store limits and organisations -------------------------------------------------------------


def test_a_search_never_finds_another_organisations_or_an_unserved_stores_ticket(
    client, tenant, other_tenant, store
):
    served = ticket(store)
    MessageFactory(conversation=served, text="zipper broke")
    other_store = StoreFactory(tenant=tenant, name="Acme UK", region="GB")
    unserved = ticket(other_store)
    MessageFactory(conversation=unserved, text="zipper broke")
    ConversationOrderFactory(conversation=unserved, order_external_id="576461413038785001")
    rival = ConversationFactory(store=StoreFactory(tenant=other_tenant), tenant=other_tenant)
    MessageFactory(conversation=rival, text="zipper broke")
    ConversationOrderFactory(conversation=rival, order_external_id="576461413038785001")
    indexed()
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=store)
    client.force_login(agent.user)

    page = search(client, "zipper")
    assert shown(page) == [served.number]
    assert f"ticket-{unserved.public_id}" not in body(page)
    assert f"ticket-{rival.public_id}" not in body(page)
    assert '<span class="folder-count" data-count="all">1</span>' in body(page)
    assert shown(search(client, "576461413038785001")) == []
    assert shown(search(client, f"#{unserved.number}")) == []
    assert shown(search(client, f"#{rival.number}")) == [] or rival.number == served.number


def test_the_api_q_is_the_same_search_within_the_keys_limits(tenant, other_tenant, store):
    from rest_framework.test import APIClient

    from api.services import api_key_create
    from tenants.models import APIScope

    served = ticket(store)
    MessageFactory(conversation=served, text="zipper broke")
    other_store = StoreFactory(tenant=tenant, name="Acme UK")
    unserved = ticket(other_store)
    MessageFactory(conversation=unserved, text="zippers broken")
    rival = ConversationFactory(store=StoreFactory(tenant=other_tenant), tenant=other_tenant)
    MessageFactory(conversation=rival, text="zipper broke")
    linked = ticket(store)
    ConversationOrderFactory(conversation=linked, order_external_id="576461413038785001")
    indexed()

    def ids(key, q: str) -> set[str]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
        response = api.get("/api/v1/tickets/", {"q": q})
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    everything = api_key_create(tenant=tenant, name="BI", scope=APIScope.READ)
    limited = api_key_create(tenant=tenant, name="One", scope=APIScope.READ, stores=[store])
    theirs = api_key_create(tenant=other_tenant, name="Rival", scope=APIScope.READ)
    assert ids(everything, "zipper") == {str(served.public_id), str(unserved.public_id)}
    assert ids(limited, "zipper") == {str(served.public_id)}
    assert ids(theirs, "zipper") == {str(rival.public_id)}
    assert ids(everything, "576461413038785001") == {str(linked.public_id)}
    assert ids(theirs, "576461413038785001") == set()
    assert ids(everything, "x" * 1000) == set()
    assert ids(everything, '"&|:* (') == set()


def test_the_api_q_ranks_as_the_mailbox_does(owner_client, tenant, other_tenant, store):
    """Given the exact-match world of the mailbox's ranking test, and the other organisation
    holding the same order id: the API answers the mailbox's order, its own tickets only."""
    from rest_framework.test import APIClient

    from api.services import api_key_create
    from tenants.models import APIScope

    order_id = "576461413038785752"
    older = ticket(store, last_message_at=BASE_TIME)
    MessageFactory(conversation=older, text=f"order {order_id} never came")
    newer = ticket(store, last_message_at=BASE_TIME + timedelta(hours=2))
    MessageFactory(conversation=newer, text=f"is {order_id} shipped?")
    linked = ticket(store, last_message_at=BASE_TIME - timedelta(days=3))
    ConversationOrderFactory(conversation=linked, order_external_id=order_id)
    buyer = ticket(store, last_message_at=BASE_TIME - timedelta(days=5))
    OrderFactory(store=store, external_id=order_id, buyer_user_id=buyer.customer.buyer_user_id)
    rival = ConversationFactory(
        store=StoreFactory(tenant=other_tenant), tenant=other_tenant, last_message_at=BASE_TIME
    )
    MessageFactory(conversation=rival, text=f"order {order_id}")
    ConversationOrderFactory(conversation=rival, order_external_id=order_id)
    indexed()

    def numbers(key, q: str, **params) -> list[int]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
        response = api.get("/api/v1/tickets/", {"q": q, **params})
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    ours = api_key_create(tenant=tenant, name="BI", scope=APIScope.READ)
    theirs = api_key_create(tenant=other_tenant, name="Rival", scope=APIScope.READ)
    ranked = [linked.number, buyer.number, newer.number, older.number]
    # The buyer's ticket (no link: found through the order) ranks before the newer mentions.
    assert shown(search(owner_client, order_id)) == ranked
    assert numbers(ours, order_id) == ranked
    assert numbers(ours, f"#{older.number}")[0] == older.number
    assert numbers(ours, order_id, status="open") == ranked
    assert numbers(theirs, order_id) == [rival.number]
    assert numbers(theirs, f"#{older.number}") == []


# --- The index kept current ---------------------------------------------------------------------


def test_ingest_replies_notes_and_a_later_buyer_keep_the_index_current(
    owner_client, store, owner, db_vendor
):
    from inbox.ingest import conversation_ingest

    # A message for a conversation the list did not show yet: a ticket without a buyer.
    ingest(store, message(1, text="my umbrella arrived bent"))
    found = Conversation.objects.get()
    assert shown(search(owner_client, "umbrella")) == [found.number]
    # The buyer arrives with the conversation list: their label's code finds the ticket.
    conversation_ingest(store=store, record=conversation())
    found.refresh_from_db()
    label = found.customer.display_name
    assert shown(search(owner_client, label)) == [found.number]
    assert shown(search(owner_client, found.customer.buyer_user_id)) == [found.number]
    # A reply, a note and the next poll's messages.
    membership = Membership.objects.get(user=owner)
    services.reply_create(
        membership=membership, conversation=found, text="A replacement raincoat ships today"
    )
    services.note_add(membership=membership, conversation=found, body="Carrier claim filed")
    ingest(store, message(2, text="Thanks, the galoshes too?"))
    for word in ("raincoat", "carrier claim", "galoshes", "umbrella"):
        assert shown(search(owner_client, word)) == [found.number], word
    if db_vendor == "postgresql":
        # What the write paths appended is what a rebuild writes.
        before = Conversation.objects.filter(pk=found.pk).values_list("search_document", flat=True)
        appended = set(re.findall(r"'([^']+)'", before.get()))
        documents_rebuild([found.pk])
        rebuilt = set(re.findall(r"'([^']+)'", before.get()))
        assert appended == rebuilt


# --- Cost ---------------------------------------------------------------------------------------


def test_a_search_takes_the_same_queries_whatever_the_page_size(owner_client, store):
    for n in range(30):
        found = ticket(store, last_message_at=BASE_TIME + timedelta(minutes=n))
        MessageFactory(conversation=found, text=f"parcel {n} late")
    ConversationOrderFactory(conversation=found, order_external_id="576461413038785752")
    indexed()
    counts = {}
    default = views.LIST_PAGE_SIZE
    try:
        for size in (5, 25):
            views.LIST_PAGE_SIZE = size
            for q in ("parcel", "576461413038785752"):
                owner_client.get(reverse("mailbox"), {"folder": "all", "q": q})  # counts cached
                with CaptureQueriesContext(connection) as captured:
                    response = search(owner_client, q)
                counts[size, q] = len(captured.captured_queries)
                assert len(shown(response)) == min(size, 30 if q != "576461413038785752" else 1)
    finally:
        views.LIST_PAGE_SIZE = default
    for q in ("parcel", "576461413038785752"):
        assert counts[5, q] == counts[25, q], q


def test_a_search_reads_the_languages_of_its_stores_once(owner_client, store):
    """The rows' snippets are parsed in each store's language, which the search read with the
    stores it searches: the stores' regions are not read a second time for the rows."""
    french = StoreFactory(tenant=store.tenant, name="Acme FR", region="FR")
    MessageFactory(conversation=ticket(store), text="my parcel is late")
    MessageFactory(conversation=ticket(french), text="le parcel est en retard")
    indexed()
    search(owner_client, "parcel")  # counts cached
    with CaptureQueriesContext(connection) as captured:
        response = search(owner_client, "parcel")
    regions = [q for q in captured.captured_queries if '"marketplaces_store"."region"' in q["sql"]]
    assert len(regions) == 1
    assert len(shown(response)) == 2
    assert body(response).count("<mark>parcel</mark>") == 2


# --- The Orders page ----------------------------------------------------------------------------


def test_the_orders_page_lists_the_orders_of_the_tickets_the_search_finds(owner_client, store):
    buyer_ticket = ticket(store)
    MessageFactory(conversation=buyer_ticket, text="the lamp flickers")
    theirs = OrderFactory(store=store, buyer_user_id=buyer_ticket.customer.buyer_user_id)
    someone_else = OrderFactory(store=store, buyer_user_id="1")
    indexed()

    def listed(q: str) -> set[str]:
        response = owner_client.get(reverse("order_list"), {"q": q})
        assert response.status_code == 200
        return set(re.findall(r'data-copy="([^"]+)"', body(response)))

    assert listed("flickers") == {theirs.external_id}
    assert listed(f"#{buyer_ticket.number}") == {theirs.external_id}
    assert listed(buyer_ticket.customer.display_name) == {theirs.external_id}
    assert listed(someone_else.external_id) == {someone_else.external_id}
    assert listed("nothing like this") == set()


# --- Building the index of an existing database -------------------------------------------------


def test_the_build_command_writes_every_document_in_batches(owner_client, store, db_vendor):
    from io import StringIO

    from django.core.management import call_command

    tickets = [ticket(store) for _ in range(5)]
    for n, found in enumerate(tickets):
        MessageFactory(conversation=found, text=f"teapot number{n}")
    Conversation.objects.update(search_document=None)  # as a database made before the index
    out, progress = StringIO(), StringIO()

    call_command("search_index_build", "--batch", "2", stdout=out, stderr=progress)

    if db_vendor != "postgresql":
        assert "nothing to do" in out.getvalue()
        return
    assert "Search documents written: 5 " in out.getvalue()
    assert "5/5" in progress.getvalue()  # the progress bar's last state
    assert not Conversation.objects.filter(search_document__isnull=True).exists()
    assert shown(search(owner_client, "teapot number3")) == [tickets[3].number]
    # Resuming writes only what is missing.
    Conversation.objects.filter(pk=tickets[0].pk).update(search_document=None)
    call_command("search_index_build", "--missing", stdout=out, stderr=progress)
    assert "Search documents written: 1 " in out.getvalue()
