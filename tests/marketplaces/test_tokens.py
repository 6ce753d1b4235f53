"""Token lifecycle against the live sandbox: the refresh beat task, a refused refresh, and the
deauthorization / expiring-authorization webhooks ending as a banner on every page."""

from __future__ import annotations

import time
import zoneinfo
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from marketplaces import connection, tasks, tokens
from marketplaces.models import Store, StoreStatus, WebhookEvent, WebhookEventStatus
from marketplaces.tiktok.client import TikTokClient
from marketplaces.tiktok.errors import ServerError
from orders import tasks as order_tasks
from tenants.models import Membership
from tests.sandbox_stores import point_settings_at

WAIT_SECONDS = 30.0


def connect_seller(sandbox, membership: Membership, market: str = "ROW") -> list[Store]:
    """The connect flow's services, with the sandbox's consent form in between."""
    consent_url = connection.store_connect_begin(membership=membership, market=market.lower())
    state = parse_qs(urlsplit(consent_url).query)["state"][0]
    callback = sandbox.consent(market, 0, state=state)
    result = connection.store_connect_complete(user=membership.user, **callback)
    return sorted(result.connected, key=lambda store: store.name)


@pytest.fixture
def owner_membership(owner, tenant) -> Membership:
    return Membership.objects.select_related("tenant", "user").get(user=owner, tenant=tenant)


def age(stores: list[Store], *, left: timedelta = timedelta(hours=2)) -> None:
    """Our record says the access tokens lapse soon (as after five days of use)."""
    Store.objects.filter(pk__in=[s.pk for s in stores]).update(
        access_token_expires_at=timezone.now() + left
    )


@pytest.fixture
def run_inline(monkeypatch) -> list[str]:
    """The per-store refresh tasks run at once, in order; their outcomes are recorded."""
    outcomes: list[str] = []
    monkeypatch.setattr(
        tasks.refresh_store_tokens,
        "delay",
        lambda store_id: outcomes.append(tasks.refresh_store_tokens(store_id)),
    )
    return outcomes


@pytest.mark.django_db
def test_the_beat_task_refreshes_each_due_grant_once(tiktok_settings, owner_membership, run_inline):
    uk, fr = connect_seller(tiktok_settings, owner_membership)
    old_token = uk.access_token
    age([uk, fr])

    assert tasks.refresh_due_store_tokens() == 2

    # The first task refreshed the grant for both shops; the second found nothing left to do.
    assert run_inline == [tokens.RefreshOutcome.REFRESHED, tokens.RefreshOutcome.NOT_DUE]
    uk.refresh_from_db()
    fr.refresh_from_db()
    assert uk.access_token != old_token
    assert uk.access_token == fr.access_token
    assert uk.refresh_token == fr.refresh_token
    assert uk.access_token_expires_at > timezone.now() + timedelta(days=6)
    assert fr.access_token_expires_at == uk.access_token_expires_at
    assert (uk.status, fr.status) == (StoreStatus.ACTIVE, StoreStatus.ACTIVE)
    # FR holds the new refresh token: refreshing it works (the sandbox revoked the old one).
    later = timezone.now() + timedelta(days=7)
    outcome = tokens.store_tokens_refresh_if_due(store_id=fr.pk, now=later)
    assert outcome == tokens.RefreshOutcome.REFRESHED
    fr.refresh_from_db()
    shops = TikTokClient.from_settings().authorized_shops(access_token=fr.access_token)
    assert sorted(shop.name for shop in shops) == ["Maomao Beauty UK", "Maomao Beauté FR"]


@pytest.mark.django_db
def test_a_store_not_due_is_left_alone(tiktok_settings, owner_membership, run_inline):
    [store] = connect_seller(tiktok_settings, owner_membership, "US")  # 7-day token
    ciphertext = store.access_token_encrypted

    assert tasks.refresh_due_store_tokens() == 0
    assert tasks.refresh_store_tokens(store.pk) == tokens.RefreshOutcome.NOT_DUE

    store.refresh_from_db()
    assert store.access_token_encrypted == ciphertext


@pytest.mark.django_db
def test_a_refused_refresh_marks_the_grant_for_reauthorization(
    tiktok_settings, owner_membership, run_inline, client, owner
):
    uk, fr = connect_seller(tiktok_settings, owner_membership)
    age([uk, fr])
    # The grant's refresh token is spent elsewhere (the sandbox revokes a spent one).
    TikTokClient.from_settings().refresh_token(refresh_token=uk.refresh_token)

    tasks.refresh_due_store_tokens()

    assert run_inline == [tokens.RefreshOutcome.NEEDS_REAUTH, tokens.RefreshOutcome.NOT_DUE]
    reason = "TikTok Shop no longer accepts this store's authorization. Reconnect it."
    for store in (uk, fr):
        store.refresh_from_db()
        assert (store.status, store.status_reason) == (StoreStatus.NEEDS_REAUTH, reason)
    client.force_login(owner)
    page = client.get("/mailbox/").content.decode()
    assert "<strong>Maomao Beauty UK</strong> needs re-authorization — sync is paused." in page
    assert "<strong>Maomao Beauté FR</strong> needs re-authorization — sync is paused." in page


# --- Webhooks from the sandbox to a live server -------------------------------------------------


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def webhooked_sandbox(tiktok_sandbox_factory, settings, live_server, monkeypatch):
    """A sandbox that pushes its webhooks to our live server, processed as they arrive.

    These tests commit, so the backfill a connection starts would reach the shared broker:
    its dispatch is dropped here (the sync has its own tests)."""
    monkeypatch.setattr(order_tasks.run_sync_job, "delay", lambda job_id: None)
    monkeypatch.setattr(
        tasks.process_webhook_event,
        "delay",
        lambda event_id: tasks.process_webhook_event(event_id),
    )
    sandbox = tiktok_sandbox_factory(
        days=3, orders_per_day=5, webhook_url=f"{live_server.url}/webhooks/tiktok/"
    )
    point_settings_at(settings, sandbox)
    return sandbox


@pytest.mark.django_db(transaction=True)
def test_deauthorization_webhook_shows_the_banner_on_every_page(
    webhooked_sandbox, owner_membership, client, owner, agent, other_owner
):
    [store] = connect_seller(webhooked_sandbox, owner_membership, "US")

    webhooked_sandbox.deauthorize(store.external_shop_id)

    wait_for(
        lambda: Store.objects.filter(pk=store.pk, status=StoreStatus.NEEDS_REAUTH).exists(),
        "the deauthorization webhook",
    )
    event = WebhookEvent.objects.get(type=6)
    assert (event.status, event.store_id, event.result) == (
        WebhookEventStatus.PROCESSED,
        store.pk,
        "Store marked as needing re-authorization; sync paused.",
    )
    store.refresh_from_db()
    assert store.status_reason == (
        "The seller removed Sellerdesk's access in TikTok Shop. Reconnect the store."
    )
    assert (store.access_token_encrypted, store.refresh_token_encrypted) == ("", "")
    client.force_login(owner)
    for url in ("/mailbox/", "/orders/", "/stores/"):
        page = client.get(url).content.decode()
        assert "<strong>Sunrise Outfitters</strong> needs re-authorization — sync is paused." in (
            page
        ), url
        assert f'action="/stores/{store.public_id}/reconnect/"' in page, url
    client.force_login(agent)
    assert "Ask an owner or admin to reconnect it." in client.get("/orders/").content.decode()
    client.force_login(other_owner)
    assert "Sunrise Outfitters" not in client.get("/orders/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_expiring_authorization_webhook_shows_a_warning_with_the_date(
    webhooked_sandbox, owner_membership, client, owner, tenant
):
    [store] = connect_seller(webhooked_sandbox, owner_membership, "US")

    webhooked_sandbox.authorization_expiring(store.external_shop_id, days=30)

    wait_for(
        lambda: Store.objects.filter(pk=store.pk, authorization_expires_at__isnull=False).exists(),
        "the expiring-authorization webhook",
    )
    event = WebhookEvent.objects.get(type=7)
    expires_at = datetime.fromtimestamp(int(event.payload["data"]["expiration_time"]), tz=UTC)
    store.refresh_from_db()
    assert store.authorization_expires_at == expires_at
    assert store.status == StoreStatus.ACTIVE
    client.force_login(owner)
    page = client.get("/orders/").content.decode()
    local = timezone.localtime(expires_at, timezone=zoneinfo.ZoneInfo(tenant.time_zone))
    assert (
        "<strong>Sunrise Outfitters</strong>: TikTok Shop authorization ends on "
        f'<time datetime="{local.isoformat()}" data-absolute>{local:%-d %b %Y}</time>.'
    ) in page


@pytest.mark.django_db
def test_a_server_error_storm_is_retried_and_never_marks_the_store(
    tiktok_sandbox_factory, settings, owner_membership
):
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5)
    point_settings_at(settings, sandbox)
    [store] = connect_seller(sandbox, owner_membership, "US")
    age([store])
    ciphertext = store.access_token_encrypted
    settings.TIKTOK_MAX_RETRIES = 0  # the task's own retries are what is tested here
    sandbox.set_faults(error_ratio=1.0)

    result = tasks.refresh_store_tokens.apply(args=[store.pk])

    assert result.state == "FAILURE"
    assert isinstance(result.result, ServerError)
    assert result.result.code == 36009003
    store.refresh_from_db()
    assert (store.status, store.access_token_encrypted) == (StoreStatus.ACTIVE, ciphertext)
    # Once TikTok answers again, the next run refreshes as usual.
    sandbox.reset_faults()
    assert tasks.refresh_store_tokens(store.pk) == tokens.RefreshOutcome.REFRESHED
