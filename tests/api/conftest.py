"""The two-tenant world every API test runs in, and a client that sends a key.

Our tenant ("Acme Outfitters") has two stores with a ticket each (messages, a note), an order with
a line, a return and a cancellation; the other tenant ("Rival Goods") has the same. Keys: ours
with scope write, ours with scope read, ours limited to store one, and the other tenant's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from api.services import api_key_create
from inbox.models import Conversation, Message, TicketEvent
from integrations.models import OutboundEvent, WebhookDelivery, WebhookSubscription
from integrations.signing import new_secret
from marketplaces.crypto import encrypt_token
from marketplaces.models import Store
from orders.models import Order
from search.index import documents_rebuild
from tenants.models import APIScope, Membership, Role, Tenant
from tests.factories_catalog import CouponFactory, ProductFactory
from tests.factories_inbox import (
    ConversationFactory,
    MessageFactory,
    SnippetFactory,
    TicketEventFactory,
)
from tests.factories_marketplaces import (
    CancellationFactory,
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    StoreFactory,
    member,
)


class KeyClient:
    """A test client that sends `Authorization: Bearer <key>` and JSON bodies."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.client = Client()

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {}
        if self.secret is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.secret}"
        for name, value in extra.items():
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str):
        return self.client.get(path, params or {}, **self._headers(headers))

    def post(
        self,
        path: str,
        data: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        **headers: str,
    ):
        body = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.generic(
            "POST", path, body, content_type=content_type, **self._headers(headers)
        )

    def multipart(self, path: str, data: dict[str, Any], **headers: str):
        return self.client.post(path, data, **self._headers(headers))

    def patch(self, path: str, data: Any, **headers: str):
        return self.client.generic(
            "PATCH",
            path,
            json.dumps(data),
            content_type="application/json",
            **self._headers(headers),
        )

    def put(self, path: str, data: Any, **headers: str):
        return self.client.generic(
            "PUT",
            path,
            json.dumps(data),
            content_type="application/json",
            **self._headers(headers),
        )

    def delete(self, path: str, **headers: str):
        return self.client.generic("DELETE", path, **self._headers(headers))


@dataclass
class Side:
    """One tenant's objects."""

    tenant: Tenant
    owner: Membership
    agent: Membership
    stores: list[Store]
    tickets: list[Conversation]
    messages: list[Message]
    notes: list[TicketEvent]
    orders: list[Order]
    snippets: list[Any] = field(default_factory=list)
    products: list[Any] = field(default_factory=list)
    coupons: list[Any] = field(default_factory=list)
    webhook: Any = None
    delivery: Any = None
    escalations: list[Any] = field(default_factory=list)  # a draft per store, with a file
    submitted: list[Any] = field(default_factory=list)  # a submitted case per store
    files: list[Any] = field(default_factory=list)


def _side(tenant: Tenant, prefix: str) -> Side:
    owner = member(tenant, Role.OWNER, email=f"owner@{prefix}.test")
    agent = member(tenant, Role.AGENT, email=f"agent@{prefix}.test")
    stores = [StoreFactory(tenant=tenant, name=f"{prefix} store {n}") for n in (1, 2)]
    tickets, messages, notes, orders, products, coupons = [], [], [], [], [], []
    for store in stores:
        ticket = ConversationFactory(store=store, tenant=tenant, unread_count=1)
        tickets.append(ticket)
        messages += [MessageFactory(conversation=ticket) for _ in range(2)]
        notes.append(TicketEventFactory(conversation=ticket))
        order = OrderFactory(store=store, tenant=tenant)
        OrderLineFactory(order=order)
        ReturnFactory(store=store, tenant=tenant, order_external_id=order.external_id)
        CancellationFactory(store=store, tenant=tenant, order_external_id=order.external_id)
        orders.append(order)
        products.append(ProductFactory(store=store, tenant=tenant))
        coupons.append(CouponFactory(store=store, tenant=tenant))
    snippets = [SnippetFactory(tenant=tenant, body="Hi, your order {{ order.id }} is here.")]
    side = Side(tenant, owner, agent, stores, tickets, messages, notes, orders, snippets)
    side.products, side.coupons = products, coupons
    for store, order in zip(stores, orders, strict=True):
        draft, submitted, attachment = _escalation(store, owner, order)
        side.escalations.append(draft)
        side.submitted.append(submitted)
        side.files.append(attachment)
    return side


PRODUCT_CASE = {
    "problem": "attributes",
    "product_name": "Socks",
    "product_id": "1729587969112345",
    "seller_sku": "SOCK-RED-M",
    "error_message": "Attribute 'Material' is required",
}


def _escalation(store: Store, owner: Membership, order: Order) -> tuple[Any, Any, Any]:
    """A draft Products case of `store` with one screenshot, and a submitted one."""
    from django.core.files.base import ContentFile

    from escalations.kinds import KINDS
    from escalations.models import Escalation, EscalationAttachment, EscalationStatus
    from escalations.services import escalation_create
    from escalations.validation import CleanCase

    draft, submitted = (
        escalation_create(
            membership=owner,
            kind=KINDS["products"],
            store=store,
            clean=CleanCase(values=dict(PRODUCT_CASE), files={}, order=None),
        )
        for _ in range(2)
    )
    Escalation.objects.filter(pk=submitted.pk).update(status=EscalationStatus.SUBMITTED)
    attachment = EscalationAttachment(
        tenant_id=store.tenant_id,
        escalation=draft,
        field="screenshots",
        name="here.png",
        content_type="image/png",
        size=8,
    )
    attachment.file.save("here.png", ContentFile(b"\x89PNG...."), save=False)
    attachment.save()
    return draft, submitted, attachment


def add_webhook(side: Side, prefix: str) -> None:
    """A subscription with one failed delivery on `side` (made directly: no URL check)."""
    side.webhook = WebhookSubscription.objects.create(
        tenant=side.tenant,
        url=f"https://hooks.{prefix}.example/sellerdesk",
        events=["note.created"],
        secret_encrypted=encrypt_token(new_secret()),
    )
    event = OutboundEvent.objects.create(tenant=side.tenant, type="note.created", payload={})
    side.delivery = WebhookDelivery.objects.create(
        tenant=side.tenant, subscription=side.webhook, event=event, status="failed", attempts=8
    )


@dataclass
class World:
    ours: Side
    theirs: Side
    write: KeyClient
    read: KeyClient
    limited: KeyClient  # ours, limited to ours.stores[0]
    other: KeyClient  # the other tenant's write key
    keys: dict[str, Any]


@pytest.fixture
def world(db, tenant, other_tenant, private_cache) -> World:
    ours = _side(tenant, "acme")
    theirs = _side(other_tenant, "rival")
    write = api_key_create(tenant=tenant, name="ERP", scope=APIScope.WRITE)
    read = api_key_create(tenant=tenant, name="BI", scope=APIScope.READ)
    limited = api_key_create(
        tenant=tenant, name="Store one bot", scope=APIScope.WRITE, stores=[ours.stores[0]]
    )
    other = api_key_create(tenant=other_tenant, name="Rival ERP", scope=APIScope.WRITE)
    # The factories wrote past the services that keep the tickets' search documents current.
    documents_rebuild(list(Conversation.objects.values_list("pk", flat=True)))
    return World(
        ours=ours,
        theirs=theirs,
        write=KeyClient(write.secret),
        read=KeyClient(read.secret),
        limited=KeyClient(limited.secret),
        other=KeyClient(other.secret),
        keys={"write": write, "read": read, "limited": limited, "other": other},
    )


def error_of(response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
