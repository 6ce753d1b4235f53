"""The Orders pages against the live sandbox: "Look it up" (a POST) fetching an unsynced order,
and tracking fetched by the task that "Refresh tracking" (a POST) queues. A GET never calls the
sandbox: every GET here is checked against the adapter's call counter.

Stores are connected to the sandbox through consent and token get (`connect_sandbox_store`), and
the orders are the sandbox's own: nothing is synced before a test searches, so a hit means the
page fetched the order live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from marketplaces.adapter import store_api
from marketplaces.models import Store, StoreAccess, StoreStatus
from marketplaces.records import Order as OrderRecord
from marketplaces.tiktok.adapter import TikTokStoreAPI
from orders.ingest import orders_upsert
from orders.models import Order, OrderTracking
from tenants.models import Role
from tests.factories_marketplaces import member
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # local memory outlives a test: start each one empty


@pytest.fixture
def us_store(connect_sandbox_store, tenant) -> Store:
    return connect_sandbox_store(tenant=tenant, market="US")  # Sunrise Outfitters, USD


@pytest.fixture
def uk_store(connect_sandbox_store, tenant) -> Store:
    return connect_sandbox_store(tenant=tenant, market="ROW")  # GBP


def sandbox_order(store: Store, status: str | None = None) -> OrderRecord:
    """One of the store's orders as the sandbox has it (read through the adapter, not stored)."""
    page = next(store_api(store).order_pages(page_size=1, status=status))
    return page.items[0]


def list_ids(response) -> list[str]:
    html = response.content.decode()
    return [part.split('"')[0] for part in html.split('data-copy="')[1:] if "Copy order ID" in part]


@pytest.fixture
def calls(monkeypatch) -> Callable[[str], list[Any]]:
    """Count the adapter calls of one kind that still go through to the sandbox."""
    seen: dict[str, list[Any]] = {}

    def spy(name: str) -> list[Any]:
        real = getattr(TikTokStoreAPI, name)
        seen[name] = []

        def counted(api: TikTokStoreAPI, *args: Any, **kwargs: Any) -> Any:
            seen[name].append(api.store.name)
            return real(api, *args, **kwargs)

        monkeypatch.setattr(TikTokStoreAPI, name, counted)
        return seen[name]

    return spy


# --- Search finds synced orders; "Look it up" (POST) fetches an unsynced one ---------------------


def look_up(client, order_id: str):
    return client.post(reverse("order_fetch"), {"order_id": order_id})


def test_searching_an_unsynced_order_id_calls_no_store_and_offers_a_lookup(
    owner_client, us_store, calls
):
    record = sandbox_order(us_store)
    asked = calls("orders_by_id")

    response = owner_client.get(reverse("order_list"), {"q": record.external_id})

    assert response.status_code == 200
    assert asked == []  # a GET reads the database only
    html = response.content.decode()
    assert (
        f'Order <span class="mono">{record.external_id}</span> is not synced in Sellerdesk (yet).'
    ) in html
    assert f'action="{reverse("order_fetch")}"' in html
    assert f'<input type="hidden" name="order_id" value="{record.external_id}">' in html
    assert "Look it up in your stores</button>" in html
    assert not Order.objects.exists()


def test_look_it_up_fetches_an_unsynced_order_live_and_stores_it(owner_client, us_store, calls):
    record = sandbox_order(us_store)
    asked = calls("orders_by_id")
    assert not Order.objects.exists()

    response = look_up(owner_client, record.external_id)

    stored = Order.objects.get(external_id=record.external_id)
    assert response.status_code == 302
    assert response["Location"] == reverse("order_detail", args=[stored.public_id])
    assert asked == ["Sunrise Outfitters"]
    assert stored.store == us_store
    assert stored.tenant == us_store.tenant
    assert stored.status == record.status
    assert stored.total_amount == record.payment.total_amount.amount
    assert stored.lines.count() == len(record.lines)
    page = owner_client.get(response["Location"]).content.decode()
    assert (
        f"Order {record.external_id} was not synced yet: Sellerdesk fetched it from "
        "Sunrise Outfitters just now."
    ) in page

    again = owner_client.get(reverse("order_list"), {"q": record.external_id})

    assert list_ids(again) == [record.external_id]
    assert "is not synced" not in again.content.decode()
    assert asked == ["Sunrise Outfitters"]  # the search is answered by the database
    assert Order.objects.filter(external_id=record.external_id).count() == 1


def test_look_it_up_asks_each_store_until_one_has_the_order(
    owner_client, us_store, uk_store, calls
):
    record = sandbox_order(us_store)
    asked = calls("orders_by_id")

    response = look_up(owner_client, record.external_id)

    assert response.status_code == 302
    # Stores are asked in name order: the UK shop answers "not this seller's order" first.
    assert asked == ["Maomao Beauty UK", "Sunrise Outfitters"]
    assert Order.objects.get(external_id=record.external_id).store == us_store


def test_an_order_fetched_from_a_uk_store_shows_pounds(owner_client, us_store, uk_store, calls):
    record = sandbox_order(uk_store)
    asked = calls("orders_by_id")

    look_up(owner_client, record.external_id)
    response = owner_client.get(reverse("order_list"), {"q": record.external_id})

    assert list_ids(response) == [record.external_id]
    assert record.payment.currency == "GBP"
    assert f'<span class="money">£{record.payment.total_amount.amount:,.2f}</span>' in (
        response.content.decode()
    )
    assert asked == ["Maomao Beauty UK"]
    assert Order.objects.get(external_id=record.external_id).store == uk_store


def test_an_unknown_order_id_is_not_in_your_stores(owner_client, us_store, uk_store, calls):
    asked = calls("orders_by_id")

    response = look_up(owner_client, "576400000000000001")

    assert response.status_code == 200
    assert list_ids(response) == []
    assert (
        'No order <span class="mono">576400000000000001</span> in your stores.\n      </span>'
    ) in response.content.decode()
    assert "Look it up" not in response.content.decode()
    assert sorted(asked) == ["Maomao Beauty UK", "Sunrise Outfitters"]
    assert not Order.objects.exists()


def test_a_limited_agent_looks_up_only_in_their_stores(client, tenant, us_store, uk_store, calls):
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=us_store)
    client.force_login(agent.user)
    record = sandbox_order(uk_store)
    asked = calls("orders_by_id")

    response = look_up(client, record.external_id)

    assert list_ids(response) == []
    assert (
        f'No order <span class="mono">{record.external_id}</span> in your stores.'
        in response.content.decode()
    )
    assert asked == ["Sunrise Outfitters"]  # the UK store was never asked
    assert not Order.objects.exists()


def test_a_store_that_needs_reauthorization_is_named_not_asked(
    owner_client, us_store, uk_store, calls
):
    record = sandbox_order(uk_store)
    Store.objects.filter(pk=uk_store.pk).update(status=StoreStatus.NEEDS_REAUTH)
    asked = calls("orders_by_id")

    response = look_up(owner_client, record.external_id)

    assert list_ids(response) == []
    assert (
        f'No order <span class="mono">{record.external_id}</span> in your stores.\n'
        "      Not asked: Maomao Beauty UK (it needs re-authorization)."
    ) in response.content.decode()
    assert asked == ["Sunrise Outfitters"]


def test_another_tenant_never_reaches_our_stores_orders(client, other_owner, us_store, calls):
    record = sandbox_order(us_store)
    asked = calls("orders_by_id")
    client.force_login(other_owner)

    searched = client.get(reverse("order_list"), {"q": record.external_id})
    looked_up = look_up(client, record.external_id)

    assert list_ids(searched) == list_ids(looked_up) == []
    assert asked == []
    assert not Order.objects.exists()


def test_look_it_up_is_a_post(owner_client, us_store, calls):
    asked = calls("orders_by_id")
    response = owner_client.get(reverse("order_fetch"), {"order_id": "576400000000000001"})
    assert response.status_code == 405
    assert asked == []


# --- Tracking: stored, refreshed by a POST that queues the task ----------------------------------


@pytest.fixture
def shipped_order(us_store) -> Order:
    record = sandbox_order(us_store, status="DELIVERED")
    orders_upsert(store=us_store, orders=[record])
    return Order.objects.get(store=us_store, external_id=record.external_id)


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Orders handed to the tracking task; `run` plays the worker (tasks.fetch_tracking)."""
    from orders import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.fetch_tracking, "delay", sent.append)
    return sent


def run(queued: list[int]) -> None:
    from orders import tasks

    while queued:
        tasks.fetch_tracking(queued.pop(0))


def refresh(client, order: Order, capture, **headers: Any):
    with capture(execute=True):
        return client.post(reverse("order_tracking_refresh", args=[order.public_id]), **headers)


def test_viewing_tracking_calls_no_store(owner_client, shipped_order, calls):
    fetched = calls("tracking")
    url = reverse("order_tracking", args=[shipped_order.public_id])

    fragment = owner_client.get(url, headers={"HX-Request": "true"})
    page = owner_client.get(reverse("order_detail", args=[shipped_order.public_id]))

    assert fragment.status_code == page.status_code == 200
    assert fetched == []
    html = fragment.content.decode()
    assert "<html" not in html
    assert '<p class="muted">Tracking has not been fetched from TikTok Shop yet.</p>' in html
    refresh_url = reverse("order_tracking_refresh", args=[shipped_order.public_id])
    assert f'hx-post="{refresh_url}"' in html
    assert "Refresh tracking</button>" in html
    assert "Tracking has not been fetched from TikTok Shop yet." in page.content.decode()
    assert "HX-Request" in fragment["Vary"]


def test_refresh_tracking_queues_the_task_and_the_page_says_it_is_on_its_way(
    owner_client, shipped_order, calls, queued, django_capture_on_commit_callbacks
):
    fetched = calls("tracking")
    expected = store_api(shipped_order.store).tracking(shipped_order.external_id)
    assert len(expected) == 6  # label, collected, sorting in and out, out for delivery, delivered
    fetched.clear()
    url = reverse("order_tracking", args=[shipped_order.public_id])

    queued_page = refresh(
        owner_client, shipped_order, django_capture_on_commit_callbacks, HTTP_HX_REQUEST="true"
    )

    assert queued_page.status_code == 200
    assert queued == [shipped_order.pk]
    assert fetched == []  # the request only queued the fetch
    html = queued_page.content.decode()
    assert "Fetching tracking from TikTok Shop…" in html
    assert f'hx-get="{url}" hx-trigger="every 3s"' in html
    assert "Refresh tracking</button>" not in html  # one fetch at a time

    run(queued)
    first = owner_client.get(url, headers={"HX-Request": "true"})
    second = owner_client.get(url, headers={"HX-Request": "true"})

    html = first.content.decode()
    descriptions = [part.split(" <span")[0] for part in html.split("<li>")[1:]]
    assert descriptions == [event.description for event in expected]
    assert descriptions[0] == "Delivered, left at front door"
    assert "Fetched from TikTok Shop <time" in html
    assert "Fetching tracking" not in html
    assert second.status_code == 200
    assert fetched == ["Sunrise Outfitters"]  # the task's one call; the views made none


def test_tracking_without_javascript_is_a_page_and_refresh_redirects_to_it(
    owner_client, shipped_order, queued, django_capture_on_commit_callbacks
):
    url = reverse("order_tracking", args=[shipped_order.public_id])
    response = refresh(owner_client, shipped_order, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == url
    run(queued)
    html = owner_client.get(url).content.decode()
    assert "<html" in html
    assert "<li>Delivered, left at front door" in html


def test_a_tracking_failure_is_a_plain_message_and_can_be_retried(
    tiktok_sandbox_factory,
    settings,
    tenant,
    owner_client,
    calls,
    queued,
    django_capture_on_commit_callbacks,
):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    record = sandbox_order(store, status="DELIVERED")
    orders_upsert(store=store, orders=[record])
    order = Order.objects.get(store=store, external_id=record.external_id)
    url = reverse("order_tracking", args=[order.public_id])
    fetched = calls("tracking")
    sandbox.set_faults(error_ratio=1.0)

    refresh(owner_client, order, django_capture_on_commit_callbacks)
    run(queued)
    failed = owner_client.get(url, headers={"HX-Request": "true"})

    assert failed.status_code == 200
    assert (
        '<p class="form-error" role="status">TikTok Shop did not answer with the tracking just '
        "now. Try again in a minute.</p>"
    ) in failed.content.decode()
    assert "Refresh tracking</button>" in failed.content.decode()
    assert "Traceback" not in failed.content.decode()
    sandbox.reset_faults()
    refresh(owner_client, order, django_capture_on_commit_callbacks)
    run(queued)
    recovered = owner_client.get(url, headers={"HX-Request": "true"})
    assert "<li>Delivered, left at front door" in recovered.content.decode()
    assert "form-error" not in recovered.content.decode()
    assert len(fetched) == 2


def test_tracking_of_a_store_that_needs_reauthorization_says_what_to_do(
    owner_client, shipped_order, calls, queued, django_capture_on_commit_callbacks
):
    Store.objects.filter(pk=shipped_order.store_id).update(status=StoreStatus.NEEDS_REAUTH)
    url = reverse("order_tracking", args=[shipped_order.public_id])

    refresh(owner_client, shipped_order, django_capture_on_commit_callbacks)
    run(queued)
    html = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert (
        "Tracking can't be fetched while Sunrise Outfitters needs re-authorization. "
        "Reconnect it on the Stores page."
    ) in html.replace("&#x27;", "'")


def test_another_tenant_cannot_refresh_our_tracking(
    client, other_owner, shipped_order, queued, django_capture_on_commit_callbacks
):
    client.force_login(other_owner)
    response = refresh(client, shipped_order, django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert queued == []
    assert not OrderTracking.objects.exists()


def test_a_limited_agent_cannot_refresh_another_stores_tracking(
    client, tenant, us_store, uk_store, queued, django_capture_on_commit_callbacks
):
    record = sandbox_order(uk_store, status="DELIVERED")
    orders_upsert(store=uk_store, orders=[record])
    order = Order.objects.get(store=uk_store, external_id=record.external_id)
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=us_store)
    client.force_login(agent.user)

    response = refresh(client, order, django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert queued == []


def test_the_order_page_of_a_live_fetched_order(owner_client, us_store):
    record = sandbox_order(us_store, status="DELIVERED")
    look_up(owner_client, record.external_id)
    order = Order.objects.get(external_id=record.external_id)

    html = owner_client.get(reverse("order_detail", args=[order.public_id])).content.decode()

    assert f'<dd class="mono">{record.external_id}</dd>' in html
    assert f"<dt>Carrier</dt><dd>{record.shipping_provider}</dd>" in html
    first = record.lines[0]
    assert first.product_name in html
    assert (
        f'<dt>Total</dt><dd class="money">${record.payment.total_amount.amount:,.2f}</dd>' in html
    )


def test_tracking_refused_for_a_bad_token_says_what_to_do(
    owner_client, shipped_order, queued, django_capture_on_commit_callbacks
):
    store = shipped_order.store
    store.set_tokens(
        access_token="TTP_not-a-real-token",
        access_token_expires_at=store.access_token_expires_at,
        refresh_token=store.refresh_token,
        refresh_token_expires_at=store.refresh_token_expires_at,
    )
    store.save()
    url = reverse("order_tracking", args=[shipped_order.public_id])

    refresh(owner_client, shipped_order, django_capture_on_commit_callbacks)
    run(queued)
    html = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert (
        "TikTok Shop refused Sellerdesk's access to Sunrise Outfitters. If this keeps happening, "
        "reconnect the store on the Stores page."
    ) in html.replace("&#x27;", "'")
    store.refresh_from_db()
    assert store.token_error_count == 1  # counted by the adapter towards re-authorization
