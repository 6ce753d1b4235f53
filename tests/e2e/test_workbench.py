"""In the browser, over the live sandbox: from an open ticket an agent sends a product card (two
clicks: the Products tab, Send card) and the buyer sees it as a card; then approves the buyer's
return (two clicks: the decision, Confirm), and the ticket's history says who did it.

Celery runs eagerly (see test_mailbox.py): the card's send task runs right after its commit.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from inbox import services as inbox_services
from marketplaces.adapter import store_api
from orders import aftersale, catalog
from orders.ingest import orders_upsert, returns_upsert
from orders.models import Order, Product, Return
from tenants.models import Membership
from tests.browser import sign_in
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings, live_server, eager_tasks) -> Any:
    sandbox = tiktok_sandbox_factory(
        days=6, orders_per_day=12, webhook_url=f"{live_server.url}/webhooks/tiktok/"
    )
    point_settings_at(settings, sandbox)
    return sandbox


def test_an_agent_sends_a_product_card_and_approves_a_return_from_the_ticket(
    page, live_server, sandbox, tenant, owner, password
):
    store = connect_store(sandbox, tenant=tenant)
    api = store_api(store)
    pending = next(
        record
        for page_ in api.return_pages(statuses=["RETURN_OR_REFUND_REQUEST_PENDING"])
        for record in page_.items
        if record.return_type in ("REFUND", "RETURN_AND_REFUND")
    )
    returns_upsert(store=store, returns=[pending])
    orders_upsert(store=store, orders=api.orders_by_id([pending.order_id or ""]))
    catalog.catalog_sync(store_id=store.pk)
    order = Order.objects.get(store=store, external_id=pending.order_id)
    membership = Membership.objects.get(tenant=tenant, user=owner)
    ticket = inbox_services.conversation_start_from_order(membership=membership, order=order)
    product = Product.objects.filter(store=store, status="ACTIVATE").order_by("title").first()
    record = Return.objects.get(store=store, external_id=pending.external_id)
    offer = aftersale.offers_of(record)[0]

    sign_in(page, live_server, owner.email, password)
    page.goto(f"{live_server.url}/mailbox/{ticket.public_id}/")
    page.wait_for_url(re.compile(rf".*/mailbox/{ticket.public_id}/.*"))

    # Click 1: the Products tab (a section below the orders where there are no tabs).
    tab = page.locator("#sidebar-tab-products")
    if tab.count():
        tab.click()
    product_card = page.locator(f'article[data-product="{product.external_id}"]')
    expect(product_card).to_be_visible()
    # Click 2: Send card. Queued at once, sent by the outbox.
    product_card.get_by_role("button", name="Send card").click()
    card = page.locator('[data-card="product"]', has_text=product.title)
    bubble = page.locator("#thread-messages .bubble-agent", has=card)
    expect(bubble).to_be_visible()
    expect(bubble.locator(".delivery-sent")).to_have_text("Sent", timeout=10_000)

    # The return: the decision, then its confirmation, which says what the buyer gets.
    tab = page.locator("#sidebar-tab-orders")
    if tab.count():
        tab.click()
    actions = page.locator(f"#aftersale-{record.external_id}")
    actions.get_by_role("button", name=f"{offer.label}…").click()
    confirm = actions.locator("form[data-aftersale-form]")
    expect(confirm).to_contain_text(f"What the buyer will get: {offer.outcome}")
    confirm.get_by_role("button", name=f"Confirm: {offer.label.lower()}").click()
    history = page.locator("#thread-messages .system-event", has_text=offer.label.lower())
    expect(history).to_contain_text(f"{owner.display_name}: {offer.label.lower()} on the return")

    applied = [
        d
        for d in sandbox.control("GET", "/_sandbox/decisions")["decisions"]
        if d["record_id"] == record.external_id
    ]
    assert [d["decision"] for d in applied] == [str(offer.decision.code)]
    record.refresh_from_db()
    assert record.status != "RETURN_OR_REFUND_REQUEST_PENDING"

    # The buyer's side: the product arrived as a card with its title and price.
    page.goto(f"{sandbox.base_url}/buyer/")
    page.locator("#shop").select_option(value=store.external_shop_id)
    page.locator("#buyer").select_option(value=order.buyer_user_id)
    expect(page.locator('#thread [data-card="product"]', has_text=product.title)).to_be_visible()
