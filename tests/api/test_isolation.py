"""Every endpoint that names an object, for both organisations: another organisation's object,
or one of a store the key does not serve, is a 404 (never a 403, never data), and nothing changes.

Adding an endpoint: add its (method, path, body) to ENDPOINTS; `{ticket}`, `{store}`, `{order}`,
`{product}`, `{coupon}`, `{snippet}`, `{member}`, `{webhook}`, `{delivery}`, `{escalation}`,
`{submitted}`, `{file}`, `{plain_snippet}` are filled with the target side's objects (in the
path, a GET's parameters and a POST's body).
"""

from __future__ import annotations

import pytest

from escalations.models import Escalation, EscalationAttachment, EscalationEvent
from inbox.models import Conversation, Message, Snippet, TicketEvent
from integrations.models import WebhookDelivery, WebhookSubscription
from orders.models import OrderTracking
from tests.api.conftest import PRODUCT_CASE, add_webhook, error_of
from tests.factories_inbox import SnippetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhooks")]


@pytest.fixture
def webhooks(world):
    add_webhook(world.ours, "acme")
    add_webhook(world.theirs, "rival")
    # A snippet without placeholders: rendering it still resolves the product or coupon given.
    for side in (world.ours, world.theirs):
        side.snippets.append(SnippetFactory(tenant=side.tenant, body="Thanks for shopping!"))


CASE = {"values": PRODUCT_CASE}

ENDPOINTS: list[tuple[str, str, dict | None]] = [
    ("get", "/api/v1/stores/{store}/", None),
    ("get", "/api/v1/tickets/{ticket}/", None),
    ("post", "/api/v1/tickets/{ticket}/status/", {"status": "solved"}),
    ("post", "/api/v1/tickets/{ticket}/assign/", {"assignee_id": None}),
    ("post", "/api/v1/tickets/{ticket}/read/", {}),
    ("get", "/api/v1/tickets/{ticket}/messages/", None),
    ("post", "/api/v1/tickets/{ticket}/messages/", {"text": "Hello"}),
    ("get", "/api/v1/tickets/{ticket}/notes/", None),
    ("post", "/api/v1/tickets/{ticket}/notes/", {"body": "Hello"}),
    ("get", "/api/v1/tickets/", {"store": "{store}"}),
    ("get", "/api/v1/orders/{order}/", None),
    ("get", "/api/v1/orders/{order}/tracking/", None),
    ("post", "/api/v1/orders/{order}/tracking/refresh/", {}),
    ("get", "/api/v1/orders/", {"store": "{store}"}),
    ("get", "/api/v1/snippets/{snippet}/render/", {"order": "{order}"}),
    ("get", "/api/v1/snippets/{plain_snippet}/render/", {"product": "{product}"}),
    ("get", "/api/v1/snippets/{plain_snippet}/render/", {"coupon": "{coupon}"}),
    ("get", "/api/v1/products/{product}/", None),
    ("get", "/api/v1/products/", {"store": "{store}"}),
    ("get", "/api/v1/coupons/{coupon}/", None),
    ("get", "/api/v1/coupons/", {"store": "{store}"}),
    ("get", "/api/v1/reports/response-rate/", {"store": "{store}"}),
    (
        "post",
        "/api/v1/tickets/{ticket}/cards/",
        {"type": "PRODUCT_CARD", "product_id": "{product}"},
    ),
    ("post", "/api/v1/tickets/{ticket}/triage/", {"intent": "other", "urgent": True}),
    ("get", "/api/v1/tickets/{ticket}/suggestions/", None),
    ("get", "/api/v1/escalations/{escalation}/", None),
    ("patch", "/api/v1/escalations/{escalation}/", {"values": {"seller_sku": "SOCK-2"}}),
    ("post", "/api/v1/escalations/{submitted}/status/", {"status": "waiting"}),
    ("get", "/api/v1/escalations/{escalation}/history/", None),
    ("post", "/api/v1/escalations/{escalation}/notes/", {"body": "Called the partner"}),
    ("get", "/api/v1/escalations/{escalation}/files/{file}/", None),
    ("get", "/api/v1/escalations/", {"store": "{store}"}),
    ("get", "/api/v1/escalations/", {"ticket": "{ticket}"}),
    ("post", "/api/v1/escalations/", {"kind": "products", "ticket_id": "{ticket}", **CASE}),
    ("post", "/api/v1/escalations/", {"kind": "products", "order_id": "{order}", **CASE}),
    ("post", "/api/v1/escalations/", {"kind": "products", "store_id": "{store}", **CASE}),
]

# Organisation-wide objects (no store): another organisation's is a 404; not store-limited.
TENANT_ENDPOINTS: list[tuple[str, str, dict | None]] = [
    ("get", "/api/v1/snippets/{snippet}/", None),
    ("patch", "/api/v1/snippets/{snippet}/", {"title": "Taken over"}),
    ("put", "/api/v1/snippets/{snippet}/", {"title": "Taken", "shortcut": "taken", "body": "x"}),
    ("delete", "/api/v1/snippets/{snippet}/", None),
    ("get", "/api/v1/members/{member}/", None),
    ("get", "/api/v1/tickets/", {"assignee": "{member}"}),
    ("get", "/api/v1/reports/attainment/", {"agent": "{member}"}),
    ("get", "/api/v1/webhooks/{webhook}/", None),
    ("patch", "/api/v1/webhooks/{webhook}/", {"is_active": False}),
    ("delete", "/api/v1/webhooks/{webhook}/", None),
    ("get", "/api/v1/webhooks/{webhook}/deliveries/", None),
    ("post", "/api/v1/webhooks/{webhook}/deliveries/{delivery}/resend/", {}),
]


def _fill(template: str, side, index: int = 0) -> str:
    return template.format(
        ticket=side.tickets[index].public_id,
        store=side.stores[index].public_id,
        order=side.orders[index].public_id,
        product=side.products[index].public_id,
        coupon=side.coupons[index].public_id,
        snippet=side.snippets[0].public_id,
        plain_snippet=side.snippets[1].public_id,
        member=side.agent.user.public_id,
        webhook=side.webhook.public_id,
        delivery=side.delivery.public_id,
        escalation=side.escalations[index].public_id,
        submitted=side.submitted[index].public_id,
        file=side.files[index].public_id,
    )


def _snapshot() -> tuple:
    return (
        sorted(Conversation.objects.values_list("pk", "status", "assignee_id", "unread_count")),
        Message.objects.count(),
        TicketEvent.objects.count(),
        sorted(Snippet.objects.values_list("pk", "title", "body")),
        sorted(WebhookSubscription.objects.values_list("pk", "is_active", "url")),
        sorted(WebhookDelivery.objects.values_list("pk", "status")),
        sorted(Escalation.objects.values_list("pk", "status", "values")),
        EscalationEvent.objects.count(),
        EscalationAttachment.objects.count(),
        OrderTracking.objects.count(),
    )


def _call(client, method: str, path: str, body: dict | None, side, index: int = 0):
    if method == "get":
        params = {k: _fill(v, side, index) for k, v in (body or {}).items()}
        return client.get(path, params)
    if method == "delete":
        return client.delete(path)
    if body:
        body = {k: _fill(v, side, index) if isinstance(v, str) else v for k, v in body.items()}
    return getattr(client, method)(path, body)


@pytest.mark.parametrize(("method", "template", "body"), ENDPOINTS + TENANT_ENDPOINTS)
@pytest.mark.parametrize("direction", ["ours->theirs", "theirs->ours"])
def test_another_organisations_objects_are_404_and_unchanged(
    world, method, template, body, direction
):
    client, target = (
        (world.write, world.theirs) if direction == "ours->theirs" else (world.other, world.ours)
    )
    before = _snapshot()
    response = _call(client, method, _fill(template, target), body, target)
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "not_found"
    assert _snapshot() == before


@pytest.mark.parametrize(("method", "template", "body"), ENDPOINTS)
def test_a_store_limited_key_gets_404_for_the_other_store(world, method, template, body):
    if "snippets" in template:
        world.limited.get("/api/v1/stores/")  # the snippet render's order decides the store
    before = _snapshot()
    response = _call(world.limited, method, _fill(template, world.ours, 1), body, world.ours, 1)
    assert response.status_code == 404, response.content
    assert _snapshot() == before
    # ...and may use its own store.
    allowed = _call(world.limited, method, _fill(template, world.ours, 0), body, world.ours, 0)
    assert allowed.status_code in (200, 201, 202), allowed.content


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_malformed_or_unknown_ids_are_404(world, bad):
    for method, template, body in ENDPOINTS + TENANT_ENDPOINTS:
        names = ("ticket", "store", "order", "product", "coupon", "snippet", "member")
        names += ("plain_snippet",)
        path = template.format(
            **dict.fromkeys(names, bad),
            webhook=bad,
            delivery=bad,
            escalation=bad,
            submitted=bad,
            file=bad,
        )
        if method == "get" and body:
            response = world.write.get(path, {k: bad for k in body})
        elif method == "post" and body and any(_placeholder(v) for v in body.values()):
            filled = {k: bad if _placeholder(v) else v for k, v in body.items()}
            response = world.write.post(path, filled)
        else:
            response = _call(world.write, method, path, body, world.ours)
        assert response.status_code == 404, (method, path, response.content)


def _placeholder(value: object) -> bool:
    return isinstance(value, str) and "{" in value
