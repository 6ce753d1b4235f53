"""A person connects a rest-of-world seller in a real browser, watches the import and disconnects.

Chromium (Playwright) drives our live server and the sandbox's own consent page; the sandbox
sends the browser back to our callback, exactly as TikTok Shop would.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketplaces.models import Store, StoreStatus, SyncJob, SyncJobStatus, SyncKind
from orders import tasks as order_tasks
from tests.browser import sign_in
from tests.sandbox_stores import point_settings_at

# `page` comes from tests/browser.py, which also skips e2e tests where Chromium is missing.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings, live_server, monkeypatch):
    monkeypatch.setattr(order_tasks.run_sync_job, "delay", lambda job_id: None)
    started = tiktok_sandbox_factory(
        days=2, orders_per_day=5, redirect_url=f"{live_server.url}/stores/connect/callback/"
    )
    point_settings_at(settings, started)
    return started


def test_an_owner_connects_watches_the_import_and_disconnects(
    page,
    live_server,
    sandbox,
    owner,
    tenant,
    password,
):
    sign_in(page, live_server, "owner@acme.test", password)
    page.goto(f"{live_server.url}/stores/")
    assert "No stores yet — Connect a TikTok Shop store" in page.content()

    page.get_by_label("Rest of world").check()
    page.get_by_role("button", name="Connect a TikTok Shop store").click()
    # TikTok's (the sandbox's) consent page, for the rest of the world.
    page.wait_for_url(f"{sandbox.base_url}/open/authorize?**")
    assert page.get_by_role("heading", name="Authorize Sellerdesk").is_visible()
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{live_server.url}/stores/")
    assert (
        page.locator(".messages")
        .inner_text()
        .startswith("Connected Maomao Beauty UK and Maomao Beauté FR.")
    )
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    uk = Store.objects.get(tenant=tenant, name="Maomao Beauty UK")

    # The backfill moves on; the bar follows by itself (HTMX polling), no reload.
    SyncJob.objects.filter(store=uk, kind=SyncKind.ORDERS).update(
        status=SyncJobStatus.RUNNING,
        window_start=datetime(2026, 9, 12, 12, tzinfo=UTC),
        window_end=datetime(2026, 9, 13, 12, tzinfo=UTC),
        items_fetched=41200,
        total_estimate=90000,
    )
    counts = page.locator(f"#progress-{uk.public_id} .progress-counts")
    counts.filter(has_text="41,200 of 90,000 · 45%").wait_for()

    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#store-{uk.public_id}").get_by_role("button", name="Disconnect").click()
    page.wait_for_url(f"{live_server.url}/stores/")
    assert "Maomao Beauty UK is disconnected" in page.locator(".messages").inner_text()
    uk.refresh_from_db()
    assert uk.status == StoreStatus.DISCONNECTED
    assert uk.access_token_encrypted == ""
