"""Hostile dates on the Orders list: year-1 and far-future days are refused with the field's own
error (the list shows unfiltered), never a 500; forged page positions mean the first page."""

from __future__ import annotations

import pytest
from django.core import signing
from django.urls import reverse

from orders.views import CURSOR_SALT
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def tenant(tenant):
    tenant.time_zone = "Pacific/Kiritimati"  # UTC+14: year 1 there is year 0 in UTC
    tenant.save(update_fields=["time_zone"])
    return tenant


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"placed_from": "0001-01-01"}, "placed_from"),
        ({"placed_to": "9999-12-31"}, "placed_to"),
        ({"placed_from": "9999-12-31"}, "placed_from"),
        ({"placed_to": "0001-01-01"}, "placed_to"),
        ({"placed_from": "0001-01-01", "placed_to": "9999-12-31"}, "placed_from"),
    ],
)
def test_a_day_out_of_range_is_a_field_error_not_a_500(owner_client, tenant, params, field):
    order = OrderFactory(store=StoreFactory(tenant=tenant))

    response = owner_client.get(reverse("order_list"), params)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose a day between 1 January 2000 and 31 December 2999." in page
    assert response.context["form"].errors[field] == [
        "Choose a day between 1 January 2000 and 31 December 2999."
    ]
    assert order.external_id in page  # the refused day filters nothing out


@pytest.mark.parametrize(
    "position",
    [
        ["0001-01-01T00:00:00+14:00", 1],
        ["9999-12-31T23:59:59-14:00", 1],
        ["2026-09-12T08:00:00+00:00", 2**70],
        ["2026-09-12T08:00:00", 1],
    ],
)
@pytest.mark.parametrize("direction", ["before", "after"])
def test_a_signed_but_absurd_position_means_the_first_page(
    owner_client, tenant, position, direction
):
    order = OrderFactory(store=StoreFactory(tenant=tenant))
    token = signing.dumps(position, salt=CURSOR_SALT)

    response = owner_client.get(reverse("order_list"), {direction: token})

    assert response.status_code == 200
    assert order.external_id in response.content.decode()


def test_a_product_picture_that_is_not_http_is_not_a_source(owner_client, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant))
    OrderLineFactory(order=order, image_url="javascript:alert(document.cookie)")
    OrderLineFactory(order=order, image_url="https://img.example.test/socks.jpg")

    page = owner_client.get(reverse("order_detail", args=[order.public_id])).content.decode()

    assert "javascript:" not in page
    assert page.count('class="product-thumb"') == 1
    assert 'src="https://img.example.test/socks.jpg"' in page
