"""Products and coupons from the sandbox over HTTP: the first pass, the incremental pass, the
split of windows past the search cap, a resumed pass, the product webhook, coupon card rules."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplaces import tasks as marketplace_tasks
from marketplaces.models import WebhookEvent, WebhookEventStatus
from marketplaces.services import webhook_event_process
from orders import catalog
from orders.models import CatalogSync, Coupon, Product, ProductSku
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tiktok_settings):
    """The session sandbox: these tests read it and change nothing there."""
    return tiktok_settings


@pytest.fixture
def own_sandbox(tiktok_sandbox_factory, settings):
    """A sandbox of the test's own, for tests that change products."""
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    return sandbox


def sandbox_products(sandbox) -> list[dict]:
    answer = sandbox.call(
        "POST", "/product/202502/products/search", query={"page_size": "100"}, json={}
    ).json()
    return answer["data"]["products"]


def test_first_pass_stores_every_product_with_image_skus_and_stock(sandbox, tenant, other_tenant):
    store = connect_store(sandbox, tenant=tenant)
    theirs = connect_store(sandbox, tenant=other_tenant, market="ROW")

    result = catalog.catalog_sync(store_id=store.pk)

    expected = sandbox_products(sandbox)
    assert (result.status, result.products, result.coupons) == ("done", 12, 8)
    assert Product.objects.filter(store=store).count() == 12
    assert not Product.objects.filter(store=theirs).exists()
    first = expected[0]
    product = Product.objects.get(store=store, external_id=first["id"])
    assert product.title == first["title"]
    assert product.status == first["status"]
    assert product.image_url.startswith(sandbox.base_url + "/_sandbox/images/")
    assert product.stock == sum(w["quantity"] for s in first["skus"] for w in s["inventory"])
    skus = list(ProductSku.objects.filter(product=product).order_by("id"))
    assert [s.seller_sku for s in skus] == [s["seller_sku"] for s in first["skus"]]
    assert skus[0].price == Decimal(first["skus"][0]["price"]["sale_price"])
    assert skus[0].name  # the variant, from the detail's sales attributes
    assert product.search_text.splitlines() == [
        first["title"].lower(),
        " ".join(s["seller_sku"] for s in first["skus"]).lower(),
        first["id"],
    ]
    assert Product.objects.filter(store=store, status="SELLER_DEACTIVATED").count() == 1
    state = CatalogSync.objects.get(store=store)
    assert state.products_full_done and state.products_windows == [] and state.lease_until is None


def test_coupons_say_why_they_cannot_be_sent(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)

    catalog.catalog_sync(store_id=store.pk)

    problems = dict(Coupon.objects.filter(store=store).values_list("title", "card_problems"))
    assert problems == {
        "Chat thank-you 10% off": [],
        "Spring sale $5 off": [],
        "Winter chat coupon": ["It is expired; only ongoing coupons can be sent."],
        "Black Friday": ["It is expired; only ongoing coupons can be sent."],
        "Live room special": ["Live coupons cannot be sent in chat (only Chat and Regular ones)."],
        "Summer preview": ["It is not started yet; only ongoing coupons can be sent."],
        "Welcome back 15% off": ["It targets repeat customers, which cannot be sent in chat."],
        "Partner app coupon": [
            "It was created outside Seller Center (open api); only coupons created in Seller "
            "Center can be sent."
        ],
    }
    chat = Coupon.objects.get(store=store, title="Chat thank-you 10% off")
    assert (chat.percentage, chat.max_discount, chat.min_spend) == (
        Decimal("10.00"),
        Decimal("20.00"),
        Decimal("25.00"),
    )


def test_windows_past_the_search_cap_are_split(sandbox, tenant, monkeypatch):
    store = connect_store(sandbox, tenant=tenant)
    monkeypatch.setattr(catalog, "SEARCH_CAP", 5)
    monkeypatch.setattr(catalog, "PRODUCT_PAGE_SIZE", 4)

    result = catalog.catalog_sync(store_id=store.pk)

    assert (result.status, result.products) == ("done", 12)
    assert sorted(Product.objects.filter(store=store).values_list("external_id", flat=True)) == (
        sorted(p["id"] for p in sandbox_products(sandbox))
    )


def test_a_failed_pass_resumes_after_its_last_stored_page(sandbox, tenant, monkeypatch):
    store = connect_store(sandbox, tenant=tenant)
    monkeypatch.setattr(catalog, "PRODUCT_PAGE_SIZE", 5)
    real = catalog.products_upsert
    calls = []

    def dies_on_the_second_page(**kwargs):
        calls.append(len(kwargs["products"]))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(catalog, "products_upsert", dies_on_the_second_page)
    failed = catalog.catalog_sync(store_id=store.pk)
    stored_after_failure = Product.objects.filter(store=store).count()
    monkeypatch.setattr(catalog, "products_upsert", real)
    resumed = catalog.catalog_sync(store_id=store.pk)

    assert failed.status == "failed" and "worker killed" in failed.error
    assert stored_after_failure == 5
    assert (resumed.status, resumed.products) == ("done", 7)  # pages 2 and 3 only
    assert Product.objects.filter(store=store).count() == 12


def test_a_store_being_synced_is_not_taken_by_a_second_worker(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    catalog._claim(store, timezone.now())

    assert catalog.catalog_sync(store_id=store.pk).status == "busy"
    assert not Product.objects.filter(store=store).exists()


def test_catalogs_due_skips_recent_and_inactive_stores(sandbox, tenant):
    from marketplaces.models import StoreStatus

    recent = connect_store(sandbox, tenant=tenant)
    due = connect_store(sandbox, tenant=tenant, market="ROW")
    paused = connect_store(sandbox, tenant=tenant, market="ROW", shop_index=1)
    catalog.catalog_sync(store_id=recent.pk)
    type(paused).objects.filter(pk=paused.pk).update(status=StoreStatus.NEEDS_REAUTH)

    assert catalog.catalogs_due() == [due.pk]


def test_later_passes_and_product_webhooks_keep_products_current(
    own_sandbox, tenant, receiver, client, django_capture_on_commit_callbacks, monkeypatch
):
    sandbox = own_sandbox
    sandbox.set_webhook_url(receiver.url)
    store = connect_store(sandbox, tenant=tenant)
    catalog.catalog_sync(store_id=store.pk)
    products = sandbox_products(sandbox)
    changed, deactivated = products[3], products[0]
    sandbox.control(
        "POST", f"/_sandbox/products/{changed['id']}/update", {"quantity": 0, "title": "Sold out"}
    )
    before = dict(Product.objects.filter(store=store).values_list("external_id", "synced_at"))
    gone = Coupon.objects.get(store=store, title="Black Friday")
    Coupon.objects.filter(pk=gone.pk).update(external_id="1")  # no longer on the platform

    # A later pass reads only the product that changed, and drops the coupon that went.
    result = catalog.catalog_sync(store_id=store.pk)

    assert (result.status, result.products) == ("done", 1)
    product = Product.objects.get(store=store, external_id=changed["id"])
    assert (product.title, product.stock, product.in_stock) == ("Sold out", 0, False)
    after = dict(Product.objects.filter(store=store).values_list("external_id", "synced_at"))
    assert [key for key in after if after[key] != before[key]] == [changed["id"]]
    assert not Coupon.objects.filter(pk=gone.pk).exists()
    assert Coupon.objects.filter(store=store).count() == 8

    # A status change is pushed (type 5) and refreshes that product at once.
    monkeypatch.setattr(
        marketplace_tasks.process_webhook_event,
        "delay",
        lambda event_id: webhook_event_process(event_id=event_id),
    )
    sandbox.control(
        "POST",
        f"/_sandbox/products/{deactivated['id']}/update",
        {"status": "PLATFORM_DEACTIVATED"},
    )
    body, authorization = receiver.wait_for(5, product_id=deactivated["id"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/tiktok/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=authorization,
        )

    assert response.status_code == 200
    event = WebhookEvent.objects.get(notification_id=json.loads(body)["tts_notification_id"])
    assert event.status == WebhookEventStatus.PROCESSED
    product = Product.objects.get(store=store, external_id=deactivated["id"])
    assert product.status == "PLATFORM_DEACTIVATED"
    assert event.result == (
        f"Product {deactivated['id']} refreshed (PLATFORM_DEACTIVATED, {product.stock} in stock)."
    )
