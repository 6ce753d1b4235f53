"""In the browser (Playwright, system Chromium): an agent opens a ticket from the list without a
reload, types a draft (the counter turns amber, then red), drops an order's details into it with
Insert, sees a new buyer message slide into the open thread and the list within 5 seconds while
the draft stays, solves with the keyboard and sends with Ctrl+Enter.

A ticket opened by URL comes without the list's rows and loads its list pane right after: the
row is highlighted, j/k and Enter go on from it, the list keeps polling; without JavaScript the
pane is a link to the list.

No TikTok here: the new message is written the way ingest writes it. The sandbox round trip is
in tests/e2e (part C2)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Conversation, DeliveryStatus, Message, TicketStatus
from tests.browser import CHROMIUM, sign_in
from tests.factories_inbox import ConversationFactory, MessageFactory, SnippetFactory
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)),
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


SCREENSHOTS = os.environ.get("SELLERDESK_SCREENSHOTS")  # a folder: save what the agent saw


def snap(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"))


def buyer_writes(conversation: Conversation, text: str) -> None:
    """What ingest does for a buyer message: the message, then the ticket's list fields."""
    now = timezone.now()
    MessageFactory(conversation=conversation, text=text, sent_at=now, created_at=now)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=now,
        last_message_preview=text,
        last_message_from_buyer=True,
        unread_count=1,
        updated_at=now,
    )


def test_an_agent_works_a_ticket_live(page, live_server, tenant, agent, password):
    store = StoreFactory(tenant=tenant, name="Acme US")
    quiet = ConversationFactory(store=store, tenant=tenant, last_message_preview="Older chat")
    conversation = ConversationFactory(store=store, tenant=tenant, last_message_at=timezone.now())
    MessageFactory(conversation=conversation, text="Where is my order?")
    order = OrderFactory(
        store=store,
        buyer_user_id=conversation.customer.buyer_user_id,
        external_id="576461413038785752",
        total_amount=Decimal("25.00"),
    )
    OrderLineFactory(order=order, product_name="Mug", sku_name="")
    SnippetFactory(
        tenant=tenant,
        title="Where is my order?",
        shortcut="where-is-it",
        body="Your order {{ order.id }} is {{ order.status }}.",
    )

    sign_in(page, live_server, "agent@acme.test", password)

    # Open the ticket from the list: only the thread pane changes, the URL follows.
    page.locator(f"#ticket-{conversation.public_id}").click()
    page.locator("#thread-messages").get_by_text("Where is my order?").wait_for()
    page.wait_for_url(f"{live_server.url}/mailbox/{conversation.public_id}/")
    assert page.locator(f"#ticket-{conversation.public_id}").get_attribute("aria-current") == "true"

    composer = page.get_by_role("textbox", name="Reply to the buyer")
    composer.fill("a" * 1850)
    assert page.locator("#char-count").inner_text() == "1,850 / 2,000"
    assert "is-near" in page.locator("#char-count").get_attribute("class")
    composer.fill("b" * 2001)
    assert "is-over" in page.locator("#char-count").get_attribute("class")

    # Too long: the server refuses it, the error sits next to the composer, the text stays.
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("A reply is limited to 2,000 characters; this one has 2,001.").wait_for()
    composer = page.get_by_role("textbox", name="Reply to the buyer")
    assert composer.input_value() == "b" * 2001
    assert Message.objects.filter(conversation=conversation, direction="outbound").count() == 0
    snap(page, "mailbox-error")

    composer.fill("Hi! Your order: ")
    assert page.locator("#composer-text-errors").count() == 0  # edited: the remark is gone
    page.locator(f'[data-order="{order.external_id}"]').get_by_role("button", name="Insert").click()
    draft = (
        "Hi! Your order: Order 576461413038785752 · Awaiting shipment · "
        "1 \N{MULTIPLICATION SIGN} Mug · $25.00"
    )
    assert composer.input_value() == draft

    # A buyer message arrives: it slides into the open thread and bumps the list; the draft stays.
    buyer_writes(conversation, "Hello? It has been a week.")
    buyer_writes(quiet, "Do you ship to Canada?")
    page.locator("#thread-messages").get_by_text("Hello? It has been a week.").wait_for(
        timeout=5_000
    )
    page.locator("#ticket-rows").get_by_text("Do you ship to Canada?").wait_for(timeout=5_000)
    assert composer.input_value() == draft
    snap(page, "mailbox-live")
    rows = page.locator("[data-ticket-row]")
    assert rows.first.get_attribute("id") == f"ticket-{quiet.public_id}"

    # Keyboard: j/k move through the list, e solves (never while typing).
    page.locator("#thread-messages").click()
    page.keyboard.press("e")
    page.locator("#ticket-header [data-status='solved']").wait_for()
    conversation.refresh_from_db()
    assert conversation.status == TicketStatus.SOLVED
    assert composer.input_value() == draft

    # The buyer's message slid into the thread the agent is reading: it counts as seen, so the
    # reply goes out at the first press (no stale-view refusal).
    composer.press("Control+Enter")
    page.locator("#thread-messages").get_by_text(draft).wait_for()
    reply = Message.objects.get(conversation=conversation, text=draft)
    assert reply.delivery_status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
    assert composer.input_value() == ""

    # A snippet: "/" at the start opens the searchable picker, what follows narrows it, Enter
    # inserts the highlighted one; it is about an order, and the buyer's only order is used.
    composer.press_sequentially("/where")
    popover = page.locator("#snippet-popover")
    expect(popover).to_be_visible()
    expect(popover.locator('[role=option][aria-selected="true"]')).to_contain_text(
        "Where is my order?"
    )
    composer.press("Enter")
    expect(composer).to_have_value("Your order 576461413038785752 is Awaiting shipment.")
    expect(popover).to_be_hidden()

    # a assigns to me; n switches to an internal note; j/k and Enter open another ticket.
    page.locator("#thread-messages").click()
    page.keyboard.press("a")
    expect(page.locator("#ticket-header [data-assignee]")).to_have_text(
        agent.first_name or agent.display_name
    )
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    page.keyboard.press("n")
    assert page.locator("[data-composer-mode]").input_value() == "note"
    assert page.get_by_role("button", name="Add internal note").is_visible()
    assert not page.get_by_role("button", name="Send & Solve").is_visible()
    snap(page, "mailbox-note")
    page.locator("#thread-messages").click()
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/mailbox/{quiet.public_id}/")
    page.locator("#thread-messages").get_by_text("Do you ship to Canada?").wait_for()


def test_a_ticket_opened_by_url_gets_its_list_right_after(
    page, live_server, tenant, agent, password
):
    """The page comes without the list's rows; the list pane loads itself, with the open
    ticket's row highlighted, j/k go on from it, and the list keeps polling."""
    store = StoreFactory(tenant=tenant, name="Acme US")
    now = timezone.now()
    newest, opened, oldest = (
        ConversationFactory(
            store=store,
            tenant=tenant,
            last_message_at=now - timedelta(minutes=minutes),
            last_message_preview=preview,
        )
        for minutes, preview in ((1, "Newest chat"), (2, "The one opened"), (3, "Oldest chat"))
    )
    MessageFactory(conversation=opened, text="Can I change the size?")

    sign_in(page, live_server, "agent@acme.test", password)
    list_requests: list[str] = []
    page.on(
        "request",
        lambda request: list_requests.append(request.url) if "selected=" in request.url else None,
    )
    page.goto(f"{live_server.url}/mailbox/{opened.public_id}/")

    page.locator("#thread-messages").get_by_text("Can I change the size?").wait_for()
    row = page.locator(f"#ticket-{opened.public_id}")
    row.wait_for()
    assert list_requests == [f"{live_server.url}/mailbox/?selected={opened.public_id}"]
    assert row.get_attribute("aria-current") == "true"
    assert page.locator("[data-ticket-row]").count() == 3
    assert page.locator('[data-ticket-row][aria-current="true"]').count() == 1
    snap(page, "mailbox-opened-by-url")

    # j/k go on from the highlighted row; Enter opens the focused one in the pane.
    page.locator("#thread-messages").click()
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == f"ticket-{oldest.public_id}"
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.id") == f"ticket-{newest.public_id}"
    page.evaluate("window.__sameDocument = 'yes'")

    # The list polls like any list: a buyer writes on another ticket, it moves to the top.
    buyer_writes(oldest, "Do you ship to Canada?")
    page.locator(f"#ticket-{oldest.public_id} .preview").get_by_text(
        "Do you ship to Canada?"
    ).wait_for(timeout=5_000)
    assert page.locator("[data-ticket-row]").first.get_attribute("id") == (
        f"ticket-{oldest.public_id}"
    )
    assert page.locator(f"#ticket-{opened.public_id}").get_attribute("aria-current") == "true"

    page.locator(f"#ticket-{newest.public_id}").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/mailbox/{newest.public_id}/")
    page.locator(f'#thread-pane[data-ticket="{newest.public_id}"]').wait_for()
    assert page.locator(f"#ticket-{newest.public_id}").get_attribute("aria-current") == "true"
    assert page.evaluate("window.__sameDocument") == "yes"  # the pane changed, not the page


def test_without_javascript_a_ticket_page_links_to_its_list(
    browser, live_server, tenant, owner, password
):
    store = StoreFactory(tenant=tenant, name="Acme US")
    opened = ConversationFactory(store=store, tenant=tenant, status="pending")
    MessageFactory(conversation=opened, text="Can I change the size?")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        sign_in(page, live_server, "owner@acme.test", password)
        page.goto(f"{live_server.url}/mailbox/{opened.public_id}/?folder=pending")
        assert page.locator("#thread-messages").get_by_text("Can I change the size?").is_visible()
        assert page.locator("[data-ticket-row]").count() == 0

        page.get_by_role("link", name="Show the conversation list").click()

        page.wait_for_url(f"{live_server.url}/mailbox/?folder=pending&selected={opened.public_id}")
        row = page.locator(f"#ticket-{opened.public_id}")
        assert row.get_attribute("aria-current") == "true"
        assert page.locator('[data-folder="pending"]').get_attribute("aria-current") == "page"
    finally:
        context.close()


def test_the_open_tickets_row_is_scrolled_into_the_list_when_it_arrives(
    page, live_server, tenant, agent, password
):
    store = StoreFactory(tenant=tenant, name="Acme US")
    now = timezone.now()
    tickets = [
        ConversationFactory(store=store, tenant=tenant, last_message_at=now - timedelta(minutes=n))
        for n in range(40)
    ]
    far_down = tickets[35]

    sign_in(page, live_server, "agent@acme.test", password)
    page.goto(f"{live_server.url}/mailbox/{far_down.public_id}/")

    row = page.locator(f"#ticket-{far_down.public_id}")
    expect(row).to_have_attribute("aria-current", "true")
    expect(row).to_be_in_viewport()
    expect(page.locator(f"#ticket-{tickets[0].public_id}")).not_to_be_in_viewport()
