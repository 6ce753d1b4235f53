"""Orders data model: uniqueness per store, exact money, statuses kept as sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.models import (
    CancellationStatus,
    Order,
    OrderStatus,
    ReturnStatus,
)
from tests.factories_marketplaces import (
    CancellationFactory,
    CancellationLineFactory,
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    ReturnLineFactory,
    StoreFactory,
)


def test_an_order_id_is_unique_within_a_store(tenant):
    store = StoreFactory(tenant=tenant)
    OrderFactory(store=store, external_id="576461413038785752")

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(store=store, external_id="576461413038785752")


def test_the_same_order_id_may_exist_in_two_stores(tenant, other_tenant):
    OrderFactory(store=StoreFactory(tenant=tenant), external_id="576461413038785752")
    OrderFactory(store=StoreFactory(tenant=tenant), external_id="576461413038785752")
    OrderFactory(store=StoreFactory(tenant=other_tenant), external_id="576461413038785752")

    assert Order.objects.filter(external_id="576461413038785752").count() == 3


@pytest.mark.parametrize("factory", [ReturnFactory, CancellationFactory])
def test_returns_and_cancellations_are_unique_within_a_store(tenant, factory):
    store = StoreFactory(tenant=tenant)
    factory(store=store, external_id="4035318504086604100")
    factory(store=StoreFactory(tenant=tenant), external_id="4035318504086604100")

    with pytest.raises(IntegrityError), transaction.atomic():
        factory(store=store, external_id="4035318504086604100")


@pytest.mark.parametrize(
    ("factory", "parent_field", "parent_factory"),
    [
        (OrderLineFactory, "order", OrderFactory),
        (ReturnLineFactory, "return_request", ReturnFactory),
        (CancellationLineFactory, "cancellation", CancellationFactory),
    ],
)
def test_lines_are_unique_within_their_parent(tenant, factory, parent_field, parent_factory):
    store = StoreFactory(tenant=tenant)
    parent = parent_factory(store=store)
    factory(**{parent_field: parent, "external_id": "577086512123755123"})
    factory(**{parent_field: parent_factory(store=store), "external_id": "577086512123755123"})

    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**{parent_field: parent, "external_id": "577086512123755123"})


def test_money_is_stored_exactly(tenant):
    order = OrderFactory(
        store=StoreFactory(tenant=tenant),
        currency="IDR",
        total_amount=Decimal("123456789012.34"),
        sub_total=Decimal("0.01"),
        tax=Decimal("21.3"),
        shipping_fee=None,
    )

    fresh = Order.objects.get(pk=order.pk)

    assert fresh.total_amount == Decimal("123456789012.34")
    assert fresh.sub_total == Decimal("0.01")
    assert fresh.tax == Decimal("21.30")
    assert fresh.shipping_fee is None  # not sent is not zero


def test_an_unknown_status_is_stored_as_sent_with_a_readable_label(tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), status="CANCEL")

    fresh = Order.objects.get(pk=order.pk)

    assert fresh.status == "CANCEL"
    assert fresh.status_label == "Cancel"


def test_known_statuses_have_their_labels(tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), status=OrderStatus.AWAITING_COLLECTION)
    refund = ReturnFactory(store=order.store, status="REFUND_OR_RETURN_REQUEST_REJECT")
    cancel = CancellationFactory(store=order.store, status="CANCELLATION_REQUEST_CANCELLED")

    assert order.status_label == "Awaiting collection"
    assert refund.status_label == "Request rejected"
    assert cancel.status_label == "Request withdrawn"


def test_status_choices_are_the_contracts_values_with_both_spellings():
    assert OrderStatus.values == [
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
    assert {"REFUND_OR_RETURN_REQUEST_REJECT", "RETURN_OR_REFUND_REQUEST_REJECT"} <= set(
        ReturnStatus.values
    )
    assert {"RETURN_OR_REFUND_REQUEST_CANCEL", "RETURN_OR_REFUND__REQUEST_CANCELLED"} <= set(
        ReturnStatus.values
    )
    assert CancellationStatus.values == [
        "CANCELLATION_REQUEST_PENDING",
        "CANCELLATION_REQUEST_SUCCESS",
        "CANCELLATION_REQUEST_CANCEL",
        "CANCELLATION_REQUEST_CANCELLED",
        "CANCELLATION_REQUEST_COMPLETE",
    ]


def test_location_is_coarse_and_has_no_personal_fields(tenant):
    order = OrderFactory(
        store=StoreFactory(tenant=tenant),
        city="San Jose",
        state="California",
        postal_code="95110",
        country="US",
    )

    assert order.location == "San Jose, California, 95110, US"
    field_names = {field.name for field in Order._meta.get_fields()}
    assert not field_names & {"name", "phone", "phone_number", "address", "full_address", "email"}
