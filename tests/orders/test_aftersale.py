"""Returns and cancellations decided from a ticket and from the order page, over the sandbox's
HTTP: the confirmation step says what the buyer gets; a decision is sent once (double click, a
lost answer); a request that moved on, a reason not offered, a platform refusal are said beside
the action and leave the record as the platform has it; only owners, admins and allowed agents,
of their own organisation and stores, may decide."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from inbox import services as inbox_services
from inbox.models import TicketEvent, TicketEventKind
from marketplaces.adapter import store_api
from marketplaces.channel import OutcomeUnknownError
from marketplaces.models import StoreAccess
from orders import aftersale
from orders.ingest import cancellations_upsert, orders_upsert, returns_upsert
from orders.models import (
    AfterSaleAction,
    AfterSaleActionStatus,
    AfterSaleGrant,
    Cancellation,
    Order,
    Return,
)
from tenants.models import Membership, Role
from tests.factories_marketplaces import StoreFactory, member
from tests.sandbox_stores import connect_store, point_settings_at
from tests.tiktok_sandbox import TikTokSandbox, start_sandbox

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory) -> Iterator[TikTokSandbox]:
    """One sandbox for this module: each test decides on requests no other test touches."""
    # More days than the default seed: enough requests waiting for the seller for every test.
    sandbox = start_sandbox(tmp_path_factory.mktemp("aftersale-sandbox"), days=20)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def sandbox(module_sandbox, settings):
    point_settings_at(settings, module_sandbox)
    return module_sandbox


@pytest.fixture
def store(sandbox, tenant):
    return connect_store(sandbox, tenant=tenant)


def decisions_on(sandbox: TikTokSandbox, record_id: str) -> list[dict[str, Any]]:
    applied = sandbox.control("GET", "/_sandbox/decisions")["decisions"]
    return [decision for decision in applied if decision["record_id"] == record_id]


def synced_return(
    store,
    *,
    status: str,
    types: tuple[str, ...] = ("REFUND", "RETURN_AND_REFUND", "REPLACEMENT"),
    used: set[str] = set(),  # noqa: B006 (kept across the module's tests on purpose)
) -> Return:
    """A return of `status` not used by another test (the module shares one sandbox)."""
    api = store_api(store)
    for page in api.return_pages(statuses=[status]):
        for record in page.items:
            if record.external_id in used or record.return_type not in types:
                continue
            used.add(record.external_id or "")
            returns_upsert(store=store, returns=[record])
            orders_upsert(store=store, orders=api.orders_by_id([record.order_id or ""]))
            return Return.objects.select_related("store").get(
                store=store, external_id=record.external_id
            )
    raise AssertionError(f"no unused return {status} in the sandbox")


def ticket_for(order: Order, owner) -> Any:
    membership = Membership.objects.get(tenant=order.tenant, user=owner)
    return inbox_services.conversation_start_from_order(membership=membership, order=order)


def urls(conversation, record, kind: str = "return") -> tuple[str, str]:
    args = [conversation.public_id, kind, record.external_id]
    return (
        reverse("ticket_aftersale_review", args=args),
        reverse("ticket_aftersale_decide", args=args),
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_an_owner_approves_a_return_from_the_ticket_once(sandbox, store, owner, owner_client):
    record = synced_return(
        store, status="RETURN_OR_REFUND_REQUEST_PENDING", types=("REFUND", "RETURN_AND_REFUND")
    )
    order = Order.objects.get(store=store, external_id=record.order_external_id)
    conversation = ticket_for(order, owner)
    offer = aftersale.offers_of(record)[0]
    review_url, decide_url = urls(conversation, record)
    page = text(owner_client.get(reverse("ticket_detail", args=[conversation.public_id])))
    assert f'id="aftersale-{record.external_id}"' in page
    assert f"{offer.label}…" in page

    review = owner_client.post(review_url, {"decision": offer.key, "status": record.status}, **HX)
    token = str(uuid.uuid4())
    form = {"decision": offer.key, "status": record.status, "token": token}
    first = owner_client.post(decide_url, form, **HX)
    second = owner_client.post(decide_url, form, **HX)  # a double click on Confirm

    assert review.status_code == 200
    assert f"What the buyer will get: {offer.outcome}" in text(review)
    assert "$" in offer.outcome  # the refund, in the record's currency
    assert (first.status_code, second.status_code) == (200, 200)
    applied = decisions_on(sandbox, record.external_id)
    assert [(d["decision"], d["kind"]) for d in applied] == [(offer.decision.code, "return")]
    action = AfterSaleAction.objects.get(record_external_id=record.external_id)
    assert (action.status, action.actor, action.decision) == (
        AfterSaleActionStatus.DONE,
        owner,
        offer.key,
    )
    assert applied[0]["idempotency_key"] == str(action.idempotency_key)
    record.refresh_from_db()
    on_platform = next(store_api(store).return_pages(return_ids=[record.external_id])).items[0]
    assert record.status == on_platform.status != "RETURN_OR_REFUND_REQUEST_PENDING"
    event = TicketEvent.objects.get(conversation=conversation, kind=TicketEventKind.AFTER_SALE)
    assert event.actor == owner
    assert event.body == (
        f"{owner.display_name}: {offer.label.lower()} on the return of order "
        f"{order.external_id}. {offer.outcome}"
    )
    assert event.body in text(first)
    # The workbench is redrawn beside it: the request no longer offers that decision.
    assert f'id="aftersale-{record.external_id}"' not in text(first).split('id="sidebar"')[1]


def test_rejecting_takes_a_reason_the_platform_offers(sandbox, store, owner, owner_client):
    record = synced_return(store, status="BUYER_SHIPPED_ITEM")
    conversation = ticket_for(
        Order.objects.get(store=store, external_id=record.order_external_id), owner
    )
    reject = next(offer for offer in aftersale.offers_of(record) if offer.needs_reason)
    review_url, decide_url = urls(conversation, record)
    base = {"decision": reject.key, "status": record.status}

    review = text(owner_client.post(review_url, base, **HX))
    without = owner_client.post(decide_url, {**base, "token": str(uuid.uuid4())}, **HX)
    made_up = owner_client.post(
        decide_url, {**base, "token": str(uuid.uuid4()), "reason": "because"}, **HX
    )
    done = owner_client.post(
        decide_url,
        {
            **base,
            "token": str(uuid.uuid4()),
            "reason": "reverse_reject_return_parcel_reason_2",
            "comment": "The seal is broken.",
        },
        **HX,
    )

    assert (
        '<option value="reverse_reject_return_parcel_reason_2">'
        "The returned item is damaged or used</option>" in review
    )
    assert without.status_code == 409 and "Choose the reason to give the buyer." in text(without)
    assert made_up.status_code == 409
    assert "does not offer that reason for this request any more" in text(made_up)
    assert done.status_code == 200
    applied = decisions_on(sandbox, record.external_id)
    assert [(d["decision"], d["reject_reason"]) for d in applied] == [
        ("REJECT_RECEIVED_PACKAGE", "reverse_reject_return_parcel_reason_2")
    ]
    event = TicketEvent.objects.get(conversation=conversation, kind=TicketEventKind.AFTER_SALE)
    assert event.body.endswith("Reason given: The returned item is damaged or used.")
    record.refresh_from_db()
    assert record.status == "REJECT_RECEIVE_PACKAGE"


def test_a_request_that_moved_on_is_said_and_left_as_the_platform_has_it(
    sandbox, store, owner, owner_client
):
    record = synced_return(store, status="RETURN_OR_REFUND_REQUEST_PENDING")
    conversation = ticket_for(
        Order.objects.get(store=store, external_id=record.order_external_id), owner
    )
    offer = aftersale.offers_of(record)[0]
    review_url, decide_url = urls(conversation, record)
    sandbox.control("POST", f"/_sandbox/returns/{record.external_id}/advance")  # not synced

    # The review reads the return again: it moved on, so nothing is offered.
    moved = owner_client.post(review_url, {"decision": offer.key, "status": record.status}, **HX)
    record.refresh_from_db()
    assert moved.status_code == 409
    assert text(moved) == (
        '<p class="form-error" role="alert">This return has moved on since you opened it: it '
        f"is now “{record.status_label}”. Nothing was sent.</p>"
    )
    assert record.status == "AWAITING_BUYER_SHIP"

    # A confirmation from a page older still (our copy not updated yet): the platform refuses.
    Return.objects.filter(pk=record.pk).update(status="RETURN_OR_REFUND_REQUEST_PENDING")
    refused = owner_client.post(
        decide_url,
        {
            "decision": offer.key,
            "status": "RETURN_OR_REFUND_REQUEST_PENDING",
            "token": str(uuid.uuid4()),
        },
        **HX,
    )

    assert refused.status_code == 409
    assert "TikTok Shop refused it: The return is AWAITING_BUYER_SHIP" in text(refused)
    assert decisions_on(sandbox, record.external_id) == []
    action = AfterSaleAction.objects.get(record_external_id=record.external_id)
    assert action.status == AfterSaleActionStatus.REFUSED
    record.refresh_from_db()
    assert record.status == "AWAITING_BUYER_SHIP"  # as the platform has it
    event = TicketEvent.objects.get(conversation=conversation, kind=TicketEventKind.AFTER_SALE)
    assert f"tried to {offer.label.lower()}" in event.body


def test_a_buyer_cancellation_is_approved_from_the_order_page(sandbox, store, owner_client):
    api = store_api(store)
    pending = next(api.cancellation_pages(statuses=["CANCELLATION_REQUEST_PENDING"])).items
    record_id = pending[-1].external_id or ""
    cancellations_upsert(store=store, cancellations=[pending[-1]])
    orders_upsert(store=store, orders=api.orders_by_id([pending[-1].order_id or ""]))
    record = Cancellation.objects.get(store=store, external_id=record_id)
    order = Order.objects.get(store=store, external_id=record.order_external_id)
    args = [order.public_id, "cancellation", record_id]
    page = text(owner_client.get(reverse("order_detail", args=[order.public_id])))
    assert "Approve the cancellation…" in page
    assert "TikTok Shop's API offers no way to write an order's seller note" in page

    review = owner_client.post(
        reverse("order_aftersale_review", args=args),
        {"decision": "APPROVE", "status": record.status},
    )
    token = text(review).split('name="token" value="')[1].split('"')[0]
    decided = owner_client.post(
        reverse("order_aftersale_decide", args=args),
        {"decision": "APPROVE", "status": record.status, "token": token},
    )

    assert review.status_code == 200
    assert "What the buyer will get: The order is cancelled and the buyer is refunded $" in text(
        review
    )
    assert decided.status_code == 302
    after = text(owner_client.get(decided["Location"]))
    assert "Approve the cancellation: done. The order is cancelled" in after
    order.refresh_from_db()
    record.refresh_from_db()
    assert (order.status, record.status) == ("CANCELLED", "CANCELLATION_REQUEST_SUCCESS")
    assert len(decisions_on(sandbox, record_id)) == 1
    assert "Decisions on returns and cancellations" in after


def test_who_may_decide(sandbox, store, tenant, owner, client, other_owner):
    record = synced_return(store, status="RETURN_OR_REFUND_REQUEST_PENDING")
    order = Order.objects.get(store=store, external_id=record.order_external_id)
    conversation = ticket_for(order, owner)
    review_url, _ = urls(conversation, record)
    offer = aftersale.offers_of(record)[0]
    form = {"decision": offer.key, "status": record.status}
    agent = member(tenant, Role.AGENT)
    admin = member(tenant, Role.ADMIN)

    client.force_login(agent.user)
    page = text(client.get(reverse("ticket_detail", args=[conversation.public_id])))
    refused = client.post(review_url, form, **HX)
    assert "Only owners, admins and agents allowed to act on returns can decide here." in page
    assert refused.status_code == 403
    assert f"You may not act on returns and cancellations of {store.name}." in text(refused)

    # An admin allows the agent for this store on the Members settings.
    client.force_login(admin.user)
    access_url = reverse("after_sale_access_edit", args=[agent.public_id])
    assert client.post(access_url, {"stores": [str(store.public_id)]}).status_code == 302
    assert AfterSaleGrant.objects.filter(membership=agent, store=store).count() == 1
    client.force_login(agent.user)
    assert client.post(review_url, form, **HX).status_code == 200
    assert client.get(access_url).status_code == 403  # agents do not hand out access

    # An agent limited to another store, and another organisation, get 404 and send nothing.
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=StoreFactory(tenant=tenant))
    AfterSaleGrant.objects.create(tenant=tenant, membership=limited, store=store)
    order_args = [order.public_id, "return", record.external_id]
    for person in (limited.user, other_owner):
        client.force_login(person)
        assert client.post(review_url, form, **HX).status_code == 404
        assert client.post(urls(conversation, record)[1], form, **HX).status_code == 404
        assert (
            client.post(reverse("order_aftersale_review", args=order_args), form).status_code == 404
        )
        assert (
            client.post(reverse("order_aftersale_decide", args=order_args), form).status_code == 404
        )
    client.force_login(other_owner)
    assert client.get(access_url).status_code == 404
    assert decisions_on(sandbox, record.external_id) == []
    assert not AfterSaleAction.objects.exists()


class FakeChannel:
    """A store's API whose first decision answer is lost; it records the keys it is sent."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.keys: list[str] = []

    def return_decide(self, return_id: str, *, idempotency_key: str, **kwargs: Any) -> None:
        self.keys.append(idempotency_key)
        if self.failures:
            raise self.failures.pop(0)


def test_a_lost_answer_is_resent_with_the_same_key(tenant, owner, monkeypatch):
    from tests.factories_marketplaces import ReturnFactory

    store = StoreFactory(tenant=tenant)
    record = ReturnFactory(
        store=store, return_type="REFUND", status="RETURN_OR_REFUND_REQUEST_PENDING"
    )
    fake = FakeChannel([OutcomeUnknownError("read timeout")])
    monkeypatch.setattr(aftersale, "store_api", lambda _store: fake)
    monkeypatch.setattr(aftersale, "after_sale_refresh", lambda *, record: record)
    membership = Membership.objects.get(user=owner, tenant=tenant)

    def decide() -> aftersale.Decided:
        return aftersale.after_sale_decide(
            membership=membership,
            record=record,
            key="APPROVE_REFUND",
            seen_status=record.status,
            client_token=uuid.uuid4(),  # a new confirmation each time
        )

    lost = decide()
    again = decide()

    assert lost.action.status == AfterSaleActionStatus.UNCONFIRMED
    assert "Press Confirm again" in lost.action.message
    assert again.action.pk == lost.action.pk
    assert again.action.status == AfterSaleActionStatus.DONE
    assert fake.keys == [str(lost.action.idempotency_key)] * 2
    assert AfterSaleAction.objects.count() == 1
