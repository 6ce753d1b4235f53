"""Every page passes the Content-Security-Policy in Chromium: no inline script or style, no eval,
nothing the policy blocks (the sandbox is a separate process with pages of its own).

The browser reports each blocked thing as a `securitypolicyviolation` event; a listener installed
before any page script collects them, and the console's CSP errors too. HTMX keeps working under
the policy: the lazy list pane loads, a ticket opens from the list without a reload, the order's
tracking loads, the list and thread polls run, the progress bar gets its width.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from escalations.models import Escalation
from marketplaces.models import SyncJobStatus
from tests.browser import sign_in
from tests.factories_catalog import CouponFactory, ProductFactory
from tests.factories_inbox import ConversationFactory, MessageFactory, SnippetFactory
from tests.factories_marketplaces import (
    OrderFactory,
    OrderLineFactory,
    StoreFactory,
    SyncJobFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " at " +
    event.sourceFile + ":" + event.lineNumber + " " + (event.sample || "")
  );
});
"""


def _watch(page: Any) -> list[str]:
    console: list[str] = []
    page.add_init_script(COLLECT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return console


def _violations(page: Any, console: list[str], where: str) -> list[str]:
    found = [f"{where}: {v}" for v in page.evaluate("window.__cspViolations || []")]
    found += [f"{where} (console): {text}" for text in console]
    console.clear()
    return found


def test_every_page_passes_the_content_security_policy(page, live_server, owner, tenant, password):
    store = StoreFactory(tenant=tenant, name="Sunny Socks US")
    SyncJobFactory(store=store, status=SyncJobStatus.RUNNING, items_fetched=40, total_estimate=80)
    order = OrderFactory(store=store)
    OrderLineFactory(order=order, image_url="https://img.example.test/socks.jpg")
    conversation = ConversationFactory(store=store, last_message_preview="Where is my parcel?")
    MessageFactory(conversation=conversation, text="Where is my parcel?")
    MessageFactory(
        conversation=conversation,
        type="IMAGE",
        text="",
        content={"url": "https://img.example.test/photo.jpg", "width": "40", "height": "30"},
    )
    other = ConversationFactory(store=store, last_message_preview="Thanks!")
    MessageFactory(conversation=other, text="Thanks!")
    snippet = SnippetFactory(tenant=tenant, title="Shipping times")
    ProductFactory(store=store, title="Invisible Socks")
    CouponFactory(store=store, title="Chat thank-you")
    case = Escalation.objects.create(
        tenant=tenant,
        store=store,
        kind="orders",
        values={"problem": "not_syncing", "tiktok_order_id": order.external_id},
        conversation=conversation,
    )

    console = _watch(page)
    problems: list[str] = []

    # Signed out: the sign-in, sign-up and password reset pages, and the admin's sign-in.
    for path in ("/login/", "/signup/", "/password-reset/", "/admin/login/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        problems += _violations(page, console, path)

    sign_in(page, live_server, owner.email, password)
    # The mailbox: its list pane is lazy (HTMX), a ticket opens from it without a reload.
    expect(page.locator("#ticket-rows")).to_be_visible()
    page.locator(f"#ticket-{conversation.public_id}").click()
    expect(page.locator(".thread-image").first).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/mailbox/{conversation.public_id}/")
    page.wait_for_timeout(3500)  # one round of the thread's and the list's polls
    problems += _violations(page, console, "mailbox")

    pages = [
        f"/mailbox/{other.public_id}/",
        "/mailbox/?folder=all",
        "/orders/",
        f"/orders/{order.public_id}/",
        "/products/",
        "/coupons/",
        f"/mailbox/{other.public_id}/products/",
        f"/mailbox/{other.public_id}/coupons/",
        "/stores/",
        "/settings/",
        "/settings/members/",
        "/settings/snippets/",
        "/settings/snippets/new/",
        f"/settings/snippets/{snippet.public_id}/",
        "/account/password/",
        "/no-such-page/",
        "/escalations/",
        f"/escalations/new/?ticket={conversation.public_id}",
        f"/escalations/new/?kind=violation&ticket={conversation.public_id}",
        f"/escalations/{case.public_id}/",
        f"/escalations/{case.public_id}/edit/",
        f"/escalations/{case.public_id}/print/",
        "/settings/escalations/",
        "/settings/sla/",
        "/reports/",
    ]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += _violations(page, console, path)

    # The order page's tracking arrived through HTMX; the stores page's bar has its width.
    page.goto(f"{live_server.url}/orders/{order.public_id}/")
    expect(page.locator("#tracking")).not_to_contain_text("Loading", timeout=10_000)
    page.goto(f"{live_server.url}/stores/")
    page.locator(".progress-bar").first.wait_for(state="attached")
    problems += _violations(page, console, "stores, tracking")

    assert problems == [], "\n".join(problems)
    bar = page.locator(".progress-bar").first
    assert bar.evaluate("element => element.style.width") == "50%"
