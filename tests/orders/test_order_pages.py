"""The Orders list and the order page: filters, search, content, note, access (database only).

Live fetches and tracking over the sandbox are in test_order_pages_live.py.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplaces.models import Market, StoreAccess, StoreStatus
from orders.models import Order, OrderStatus
from orders.views import money, readable
from tenants.models import AuditEvent, Role
from tests.factories_marketplaces import (
    BASE_TIME,
    CancellationFactory,
    CancellationLineFactory,
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    ReturnLineFactory,
    StoreFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings):
    # The default cache is files shared with other processes: each test gets its own memory.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # local memory outlives a test: start each one empty


@pytest.fixture(autouse=True)
def no_store_is_asked(monkeypatch):
    """These tests run on the database alone: asking a store live would be a failure."""

    def refuse(store):
        raise AssertionError(f"{store.name} was asked live")

    monkeypatch.setattr("orders.services.store_api", refuse)


@pytest.fixture
def tenant(tenant):
    tenant.time_zone = "America/New_York"
    tenant.save(update_fields=["time_zone"])
    return tenant


@pytest.fixture
def alpha(tenant):
    return StoreFactory(tenant=tenant, name="Alpha Socks")


@pytest.fixture
def beta(tenant):
    return StoreFactory(tenant=tenant, name="Beta Scarves", market=Market.ROW, region="GB")


@pytest.fixture
def limited_agent_client(client, tenant, alpha):
    agent = member(tenant, Role.AGENT, email="limited@acme.test")
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=alpha)
    client.force_login(agent.user)
    return client


@pytest.fixture
def rival_order(other_tenant):
    return OrderFactory(store=StoreFactory(tenant=other_tenant, name="Rival"), external_id="999")


def list_ids(response) -> list[str]:
    """Order ids of the list's rows, in page order."""
    return re.findall(r'data-copy="([^"]+)" aria-label="Copy order ID', response.content.decode())


def note_version_in(html: str) -> str:
    """The note form's hidden version (Django leaves `value` out when it is empty)."""
    found = re.search(
        r'<input type="hidden" name="version"(?: value="([^"]*)")? id="id_version">', html
    )
    assert found is not None
    return found.group(1) or ""


def detail_url(order: Order) -> str:
    return reverse("order_detail", args=[order.public_id])


# --- The list -------------------------------------------------------------------------------------


def test_list_rows_show_id_store_time_status_items_and_total(owner_client, alpha):
    order = OrderFactory(
        store=alpha,
        external_id="576461413038785752",
        placed_at=BASE_TIME,  # 08:00 UTC is 04:00 in New York (EDT)
        status=OrderStatus.IN_TRANSIT,
        total_amount=Decimal("59.95"),
    )
    for name in ("Invisible Socks", "Wool Scarf", "Gift Box"):
        OrderLineFactory(order=order, product_name=name)

    response = owner_client.get(reverse("order_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert list_ids(response) == ["576461413038785752"]
    assert f'<a href="/orders/{order.public_id}/">576461413038785752</a>' in html
    assert '<span class="badge">Alpha Socks</span>' in html
    assert '<time datetime="2026-09-12T04:00:00-04:00">12 Sep 2026, 04:00 EDT</time>' in html
    assert '<span class="pill pill-open">In transit</span>' in html
    assert 'Invisible Socks <span class="muted">+2 more</span>' in html
    assert '<span class="money">$59.95</span>' in html


def follow(client, response, rel: str):
    """Follow the list's "Older" (rel=next) or "Newer" (rel=prev) link; None when there is none."""
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    if found is None:
        return None
    return client.get(reverse("order_list") + html.unescape(found.group(1)))


def test_list_is_newest_first_and_paginated(owner_client, alpha):
    orders = [
        OrderFactory(store=alpha, placed_at=BASE_TIME + timedelta(hours=n)) for n in range(52)
    ]
    newest_first = [o.external_id for o in reversed(orders)]

    first = owner_client.get(reverse("order_list"))
    second = follow(owner_client, first, "next")

    assert list_ids(first) == newest_first[:50]
    assert list_ids(second) == newest_first[50:]
    assert '<span class="muted small">52 orders</span>' in first.content.decode()
    assert follow(owner_client, second, "next") is None  # the last page
    assert 'rel="prev"' not in first.content.decode()  # the first page
    back = follow(owner_client, second, "prev")
    assert list_ids(back) == newest_first[:50]


def test_paging_neither_skips_nor_repeats_orders_placed_at_the_same_second(
    owner_client, alpha, monkeypatch
):
    monkeypatch.setattr("orders.views.ORDERS_PER_PAGE", 4)
    at = [BASE_TIME + timedelta(hours=n) for n in (1, 2, 2, 2, 2, 2, 3, 3, 4, 5)]
    orders = [OrderFactory(store=alpha, placed_at=when) for when in at]
    expected = [o.external_id for o in sorted(orders, key=lambda o: (o.placed_at, o.pk))][::-1]

    pages = [owner_client.get(reverse("order_list"))]
    while (older := follow(owner_client, pages[-1], "next")) is not None:
        pages.append(older)
    assert [list_ids(page) for page in pages] == [expected[0:4], expected[4:8], expected[8:10]]

    backwards = [pages[-1]]
    while (newer := follow(owner_client, backwards[-1], "prev")) is not None:
        backwards.append(newer)
    assert [list_ids(page) for page in backwards] == [expected[8:10], expected[4:8], expected[0:4]]


def test_a_forged_page_position_shows_the_first_page(owner_client, alpha):
    OrderFactory(store=alpha, external_id="100")
    for forged in ("2026-09-12T08:00:00+00:00", "garbage", "WyIyMDI2Il0:bad:signature"):
        response = owner_client.get(reverse("order_list"), {"before": forged})
        assert response.status_code == 200
        assert list_ids(response) == ["100"]


def test_pages_keep_the_filters(owner_client, alpha):
    for n in range(51):
        OrderFactory(store=alpha, placed_at=BASE_TIME + timedelta(hours=n))

    response = owner_client.get(reverse("order_list"), {"status": "AWAITING_SHIPMENT"})

    assert re.search(
        r'rel="next" href="\?status=AWAITING_SHIPMENT&amp;before=[^"]+"', response.content.decode()
    )
    assert len(list_ids(follow(owner_client, response, "next"))) == 1


def test_the_count_stops_at_ten_thousand(owner_client, alpha, monkeypatch):
    monkeypatch.setattr("orders.views.ORDERS_COUNT_CAP", 4)  # "3+" past three, as 10,000+
    for _ in range(5):
        OrderFactory(store=alpha)
    assert "3+ orders" in owner_client.get(reverse("order_list")).content.decode()


def test_filter_by_store(owner_client, alpha, beta):
    OrderFactory(store=alpha, external_id="100")
    OrderFactory(store=beta, external_id="200")

    response = owner_client.get(reverse("order_list"), {"store": str(beta.public_id)})

    assert list_ids(response) == ["200"]


def test_filter_by_status(owner_client, alpha):
    OrderFactory(store=alpha, external_id="100", status=OrderStatus.CANCELLED)
    OrderFactory(store=alpha, external_id="200", status=OrderStatus.DELIVERED)
    OrderFactory(store=alpha, external_id="300", status=OrderStatus.CANCELLED)

    response = owner_client.get(reverse("order_list"), {"status": "CANCELLED"})

    assert list_ids(response) == ["300", "100"]


def test_status_choices_are_the_contracts_values(owner_client):
    response = owner_client.get(reverse("order_list"))
    select = response.content.decode().split('<select name="status"')[1].split("</select>")[0]
    choices = re.findall(r'<option value="([A-Z_]*)"', select)
    assert choices == [
        "",
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    ]


def test_date_range_is_whole_days_in_the_tenants_zone(owner_client, alpha):
    # New York days: 11 Sep 23:59 EDT is 12 Sep 03:59 UTC; 13 Sep 00:00 EDT is 13 Sep 04:00 UTC.
    OrderFactory(store=alpha, external_id="before", placed_at=BASE_TIME - timedelta(minutes=241))
    OrderFactory(store=alpha, external_id="first", placed_at=BASE_TIME - timedelta(minutes=240))
    OrderFactory(store=alpha, external_id="last", placed_at=BASE_TIME + timedelta(hours=20))
    OrderFactory(store=alpha, external_id="after", placed_at=BASE_TIME + timedelta(hours=44))

    response = owner_client.get(
        reverse("order_list"), {"placed_from": "2026-09-12", "placed_to": "2026-09-13"}
    )

    assert list_ids(response) == ["last", "first"]


def test_a_reversed_date_range_says_so(owner_client, alpha):
    OrderFactory(store=alpha, external_id="100")

    response = owner_client.get(
        reverse("order_list"), {"placed_from": "2026-09-12", "placed_to": "2026-09-11"}
    )

    assert "The end date is before the start date." in response.content.decode()
    assert list_ids(response) == ["100"]  # the valid start date alone still applies


def test_filters_that_match_nothing_say_so(owner_client, alpha):
    OrderFactory(store=alpha, status=OrderStatus.DELIVERED)

    response = owner_client.get(reverse("order_list"), {"status": "UNPAID"})

    assert list_ids(response) == []
    assert "No orders match these filters" in response.content.decode()


def test_another_tenants_store_cannot_be_chosen(owner_client, alpha, rival_order):
    OrderFactory(store=alpha, external_id="100")

    response = owner_client.get(reverse("order_list"), {"store": str(rival_order.store.public_id)})

    html = response.content.decode()
    assert "Select a valid choice." in html
    assert "Rival" not in html
    assert list_ids(response) == ["100"]


def test_search_by_exact_id_finds_an_order_in_any_of_the_users_stores(owner_client, alpha, beta):
    OrderFactory(store=alpha, external_id="576461413038785752")
    OrderFactory(store=beta, external_id="576461413038785753")

    response = owner_client.get(reverse("order_list"), {"q": " 576461413038785753 "})

    assert list_ids(response) == ["576461413038785753"]
    assert "Beta Scarves" in response.content.decode()


def test_search_is_exact_not_a_prefix(owner_client, alpha):
    OrderFactory(store=alpha, external_id="576461413038785752")

    response = owner_client.get(reverse("order_list"), {"q": "5764614130387857"})

    assert list_ids(response) == []
    assert (
        'Order <span class="mono">5764614130387857</span> is not synced in Sellerdesk (yet).'
        in response.content.decode()
    )


def test_text_that_is_no_order_id_is_searched_without_asking_any_store(owner_client, alpha):
    # Punctuation makes it a search of words (search.query), not an order id to look up live.
    response = owner_client.get(reverse("order_list"), {"q": "1,2"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "No orders match “1,2”" in html
    assert "in your stores" not in html


def test_the_list_never_shows_another_tenants_orders(owner_client, alpha, rival_order):
    OrderFactory(store=alpha, external_id="100")

    assert list_ids(owner_client.get(reverse("order_list"))) == ["100"]
    alpha.status = StoreStatus.DISCONNECTED
    alpha.save()
    searched = owner_client.get(reverse("order_list"), {"q": "999"})
    assert list_ids(searched) == []


def test_an_agent_limited_to_one_store_sees_only_its_orders(limited_agent_client, alpha, beta):
    OrderFactory(store=alpha, external_id="100")
    OrderFactory(store=beta, external_id="200")

    response = limited_agent_client.get(reverse("order_list"))

    assert list_ids(response) == ["100"]
    html = response.content.decode()
    assert "Beta Scarves" not in html  # not even as a filter choice
    by_store = limited_agent_client.get(reverse("order_list"), {"store": str(beta.public_id)})
    assert "Select a valid choice." in by_store.content.decode()


def test_an_agent_limited_to_one_store_cannot_find_the_others_orders(
    limited_agent_client, alpha, beta
):
    OrderFactory(store=beta, external_id="200")
    alpha.status = StoreStatus.DISCONNECTED
    alpha.save()

    response = limited_agent_client.get(reverse("order_list"), {"q": "200"})

    assert list_ids(response) == []
    assert (
        'Order <span class="mono">200</span> is not synced in Sellerdesk (yet).'
        in response.content.decode()
    )


def test_the_list_takes_the_same_queries_whatever_the_page_size(
    owner_client, alpha, beta, django_assert_num_queries
):
    def add_orders(count: int) -> None:
        for n in range(count):
            order = OrderFactory(store=alpha if n % 2 else beta)
            OrderLineFactory.create_batch(3, order=order)

    owner_client.get(reverse("order_list"))  # the first request of a session also saves it
    add_orders(3)
    with CaptureQueriesContext(connection) as few:
        response = owner_client.get(reverse("order_list"))
    assert len(list_ids(response)) == 3
    add_orders(40)

    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("order_list"))

    assert len(list_ids(response)) == 43
    order_queries = [q["sql"] for q in few.captured_queries if '"orders_' in q["sql"]]
    assert len(order_queries) == 3  # the count, the page, and every line of the page at once


def test_the_empty_list_points_to_the_stores_page(owner_client):
    html = owner_client.get(reverse("order_list")).content.decode()
    assert "No orders yet" in html
    assert f'href="{reverse("store_list")}">Go to Stores</a>' in html


def test_money_is_written_with_its_currency():
    assert money(Decimal("59.95"), "USD") == "$59.95"
    assert money(Decimal("12"), "GBP") == "£12.00"
    assert money(Decimal("1250000"), "IDR") == "Rp1,250,000.00"
    assert money(Decimal("-5.5"), "EUR") == "-€5.50"
    assert money(Decimal("99.90"), "CZK") == "99.90 CZK"
    assert money(None, "USD") == ""


def test_platform_codes_are_written_as_words():
    assert readable("RESPOND_RETURN_REQUEST") == "Respond return request"
    assert readable("DELIVERED") == "Delivered"
    assert readable("Damaged by UPS") == "Damaged by UPS"
    assert readable("") == ""


# --- The order page -------------------------------------------------------------------------------


@pytest.fixture
def full_order(alpha):
    order = OrderFactory(
        store=alpha,
        external_id="576461413038785752",
        buyer_user_id="7021436810468230477",
        status=OrderStatus.AWAITING_COLLECTION,
        placed_at=BASE_TIME,
        paid_at=BASE_TIME + timedelta(minutes=2),
        currency="USD",
        sub_total=Decimal("54.95"),
        shipping_fee=Decimal("5.00"),
        total_amount=Decimal("59.95"),
        payment_method="CCDC",
        buyer_message="Please gift wrap",
        cancel_reason="",
        city="Los Angeles",
        state="California",
        postal_code="90001",
        country="US",
        delivery_option_name="Standard shipping",
        shipping_provider="USPS",
        tracking_number="9400111899223197428490",
    )
    OrderLineFactory(
        order=order,
        product_name="Invisible Socks",
        sku_name="Red, M",
        seller_sku="SOCK-RED-M",
        image_url="https://img.example/socks.png",
        display_status="TO_SHIP",
        original_price=Decimal("29.95"),
        sale_price=Decimal("24.95"),
    )
    OrderLineFactory(
        order=order,
        product_name="Wool Scarf",
        sku_name="Grey",
        seller_sku="SCARF-GREY",
        original_price=Decimal("30.00"),
        sale_price=Decimal("30.00"),
    )
    return order


def test_order_page_overview(owner_client, full_order):
    response = owner_client.get(detail_url(full_order))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<dt>Order ID</dt><dd class="mono">576461413038785752</dd>' in html
    assert (
        '<dt>Placed</dt><dd><time datetime="2026-09-12T04:00:00-04:00" data-absolute>'
        "12 Sep 2026, 04:00 EDT</time></dd>"
    ) in html
    assert '<dd><span class="pill pill-open">Awaiting collection</span></dd>' in html
    assert '<dt>Subtotal</dt><dd class="money">$54.95</dd>' in html
    assert '<dt>Shipping</dt><dd class="money">$5.00</dd>' in html
    assert '<dt>Total</dt><dd class="money">$59.95</dd>' in html
    assert "<dt>Buyer's message</dt><dd>Please gift wrap</dd>" in html
    assert (
        '<img class="product-thumb" src="https://img.example/socks.png" alt="" width="40" '
        'height="40" loading="lazy">Invisible Socks <span class="muted">· Red, M</span>'
    ) in html
    assert '<td class="mono">SOCK-RED-M</td>\n            <td>To ship</td>' in html
    assert (
        '<span class="money">$24.95</span> <s class="muted money">$29.95</s>' in html
    )  # discounted
    assert '<span class="money">$30.00</span></td>' in html  # not discounted: one price


def test_order_page_shipping(owner_client, full_order):
    html = owner_client.get(detail_url(full_order)).content.decode()

    assert "<dt>Ships to</dt><dd>Los Angeles, California, 90001, US</dd>" in html
    assert "<dt>Delivery option</dt><dd>Standard shipping</dd>" in html
    assert "<dt>Carrier</dt><dd>USPS</dd>" in html
    assert 'data-copy="9400111899223197428490"' in html
    # The stored tracking, shown in the page (no request to the platform to draw it).
    assert '<p class="muted">Tracking has not been fetched from TikTok Shop yet.</p>' in html
    refresh_url = reverse("order_tracking_refresh", args=[full_order.public_id])
    assert f'<form method="post" action="{refresh_url}"' in html  # works without JavaScript


def test_tracking_of_an_order_that_has_not_shipped_asks_no_store(owner_client, alpha):
    order = OrderFactory(store=alpha, status=OrderStatus.AWAITING_SHIPMENT, tracking_number="")
    OrderLineFactory(order=order, tracking_number="")
    url = reverse("order_tracking", args=[order.public_id])

    response = owner_client.get(url, headers={"HX-Request": "true"})  # store_api would raise

    assert response.status_code == 200
    assert (
        '<p class="muted">No tracking events yet: the order has not shipped.</p>'
        in response.content.decode()
    )


def test_order_page_money_in_pounds(owner_client, beta):
    order = OrderFactory(store=beta, currency="GBP", total_amount=Decimal("12.00"))
    html = owner_client.get(detail_url(order)).content.decode()
    assert '<dt>Total</dt><dd class="money">£12.00</dd>' in html


def test_order_page_cancellation(owner_client, full_order):
    cancellation = CancellationFactory(
        store=full_order.store,
        order_external_id=full_order.external_id,
        status="CANCELLATION_REQUEST_PENDING",
        cancel_type="BUYER_CANCEL",
        role="BUYER",
        reason="No longer needed",
        requested_at=BASE_TIME + timedelta(hours=1),
        currency="USD",
        refund_total=Decimal("59.95"),
        seller_next_action="RESPOND_CANCELLATION",
        seller_next_action_deadline=BASE_TIME + timedelta(days=2),
    )
    CancellationLineFactory(
        cancellation=cancellation, product_name="Invisible Socks", refund_total=Decimal("24.95")
    )
    CancellationFactory(store=full_order.store, order_external_id="another order")

    html = owner_client.get(detail_url(full_order)).content.decode()

    section = html.split('id="cancellation-title"')[1].split("</section>")[0]
    assert section.count('class="mini-card"') == 1
    assert "<dt>Status</dt><dd>Request pending</dd>" in section
    assert "<dt>Type</dt><dd>Buyer cancellation request</dd>" in section
    assert "<dt>Requested by</dt><dd>Buyer</dd>" in section
    assert "<dt>Reason</dt><dd>No longer needed</dd>" in section  # words stay as they are
    assert '<dt>Refund</dt><dd class="money">$59.95</dd>' in section
    assert (
        "<dt>Your next step</dt><dd>Respond cancellation by "
        '<time datetime="2026-09-14T04:00:00-04:00" data-absolute>14 Sep 2026, 04:00 EDT</time>'
    ) in section
    assert 'Invisible Socks (<span class="money">$24.95</span>)' in section


def test_order_page_returns_and_refunds(owner_client, full_order):
    refund = ReturnFactory(
        store=full_order.store,
        order_external_id=full_order.external_id,
        return_type="RETURN_AND_REFUND",
        status="AWAITING_BUYER_SHIP",
        reason="ecom_order_delivered_refund_and_return_reason_wrong_size",
        reason_text="Wrong size",
        currency="USD",
        refund_total=Decimal("29.95"),
        refund_subtotal=Decimal("24.95"),
        refund_shipping_fee=Decimal("5.00"),
        seller_next_action="RECEIVE_PACKAGE",
        seller_next_action_deadline=BASE_TIME + timedelta(days=7),
    )
    ReturnLineFactory(return_request=refund, product_name="Invisible Socks", sku_name="Red, M")

    html = owner_client.get(detail_url(full_order)).content.decode()

    section = html.split('id="returns-title"')[1].split("</section>")[0]
    assert "<dt>Status</dt><dd>Awaiting buyer shipment</dd>" in section
    assert "<dt>Type</dt><dd>Return and refund</dd>" in section
    assert (
        '<dt>Reason</dt><dd title="ecom_order_delivered_refund_and_return_reason_wrong_size">'
        "Wrong size</dd>"
    ) in section
    assert (
        '<dt>Refund</dt><dd><span class="money">$29.95</span> '
        '<span class="muted small">(items $24.95, shipping $5.00)</span></dd>'
    ) in section
    assert (
        "<dt>Your next step</dt><dd>Receive package by "
        '<time datetime="2026-09-19T04:00:00-04:00" data-absolute>19 Sep 2026, 04:00 EDT</time>'
    ) in section
    assert "<dt>Items</dt><dd>Invisible Socks · Red, M</dd>" in section


def test_order_page_without_after_sales_says_so(owner_client, full_order):
    html = owner_client.get(detail_url(full_order)).content.decode()
    assert "No cancellation requested." in html
    assert "No return or refund requested." in html


def test_order_page_lists_the_buyers_other_orders_in_this_store(owner_client, full_order, beta):
    older = OrderFactory(
        store=full_order.store,
        external_id="111",
        buyer_user_id=full_order.buyer_user_id,
        placed_at=BASE_TIME - timedelta(days=3),
        total_amount=Decimal("9.50"),
        status=OrderStatus.COMPLETED,
    )
    OrderLineFactory(order=older, product_name="Ankle Socks")
    OrderFactory(store=full_order.store, external_id="222", buyer_user_id="someone else")
    OrderFactory(store=beta, external_id="333", buyer_user_id=full_order.buyer_user_id)

    html = owner_client.get(detail_url(full_order)).content.decode()

    section = html.split('id="buyer-orders-title"')[1].split("</section>")[0]
    assert re.findall(r'class="order-id"><a href="[^"]+">(\d+)</a>', section) == ["111"]
    assert '<span class="pill pill-solved">Completed</span>' in section
    assert '<span class="money">$9.50</span>' in section
    assert "Ankle Socks" in section


def test_order_page_of_another_tenant_is_404(owner_client, rival_order):
    assert owner_client.get(detail_url(rival_order)).status_code == 404


def test_bad_order_ids_are_404(owner_client, alpha):
    OrderFactory(store=alpha)
    assert owner_client.get("/orders/not-a-uuid/").status_code == 404
    assert owner_client.get(f"/orders/{uuid.uuid4()}/").status_code == 404
    assert owner_client.get(f"/orders/{uuid.uuid4()}/tracking/").status_code == 404
    assert owner_client.post(f"/orders/{uuid.uuid4()}/tracking/refresh/").status_code == 404
    assert owner_client.post(f"/orders/{uuid.uuid4()}/note/", {"note": "x"}).status_code == 404


def test_agent_limited_to_one_store_gets_404_for_the_other_stores_order(
    limited_agent_client, alpha, beta
):
    theirs = OrderFactory(store=alpha)
    other = OrderFactory(store=beta)

    assert limited_agent_client.get(detail_url(theirs)).status_code == 200
    assert limited_agent_client.get(detail_url(other)).status_code == 404
    tracking = reverse("order_tracking", args=[other.public_id])
    assert limited_agent_client.get(tracking).status_code == 404
    note = reverse("order_note_update", args=[other.public_id])
    assert limited_agent_client.post(note, {"note": "mine now"}).status_code == 404
    other.refresh_from_db()
    assert other.internal_note == ""


def test_another_tenant_gets_404_on_every_order_url(client, other_owner, full_order):
    client.force_login(other_owner)
    public_id = full_order.public_id

    assert client.get(reverse("order_detail", args=[public_id])).status_code == 404
    assert client.get(reverse("order_tracking", args=[public_id])).status_code == 404
    refresh = client.post(reverse("order_tracking_refresh", args=[public_id]))
    assert refresh.status_code == 404
    response = client.post(reverse("order_note_update", args=[public_id]), {"note": "hello"})
    assert response.status_code == 404
    full_order.refresh_from_db()
    assert full_order.internal_note == ""
    assert not AuditEvent.objects.filter(action="order.note_updated").exists()
    # ...and the list and search never show it either.
    assert list_ids(client.get(reverse("order_list"))) == []
    assert list_ids(client.get(reverse("order_list"), {"q": full_order.external_id})) == []


def test_signed_out_people_are_sent_to_sign_in(client, full_order):
    response = client.get(detail_url(full_order))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The internal note ----------------------------------------------------------------------------


def test_an_agent_edits_the_internal_note(agent_client, agent, full_order):
    url = reverse("order_note_update", args=[full_order.public_id])

    response = agent_client.post(url, {"note": "  Customer called: ship Monday.  "})

    assert response.status_code == 302
    assert response["Location"] == detail_url(full_order) + "#note"
    full_order.refresh_from_db()
    assert full_order.internal_note == "Customer called: ship Monday."
    assert full_order.internal_note_updated_by == agent
    event = AuditEvent.objects.get(action="order.note_updated")
    assert event.actor == agent
    assert event.tenant_id == full_order.tenant_id
    assert event.detail == {
        "order": "576461413038785752",
        "order_public_id": str(full_order.public_id),
        "store": str(full_order.store.public_id),
        "before": "",
        "after": "Customer called: ship Monday.",
    }
    page = agent_client.get(response["Location"]).content.decode()
    assert "Internal note saved." in page
    assert "\nCustomer called: ship Monday.</textarea>" in page
    assert "Last edited by" in page


def test_a_note_too_long_keeps_the_text_and_saves_nothing(agent_client, full_order):
    url = reverse("order_note_update", args=[full_order.public_id])
    text = "x" * 5001

    response = agent_client.post(url, {"note": text})

    assert response.status_code == 400
    html = response.content.decode()
    assert f"\n{text}</textarea>" in html
    assert "Ensure this value has at most 5000 characters (it has 5001)." in html
    full_order.refresh_from_db()
    assert full_order.internal_note == ""
    assert not AuditEvent.objects.filter(action="order.note_updated").exists()


def test_the_note_page_needs_a_post(agent_client, full_order):
    url = reverse("order_note_update", args=[full_order.public_id])
    assert agent_client.get(url).status_code == 405


def test_a_note_saved_meanwhile_by_someone_else_is_not_overwritten(
    agent_client, agent, tenant, full_order
):
    page = agent_client.get(detail_url(full_order)).content.decode()
    seen = note_version_in(page)
    assert seen == ""  # never edited
    teammate = member(tenant, Role.AGENT, email="sam@acme.test")
    teammate.user.first_name, teammate.user.last_name = "Sam", "Lee"
    teammate.user.save()
    teammate_client = Client()
    teammate_client.force_login(teammate.user)
    url = reverse("order_note_update", args=[full_order.public_id])
    assert (
        teammate_client.post(url, {"note": "Refund approved", "version": seen}).status_code == 302
    )

    response = agent_client.post(url, {"note": "Buyer wants a refund", "version": seen})

    assert response.status_code == 409
    html = response.content.decode()
    assert "\nBuyer wants a refund</textarea>" in html  # what this agent typed is kept
    assert 'Saved meanwhile by Sam Lee:</p>\n        <p class="mb-0">Refund approved</p>' in html
    assert "Sam Lee saved this note while you were editing it." in html
    full_order.refresh_from_db()
    assert full_order.internal_note == "Refund approved"
    assert AuditEvent.objects.filter(action="order.note_updated").count() == 1

    # Saving again from the conflict page (it carries the new version) goes through.
    current = note_version_in(html)
    assert current == full_order.internal_note_updated_at.isoformat()
    again = agent_client.post(url, {"note": "Refund approved; buyer informed", "version": current})
    assert again.status_code == 302
    full_order.refresh_from_db()
    assert full_order.internal_note == "Refund approved; buyer informed"
    assert full_order.internal_note_updated_by == agent
