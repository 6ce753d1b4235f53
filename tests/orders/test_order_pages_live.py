"""The Orders pages against the live sandbox: search that fetches an unsynced order, tracking.

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
from orders.models import Order
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


# --- Search fetches an order that is not synced yet -----------------------------------------------


def test_search_fetches_an_unsynced_order_live_and_stores_it(owner_client, us_store, calls):
    record = sandbox_order(us_store)
    asked = calls("orders_by_id")
    assert not Order.objects.exists()

    response = owner_client.get(reverse("order_list"), {"q": record.external_id})

    assert response.status_code == 200
    assert list_ids(response) == [record.external_id]
    html = response.content.decode()
    assert (
        f'Order <span class="mono">{record.external_id}</span> was not synced yet: '
        "Sellerdesk fetched it from Sunrise Outfitters just now."
    ) in html
    assert f'<span class="money">${record.payment.total_amount.amount:,.2f}</span>' in html
    assert asked == ["Sunrise Outfitters"]
    stored = Order.objects.get(external_id=record.external_id)
    assert stored.store == us_store
    assert stored.tenant == us_store.tenant
    assert stored.status == record.status
    assert stored.total_amount == record.payment.total_amount.amount
    assert stored.lines.count() == len(record.lines)

    again = owner_client.get(reverse("order_list"), {"q": record.external_id})

    assert list_ids(again) == [record.external_id]
    assert "was not synced yet" not in again.content.decode()
    assert asked == ["Sunrise Outfitters"]  # the second search is answered by the database
    assert Order.objects.filter(external_id=record.external_id).count() == 1


def test_search_asks_each_store_until_one_has_the_order(owner_client, us_store, uk_store, calls):
    record = sandbox_order(us_store)
    asked = calls("orders_by_id")

    response = owner_client.get(reverse("order_list"), {"q": record.external_id})

    assert list_ids(response) == [record.external_id]
    # Stores are asked in name order: the UK shop answers "not this seller's order" first.
    assert asked == ["Maomao Beauty UK", "Sunrise Outfitters"]
    assert Order.objects.get(external_id=record.external_id).store == us_store
    assert "Not asked" not in response.content.decode()


def test_an_order_fetched_from_a_uk_store_shows_pounds(owner_client, us_store, uk_store, calls):
    record = sandbox_order(uk_store)
    asked = calls("orders_by_id")

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

    response = owner_client.get(reverse("order_list"), {"q": "576400000000000001"})

    assert list_ids(response) == []
    assert (
        'No order <span class="mono">576400000000000001</span> in your stores.\n      </span>'
    ) in response.content.decode()
    assert sorted(asked) == ["Maomao Beauty UK", "Sunrise Outfitters"]
    assert not Order.objects.exists()


def test_a_limited_agent_searches_only_their_stores(client, tenant, us_store, uk_store, calls):
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=us_store)
    client.force_login(agent.user)
    record = sandbox_order(uk_store)
    asked = calls("orders_by_id")

    response = client.get(reverse("order_list"), {"q": record.external_id})

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

    response = owner_client.get(reverse("order_list"), {"q": record.external_id})

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

    response = client.get(reverse("order_list"), {"q": record.external_id})

    assert list_ids(response) == []
    assert asked == []
    assert not Order.objects.exists()


# --- Tracking, live and cached --------------------------------------------------------------------


@pytest.fixture
def shipped_order(us_store) -> Order:
    record = sandbox_order(us_store, status="DELIVERED")
    orders_upsert(store=us_store, orders=[record])
    return Order.objects.get(store=us_store, external_id=record.external_id)


def test_tracking_events_are_fetched_live_then_cached(owner_client, shipped_order, calls):
    expected = store_api(shipped_order.store).tracking(shipped_order.external_id)
    assert len(expected) == 6  # label, collected, sorting in and out, out for delivery, delivered
    fetched = calls("tracking")
    url = reverse("order_tracking", args=[shipped_order.public_id])

    first = owner_client.get(url, headers={"HX-Request": "true"})
    second = owner_client.get(url, headers={"HX-Request": "true"})

    assert first.status_code == second.status_code == 200
    html = first.content.decode()
    assert "<html" not in html  # a fragment for the order page
    descriptions = [part.split(" <span")[0] for part in html.split("<li>")[1:]]
    assert descriptions == [event.description for event in expected]
    assert descriptions[0] == "Delivered, left at front door"
    assert second.content == first.content
    assert "HX-Request" in first["Vary"]
    assert fetched == ["Sunrise Outfitters"]  # the second view did not call the sandbox


def test_tracking_without_javascript_is_a_page(owner_client, shipped_order):
    url = reverse("order_tracking", args=[shipped_order.public_id])
    html = owner_client.get(url).content.decode()
    assert "<html" in html
    assert "<li>Delivered, left at front door" in html


def test_a_tracking_failure_is_a_plain_message_and_is_not_cached(
    tiktok_sandbox_factory, settings, tenant, owner_client, calls
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

    failed = owner_client.get(url, headers={"HX-Request": "true"})

    assert failed.status_code == 200
    assert (
        '<p class="form-error" role="status">TikTok Shop did not answer with the tracking just '
        "now. Try again in a minute.</p>"
    ) in failed.content.decode()
    assert "Traceback" not in failed.content.decode()
    sandbox.reset_faults()
    recovered = owner_client.get(url, headers={"HX-Request": "true"})
    assert "<li>Delivered, left at front door" in recovered.content.decode()
    assert len(fetched) == 2


def test_tracking_of_a_store_that_needs_reauthorization_says_what_to_do(
    owner_client, shipped_order, calls
):
    Store.objects.filter(pk=shipped_order.store_id).update(status=StoreStatus.NEEDS_REAUTH)
    url = reverse("order_tracking", args=[shipped_order.public_id])

    html = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert (
        "Tracking can't be fetched while Sunrise Outfitters needs re-authorization. "
        "Reconnect it on the Stores page."
    ) in html.replace("&#x27;", "'")


def test_the_order_page_of_a_live_fetched_order(owner_client, us_store):
    record = sandbox_order(us_store, status="DELIVERED")
    owner_client.get(reverse("order_list"), {"q": record.external_id})
    order = Order.objects.get(external_id=record.external_id)

    html = owner_client.get(reverse("order_detail", args=[order.public_id])).content.decode()

    assert f'<dd class="mono">{record.external_id}</dd>' in html
    assert f"<dt>Carrier</dt><dd>{record.shipping_provider}</dd>" in html
    first = record.lines[0]
    assert first.product_name in html
    assert (
        f'<dt>Total</dt><dd class="money">${record.payment.total_amount.amount:,.2f}</dd>' in html
    )


def test_tracking_refused_for_a_bad_token_says_what_to_do(owner_client, shipped_order):
    store = shipped_order.store
    store.set_tokens(
        access_token="TTP_not-a-real-token",
        access_token_expires_at=store.access_token_expires_at,
        refresh_token=store.refresh_token,
        refresh_token_expires_at=store.refresh_token_expires_at,
    )
    store.save()
    url = reverse("order_tracking", args=[shipped_order.public_id])

    html = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert (
        "TikTok Shop refused Sellerdesk's access to Sunrise Outfitters. If this keeps happening, "
        "reconnect the store on the Stores page."
    ) in html.replace("&#x27;", "'")
    store.refresh_from_db()
    assert store.token_error_count == 1  # counted by the adapter towards re-authorization
