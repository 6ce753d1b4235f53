"""The Stores page and every store URL: who sees and does what, progress, disconnect, sync now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import RequestFactory

from marketplaces.context_processors import store_alerts
from marketplaces.models import (
    StoreAccess,
    StoreStatus,
    SyncJob,
    SyncJobStatus,
    SyncKind,
    SyncMode,
)
from orders import tasks as order_tasks
from orders.models import Order
from tenants.models import AuditEvent, Membership
from tests.factories_marketplaces import OrderFactory, StoreFactory, SyncJobFactory

pytestmark = pytest.mark.django_db


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def stores(tenant):
    return (
        StoreFactory(tenant=tenant, name="Alpha Shop", tokens=("TTP_a", "TTP_ra")),
        StoreFactory(tenant=tenant, name="Beta Shop", region="GB", market="row"),
    )


@pytest.fixture
def theirs(other_tenant):
    return StoreFactory(tenant=other_tenant, name="Rival Store", tokens=("TTP_x", "TTP_rx"))


def store_urls(store) -> dict[str, str]:
    base = f"/stores/{store.public_id}"
    return {
        "progress": f"{base}/progress/",
        "sync": f"{base}/sync/",
        "reconnect": f"{base}/reconnect/",
        "disconnect": f"{base}/disconnect/",
    }


# --- Access -------------------------------------------------------------------------------------


def test_every_store_url_of_another_tenant_is_a_404(owner_client, stores, theirs):
    for name, url in store_urls(theirs).items():
        method = owner_client.get if name == "progress" else owner_client.post
        assert method(url).status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.status == StoreStatus.ACTIVE
    assert theirs.access_token == "TTP_x"
    assert SyncJob.objects.count() == 0
    page = owner_client.get("/stores/").content.decode()
    assert "Rival Store" not in page
    assert "Alpha Shop" in page and "Beta Shop" in page


def test_a_malformed_store_id_is_a_404(owner_client):
    assert owner_client.get("/stores/not-a-uuid/progress/").status_code == 404


def test_an_agent_cannot_change_stores(agent_client, stores):
    alpha = stores[0]
    for name in ("sync", "reconnect", "disconnect"):
        assert agent_client.post(store_urls(alpha)[name]).status_code == 403, name
    alpha.refresh_from_db()
    assert alpha.status == StoreStatus.ACTIVE
    assert alpha.access_token == "TTP_a"
    page = agent_client.get("/stores/").content.decode()
    assert "Alpha Shop" in page and "Beta Shop" in page
    assert "Disconnect" not in page and "Sync now" not in page
    assert "Connect a TikTok Shop store" not in page


def test_an_agent_limited_to_one_store_sees_only_it(client, tenant, agent, stores, owner):
    alpha, beta = stores
    client.force_login(owner)
    member = Membership.objects.get(user=agent, tenant=tenant)
    response = client.post(
        f"/stores/access/{member.public_id}/",
        {"scope": "some", "stores": [str(beta.public_id)]},
        follow=True,
    )
    assert flashes(response) == [f"Store access of {agent.display_name} saved."]
    assert list(StoreAccess.objects.values_list("store__name", flat=True)) == ["Beta Shop"]

    client.force_login(agent)
    page = client.get("/stores/").content.decode()
    assert "Beta Shop" in page
    assert "Alpha Shop" not in page
    assert client.get(store_urls(alpha)["progress"]).status_code == 404
    assert client.get(store_urls(beta)["progress"]).status_code == 200

    client.force_login(owner)
    # "Only these stores" with none ticked: the agent serves none (not every store).
    client.post(f"/stores/access/{member.public_id}/", {"scope": "some", "stores": []})
    assert StoreAccess.objects.count() == 0
    client.force_login(agent)
    page = client.get("/stores/").content.decode()
    assert "Beta Shop" not in page and "Alpha Shop" not in page
    assert client.get(store_urls(beta)["progress"]).status_code == 404

    client.force_login(owner)
    form = client.get(f"/stores/access/{member.public_id}/").content.decode()
    assert 'value="some" required id="id_scope_1" checked' in form
    client.post(f"/stores/access/{member.public_id}/", {"scope": "all"})
    client.force_login(agent)
    page = client.get("/stores/").content.decode()
    assert "Beta Shop" in page and "Alpha Shop" in page


def test_store_access_is_for_owners_and_admins_and_this_tenant(
    client, agent_client, tenant, agent, other_owner, stores
):
    member = Membership.objects.get(user=agent, tenant=tenant)
    assert agent_client.get(f"/stores/access/{member.public_id}/").status_code == 403
    client.force_login(other_owner)
    assert client.get(f"/stores/access/{member.public_id}/").status_code == 404
    assert (
        client.post(
            f"/stores/access/{member.public_id}/",
            {"scope": "some", "stores": [str(stores[0].public_id)]},
        ).status_code
        == 404
    )
    assert StoreAccess.objects.count() == 0


def test_the_members_page_links_each_agent_to_their_stores(owner_client, tenant, agent):
    member = Membership.objects.get(user=agent, tenant=tenant)
    page = owner_client.get("/settings/members/").content.decode()
    assert f'href="/stores/access/{member.public_id}/"' in page
    assert page.count("All stores") == 1  # the owner


# --- Progress -----------------------------------------------------------------------------------


def running_job(store, **changes) -> SyncJob:
    fields = {
        "status": SyncJobStatus.RUNNING,
        "window_start": datetime(2026, 9, 12, 7, 0, tzinfo=UTC),
        "window_end": datetime(2026, 9, 13, 7, 0, tzinfo=UTC),
        "items_fetched": 41200,
        "total_estimate": 90000,
        **changes,
    }
    return SyncJobFactory(store=store, kind=SyncKind.ORDERS, **fields)


def test_the_progress_fragment_shows_the_jobs_figures(owner_client, stores):
    alpha = stores[0]
    job = running_job(alpha)
    url = store_urls(alpha)["progress"]

    response = owner_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="progress-label">Orders from 12 Sep \u2013 13 Sep</span>' in html
    assert '<span class="progress-counts">41,200 of 90,000 · 45%</span>' in html
    assert 'data-percent="45"' in html  # app.js sets the width (no style attributes: CSP)
    version = f"{job.pk}-running-41200-90000-0-{int(job.window_start.timestamp())}"
    assert f'hx-get="{url}?v={version}"' in html
    assert 'hx-trigger="every 3s"' in html
    # Nothing changed: 204 and no body, so HTMX keeps what it shows.
    unchanged = owner_client.get(url, {"v": version})
    assert (unchanged.status_code, unchanged.content) == (204, b"")
    # The worker moved on: the new figures come back.
    SyncJob.objects.filter(pk=job.pk).update(items_fetched=45000)
    moved = owner_client.get(url, {"v": version}).content.decode()
    assert '<span class="progress-counts">45,000 of 90,000 · 50%</span>' in moved


def test_a_finished_job_stops_polling(owner_client, stores):
    alpha = stores[0]
    running_job(alpha, status=SyncJobStatus.COMPLETED, items_fetched=90000)

    html = owner_client.get(store_urls(alpha)["progress"]).content.decode()

    assert '<span class="progress-label">Orders of the last 90 days imported</span>' in html
    assert '<span class="progress-counts">90,000 of 90,000 · 100%</span>' in html
    assert "is-done" in html
    assert "hx-get" not in html


def test_a_paused_job_waits_without_polling(owner_client, stores):
    alpha = stores[0]
    running_job(alpha, status=SyncJobStatus.PAUSED)

    html = owner_client.get(store_urls(alpha)["progress"]).content.decode()

    assert (
        '<span class="progress-label">Orders: paused until the store is active again</span>'
    ) in html
    assert '<span class="progress-counts">41,200 of 90,000 · 45%</span>' in html
    assert "hx-get" not in html


def test_the_stores_page_shows_each_stores_health(owner_client, stores):
    alpha, beta = stores
    running_job(alpha)
    beta.status = StoreStatus.NEEDS_REAUTH
    beta.status_reason = "The seller removed Sellerdesk's access in TikTok Shop."
    beta.last_error = "TikTok Shop refused the store's access: Invalid credentials (code=105002)"
    beta.save()

    page = owner_client.get("/stores/").content.decode()

    assert '<span class="pill pill-solved">Active</span>' in page
    assert '<span class="pill pill-overdue">Needs re-authorization</span>' in page
    assert "Invalid credentials (code=105002)" in page
    assert '<span class="badge badge-market" title="Rest of world">GB</span>' in page
    assert "41,200 of 90,000 · 45%" in page
    assert f'action="/stores/{beta.public_id}/reconnect/"' in page
    assert f'action="/stores/{alpha.public_id}/sync/"' in page
    assert "Orders not imported yet" in page  # beta has no job


# --- Disconnect, sync now -----------------------------------------------------------------------


def test_disconnect_keeps_history_stops_sync_and_forgets_tokens(owner_client, stores, owner):
    alpha = stores[0]
    job = running_job(alpha)
    OrderFactory(store=alpha)

    response = owner_client.post(store_urls(alpha)["disconnect"], follow=True)

    assert flashes(response) == [
        "Alpha Shop is disconnected: sync stopped and its tokens were deleted. Its orders and "
        "conversations stay. Reconnect it any time."
    ]
    alpha.refresh_from_db()
    assert alpha.status == StoreStatus.DISCONNECTED
    assert (alpha.access_token_encrypted, alpha.refresh_token_encrypted) == ("", "")
    assert alpha.disconnected_at is not None
    assert SyncJob.objects.get(pk=job.pk).status == SyncJobStatus.PAUSED
    assert Order.objects.filter(store=alpha).count() == 1
    event = AuditEvent.objects.get(action="store.disconnected")
    assert (event.actor, event.detail["name"], event.detail["previous_status"]) == (
        owner,
        "Alpha Shop",
        "active",
    )
    assert '<span class="pill pill-neutral">Disconnected</span>' in response.content.decode()


def test_sync_now_starts_the_stores_sync(
    owner_client, stores, monkeypatch, django_capture_on_commit_callbacks
):
    alpha = stores[0]
    queued: list[int] = []
    monkeypatch.setattr(order_tasks.sync_store, "delay", queued.append)
    monkeypatch.setattr(order_tasks.run_sync_job, "delay", lambda job_id: None)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(store_urls(alpha)["sync"], follow=True)

    assert flashes(response) == ["Sync of Alpha Shop started."]
    assert queued == [alpha.pk]
    # The 90-day import of each kind (none had run) and a check for changes of each kind.
    jobs = sorted(SyncJob.objects.filter(store=alpha).values_list("mode", "kind"))
    assert jobs == sorted((mode, kind) for mode in SyncMode.values for kind in SyncKind.values)


def test_sync_now_refuses_a_store_that_needs_reauthorization(owner_client, stores):
    beta = stores[1]
    beta.status = StoreStatus.NEEDS_REAUTH
    beta.save()

    response = owner_client.post(store_urls(beta)["sync"], follow=True)

    assert flashes(response) == ["Beta Shop needs re-authorization: reconnect it before syncing."]
    assert SyncJob.objects.count() == 0


# --- The banner ---------------------------------------------------------------------------------


def test_the_banner_costs_one_query_and_only_when_shown(
    rf: RequestFactory, tenant, owner, stores, django_assert_num_queries
):
    alpha, beta = stores
    beta.status = StoreStatus.NEEDS_REAUTH
    beta.save()
    alpha.authorization_expires_at = datetime(2026, 12, 24, tzinfo=UTC)
    alpha.save()
    request = rf.get("/")
    request.membership = Membership.objects.select_related("tenant").get(user=owner)

    with django_assert_num_queries(0):
        context = store_alerts(request)
    with django_assert_num_queries(1):
        shown = [(store.name, store.status) for store in context["store_alerts"]]
        assert bool(context["store_alerts"]) is True
    assert shown == [("Alpha Shop", "active"), ("Beta Shop", "needs_reauth")]


def test_the_banner_shows_on_every_page_for_the_tenant_only(
    owner_client, client, agent, other_owner, stores
):
    alpha, beta = stores
    beta.status = StoreStatus.NEEDS_REAUTH
    beta.save()
    alpha.authorization_expires_at = datetime(2026, 12, 24, 8, tzinfo=UTC)
    alpha.save()

    for url in ("/mailbox/", "/orders/", "/stores/", "/settings/members/"):
        page = owner_client.get(url).content.decode()
        assert "<strong>Beta Shop</strong> needs re-authorization — sync is paused." in page, url
        assert f'action="/stores/{beta.public_id}/reconnect/"' in page, url
        assert "TikTok Shop authorization ends on" in page, url
        assert ">24 Dec 2026</time>" in page, url

    client.force_login(agent)
    page = client.get("/orders/").content.decode()
    assert "<strong>Beta Shop</strong> needs re-authorization" in page
    assert "Ask an owner or admin to reconnect it." in page
    client.force_login(other_owner)
    assert "Beta Shop" not in client.get("/orders/").content.decode()


def test_no_banner_when_every_store_is_healthy(owner_client, stores):
    assert "data-store-alert" not in owner_client.get("/orders/").content.decode()


def test_no_banner_for_a_disconnected_store(owner_client, stores):
    alpha = stores[0]
    alpha.authorization_expires_at = datetime(2026, 12, 24, tzinfo=UTC) + timedelta(days=1)
    alpha.status = StoreStatus.DISCONNECTED
    alpha.save()
    # A disconnected store is not a problem to fix: no banner for it.
    assert "data-store-alert" not in owner_client.get("/orders/").content.decode()


def test_sync_now_shows_its_progress_in_the_stores_row(
    owner_client, stores, monkeypatch, django_capture_on_commit_callbacks
):
    """The 90-day import is done; Sync now checks for changed orders: the row says it is
    waiting, then how far the check got (and keeps asking), then what it found."""
    alpha = stores[0]
    running_job(alpha, status=SyncJobStatus.COMPLETED, items_fetched=90000)
    monkeypatch.setattr(order_tasks.sync_store, "delay", lambda store_id: None)
    monkeypatch.setattr(order_tasks.run_sync_job, "delay", lambda job_id: None)
    url = store_urls(alpha)["progress"]

    with django_capture_on_commit_callbacks(execute=True):
        page = owner_client.post(store_urls(alpha)["sync"], follow=True).content.decode()

    check = SyncJob.objects.get(store=alpha, kind=SyncKind.ORDERS, mode=SyncMode.INCREMENTAL)
    assert (
        '<span class="progress-label">Checking for changed orders: waiting for a worker</span>'
        in page
    )
    assert f'hx-get="{url}?v=check-{check.pk}-queued-0"' in page
    assert "is-indeterminate" in page

    # The worker runs it: how many changed orders so far; still polling.
    SyncJob.objects.filter(pk=check.pk).update(status=SyncJobStatus.RUNNING, items_fetched=12)
    running = owner_client.get(url, {"v": f"check-{check.pk}-queued-0"}).content.decode()
    assert '<span class="progress-counts">12 changed so far</span>' in running
    assert "Checking orders changed since " in running
    assert f'hx-get="{url}?v=check-{check.pk}-running-12"' in running

    # Done: what it found, and no more polling.
    SyncJob.objects.filter(pk=check.pk).update(
        status=SyncJobStatus.COMPLETED,
        items_fetched=14,
        finished_at=datetime(2026, 9, 13, 9, 30, tzinfo=UTC),
    )
    done = owner_client.get(url, {"v": f"check-{check.pk}-running-12"}).content.decode()
    assert '<span class="progress-label">Orders up to date (checked at 09:30 UTC)</span>' in done
    assert '<span class="progress-counts">14 changed · 100%</span>' in done
    assert "is-done" in done and "hx-get" not in done


def test_a_running_import_is_shown_before_a_check_for_changes(owner_client, stores):
    alpha = stores[0]
    running_job(alpha)
    SyncJobFactory(store=alpha, mode=SyncMode.INCREMENTAL, status=SyncJobStatus.RUNNING)

    html = owner_client.get(store_urls(alpha)["progress"]).content.decode()

    assert '<span class="progress-counts">41,200 of 90,000 · 45%</span>' in html
