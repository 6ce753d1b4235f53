"""In the browser: an agent finds an order that is not synced yet (the search reads only the
database and offers a "Look it up" POST that asks the stores), opens it, asks for its tracking
(a POST that queues the fetch; the fragment shows it when it lands, HTMX) and leaves an internal
note. Playwright with the system Chromium, like tests/e2e. Celery runs eagerly here."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from django.core.cache import cache

from marketplaces.adapter import store_api
from tests.browser import CHROMIUM, sign_in

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
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_an_agent_finds_an_unsynced_order_and_notes_it(
    page, live_server, settings, connect_sandbox_store, tenant, agent, password, eager_tasks
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    store = connect_sandbox_store(tenant=tenant)
    record = next(store_api(store).order_pages(page_size=1, status="DELIVERED")).items[0]

    sign_in(page, live_server, "agent@acme.test", password)

    page.goto(f"{live_server.url}/orders/")
    page.get_by_role("searchbox", name="Search").fill(record.external_id)
    page.get_by_role("button", name="Search").click()
    # The search reads the database only: the order is not there yet, and a POST may ask.
    page.get_by_text("is not synced in Sellerdesk (yet)").wait_for()
    snap(page, "orders-search")
    page.get_by_role("button", name="Look it up in your stores").click()

    page.get_by_role("heading", name="Overview").wait_for()
    page.get_by_text("was not synced yet: Sellerdesk fetched it").wait_for()
    # Showing the order never asks the platform for tracking; Refresh queues the fetch and the
    # fragment shows the events once the task stored them.
    page.get_by_text("Tracking has not been fetched").wait_for()
    assert page.locator("#tracking li").count() == 0
    page.get_by_role("button", name="Refresh tracking").click()
    page.locator("#tracking li").first.wait_for()
    page.locator("[data-tracking-age]").get_by_text("Fetched from").wait_for()
    assert (
        page.locator("#tracking li").first.inner_text().startswith("Delivered, left at front door")
    )
    page.get_by_role("textbox", name="Internal note").fill("Buyer asked for a refund by chat.")
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Internal note saved.").wait_for()
    assert (
        page.get_by_role("textbox", name="Internal note").input_value()
        == "Buyer asked for a refund by chat."
    )
    snap(page, "order-page")
