"""orders.services: the internal note, the order lookup (database, then live), cached tracking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache

from marketplaces.adapter import store_api
from marketplaces.channel import (
    InvalidTokenError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from marketplaces.models import StoreAccess, StoreStatus
from marketplaces.tiktok.adapter import TikTokStoreAPI
from orders import services
from orders.ingest import orders_upsert
from orders.models import Order, Return
from tenants.models import AuditEvent, Membership, Role
from tests.factories_marketplaces import OrderFactory, StoreFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def owner_membership(owner) -> Membership:
    return Membership.objects.get(user=owner)


@pytest.fixture
def agent_membership(agent) -> Membership:
    return Membership.objects.get(user=agent)


class ScriptedStores:
    """Stand-in for `store_api` answering per store name, for platform answers the sandbox
    cannot be made to give (a scope refusal) or would take retries to give (a 5xx run)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, store: Any) -> ScriptedStores:
        self.store = store
        return self

    def orders_by_id(self, ids: list[str]) -> list[Any]:
        self.asked.append(self.store.name)
        answer = self.answers[self.store.name]
        if isinstance(answer, Exception):
            raise answer
        return answer


# --- order_internal_note_update -------------------------------------------------------------------


def test_note_update_saves_the_text_and_writes_an_audit_row(agent_membership, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), internal_note="old")

    changed = services.order_internal_note_update(
        order=order, note=" new text ", by=agent_membership
    )

    assert changed is True
    saved = Order.objects.get(pk=order.pk)
    assert saved.internal_note == "new text"
    assert saved.internal_note_updated_by == agent_membership.user
    assert saved.internal_note_updated_at is not None
    event = AuditEvent.objects.get(action="order.note_updated")
    assert event.detail["before"] == "old"
    assert event.detail["after"] == "new text"


def test_an_unchanged_note_writes_nothing(agent_membership, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), internal_note="same")

    changed = services.order_internal_note_update(order=order, note="same ", by=agent_membership)

    assert changed is False
    assert Order.objects.get(pk=order.pk).internal_note_updated_at is None
    assert not AuditEvent.objects.filter(action="order.note_updated").exists()


def test_a_note_changed_since_it_was_seen_raises_a_conflict(agent_membership, tenant, owner):
    order = OrderFactory(store=StoreFactory(tenant=tenant))
    seen = services.note_version(order)
    owner_membership = Membership.objects.get(user=owner)
    services.order_internal_note_update(
        order=Order.objects.get(pk=order.pk), note="first", by=owner_membership, seen_version=seen
    )

    with pytest.raises(services.NoteConflictError) as conflict:
        services.order_internal_note_update(
            order=order, note="second", by=agent_membership, seen_version=seen
        )

    assert conflict.value.order.internal_note == "first"
    assert conflict.value.order.internal_note_updated_by == owner
    assert Order.objects.get(pk=order.pk).internal_note == "first"
    assert AuditEvent.objects.filter(action="order.note_updated").count() == 1


def test_a_member_of_another_tenant_cannot_update_the_note(other_owner, tenant):
    order = OrderFactory(store=StoreFactory(tenant=tenant), internal_note="ours")
    rival = Membership.objects.get(user=other_owner)

    with pytest.raises(Order.DoesNotExist):
        services.order_internal_note_update(order=order, note="theirs", by=rival)

    assert Order.objects.get(pk=order.pk).internal_note == "ours"
    assert not AuditEvent.objects.filter(action="order.note_updated").exists()


# --- order_lookup ---------------------------------------------------------------------------------


def test_lookup_of_a_synced_order_asks_no_store(owner_membership, tenant, monkeypatch):
    order = OrderFactory(store=StoreFactory(tenant=tenant), external_id="576461413038785752")
    stores = ScriptedStores({})
    monkeypatch.setattr(services, "store_api", stores)

    lookup = services.order_lookup(membership=owner_membership, external_id="576461413038785752")

    assert lookup.order == order
    assert lookup.fetched_live is False
    assert stores.asked == []


def test_lookup_refuses_ids_that_are_not_order_ids(owner_membership, tenant, monkeypatch):
    StoreFactory(tenant=tenant, name="Alpha")
    stores = ScriptedStores({"Alpha": []})
    monkeypatch.setattr(services, "store_api", stores)

    for bad in ("1,2", "", "5764 6141", "x" * 65):
        lookup = services.order_lookup(membership=owner_membership, external_id=bad)
        assert lookup.order is None

    assert stores.asked == []


def test_lookup_names_stores_that_could_not_answer(owner_membership, tenant, monkeypatch):
    StoreFactory(tenant=tenant, name="Alpha")
    StoreFactory(tenant=tenant, name="Beta")
    StoreFactory(tenant=tenant, name="Gamma")
    StoreFactory(tenant=tenant, name="Epsilon")
    StoreFactory(tenant=tenant, name="Delta", status=StoreStatus.NEEDS_REAUTH)
    StoreFactory(tenant=tenant, name="Omega", status=StoreStatus.DISCONNECTED)
    stores = ScriptedStores(
        {
            "Alpha": UnavailableError("Internal error", code=36009003),
            "Beta": NotFoundError("Not this seller's order", code=21008111),
            "Gamma": PermissionDeniedError("Scope missing", code=105005),
            "Epsilon": InvalidTokenError("Invalid access token", code=105001),
        }
    )
    monkeypatch.setattr(services, "store_api", stores)

    lookup = services.order_lookup(membership=owner_membership, external_id="576461413038785752")

    assert lookup.order is None
    # In name order; not Delta (paused for re-authorization) nor Omega (disconnected).
    assert stores.asked == ["Alpha", "Beta", "Epsilon", "Gamma"]
    assert [(store.name, why) for store, why in lookup.unreachable] == [
        ("Alpha", "TikTok Shop did not answer"),
        ("Delta", "it needs re-authorization"),
        ("Epsilon", "TikTok Shop refused the store's access"),
        ("Gamma", "TikTok Shop refused the request"),
    ]


def test_lookup_asks_only_the_stores_a_limited_agent_serves(agent_membership, tenant, monkeypatch):
    alpha = StoreFactory(tenant=tenant, name="Alpha")
    StoreFactory(tenant=tenant, name="Beta")
    StoreAccess.objects.create(tenant=tenant, membership=agent_membership, store=alpha)
    stores = ScriptedStores({"Alpha": [], "Beta": []})
    monkeypatch.setattr(services, "store_api", stores)

    lookup = services.order_lookup(membership=agent_membership, external_id="576461413038785752")

    assert lookup.order is None
    assert stores.asked == ["Alpha"]


def test_a_live_lookup_also_brings_the_orders_returns(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    sandbox_return = next(store_api(store).return_pages(page_size=10)).items[0]
    order_id = sandbox_return.order_id
    expected = {
        r.external_id
        for page in store_api(store).return_pages(order_ids=[order_id])
        for r in page.items
    }
    owner = member(tenant, Role.OWNER)

    lookup = services.order_lookup(membership=owner, external_id=order_id)

    assert lookup.fetched_live is True
    assert lookup.order is not None and lookup.order.external_id == order_id
    stored = set(
        Return.objects.filter(store=store, order_external_id=order_id).values_list(
            "external_id", flat=True
        )
    )
    assert stored == expected
    assert sandbox_return.external_id in stored


# --- order_tracking -------------------------------------------------------------------------------


def test_tracking_is_cached_until_the_order_changes(connect_sandbox_store, tenant, monkeypatch):
    store = connect_sandbox_store(tenant=tenant)
    record = next(store_api(store).order_pages(page_size=1, status="DELIVERED")).items[0]
    orders_upsert(store=store, orders=[record])
    order = Order.objects.select_related("store").get(store=store, external_id=record.external_id)
    fetched: list[str] = []
    real = TikTokStoreAPI.tracking

    def counted(api: TikTokStoreAPI, order_id: str) -> Any:
        fetched.append(order_id)
        return real(api, order_id)

    monkeypatch.setattr(TikTokStoreAPI, "tracking", counted)

    first = services.order_tracking(order=order)
    second = services.order_tracking(order=order)
    order.updated_at += timedelta(minutes=5)  # a sync brought a newer version of the order
    third = services.order_tracking(order=order)

    assert first == second == third
    assert first[0] == services.TrackingStep("Delivered, left at front door", record.delivered_at)
    assert [step.occurred_at for step in first] == sorted(
        (step.occurred_at for step in first), reverse=True
    )
    assert fetched == [record.external_id, record.external_id]
