"""orders.services: the internal note, the order lookup (database) and fetch (live, for a POST),
stored tracking queued by a refresh and fetched by the task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

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
from orders.models import Order, OrderTracking, Return
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

    def tracking(self, order_id: str) -> list[Any]:
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


def test_lookup_of_an_unsynced_order_asks_no_store(owner_membership, tenant, monkeypatch):
    StoreFactory(tenant=tenant, name="Alpha")
    stores = ScriptedStores({"Alpha": []})
    monkeypatch.setattr(services, "store_api", stores)

    lookup = services.order_lookup(membership=owner_membership, external_id="576461413038785752")

    assert lookup.order is None
    assert lookup.asked is False
    assert stores.asked == []  # a GET's lookup reads the database only


def test_fetch_asks_only_the_tickets_store_when_given(owner_membership, tenant, monkeypatch):
    StoreFactory(tenant=tenant, name="Alpha")
    beta = StoreFactory(tenant=tenant, name="Beta")
    stores = ScriptedStores({"Alpha": [], "Beta": []})
    monkeypatch.setattr(services, "store_api", stores)

    lookup = services.order_fetch(
        membership=owner_membership, external_id="576461413038785752", store=beta
    )

    assert lookup.order is None
    assert lookup.asked is True
    assert stores.asked == ["Beta"]


def test_lookup_refuses_ids_that_are_not_order_ids(owner_membership, tenant, monkeypatch):
    StoreFactory(tenant=tenant, name="Alpha")
    stores = ScriptedStores({"Alpha": []})
    monkeypatch.setattr(services, "store_api", stores)

    for bad in ("1,2", "", "5764 6141", "x" * 65):
        lookup = services.order_fetch(membership=owner_membership, external_id=bad)
        assert lookup.order is None

    assert stores.asked == []


def test_fetch_names_stores_that_could_not_answer(owner_membership, tenant, monkeypatch):
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

    lookup = services.order_fetch(membership=owner_membership, external_id="576461413038785752")

    assert lookup.order is None
    # In name order; not Delta (paused for re-authorization) nor Omega (disconnected).
    assert stores.asked == ["Alpha", "Beta", "Epsilon", "Gamma"]
    assert [(store.name, why) for store, why in lookup.unreachable] == [
        ("Alpha", "TikTok Shop did not answer"),
        ("Delta", "it needs re-authorization"),
        ("Epsilon", "TikTok Shop refused the store's access"),
        ("Gamma", "TikTok Shop refused the request"),
    ]


def test_fetch_asks_only_the_stores_a_limited_agent_serves(agent_membership, tenant, monkeypatch):
    alpha = StoreFactory(tenant=tenant, name="Alpha")
    StoreFactory(tenant=tenant, name="Beta")
    StoreAccess.objects.create(tenant=tenant, membership=agent_membership, store=alpha)
    stores = ScriptedStores({"Alpha": [], "Beta": []})
    monkeypatch.setattr(services, "store_api", stores)

    lookup = services.order_fetch(membership=agent_membership, external_id="576461413038785752")

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

    lookup = services.order_fetch(membership=owner, external_id=order_id)

    assert lookup.fetched_live is True
    assert lookup.order is not None and lookup.order.external_id == order_id
    stored = set(
        Return.objects.filter(store=store, order_external_id=order_id).values_list(
            "external_id", flat=True
        )
    )
    assert stored == expected
    assert sandbox_return.external_id in stored


# --- Tracking: refresh queues, the task fetches and stores ----------------------------------------


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The order ids handed to the tracking task (the broker is not used here)."""
    from orders import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.fetch_tracking, "delay", sent.append)
    return sent


def test_tracking_refresh_queues_one_fetch_after_commit(
    tenant, queued, django_capture_on_commit_callbacks
):
    order = OrderFactory(store=StoreFactory(tenant=tenant), tracking_number="940011")

    with django_capture_on_commit_callbacks(execute=True):
        first = services.order_tracking_refresh(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_tracking_refresh(order=order)  # a double click: already on its way

    assert queued == [order.pk]
    assert first.pending is True
    assert first.tenant_id == tenant.pk
    assert OrderTracking.objects.get(order=order).fetched_at is None


def test_a_refresh_that_never_finished_may_be_asked_again(
    tenant, queued, django_capture_on_commit_callbacks
):
    order = OrderFactory(store=StoreFactory(tenant=tenant), tracking_number="940011")
    OrderTracking.objects.create(
        tenant=tenant, order=order, requested_at=timezone.now() - timedelta(minutes=6)
    )

    with django_capture_on_commit_callbacks(execute=True):
        tracking = services.order_tracking_refresh(order=order)

    assert queued == [order.pk]
    assert tracking.pending is True


def test_the_task_stores_the_events_newest_first(connect_sandbox_store, tenant, monkeypatch):
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
    OrderTracking.objects.create(tenant=tenant, order=order, requested_at=timezone.now())

    tracking = services.order_tracking_fetch(order_id=order.pk)

    assert fetched == [record.external_id]
    assert tracking is not None and tracking.pending is False
    assert tracking.fetched_at == tracking.attempted_at
    assert tracking.error == ""
    steps = services.tracking_steps(OrderTracking.objects.get(order=order))
    assert steps[0] == services.TrackingStep("Delivered, left at front door", record.delivered_at)
    assert len(steps) == 6
    assert [step.occurred_at for step in steps] == sorted(
        (step.occurred_at for step in steps), reverse=True
    )


def test_a_failed_fetch_keeps_the_earlier_events_and_says_why(tenant, monkeypatch):
    store = StoreFactory(tenant=tenant, name="Alpha")
    order = OrderFactory(store=store, tracking_number="940011")
    earlier = [{"description": "Collected", "occurred_at": "2026-11-02T10:00:00+00:00"}]
    fetched_at = timezone.now() - timedelta(hours=3)
    OrderTracking.objects.create(tenant=tenant, order=order, events=earlier, fetched_at=fetched_at)
    monkeypatch.setattr(
        services, "store_api", ScriptedStores({"Alpha": UnavailableError("Internal error")})
    )

    tracking = services.order_tracking_fetch(order_id=order.pk)

    assert tracking is not None
    assert tracking.events == earlier
    assert tracking.fetched_at == fetched_at
    assert tracking.error == (
        "TikTok Shop did not answer with the tracking just now. Try again in a minute."
    )


def test_the_task_asks_nothing_for_an_order_that_has_not_shipped(tenant, monkeypatch):
    store = StoreFactory(tenant=tenant, name="Alpha")
    order = OrderFactory(store=store, tracking_number="")
    stores = ScriptedStores({})
    monkeypatch.setattr(services, "store_api", stores)

    tracking = services.order_tracking_fetch(order_id=order.pk)

    assert stores.asked == []
    assert tracking is not None and tracking.events == []
