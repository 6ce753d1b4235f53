"""The mailbox's daily feel, in the browser: the thread keeps most of a laptop screen and the
composer grows with its text; `/` and a few letters insert a snippet with the linked order, or ask
which order with the buyer's orders listed; a reply that keeps failing says why and when it tries
again, with Retry now; the ticket being read never gets an unread dot; and dates are the
organisation's days whatever the browser's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Conversation
from tests.browser import sign_in
from tests.e2e.layout_world import build_world
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import OrderFactory, OrderLineFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEIGHT_OF = "(selector) => document.querySelector(selector).getBoundingClientRect().height"


def test_the_thread_keeps_the_screen_and_the_composer_grows_with_its_text(
    page, live_server, tenant, agent, password
):
    world = build_world(tenant)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, agent.email, password)
    page.goto(f"{live_server.url}/mailbox/{world.ticket.public_id}/")
    composer = page.locator("#composer-text")
    expect(composer).to_be_visible()

    # On a 900 px screen the thread has well over half of it (it had ~450 px beside a 330 px
    # composer and snippet dropdown).
    thread = page.evaluate(HEIGHT_OF, "#thread-scroll")
    assert thread >= 520, thread
    empty = page.evaluate(HEIGHT_OF, "#composer-text")

    composer.fill("\n".join(f"Line {n}" for n in range(6)))
    six_lines = page.evaluate(HEIGHT_OF, "#composer-text")
    assert six_lines > empty + 60, (empty, six_lines)

    # A very long draft stops growing: the composer scrolls, the thread keeps its room.
    composer.fill("\n".join(f"Line {n}" for n in range(80)))
    long_draft = page.evaluate(HEIGHT_OF, "#composer-text")
    assert long_draft <= 0.4 * 900 + 0.5, long_draft  # at most 40% of the screen
    assert page.evaluate(HEIGHT_OF, "#thread-scroll") >= 250
    composer_box = page.locator("#composer").bounding_box()
    assert composer_box["y"] + composer_box["height"] <= 900.5

    composer.fill("")
    assert page.evaluate(HEIGHT_OF, "#composer-text") == pytest.approx(empty, abs=1)


def test_a_snippet_uses_the_linked_order_or_asks_with_the_buyers_orders(
    page, live_server, tenant, agent, password
):
    world = build_world(tenant)
    linked = world.orders[0]
    sign_in(page, live_server, agent.email, password)
    page.goto(f"{live_server.url}/mailbox/{world.ticket.public_id}/")
    composer = page.locator("#composer-text")

    # The ticket has a linked order (and the buyer two more): "/tra" picks the tracking snippet
    # and fills it with the linked order, without asking.
    composer.press_sequentially("/tra")
    popover = page.locator("#snippet-popover")
    expect(popover.locator('[role=option][aria-selected="true"]')).to_contain_text(
        "Tracking number"
    )
    composer.press("Enter")
    expect(composer).to_have_value(
        f"Your order {linked.external_id} ships with USPS, tracking 9400111899223344556677."
    )
    expect(popover).to_be_hidden()

    # A buyer with two orders and none linked: the picker asks, listing both.
    store = world.ticket.store
    other = ConversationFactory(store=store, tenant=tenant, last_message_at=timezone.now())
    MessageFactory(conversation=other, text="Where is it?")
    orders = []
    for external_id, days, total in (
        ("576461413038722221", 3, "30.00"),
        ("576461413038733332", 9, "14.00"),
    ):
        order = OrderFactory(
            store=store,
            tenant=tenant,
            buyer_user_id=other.customer.buyer_user_id,
            external_id=external_id,
            placed_at=timezone.now() - timedelta(days=days),
            total_amount=Decimal(total),
            shipping_provider="UPS",
            tracking_number=f"1Z{external_id[-6:]}",
        )
        OrderLineFactory(order=order, tenant=tenant, product_name="Ceramic Mug")
        orders.append(order)
    page.goto(f"{live_server.url}/mailbox/{other.public_id}/")
    composer = page.locator("#composer-text")
    composer.press_sequentially("/tra")
    composer.press("Enter")
    options = page.locator("#snippet-order-options [role=option]")
    expect(options).to_have_count(2)
    expect(page.locator("#snippet-order-question")).to_be_visible()
    for order in orders:
        expect(page.locator(f"#snippet-order-{order.public_id}")).to_contain_text(order.external_id)
    page.locator(f"#snippet-order-{orders[1].public_id}").click()
    expect(composer).to_have_value(
        "Your order 576461413038733332 ships with UPS, tracking 1Z733332."
    )


def test_a_failing_reply_says_why_and_when_with_retry_now(
    page, live_server, tenant, agent, password
):
    world = build_world(tenant)
    sign_in(page, live_server, agent.email, password)
    page.goto(f"{live_server.url}/mailbox/{world.ticket.public_id}/")

    bubble = page.locator(".bubble-agent", has_text="Your parcel is with USPS")
    expect(bubble).to_contain_text("TikTok Shop is not answering (HTTP 503).")
    expect(bubble).to_contain_text("Attempt 3 of")
    expect(bubble).to_contain_text("Next try")
    expect(bubble.get_by_role("button", name="Retry now")).to_be_visible()
    expect(bubble).not_to_contain_text("Sending…")

    # One status control in the ticket bar (it had a select and buttons side by side).
    header = page.locator("#ticket-header")
    expect(header.locator(".status-menu")).to_have_count(1)
    expect(header.locator("select")).to_have_count(0)
    assert (
        header.locator("[name=status]").count()
        == header.locator(".status-menu [name=status]").count()
    )


def test_the_ticket_being_read_never_shows_an_unread_dot(
    page, live_server, tenant, agent, password
):
    world = build_world(tenant)
    sign_in(page, live_server, agent.email, password)
    # The ticket's own poll (which marks new messages read on the server) is held back, so the
    # list's refresh brings the open ticket's row as unread: the page must not show it so.
    page.route(f"**/mailbox/{world.ticket.public_id}/poll/**", lambda route: route.abort())
    page.goto(f"{live_server.url}/mailbox/{world.ticket.public_id}/")
    row = page.locator(f"#ticket-{world.ticket.public_id}")
    expect(row).to_have_attribute("aria-current", "true")

    Conversation.objects.filter(pk=world.ticket.pk).update(
        unread_count=1,
        last_message_preview="Any news on my parcel?",
        last_message_at=timezone.now(),
        updated_at=timezone.now(),
    )
    expect(row.locator(".preview")).to_have_text("Any news on my parcel?", timeout=10_000)
    assert Conversation.objects.get(pk=world.ticket.pk).unread_count == 1  # still, on the server
    expect(row.locator(".unread-dot")).to_have_count(0)
    expect(row).not_to_have_class("is-unread")
    # Other unread tickets keep their dots.
    assert page.locator("[data-ticket-row] .unread-dot").count() >= 1


def test_dates_are_the_organisations_days_whatever_the_browsers_zone(
    browser, live_server, tenant, agent, password
):
    world = build_world(tenant)  # the organisation works in America/Los_Angeles
    # 05:00 UTC: the evening before in Los Angeles, the afternoon of that day in Tokyo.
    day = (timezone.now() - timedelta(days=20)).date()
    placed = datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)
    order = world.orders[1]
    type(order).objects.filter(pk=order.pk).update(placed_at=placed)

    context = browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server, agent.email, password)
        page.goto(f"{live_server.url}/orders/{order.public_id}/")
        relative = page.locator(".lede time")
        exact = page.locator("dd time").first
        exact_text = exact.inner_text()  # "5 Nov 2026, 21:00 PST": the organisation's zone
        assert exact_text.endswith(("PST", "PDT")), exact_text
        expected_day = " ".join(exact_text.split()[:2])  # "5 Nov"
        expect(relative).to_have_text(expected_day)
        assert relative.get_attribute("title") == exact_text  # the zone is named on hover
    finally:
        context.close()
