"""The ticket's composer and actions: errors keep the draft and nothing is queued; sends, notes,
status and assignment; the order workbench and snippets; polling; store limits; another
tenant's 404 on every mailbox URL."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from inbox import selectors
from inbox.models import (
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from marketplaces.models import StoreAccess
from tenants.models import Membership, Role
from tests.factories_inbox import (
    ConversationFactory,
    ConversationOrderFactory,
    MessageFactory,
    OutboxMessageFactory,
    SnippetFactory,
)
from tests.factories_marketplaces import (
    BASE_TIME,
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    ReturnLineFactory,
    StoreFactory,
    member,
)

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
TIMES = "\N{MULTIPLICATION SIGN}"


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Acme US")


@pytest.fixture
def conversation(store):
    return ConversationFactory(store=store, tenant=store.tenant)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A private cache per test: folder counts are cached per change stamp."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def html(response) -> str:
    return response.content.decode()


def reply_url(conversation: Conversation) -> str:
    return reverse("ticket_reply", args=[conversation.public_id])


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


# --- Composer errors keep the draft -----------------------------------------------------------


def assert_nothing_queued(conversation: Conversation) -> None:
    assert Message.objects.filter(conversation=conversation).count() == 0
    conversation.refresh_from_db()
    assert conversation.status == TicketStatus.OPEN


def test_a_reply_of_2001_characters_is_refused_and_the_draft_kept(
    owner_client, conversation, django_capture_on_commit_callbacks
):
    draft = "x" * 2001
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(
            reply_url(conversation), {"mode": "reply", "text": draft, "next_status": "solved"}
        )
    assert response.status_code == 400
    page = html(response)
    assert f">{draft}</textarea>" in page
    assert "A reply is limited to 2,000 characters; this one has 2,001." in page
    assert (
        '<span class="char-count is-over" id="char-count" aria-live="polite">2,001 / 2,000</span>'
        in page
    )
    assert callbacks == []
    assert_nothing_queued(conversation)


def test_a_16_mb_image_is_refused_the_text_kept_and_the_image_asked_again(
    owner_client, conversation, django_capture_on_commit_callbacks
):
    image = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (16 * 1024 * 1024), "image/png")
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(
            reply_url(conversation),
            {"mode": "reply", "text": "Here is the photo", "image": image},
            **HX,
        )
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#composer"
    assert response["HX-Reswap"] == "outerHTML"
    page = html(response)
    assert page.lstrip().startswith('<div id="composer"')
    assert ">Here is the photo</textarea>" in page
    assert "Images are limited to 15 MB; this one is 16.0 MB." in page
    assert "Your text is kept. The image was not kept: choose it again." in page
    assert callbacks == []
    assert_nothing_queued(conversation)


def test_a_renamed_executable_is_refused(owner_client, conversation):
    executable = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00\x03" + b"\x00" * 500, "image/jpeg")
    response = owner_client.post(
        reply_url(conversation), {"mode": "reply", "text": "see attached", "image": executable}
    )
    assert response.status_code == 400
    page = html(response)
    assert "Only JPEG, PNG, GIF and WEBP images can be sent; this file is not one of them." in page
    assert ">see attached</textarea>" in page
    assert_nothing_queued(conversation)


def test_an_empty_reply_is_refused(owner_client, conversation):
    response = owner_client.post(reply_url(conversation), {"mode": "reply", "text": "   "})
    assert response.status_code == 400
    assert "Write a reply or attach an image." in html(response)
    assert_nothing_queued(conversation)


# --- Sending, notes, status, assignment -------------------------------------------------------


def test_send_and_pending_queues_the_reply_and_shows_it_at_once(
    owner_client, owner, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(
            reply_url(conversation),
            {"mode": "reply", "text": "It ships today.", "next_status": "pending"},
            **HX,
        )
    assert response.status_code == 200
    reply = Message.objects.get(conversation=conversation)
    assert (reply.text, reply.author, reply.delivery_status, reply.direction) == (
        "It ships today.",
        owner,
        DeliveryStatus.QUEUED,
        MessageDirection.OUTBOUND,
    )
    conversation.refresh_from_db()
    assert conversation.status == TicketStatus.PENDING
    page = html(response)
    assert page.lstrip().startswith('<section id="thread-pane"')
    assert '<p class="bubble-text">It ships today.</p>' in page
    assert '<span class="delivery delivery-queued">Queued</span>' in page
    assert "></textarea>" in page  # the composer is emptied after a send
    assert 'id="sidebar" class="mailbox-sidebar" aria-label="Workbench" hx-swap-oob="true"' in page


def test_a_reply_with_an_image_only_is_queued_with_the_attachment(
    owner_client, conversation, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    image = SimpleUploadedFile("socks.png", png_bytes(), "image/png")
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(
            reply_url(conversation), {"mode": "reply", "text": "", "image": image}
        )
    assert response.status_code == 302
    reply = Message.objects.get(conversation=conversation)
    assert (reply.type, reply.attachment_content_type) == ("IMAGE", "image/png")
    image_url = reverse("reply_image", args=[conversation.public_id, reply.public_id])
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    assert f'<img class="thread-image" src="{image_url}" alt="Image sent to the buyer"' in page
    served = owner_client.get(image_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()


def test_a_note_is_saved_as_an_internal_note_and_never_sent(owner_client, owner, conversation):
    response = owner_client.post(
        reply_url(conversation), {"mode": "note", "text": "Check stock first"}
    )
    assert response.status_code == 302
    note = TicketEvent.objects.get(conversation=conversation)
    assert (note.kind, note.body, note.actor) == (TicketEventKind.NOTE, "Check stock first", owner)
    assert Message.objects.filter(conversation=conversation).count() == 0


def test_status_and_assignment_actions(tenant, owner_client, owner, conversation):
    teammate = member(tenant, Role.AGENT)
    status_url = reverse("ticket_status", args=[conversation.public_id])
    assign_url = reverse("ticket_assign", args=[conversation.public_id])

    response = owner_client.post(status_url, {"status": "solved"}, **HX)
    assert response.status_code == 200
    assert '<div id="thread-messages"' in html(response)
    assert 'id="ticket-header"' in html(response) and 'hx-swap-oob="true"' in html(response)
    conversation.refresh_from_db()
    assert conversation.status == TicketStatus.SOLVED

    owner_client.post(assign_url, {"assignee": "me"})
    conversation.refresh_from_db()
    assert conversation.assignee == owner
    owner_client.post(assign_url, {"assignee": str(teammate.public_id)})
    conversation.refresh_from_db()
    assert conversation.assignee == teammate.user
    response = owner_client.post(assign_url, {"assignee": ""}, **HX)
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert f"{owner.display_name} unassigned the ticket" in html(response)
    assert f"{owner.display_name} took the ticket" in html(response)
    assert f"{owner.display_name} assigned the ticket to {teammate.user.display_name}" in html(
        response
    )
    assert list(
        TicketEvent.objects.filter(conversation=conversation).values_list("kind", flat=True)
    ) == ["status", "assignment", "assignment", "assignment"]


def test_assigning_to_an_agent_who_does_not_serve_the_store_is_404(
    tenant, owner_client, conversation
):
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=StoreFactory(tenant=tenant))
    response = owner_client.post(
        reverse("ticket_assign", args=[conversation.public_id]),
        {"assignee": str(limited.public_id)},
    )
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.assignee is None
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    picker = page.split('class="menu assignee-menu"')[1].split("</details>")[0]
    assert f'value="{limited.public_id}"' not in picker
    assert picker.count(" (me)<") == 1


def test_retry_puts_a_failed_reply_back_in_the_queue(
    owner_client, owner, conversation, django_capture_on_commit_callbacks
):
    failed = OutboxMessageFactory(
        conversation=conversation,
        author=owner,
        delivery_status=DeliveryStatus.FAILED,
        failure_reason="TikTok Shop refused the request",
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(
            reverse("reply_retry", args=[conversation.public_id, failed.public_id]), **HX
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.delivery_status, failed.failure_reason) == (DeliveryStatus.QUEUED, "")
    assert '<span class="delivery delivery-queued">Queued</span>' in html(response)
    again = owner_client.post(
        reverse("reply_retry", args=[conversation.public_id, failed.public_id]), **HX
    )
    assert again.status_code == 400
    assert "This reply is not waiting for a retry." in html(again)


def test_a_reply_waiting_for_its_next_attempt_says_why_and_when_and_can_go_at_once(
    tenant, owner_client, owner, conversation, settings, django_capture_on_commit_callbacks
):
    settings.INBOX_SEND_MAX_ATTEMPTS = 8
    tenant.time_zone = "Europe/London"
    tenant.save()
    retrying = OutboxMessageFactory(
        conversation=conversation,
        author=owner,
        delivery_status=DeliveryStatus.QUEUED,
        attempts=3,
        failure_reason="Retrying: TikTok Shop is not answering (HTTP 503).",
        next_attempt_at=BASE_TIME + timedelta(minutes=5),
    )
    retry_url = reverse("reply_retry", args=[conversation.public_id, retrying.public_id])

    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    assert '<span class="delivery delivery-queued">Not sent yet</span>' in page
    assert (
        "<p>TikTok Shop is not answering (HTTP 503). Attempt 3 of 8 did not go through. "
        'Next try <time datetime="2026-09-12T09:05:00+01:00">12 Sep 2026, 09:05 BST</time>.</p>'
    ) in page
    assert f'hx-post="{retry_url}"' in page
    assert '<button type="submit" class="btn btn-sm">Retry now</button>' in page

    # Retry now: due at once, its attempts so far still counted, sent by a task after commit.
    retrying.next_attempt_at = timezone.now() + timedelta(minutes=5)
    retrying.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(retry_url, **HX)
    assert response.status_code == 200
    retrying.refresh_from_db()
    assert retrying.delivery_status == DeliveryStatus.QUEUED
    assert retrying.attempts == 3
    assert retrying.next_attempt_at <= timezone.now()
    assert len(callbacks) == 1
    # Due already: nothing to hurry.
    again = owner_client.post(retry_url, **HX)
    assert again.status_code == 400
    assert "This reply is not waiting for a retry." in html(again)


# --- Live updates -------------------------------------------------------------------------------


def test_ticket_poll_answers_204_until_something_changes(
    owner_client, conversation, django_assert_num_queries
):
    MessageFactory(conversation=conversation, text="First question")
    url = reverse("ticket_poll", args=[conversation.public_id])
    version = selectors.thread_version(conversation=conversation)
    owner_client.get(url, {"v": version})  # the session's first request loads more

    # User, membership, the access check and the version (the session is read from the cache):
    # nothing else.
    with django_assert_num_queries(4):
        idle = owner_client.get(url, {"v": version}, **HX)
    assert idle.status_code == 204
    assert idle.content == b""

    MessageFactory(conversation=conversation, text="Hello? Any news?")
    changed = owner_client.get(url, {"v": version}, **HX)
    assert changed.status_code == 200
    page = html(changed)
    assert "Hello? Any news?" in page
    new_version = selectors.thread_version(conversation=conversation)
    assert new_version != version
    assert f'data-thread-version="{new_version}"' in page
    # The draft is never touched by a poll: only the composer's newest-seen message id moves
    # (what slid into the thread counts as seen).
    assert 'id="composer-form"' not in page and 'id="composer-text"' not in page
    newest = Message.objects.filter(conversation=conversation).order_by("-id")[0].public_id
    assert f'id="composer-last-seen" name="last_seen_message_id" value="{newest}"' in page
    assert owner_client.get(url, {"v": new_version}).status_code == 204


def test_a_poll_that_redraws_the_thread_reads_nothing_for_the_sidebar_or_the_composer(
    owner_client, conversation
):
    """The thread and header only (new messages, "Show earlier"): the sidebar's orders, the
    snippets and the composer stay as they are on screen, so they are not read or built."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    MessageFactory(conversation=conversation, text="Where is my parcel?")
    url = reverse("ticket_poll", args=[conversation.public_id])
    with CaptureQueriesContext(connection) as queries:
        changed = owner_client.get(url, {"v": "stale", "all": "1"}, **HX)
    assert changed.status_code == 200
    assert "Where is my parcel?" in html(changed)
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "inbox_snippet" not in tables
    # The whole ticket still reads them.
    with CaptureQueriesContext(connection) as queries:
        owner_client.get(reverse("ticket_detail", args=[conversation.public_id]))
    assert "inbox_snippet" in " ".join(query["sql"] for query in queries.captured_queries)


def test_ticket_poll_sees_a_reply_change_delivery_state(owner_client, owner, conversation):
    reply = OutboxMessageFactory(conversation=conversation, author=owner)
    url = reverse("ticket_poll", args=[conversation.public_id])
    version = selectors.thread_version(conversation=conversation)
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.SENT, external_id="7501600001", index_key="0" * 23 + "9"
    )
    response = owner_client.get(url, {"v": version})
    assert response.status_code == 200
    assert '<span class="delivery delivery-sent">Sent</span>' in html(response)


def test_list_poll_answers_204_until_a_ticket_changes(
    owner_client, store, conversation, django_assert_num_queries
):
    version = selectors.list_stamp(
        tenant=store.tenant, membership=Membership.objects.get(tenant=store.tenant)
    )
    url = reverse("mailbox_poll")
    owner_client.get(url, {"v": version})
    with django_assert_num_queries(3):  # user, membership, the change stamp (session: cache)
        idle = owner_client.get(url, {"v": version}, **HX)
    assert idle.status_code == 204

    # What ingest does when a buyer writes: the ticket's activity moves, updated_at with it.
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=now,
        last_message_preview="Is it shipped yet?",
        last_message_from_buyer=True,
        unread_count=1,
        updated_at=now,
    )
    changed = owner_client.get(url, {"v": version}, **HX)
    assert changed.status_code == 200
    page = html(changed)
    assert "Is it shipped yet?" in page
    assert (
        '<nav class="mailbox-rail" id="mailbox-rail" aria-label="Folders" hx-swap-oob="true">'
        in page
    )
    assert 'class="ticket-row is-unread"' in page
    new_version = selectors.list_stamp(
        tenant=store.tenant, membership=Membership.objects.get(tenant=store.tenant)
    )
    assert f"v={new_version}" in page
    assert owner_client.get(url, {"v": new_version}).status_code == 204


# --- The order workbench and snippets ---------------------------------------------------------


def test_sidebar_lists_linked_orders_first_with_details_and_insert_text(
    tenant, owner_client, store, conversation
):
    buyer = conversation.customer.buyer_user_id
    newest = OrderFactory(store=store, buyer_user_id=buyer, external_id="576461413038700002")
    linked = OrderFactory(
        store=store,
        buyer_user_id="someone-else",
        external_id="576461413038700001",
        total_amount=Decimal("59.95"),
        shipping_provider="USPS",
        tracking_number="9400111899223197428490",
        delivery_option_name="Standard shipping",
        city="Austin",
        state="Texas",
        postal_code="78701",
        country="US",
    )
    OrderLineFactory(order=linked, product_name="Socks", sku_name="")
    OrderLineFactory(order=linked, product_name="Socks", sku_name="")
    OrderLineFactory(order=linked, product_name="Mug", sku_name="")
    ReturnLineFactory(
        return_request=ReturnFactory(
            store=store, order_external_id=linked.external_id, reason_text="Wrong size"
        ),
        product_name="Socks",
    )
    ConversationOrderFactory(conversation=conversation, order=linked)
    OrderFactory(store=StoreFactory(tenant=tenant), buyer_user_id=buyer)  # another store

    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    sidebar = page.split('id="sidebar"')[1]
    assert sidebar.count('<article class="mini-card order-card"') == 2
    assert sidebar.index(linked.external_id) < sidebar.index(newest.external_id)
    assert '<span class="badge badge-accent">Linked</span>' in sidebar
    assert f"<li>2 {TIMES} Socks</li>" in sidebar and f"<li>1 {TIMES} Mug</li>" in sidebar
    assert '<span class="money">$59.95</span>' in sidebar
    assert "<dt>Ship to</dt><dd>Austin, Texas, 78701, US</dd>" in sidebar
    assert "<dt>Delivery</dt><dd>Standard shipping</dd>" in sidebar
    assert 'USPS<span class="order-id tracking-id">9400111899223197428490' in sidebar
    assert "<dt>Return / refund</dt><dd>Request pending — Wrong size<br>Socks</dd>" in sidebar
    assert (
        f'data-insert="Order 576461413038700001 · Awaiting shipment · 2 {TIMES} Socks, '
        f"1 {TIMES} Mug · $59.95 · "
        'USPS tracking 9400111899223197428490"'
    ) in sidebar


def test_order_search_is_limited_to_the_tickets_store(tenant, owner_client, store, conversation):
    mine = OrderFactory(store=store, buyer_user_id="x", external_id="576461413038711111")
    OrderFactory(
        store=StoreFactory(tenant=tenant, name="Acme UK"), external_id="576461413038722222"
    )
    url = reverse("ticket_orders", args=[conversation.public_id])

    found = owner_client.get(url, {"q": mine.external_id}, **HX)
    assert found.status_code == 200
    assert html(found).lstrip().startswith('<aside id="sidebar"')
    assert f'data-order="{mine.external_id}"' in html(found)

    elsewhere = html(owner_client.get(url, {"q": "576461413038722222"}))
    assert "No order 576461413038722222 in Acme US." in elsewhere
    assert 'data-order="576461413038722222"' not in elsewhere


class CountingStores:
    """A counting fake at the channel seam (`store_api`): which stores were asked for orders."""

    def __init__(self, answer: list | None = None) -> None:
        self.asked: list[str] = []
        self.answer = answer or []

    def __call__(self, store):
        self.store = store
        return self

    def orders_by_id(self, ids: list[str]) -> list:
        self.asked.append(self.store.name)
        return self.answer


def test_order_search_of_an_unsynced_id_asks_no_store_and_offers_a_lookup(
    tenant, owner_client, store, conversation, monkeypatch
):
    from orders import services as order_services

    stores = CountingStores()
    monkeypatch.setattr(order_services, "store_api", stores)
    url = reverse("ticket_orders", args=[conversation.public_id])

    found = html(owner_client.get(url, {"q": "576461413038733333"}, **HX))

    assert stores.asked == []  # a GET reads the synced orders only
    assert "Order 576461413038733333 is not synced in Sellerdesk (yet)." in found
    fetch_url = reverse("ticket_order_fetch", args=[conversation.public_id])
    assert f'hx-post="{fetch_url}"' in found
    assert "Look it up in Acme US</button>" in found


def test_look_it_up_asks_only_the_tickets_store(
    tenant, owner_client, store, conversation, monkeypatch
):
    from orders import services as order_services

    StoreFactory(tenant=tenant, name="Acme UK")
    stores = CountingStores()
    monkeypatch.setattr(order_services, "store_api", stores)
    url = reverse("ticket_order_fetch", args=[conversation.public_id])

    response = owner_client.post(url, {"q": "576461413038733333"}, **HX)

    assert response.status_code == 200
    assert stores.asked == ["Acme US"]
    assert "No order 576461413038733333 in Acme US." in html(response)
    assert "Look it up" not in html(response)
    assert owner_client.get(url, {"q": "576461413038733333"}).status_code == 405


def test_look_it_up_on_another_tenants_ticket_is_404(
    client, other_owner, conversation, monkeypatch
):
    from orders import services as order_services

    stores = CountingStores()
    monkeypatch.setattr(order_services, "store_api", stores)
    client.force_login(other_owner)
    url = reverse("ticket_order_fetch", args=[conversation.public_id])

    assert client.post(url, {"q": "576461413038733333"}, **HX).status_code == 404
    assert stores.asked == []


def test_snippet_is_rendered_with_the_chosen_order_for_the_composer(
    tenant, owner_client, owner, store, conversation
):
    owner.first_name = "Dana"
    owner.save()
    order = OrderFactory(
        store=store,
        buyer_user_id=conversation.customer.buyer_user_id,
        external_id="576461413038733333",
        total_amount=Decimal("12.00"),
    )
    OrderLineFactory(order=order, product_name="Mug", sku_name="")
    snippet = SnippetFactory(
        tenant=tenant,
        body="Hi {{ buyer.name }}, order {{ order.id }} ({{ order.items }}, "
        "{{ order.total }}) is {{ order.status }}. {{ agent.first_name }} at {{ store.name }}",
    )
    url = reverse("snippet_insert", args=[conversation.public_id])

    response = owner_client.get(
        url, {"snippet": str(snippet.public_id), "order": str(order.public_id)}
    )
    assert response.status_code == 200
    # The buyer reads "Hi there", never the masked label agents see.
    assert response.json() == {
        "text": "Hi there, order 576461413038733333 (Mug, $12.00) "
        "is Awaiting shipment. Dana at Acme US"
    }
    # Without JavaScript the picker is a GET form whose text lands in the composer.
    page = html(
        owner_client.get(
            reverse("ticket_detail", args=[conversation.public_id]),
            {"snippet": str(snippet.public_id), "order": str(order.public_id)},
        )
    )
    assert (
        "order 576461413038733333 (Mug, $12.00) is Awaiting shipment. Dana at Acme US</textarea>"
        in page
    )

    # No order chosen: the buyer's only order is the one meant.
    only_order = owner_client.get(url, {"snippet": str(snippet.public_id)})
    assert only_order.status_code == 200
    assert only_order.json()["text"].startswith("Hi there, order 576461413038733333 (Mug")


def test_a_snippet_about_an_order_uses_the_linked_one_or_asks_which(
    tenant, owner_client, store, conversation
):
    snippet = SnippetFactory(tenant=tenant, title="Tracking", body="Order {{ order.id }}.")
    url = reverse("snippet_insert", args=[conversation.public_id])
    ask = {"snippet": str(snippet.public_id)}

    # No orders at all: said plainly.
    none = owner_client.get(url, ask)
    assert none.status_code == 400
    assert none.json() == {
        "error": "The snippet “Tracking” uses order details, and this buyer has no orders in "
        "Acme US yet. Find the order by its id in the Orders tab, or write the details yourself."
    }

    buyer = conversation.customer.buyer_user_id
    older = OrderFactory(
        store=store,
        buyer_user_id=buyer,
        external_id="576461413038700001",
        placed_at=BASE_TIME,
        total_amount=Decimal("10.00"),
    )
    newer = OrderFactory(
        store=store,
        buyer_user_id=buyer,
        external_id="576461413038700002",
        placed_at=BASE_TIME + timedelta(days=1),
        total_amount=Decimal("20.00"),
    )
    # Two orders, none linked: which one?
    question = owner_client.get(url, ask)
    assert question.status_code == 200
    assert question.json() == {
        "question": "“Tracking” is about an order. This buyer has 2: which one?",
        "orders": [
            {
                "id": str(newer.public_id),
                "external_id": "576461413038700002",
                "label": "Awaiting shipment · 13 Sep 2026 · $20.00",
                "linked": False,
            },
            {
                "id": str(older.public_id),
                "external_id": "576461413038700001",
                "label": "Awaiting shipment · 12 Sep 2026 · $10.00",
                "linked": False,
            },
        ],
    }
    # The answer: that order.
    chosen = owner_client.get(url, {**ask, "order": str(older.public_id)})
    assert chosen.json() == {"text": "Order 576461413038700001."}
    # One of them linked to the ticket: that one, without asking.
    ConversationOrderFactory(conversation=conversation, order=older)
    linked = owner_client.get(url, ask)
    assert linked.json() == {"text": "Order 576461413038700001."}
    # Without JavaScript, the question shows next to the picker's order choice.
    ConversationOrderFactory(conversation=conversation, order=newer)
    page = html(owner_client.get(reverse("ticket_detail", args=[conversation.public_id]), ask))
    assert (
        '<p class="form-error" role="alert">“Tracking” is about an order. This buyer has 2: '
        "which one? Choose it under Order.</p>"
    ) in page


def test_snippet_of_another_tenant_or_order_of_another_store_is_404(
    tenant, other_tenant, owner_client, conversation
):
    foreign_snippet = SnippetFactory(tenant=other_tenant)
    url = reverse("snippet_insert", args=[conversation.public_id])
    assert owner_client.get(url, {"snippet": str(foreign_snippet.public_id)}).status_code == 404
    snippet = SnippetFactory(tenant=tenant)
    other_order = OrderFactory(store=StoreFactory(tenant=tenant))
    response = owner_client.get(
        url, {"snippet": str(snippet.public_id), "order": str(other_order.public_id)}
    )
    assert response.status_code == 404


# --- Access -------------------------------------------------------------------------------------


def test_an_agent_limited_to_one_store_sees_only_its_tickets(tenant, client, store, conversation):
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=store)
    other_store = StoreFactory(tenant=tenant, name="Acme UK")
    hidden = ConversationFactory(store=other_store, tenant=tenant)
    client.force_login(limited.user)

    page = html(client.get(reverse("mailbox"), {"folder": "all"}))
    assert f'id="ticket-{conversation.public_id}"' in page
    assert f'id="ticket-{hidden.public_id}"' not in page
    assert '<span class="folder-count" data-count="all">1</span>' in page
    assert "Acme UK" not in page
    for url in ticket_urls(hidden):
        assert client.get(url).status_code in (404, 405)
    assert client.get(reverse("ticket_detail", args=[hidden.public_id])).status_code == 404
    assert (
        client.post(
            reverse("ticket_status", args=[hidden.public_id]), {"status": "solved"}
        ).status_code
        == 404
    )
    hidden.refresh_from_db()
    assert hidden.status == TicketStatus.OPEN


def ticket_urls(conversation: Conversation, message: Message | None = None) -> list[str]:
    args = [conversation.public_id]
    urls = [
        reverse(name, args=args)
        for name in (
            "ticket_detail",
            "ticket_poll",
            "ticket_reply",
            "ticket_status",
            "ticket_assign",
            "ticket_orders",
            "ticket_order_fetch",
            "snippet_insert",
            "ticket_card_send",
            "ticket_products",
            "ticket_coupons",
        )
    ]
    # The list with this ticket selected: the list pane a ticket page opened by URL loads.
    urls.append(f"{reverse('mailbox')}?selected={conversation.public_id}")
    if message is not None:
        urls += [
            reverse("reply_retry", args=[*args, message.public_id]),
            reverse("reply_image", args=[*args, message.public_id]),
        ]
    return urls


def test_another_tenants_ticket_is_404_on_every_mailbox_url(
    client, other_owner, store, conversation, owner, django_capture_on_commit_callbacks
):
    failed = OutboxMessageFactory(
        conversation=conversation, author=owner, delivery_status=DeliveryStatus.FAILED
    )
    conversation.unread_count = 3
    conversation.save()
    snippet = SnippetFactory(tenant=store.tenant)
    client.force_login(other_owner)
    urls = ticket_urls(conversation, failed)
    assert len(urls) == 14
    with django_capture_on_commit_callbacks() as callbacks:
        for url in urls:
            # The parameters go after any the URL has (?selected=…), not in place of them.
            params = urlencode({"snippet": str(snippet.public_id), "q": "1"})
            with_params = f"{url}{'&' if '?' in url else '?'}{params}"
            assert client.get(with_params).status_code in (404, 405), url
            response = client.post(
                url,
                {"mode": "reply", "text": "hi", "status": "solved", "assignee": "me"},
                **HX,
            )
            assert response.status_code in (404, 405), url
        # Every URL answers 404 to at least one method; none answers anything but 404/405.
        assert all(
            404 in (client.get(url).status_code, client.post(url).status_code) for url in urls
        )
    assert callbacks == []
    conversation.refresh_from_db()
    failed.refresh_from_db()
    assert (conversation.status, conversation.assignee, conversation.unread_count) == (
        TicketStatus.OPEN,
        None,
        3,
    )
    assert failed.delivery_status == DeliveryStatus.FAILED
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert TicketEvent.objects.filter(conversation=conversation).count() == 0
    # Their own mailbox shows none of it.
    page = html(client.get(reverse("mailbox"), {"folder": "all", "q": ""}))
    assert f'id="ticket-{conversation.public_id}"' not in page
    assert '<span class="folder-count" data-count="all">0</span>' in page
    assert client.get(reverse("mailbox_poll")).status_code == 200


# --- Defect 9: the composer sends the reply's idempotency token --------------------------------


def test_the_composer_carries_a_token_and_a_double_submit_sends_one_reply(
    owner_client, tenant, django_capture_on_commit_callbacks
):
    store = StoreFactory(tenant=tenant)
    ticket = ConversationFactory(store=store, tenant=tenant)
    page = owner_client.get(reverse("ticket_detail", args=[ticket.public_id])).content.decode()
    token = re.search(r'name="client_token" value="([0-9a-f-]{36})"', page).group(1)
    form = {"mode": "reply", "text": "On its way.", "client_token": token}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = owner_client.post(reverse("ticket_reply", args=[ticket.public_id]), form)
        second = owner_client.post(reverse("ticket_reply", args=[ticket.public_id]), form)

    assert (first.status_code, second.status_code) == (302, 302)
    [reply] = Message.objects.filter(conversation=ticket)
    assert (reply.text, str(reply.client_token)) == ("On its way.", token)
    assert len(callbacks) == 2  # one send task and one read mark, for the first submit only
    # The composer drawn after the send carries a new token.
    again = owner_client.get(reverse("ticket_detail", args=[ticket.public_id])).content.decode()
    fresh = re.search(r'name="client_token" value="([0-9a-f-]{36})"', again).group(1)
    assert fresh != token
