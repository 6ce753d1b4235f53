"""In the browser: an admin writes a snippet and watches its live preview (HTMX) render against
the newest order, then name a mistake in plain words; saving a bad snippet keeps the text."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from inbox.models import Snippet
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("SELLERDESK_SCREENSHOTS")  # a folder: save what the admin saw


def snap(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_an_admin_writes_a_snippet_with_a_live_preview(
    page, live_server, tenant, admin_user, password
):
    store = StoreFactory(tenant=tenant, name="Sunrise Outfitters")
    order = OrderFactory(
        store=store, tenant=tenant, external_id="576461413038700042", total_amount=Decimal("19.90")
    )
    OrderLineFactory(order=order, tenant=tenant, product_name="Ceramic Mug")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-mail").fill(admin_user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/mailbox/")

    page.goto(f"{live_server.url}/settings/snippets/new/")
    page.get_by_label("Title").fill("Mug order")
    page.get_by_label("Shortcut").fill("mug")
    body = page.get_by_label("Text")
    body.fill("Order {{ order.id }}: {{ order.items }} for {{ order.total }}.")

    preview = page.locator("#snippet-preview")
    expect(preview).to_contain_text("Preview with order 576461413038700042 (Sunrise Outfitters)")
    expect(preview).to_contain_text("Order 576461413038700042: Ceramic Mug for $19.90.")
    snap(page, "snippet-preview")

    body.fill("Order {{ order.number }}.")
    expect(preview).to_contain_text(
        "This snippet has a mistake: {{ order.number }} is not a known placeholder."
    )

    page.get_by_role("button", name="Save snippet").click()
    expect(page.locator(".errorlist")).to_contain_text(
        "{{ order.number }} is not a known placeholder."
    )
    expect(body).to_have_value("Order {{ order.number }}.")
    snap(page, "snippet-mistake")
    assert not Snippet.objects.filter(tenant=tenant, shortcut="mug").exists()

    body.fill("Order {{ order.id }} ships soon.")
    page.get_by_role("button", name="Save snippet").click()
    page.wait_for_url(f"{live_server.url}/settings/snippets/")
    expect(page.get_by_role("link", name="Mug order", exact=True)).to_be_visible()
    snap(page, "snippet-list")
    assert (
        Snippet.objects.get(tenant=tenant, shortcut="mug").body
        == "Order {{ order.id }} ships soon."
    )
