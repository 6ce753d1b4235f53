"""Connecting stores through the OAuth round trip, against the live sandbox.

The browser's part is played by the Django test client (our pages) and the sandbox handle's
`consent()` (TikTok's consent form over HTTP), so every step crosses the same URLs a person's
browser would: POST /stores/connect/ -> consent page -> callback -> token get -> shops.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from inbox.models import Conversation
from marketplaces.adapter import reset_default_client
from marketplaces.connection import store_disconnect
from marketplaces.models import (
    Market,
    OAuthState,
    SellerType,
    Store,
    StoreStatus,
    SyncJob,
    SyncJobStatus,
    SyncKind,
    SyncMode,
)
from marketplaces.selectors import store_for_shop
from marketplaces.services import store_mark_needs_reauth
from marketplaces.tiktok.client import TikTokClient
from orders import tasks as order_tasks
from tenants.models import AuditEvent, Membership, Role
from tests.factories_inbox import ConversationFactory
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db

CONNECT_URL = "/stores/connect/"
CALLBACK_URL = "/stores/connect/callback/"
# Sorted as the database sorts names ("y" before "é").
ROW_SHOPS = ["Maomao Beauty UK", "Maomao Beauté FR"]


@pytest.fixture
def dispatched(monkeypatch) -> list[int]:
    """Sync job ids handed to the workers (recorded instead of sent)."""
    sent: list[int] = []
    monkeypatch.setattr(order_tasks.run_sync_job, "delay", sent.append)
    return sent


def begin(client, market: str) -> tuple[str, str]:
    """Presses "Connect a TikTok Shop store"; returns the consent URL and its state."""
    response = client.post(CONNECT_URL, {"market": market.lower()})
    assert response.status_code == 302
    consent_url = response["Location"]
    return consent_url, parse_qs(urlsplit(consent_url).query)["state"][0]


def round_trip(client, sandbox, market: str = "ROW", decision: str = "authorize"):
    """The whole trip as a browser makes it; returns the callback response (followed)."""
    _, state = begin(client, market)
    callback = sandbox.consent(market, 0, state=state, decision=decision)
    return client.get(CALLBACK_URL, callback, follow=True)


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def store_audits() -> list[tuple[str, str]]:
    return sorted(
        (event.action, event.detail["name"])
        for event in AuditEvent.objects.filter(action__startswith="store.")
    )


def assert_nothing_saved() -> None:
    assert Store.objects.count() == 0
    assert SyncJob.objects.count() == 0
    assert store_audits() == []


# --- The happy path -----------------------------------------------------------------------------


def test_connect_sends_the_owner_to_the_markets_consent_page(owner_client, tiktok_settings, owner):
    sandbox = tiktok_settings
    consent_url, state = begin(owner_client, "US")

    query = urlencode({"service_id": sandbox.service_id, "state": state})
    assert consent_url == f"{sandbox.base_url}/us/open/authorize?{query}"
    attempt = OAuthState.objects.get()
    assert (attempt.user, attempt.market, attempt.used_at) == (owner, Market.US, None)
    row_url, _ = begin(owner_client, "ROW")
    assert row_url.startswith(f"{sandbox.base_url}/open/authorize?service_id=")


def test_a_cross_border_seller_becomes_two_stores(
    owner_client, tiktok_settings, tenant, owner, dispatched, django_capture_on_commit_callbacks
):
    sandbox = tiktok_settings
    seller = sandbox.seller(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = round_trip(owner_client, sandbox, "ROW")

    assert response.redirect_chain == [("/stores/", 302)]
    assert flashes(response) == [
        "Connected Maomao Beauty UK and Maomao Beauté FR. "
        "The last 90 days of orders are importing now."
    ]
    stores = list(Store.objects.order_by("name"))
    assert [s.name for s in stores] == ROW_SHOPS
    assert [s.region for s in stores] == ["GB", "FR"]
    assert [s.external_shop_id for s in stores] == [shop["id"] for shop in seller["shops"]]
    assert [s.shop_cipher for s in stores] == [shop["cipher"] for shop in seller["shops"]]
    for store in stores:
        assert store.tenant == tenant
        assert store.market == Market.ROW
        assert store.seller_type == SellerType.CROSS_BORDER
        assert store.status == StoreStatus.ACTIVE
        assert store.open_id == seller["open_id"]
        assert store.seller_name == seller["seller_name"]
        assert store.connected_by == owner
        assert store.access_token.startswith("TTP_")
        assert store.access_token not in store.access_token_encrypted
        assert store.access_token_expires_at > timezone.now()
    # The saved token is the one TikTok granted for these very shops.
    shops = TikTokClient.from_settings().authorized_shops(access_token=stores[0].access_token)
    assert sorted(shop.external_id for shop in shops) == sorted(s.external_shop_id for s in stores)
    assert store_audits() == sorted(("store.connected", name) for name in ROW_SHOPS)
    # Backfill: orders, returns and cancellations per store, handed to workers after commit.
    jobs = SyncJob.objects.filter(mode=SyncMode.BACKFILL)
    assert sorted((job.store.name, job.kind) for job in jobs) == sorted(
        (name, kind) for name in ROW_SHOPS for kind in SyncKind.values
    )
    assert {job.status for job in jobs} == {SyncJobStatus.QUEUED}
    assert sorted(dispatched) == sorted(job.pk for job in jobs)
    # The page shows both with their health.
    page = response.content.decode()
    assert "Maomao Beauty UK" in page and "Maomao Beauté FR" in page
    assert page.count('<span class="pill pill-solved">Active</span>') == 2


def test_two_connections_give_one_tenant_a_us_and_two_row_stores(
    owner_client, tiktok_settings, tenant
):
    round_trip(owner_client, tiktok_settings, "US")
    round_trip(owner_client, tiktok_settings, "ROW")

    stores = Store.objects.filter(tenant=tenant).order_by("name")
    assert [(s.name, s.market, s.region) for s in stores] == [
        ("Maomao Beauty UK", Market.ROW, "GB"),
        ("Maomao Beauté FR", Market.ROW, "FR"),
        ("Sunrise Outfitters", Market.US, "US"),
    ]
    page = owner_client.get("/stores/").content.decode()
    assert page.count('<span class="badge badge-market"') == 3


# --- Failures: a plain explanation on the Stores page and nothing saved -------------------------


def test_a_forged_state_saves_nothing(owner_client, tiktok_settings):
    code = tiktok_settings.authorize("ROW", 0, state="forged")
    response = owner_client.get(CALLBACK_URL, {"code": code, "state": "forged"}, follow=True)

    assert response.redirect_chain == [("/stores/", 302)]
    assert flashes(response) == ["This connection link is not valid. Please start again."]
    assert_nothing_saved()


def test_a_state_signed_for_someone_else_saves_nothing(client, tiktok_settings, owner, admin_user):
    client.force_login(admin_user)
    _, state = begin(client, "ROW")
    callback = tiktok_settings.consent("ROW", 0, state=state)
    client.force_login(owner)

    response = client.get(CALLBACK_URL, callback, follow=True)

    assert flashes(response) == [
        "This connection link was already used, has expired or belongs to someone else. "
        "Please start again."
    ]
    assert_nothing_saved()


def test_a_reused_state_saves_nothing_more(owner_client, tiktok_settings):
    _, state = begin(owner_client, "US")
    first = tiktok_settings.consent("US", 0, state=state)
    owner_client.get(CALLBACK_URL, first, follow=True)
    store = Store.objects.get()
    ciphertext = store.access_token_encrypted
    second = tiktok_settings.consent("US", 0, state=state)

    response = owner_client.get(CALLBACK_URL, second, follow=True)

    assert flashes(response) == [
        "This connection link was already used, has expired or belongs to someone else. "
        "Please start again."
    ]
    store.refresh_from_db()
    assert store.access_token_encrypted == ciphertext
    assert store_audits() == [("store.connected", "Sunrise Outfitters")]


def test_an_expired_state_saves_nothing(owner_client, tiktok_settings):
    _, state = begin(owner_client, "ROW")
    callback = tiktok_settings.consent("ROW", 0, state=state)
    OAuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = owner_client.get(CALLBACK_URL, callback, follow=True)

    assert flashes(response) == [
        "This connection link was already used, has expired or belongs to someone else. "
        "Please start again."
    ]
    assert_nothing_saved()


def test_declining_on_the_consent_page_saves_nothing(owner_client, tiktok_settings):
    response = round_trip(owner_client, tiktok_settings, "ROW", decision="deny")

    assert flashes(response) == [
        "TikTok Shop says the authorization was declined, so no store was connected. "
        "Connect again and choose Authorize to give Sellerdesk access."
    ]
    assert_nothing_saved()
    assert OAuthState.objects.get().used_at is not None


def test_a_used_auth_code_saves_nothing(owner_client, tiktok_settings):
    _, state = begin(owner_client, "ROW")
    callback = tiktok_settings.consent("ROW", 0, state=state)
    TikTokClient.from_settings().get_token(auth_code=callback["code"])  # spent elsewhere

    response = owner_client.get(CALLBACK_URL, callback, follow=True)

    assert flashes(response) == [
        "The authorization from TikTok Shop expired or was already used (codes are valid once, "
        "for 30 minutes). No store was connected; please connect again."
    ]
    assert_nothing_saved()


def test_a_refused_token_request_saves_nothing(owner_client, tiktok_settings, settings):
    _, state = begin(owner_client, "ROW")
    callback = tiktok_settings.consent("ROW", 0, state=state)
    settings.TIKTOK_APP_SECRET = "not-the-app-secret"
    reset_default_client()

    response = owner_client.get(CALLBACK_URL, callback, follow=True)

    [message] = flashes(response)
    assert message.startswith("TikTok Shop refused to grant access (")
    assert message.endswith(
        "). No store was connected; please connect again, or contact support if it keeps happening."
    )
    assert "not-the-app-secret" not in message
    assert_nothing_saved()


def test_connecting_without_app_credentials_says_so(owner_client, settings):
    settings.TIKTOK_APP_KEY = settings.TIKTOK_SERVICE_ID = ""
    reset_default_client()

    response = owner_client.post(CONNECT_URL, {"market": "us"}, follow=True)

    assert response.redirect_chain == [("/stores/", 302)]
    assert flashes(response) == [
        "Connecting stores is not set up on this server yet (the TikTok Shop app's "
        "TIKTOK_APP_KEY and TIKTOK_SERVICE_ID are missing). Ask whoever runs Sellerdesk."
    ]
    assert OAuthState.objects.count() == 0
    reset_default_client()


def test_an_agent_cannot_start_or_finish_a_connection(
    agent_client, client, tiktok_settings, agent, admin_user, tenant
):
    assert agent_client.post(CONNECT_URL, {"market": "row"}).status_code == 403
    assert OAuthState.objects.count() == 0
    # An admin starts, is made an agent meanwhile, and comes back from TikTok.
    client.force_login(admin_user)
    _, state = begin(client, "ROW")
    callback = tiktok_settings.consent("ROW", 0, state=state)
    Membership.objects.filter(user=admin_user, tenant=tenant).update(role=Role.AGENT)

    response = client.get(CALLBACK_URL, callback, follow=True)

    assert flashes(response) == [
        "Only owners and admins can connect, reconnect or disconnect stores."
    ]
    assert_nothing_saved()


# --- One shop, one tenant; reconnecting ---------------------------------------------------------


def test_a_shop_of_another_tenant_is_refused_and_the_rest_connects(
    owner_client, tiktok_settings, tenant, other_tenant
):
    theirs = connect_store(tiktok_settings, tenant=other_tenant, market="ROW", shop_index=0)
    their_ciphertext = theirs.access_token_encrypted

    response = round_trip(owner_client, tiktok_settings, "ROW")

    assert flashes(response) == [
        "Connected Maomao Beauté FR. The last 90 days of orders are importing now.",
        "Not connected: Maomao Beauty UK. It is connected to another Sellerdesk organisation "
        "right now, and a shop can be connected to one organisation at a time. Once that "
        "organisation disconnects it, connect it here again.",
    ]
    assert [s.name for s in Store.objects.filter(tenant=tenant)] == ["Maomao Beauté FR"]
    theirs.refresh_from_db()
    assert theirs.tenant == other_tenant
    assert theirs.access_token_encrypted == their_ciphertext
    assert store_audits() == [("store.connected", "Maomao Beauté FR")]


def test_a_shop_another_organisation_disconnected_can_be_connected_here(
    owner_client, tiktok_settings, tenant, other_tenant, other_owner
):
    theirs = connect_store(tiktok_settings, tenant=other_tenant, market="ROW", shop_index=0)
    their_ticket = ConversationFactory(store=theirs, external_id="7106888323922608380")
    store_disconnect(actor=Membership.objects.get(user=other_owner), store=theirs)

    response = round_trip(owner_client, tiktok_settings, "ROW")

    assert flashes(response) == [
        "Connected Maomao Beauty UK and Maomao Beauté FR. "
        "The last 90 days of orders are importing now."
    ]
    ours = Store.objects.get(tenant=tenant, external_shop_id=theirs.external_shop_id)
    assert ours.pk != theirs.pk
    assert ours.status == StoreStatus.ACTIVE
    # Their history stays theirs, on their disconnected store; none of it moved to us.
    theirs.refresh_from_db()
    assert (theirs.tenant, theirs.status) == (other_tenant, StoreStatus.DISCONNECTED)
    assert Conversation.objects.get(pk=their_ticket.pk).store == theirs
    assert Conversation.objects.filter(tenant=tenant).count() == 0
    # Notifications for the shop now reach the organisation that has it connected.
    assert store_for_shop(platform="tiktok", external_shop_id=ours.external_shop_id) == ours

    # While it is connected here, they cannot take it back.
    their_client = Client()
    their_client.force_login(other_owner)
    refused = round_trip(their_client, tiktok_settings, "ROW")
    assert flashes(refused) == [
        "Not connected: Maomao Beauty UK and Maomao Beauté FR. They are connected to another "
        "Sellerdesk organisation right now, and a shop can be connected to one organisation at "
        "a time. Once that organisation disconnects them, connect them here again."
    ]
    theirs.refresh_from_db()
    assert theirs.status == StoreStatus.DISCONNECTED

    # Once we disconnect it, they reconnect their own store (its history with it).
    store_disconnect(actor=Membership.objects.get(user__email="owner@acme.test"), store=ours)
    round_trip(their_client, tiktok_settings, "ROW")
    theirs.refresh_from_db()
    assert theirs.status == StoreStatus.ACTIVE
    assert store_for_shop(platform="tiktok", external_shop_id=ours.external_shop_id) == theirs


def test_reconnecting_updates_tokens_and_status_and_resumes_paused_jobs(
    owner_client, tiktok_settings, tenant, dispatched, django_capture_on_commit_callbacks
):
    round_trip(owner_client, tiktok_settings, "ROW")
    uk = Store.objects.get(name="Maomao Beauty UK")
    job = SyncJob.objects.get(store=uk, kind=SyncKind.ORDERS)
    store_mark_needs_reauth(store=uk, reason="The seller removed access.", revoke_tokens=True)
    assert SyncJob.objects.get(pk=job.pk).status == SyncJobStatus.PAUSED
    page = owner_client.get("/orders/").content.decode()
    assert "<strong>Maomao Beauty UK</strong> needs re-authorization" in page

    response = owner_client.post(f"/stores/{uk.public_id}/reconnect/")
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    assert response["Location"].startswith(f"{tiktok_settings.base_url}/open/authorize?")
    callback = tiktok_settings.consent("ROW", 0, state=state)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.get(CALLBACK_URL, callback, follow=True)

    assert flashes(response) == [
        "Reconnected Maomao Beauty UK and Maomao Beauté FR; sync has resumed."
    ]
    uk.refresh_from_db()
    assert (uk.status, uk.status_reason, uk.token_error_count) == (StoreStatus.ACTIVE, "", 0)
    assert uk.access_token.startswith("TTP_")
    assert Store.objects.filter(tenant=tenant).count() == 2
    assert SyncJob.objects.get(pk=job.pk).status == SyncJobStatus.QUEUED
    assert job.pk in dispatched
    assert ("store.reconnected", "Maomao Beauty UK") in store_audits()
    assert "needs re-authorization" not in response.content.decode()


def test_a_server_error_on_token_get_saves_nothing(owner_client, tiktok_sandbox_factory, settings):
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5)
    point_settings_at(settings, sandbox)
    settings.TIKTOK_MAX_RETRIES = 0
    reset_default_client()
    _, state = begin(owner_client, "US")
    callback = sandbox.consent("US", 0, state=state)
    sandbox.set_faults(error_ratio=1.0)

    response = owner_client.get(CALLBACK_URL, callback, follow=True)

    [message] = flashes(response)
    assert re.fullmatch(
        r"TikTok Shop is not answering properly right now \(Internal error\. .+ "
        r"\(code=36009003, http=500, request_id=\w+\)\)\. No store was connected; please "
        r"connect again in a few minutes\.",
        message,
    )
    assert_nothing_saved()
    reset_default_client()
