"""Order selectors: tenant scoping, store limits for agents, filters, and 404 access helpers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.http import Http404

from marketplaces.models import StoreAccess
from orders import selectors
from orders.models import OrderStatus
from tenants.models import Role
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


@pytest.fixture
def alpha(tenant):
    return StoreFactory(tenant=tenant, name="Alpha")


@pytest.fixture
def beta(tenant):
    return StoreFactory(tenant=tenant, name="Beta")


@pytest.fixture
def rival_order(other_tenant):
    return OrderFactory(store=StoreFactory(tenant=other_tenant), external_id="999000111")


@pytest.fixture
def limited_agent(tenant, alpha):
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=alpha)
    return agent


def ids(orders) -> list[str]:
    return [order.external_id for order in orders]


# --- order_get ----------------------------------------------------------------------------------


def test_order_get_returns_our_order_with_its_lines(tenant, alpha):
    order = OrderFactory(store=alpha)
    OrderLineFactory(order=order, external_id="L2", product_name="Socks")
    OrderLineFactory(order=order, external_id="L1", product_name="Scarf")

    found = selectors.order_get(tenant=tenant, public_id=order.public_id)

    assert found == order
    assert [line.external_id for line in found.lines.all()] == ["L2", "L1"]


def test_order_get_of_another_tenants_order_is_404(tenant, alpha, rival_order):
    with pytest.raises(Http404):
        selectors.order_get(tenant=tenant, public_id=rival_order.public_id)


@pytest.mark.parametrize("public_id", ["nope", None, uuid.UUID(int=1)])
def test_order_get_with_a_bad_or_unknown_id_is_404(tenant, alpha, public_id):
    OrderFactory(store=alpha)

    with pytest.raises(Http404):
        selectors.order_get(tenant=tenant, public_id=public_id)


def test_an_agent_limited_to_one_store_gets_404_for_the_other_stores_order(
    tenant, alpha, beta, limited_agent
):
    mine, theirs = OrderFactory(store=alpha), OrderFactory(store=beta)

    assert selectors.order_get(tenant=tenant, public_id=mine.public_id, membership=limited_agent)
    with pytest.raises(Http404):
        selectors.order_get(tenant=tenant, public_id=theirs.public_id, membership=limited_agent)


def test_a_membership_of_another_tenant_gets_404(tenant, other_tenant, alpha):
    order = OrderFactory(store=alpha)
    outsider = member(other_tenant, Role.OWNER)

    with pytest.raises(Http404):
        selectors.order_get(tenant=tenant, public_id=order.public_id, membership=outsider)
    assert list(selectors.orders_of_tenant(tenant=tenant, membership=outsider)) == []


# --- Lists and search ---------------------------------------------------------------------------


def test_orders_of_tenant_newest_first_and_only_ours(tenant, alpha, beta, rival_order):
    OrderFactory(store=alpha, external_id="A1", placed_at=BASE_TIME)
    OrderFactory(store=beta, external_id="B1", placed_at=BASE_TIME + timedelta(hours=1))
    OrderFactory(store=alpha, external_id="A2", placed_at=BASE_TIME + timedelta(hours=2))

    assert ids(selectors.orders_of_tenant(tenant=tenant)) == ["A2", "B1", "A1"]


def test_orders_of_tenant_filters_by_store_status_and_dates(tenant, alpha, beta):
    OrderFactory(store=alpha, external_id="A1", placed_at=BASE_TIME)
    OrderFactory(
        store=alpha,
        external_id="A2",
        placed_at=BASE_TIME + timedelta(days=1),
        status=OrderStatus.DELIVERED,
    )
    OrderFactory(store=beta, external_id="B1", placed_at=BASE_TIME + timedelta(days=2))

    assert ids(selectors.orders_of_tenant(tenant=tenant, store=alpha)) == ["A2", "A1"]
    assert ids(selectors.orders_of_tenant(tenant=tenant, status=OrderStatus.DELIVERED)) == ["A2"]
    assert ids(
        selectors.orders_of_tenant(
            tenant=tenant,
            placed_from=BASE_TIME + timedelta(days=1),
            placed_before=BASE_TIME + timedelta(days=2),
        )
    ) == ["A2"]


def test_a_limited_agent_lists_only_orders_of_their_store(tenant, alpha, beta, limited_agent):
    OrderFactory(store=alpha, external_id="A1")
    OrderFactory(store=beta, external_id="B1")
    teammate = member(tenant, Role.AGENT)

    assert ids(selectors.orders_of_tenant(tenant=tenant, membership=limited_agent)) == ["A1"]
    assert sorted(ids(selectors.orders_of_tenant(tenant=tenant, membership=teammate))) == [
        "A1",
        "B1",
    ]


def test_order_find_searches_every_visible_store_by_exact_id(tenant, alpha, beta, limited_agent):
    in_beta = OrderFactory(store=beta, external_id="576461413038785752")

    assert selectors.order_find(tenant=tenant, external_id=" 576461413038785752 ") == in_beta
    assert selectors.order_find(tenant=tenant, external_id="57646141303878575") is None
    assert selectors.order_find(tenant=tenant, external_id="") is None
    assert (
        selectors.order_find(
            tenant=tenant, external_id="576461413038785752", membership=limited_agent
        )
        is None
    )


def test_order_find_never_finds_another_tenants_order(tenant, alpha, rival_order):
    assert selectors.order_find(tenant=tenant, external_id="999000111") is None


def test_orders_of_buyer_in_this_store_newest_first(tenant, alpha, beta, other_tenant):
    current = OrderFactory(store=alpha, external_id="A1", buyer_user_id="buyer-1")
    OrderFactory(
        store=alpha, external_id="A2", buyer_user_id="buyer-1", placed_at=BASE_TIME - timedelta(1)
    )
    OrderFactory(
        store=alpha, external_id="A3", buyer_user_id="buyer-1", placed_at=BASE_TIME + timedelta(9)
    )
    OrderFactory(store=alpha, external_id="A4", buyer_user_id="buyer-2")
    OrderFactory(store=beta, external_id="B1", buyer_user_id="buyer-1")

    others = selectors.orders_of_buyer(
        tenant=tenant, store=alpha, buyer_user_id="buyer-1", exclude=current
    )

    assert ids(others) == ["A3", "A2"]
    assert (
        selectors.orders_of_buyer(tenant=other_tenant, store=alpha, buyer_user_id="buyer-1") == []
    )
    assert selectors.orders_of_buyer(tenant=tenant, store=alpha, buyer_user_id="") == []


def test_returns_and_cancellations_of_an_order_come_from_its_store_only(tenant, alpha, beta):
    order = OrderFactory(store=alpha, external_id="576461413038785752")
    refund = ReturnFactory(store=alpha, order_external_id="576461413038785752")
    ReturnLineFactory(return_request=refund, external_id="RL1")
    ReturnFactory(store=beta, order_external_id="576461413038785752")  # same id, other store
    ReturnFactory(store=alpha, order_external_id="111")
    cancel = CancellationFactory(store=alpha, order_external_id="576461413038785752")
    CancellationLineFactory(cancellation=cancel, external_id="CL1")
    CancellationFactory(store=beta, order_external_id="576461413038785752")

    returns = list(selectors.returns_of_order(tenant=tenant, order=order))
    cancellations = list(selectors.cancellations_of_order(tenant=tenant, order=order))

    assert returns == [refund]
    assert [line.external_id for line in returns[0].lines.all()] == ["RL1"]
    assert cancellations == [cancel]
    assert [line.external_id for line in cancellations[0].lines.all()] == ["CL1"]


def test_returns_of_order_with_another_tenant_is_empty(tenant, other_tenant, alpha):
    order = OrderFactory(store=alpha, external_id="576461413038785752")
    ReturnFactory(store=alpha, order_external_id="576461413038785752")
    CancellationFactory(store=alpha, order_external_id="576461413038785752")

    assert list(selectors.returns_of_order(tenant=other_tenant, order=order)) == []
    assert list(selectors.cancellations_of_order(tenant=other_tenant, order=order)) == []


def test_order_list_query_count_does_not_grow_with_the_page(
    tenant, alpha, beta, django_assert_num_queries
):
    for _ in range(5):
        OrderFactory(store=alpha)
        OrderFactory(store=beta)

    with django_assert_num_queries(1):
        names = [order.store.name for order in selectors.orders_of_tenant(tenant=tenant)[:10]]

    assert sorted(set(names)) == ["Alpha", "Beta"]
