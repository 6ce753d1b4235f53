"""Outbound webhooks: events written with the change, signed deliveries (checked with the
Standard Webhooks reference implementation), retries, the log, resend, disabling, unsafe URLs."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from inbox import services as inbox_services
from integrations import delivery, signing
from integrations.events import emit
from integrations.models import (
    DeliveryAttempt,
    DeliveryStatus,
    OutboundEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.services import (
    WebhookInvalidError,
    subscription_create,
)
from integrations.urls_safety import UnsafeURLError, check_url
from tenants.principals import KeyMember

pytestmark = pytest.mark.django_db


class Endpoint:
    """A loopback receiver answering each POST with the next status of `statuses` (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    server = Endpoint()
    yield server
    server.close()


def _subscribe(tenant, url, events=("ticket.updated", "note.created", "message.received")):
    return subscription_create(tenant=tenant, url=url, events=list(events))


def test_the_signature_verifies_with_the_reference_implementation():
    secret = signing.new_secret()
    body = b'{"type":"ticket.updated","data":{}}'
    # The library checks the timestamp against now (5 minutes' tolerance): sign with now.
    import time

    now = int(time.time())
    headers = signing.headers(secret=secret, webhook_id="msg_1", timestamp=now, body=body)
    assert Webhook(secret).verify(body, headers) == {"type": "ticket.updated", "data": {}}
    tampered = body.replace(b"updated", b"created")
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_a_ticket_change_writes_its_event_and_deliveries_in_the_same_transaction(world, endpoint):
    ours = world.ours
    subscription, _ = _subscribe(ours.tenant, endpoint.url)
    _subscribe(world.theirs.tenant, endpoint.url)  # the other tenant hears nothing of ours
    ticket = ours.tickets[0]
    member = KeyMember(world.keys["write"].api_key)
    with pytest.raises(RuntimeError), transaction.atomic():
        inbox_services.ticket_set_status(membership=member, conversation=ticket, status="solved")
        raise RuntimeError("rolled back")
    assert not OutboundEvent.objects.exists()

    inbox_services.ticket_set_status(membership=member, conversation=ticket, status="solved")
    event = OutboundEvent.objects.get()
    assert event.type == "ticket.updated"
    assert event.payload["organisation"] == {
        "id": str(ours.tenant.public_id),
        "slug": ours.tenant.slug,
    }
    assert event.payload["data"]["changed"] == {"status": {"from": "open", "to": "solved"}}
    assert event.payload["data"]["object"]["id"] == str(ticket.public_id)
    assert event.payload["data"]["object"]["status"] == "solved"
    assert list(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == [
        subscription.pk
    ]


def test_deliveries_are_signed_and_the_same_id_is_kept_on_retry(world, endpoint):
    ours = world.ours
    subscription, secret = _subscribe(ours.tenant, endpoint.url)
    endpoint.statuses = [503]
    member = KeyMember(world.keys["write"].api_key)
    inbox_services.note_add(membership=member, conversation=ours.tickets[0], body="Carrier called")
    assert delivery.deliveries_send_due() == 1
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.PENDING, 1, 503)
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=4)
    # Due again: the retry goes out with the same webhook-id and body, newly signed.
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliveries_send_due() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.SUCCEEDED, 2, 200)
    (first_headers, first_body), (second_headers, second_body) = endpoint.received
    assert first_headers["webhook-id"] == second_headers["webhook-id"] == row.webhook_id
    assert first_body == second_body
    payload = Webhook(secret).verify(second_body, second_headers)
    assert payload["type"] == "note.created"
    assert payload["data"]["object"]["body"] == "Carrier called"
    assert payload["data"]["object"]["via_api_key"] == "ERP"
    assert list(
        DeliveryAttempt.objects.order_by("number").values_list("number", "status_code")
    ) == [
        (1, 503),
        (2, 200),
    ]
    subscription.refresh_from_db()
    assert subscription.failing_since is None


def test_a_day_of_failures_disables_the_subscription_and_tells_the_admins(world, endpoint, client):
    ours = world.ours
    subscription, _ = _subscribe(ours.tenant, endpoint.url)
    endpoint.statuses = [500] * 5
    member = KeyMember(world.keys["write"].api_key)
    inbox_services.note_add(membership=member, conversation=ours.tickets[0], body="one")
    delivery.deliveries_send_due()
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.failing_since is not None
    # 24 hours of failures later, the next failure turns it off.
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    inbox_services.note_add(membership=member, conversation=ours.tickets[0], body="two")
    delivery.deliveries_send_due()
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_reason == "Every delivery failed for 24 hours."
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    # New changes are no longer queued for it.
    inbox_services.note_add(membership=member, conversation=ours.tickets[0], body="three")
    assert WebhookDelivery.objects.count() == 2
    # The admins are told: an e-mail (after commit) and a banner.
    from integrations.services import subscription_disabled_notify

    subscription_disabled_notify(subscription_id=subscription.pk)
    assert mail.outbox[-1].to == ["owner@acme.test"]
    assert endpoint.url in mail.outbox[-1].body
    client.force_login(ours.owner.user)
    page = client.get("/settings/").content.decode()
    assert "Webhook turned off" in page and endpoint.url in page


def test_retries_give_up_after_about_a_day():
    assert len(delivery.BACKOFF_SECONDS) + 1 == delivery.MAX_ATTEMPTS
    total = sum(delivery.BACKOFF_SECONDS)
    assert 24 * 3600 <= total <= 30 * 3600


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://user:pw@example.com/hook",
        "javascript:alert(1)",
    ],
)
def test_unsafe_urls_are_refused(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(UnsafeURLError):
        check_url(url)


def test_private_urls_are_allowed_only_by_the_setting(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    check_url("http://127.0.0.1:9/hook")


def test_a_subscription_to_a_private_address_is_refused_and_delivery_rechecks(world, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(WebhookInvalidError) as refused:
        subscription_create(
            tenant=world.ours.tenant, url="http://127.0.0.1/x", events=["note.created"]
        )
    assert "private or local address" in refused.value.errors["url"][0]
    # Saved while allowed, then the setting is off: the delivery refuses to call it.
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    subscription_create(
        tenant=world.ours.tenant, url="http://127.0.0.1:9/x", events=["note.created"]
    )
    member = KeyMember(world.keys["write"].api_key)
    inbox_services.note_add(membership=member, conversation=world.ours.tickets[0], body="x")
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    delivery.deliveries_send_due()
    row = WebhookDelivery.objects.get()
    assert row.last_status_code is None
    assert "private or local address" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_is_refused_when_someone_listens(settings, private_cache):
    from tests.factories import TenantFactory

    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    listening, quiet = TenantFactory(name="Listening"), TenantFactory(name="Quiet")
    subscription_create(tenant=listening, url="http://127.0.0.1:9/x", events=["note.created"])
    with pytest.raises(RuntimeError, match="inside the transaction"):
        emit(tenant_id=listening.pk, event="note.created", subject={})
    # ...and costs nothing when nobody listens.
    assert emit(tenant_id=quiet.pk, event="note.created", subject={}) == 0
    assert not OutboundEvent.objects.exists()


def test_every_event_type_is_emitted_by_its_change(world, endpoint):
    import json as json_module

    from inbox import outbox
    from inbox.ingest import conversation_ingest, messages_ingest
    from integrations.events import EVENT_TYPES
    from marketplaces.services import store_mark_needs_reauth
    from marketplaces.tiktok import mapping
    from orders.ingest import orders_upsert
    from tests.inbox.test_ingest import conversation, message
    from tests.samples import SAMPLES

    ours = world.ours
    _subscribe(ours.tenant, endpoint.url, events=list(EVENT_TYPES))
    member = KeyMember(world.keys["write"].api_key)
    store, ticket = ours.stores[0], ours.tickets[0]
    # ticket.created (the poll or a webhook brings a new conversation) and message.received.
    from inbox.models import TicketCounter

    TicketCounter.objects.update_or_create(tenant=ours.tenant, defaults={"last_number": 1000})
    new_ticket = conversation_ingest(store=store, record=conversation("7106888323926000777"))
    messages_ingest(
        store=store,
        conversation_id="7106888323926000777",
        messages=[message(1, conversation_id="7106888323926000777")],
    )
    # ticket.updated by an agent's or key's changes, note.created, message.sent/failed.
    inbox_services.ticket_set_status(membership=member, conversation=ticket, status="pending")
    inbox_services.ticket_assign(
        membership=member, conversation=ticket, assignee_membership=ours.agent
    )
    inbox_services.note_add(membership=member, conversation=ticket, body="n")
    failing = inbox_services.reply_create(membership=member, conversation=ticket, text="Hello")
    outbox._fail(failing, outbox.reply_claim(message_id=failing.pk), reason="Refused")
    sent = inbox_services.reply_create(membership=member, conversation=ticket, text="Hi again")
    attempt = outbox.reply_claim(message_id=sent.pk)
    outbox._mark_sent(
        sent, attempt, {"id": "7223999", "index": None, "created_at": None, "role": ""}, []
    )
    # order.updated (sync) and store.needs_reauthorization.
    sample = json_module.loads((SAMPLES / "GET_order_202507_orders.json").read_text())
    orders_upsert(
        store=store, orders=[mapping.order(sample["response_sample"]["data"]["orders"][0])]
    )
    store_mark_needs_reauth(store=store, reason="Token revoked")
    # ticket.sla_breached: the new ticket's buyer waited past TikTok's window.
    from sla.services import breaches_record

    assert breaches_record(now=timezone.now() + timedelta(days=2)) == 1
    # escalation.created, .updated, .status_changed (submitted, then waiting), .note_added.
    case = _escalation_changes(member, ours)

    events = list(OutboundEvent.objects.order_by("id"))
    assert [e.type for e in events] == [
        "ticket.created",
        "message.received",
        "ticket.updated",
        "ticket.updated",
        "note.created",
        "message.failed",
        "message.sent",
        "order.updated",
        "store.needs_reauthorization",
        "ticket.sla_breached",
        "escalation.created",
        "escalation.updated",
        "escalation.status_changed",
        "escalation.status_changed",
        "escalation.note_added",
    ]
    assert set(EVENT_TYPES) == {e.type for e in events}
    data = [e.payload["data"] for e in events]
    assert data[0]["object"]["id"] == str(new_ticket.public_id)
    assert data[1]["object"]["ticket_id"] == str(new_ticket.public_id)
    assert data[1]["object"]["text"] == "Buyer line 1"
    assert data[3]["changed"]["assignee"]["to"]["id"] == str(ours.agent.user.public_id)
    assert data[5]["object"]["delivery_status"] == "failed"
    assert data[6]["object"]["delivery_status"] == "sent"
    assert data[7]["object"]["order_id"] == "576461413038785752"
    assert data[7]["object"]["lines"]
    assert data[8]["object"]["status"] == "needs_reauth"
    assert data[8]["changed"] == {"status": {"from": "active", "to": "needs_reauth"}}
    assert data[9]["object"]["id"] == str(new_ticket.public_id)
    assert data[9]["object"]["sla_breached"] == ["platform"]
    assert data[9]["changed"]["sla_breach"]["clock"] == "platform"
    assert {d["object"]["id"] for d in data[10:]} == {str(case.public_id)}
    assert data[10]["object"]["status"] == "draft"
    assert data[10]["object"]["values"]["seller_sku"] == "SOCK-RED-M"
    assert data[11]["object"]["values"]["seller_sku"] == "SOCK-2"
    assert data[12]["changed"] == {"status": {"from": "draft", "to": "submitted"}}
    assert data[12]["object"]["submitted_to"] == "cgs@partner.test"
    assert data[13]["changed"] == {
        "status": {"from": "submitted", "to": "waiting"},
        "note": {"body": "Partner asked for the invoice.", "by": "API key ERP"},
    }
    assert data[14]["changed"] == {"note": {"body": "Invoice sent.", "by": "API key ERP"}}
    # Each event went to the one subscription of this organisation only.
    assert WebhookDelivery.objects.filter(tenant=world.theirs.tenant).count() == 0
    assert WebhookDelivery.objects.count() == len(events)


def test_order_updated_announces_changes_only(world, endpoint):
    """Overlapping sync windows store the same version of an order again: one event per
    version (new, then newer), none for a re-read."""
    import dataclasses
    import json as json_module

    from marketplaces.tiktok import mapping
    from orders.ingest import orders_upsert
    from tests.samples import SAMPLES

    ours = world.ours
    _subscribe(ours.tenant, endpoint.url, events=["order.updated"])
    sample = json_module.loads((SAMPLES / "GET_order_202507_orders.json").read_text())
    record = mapping.order(sample["response_sample"]["data"]["orders"][0])
    store = ours.stores[0]

    def announced() -> list[str]:
        return [
            e.payload["data"]["object"]["order_id"]
            for e in OutboundEvent.objects.filter(type="order.updated").order_by("id")
        ]

    assert orders_upsert(store=store, orders=[record]) == 1
    assert announced() == [record.external_id]
    # The same version again (an overlapping window, a backfill page): stored, not announced.
    assert orders_upsert(store=store, orders=[record]) == 1
    assert announced() == [record.external_id]
    # A newer version is announced; an older one is neither stored nor announced.
    newer = dataclasses.replace(record, updated_at=record.updated_at + timedelta(minutes=5))
    assert orders_upsert(store=store, orders=[newer]) == 1
    assert announced() == [record.external_id] * 2
    assert orders_upsert(store=store, orders=[record]) == 0
    assert announced() == [record.external_id] * 2


def _escalation_changes(member, side):
    from escalations import services as escalations
    from escalations.kinds import KINDS
    from escalations.models import EscalationSettings
    from escalations.validation import CleanCase
    from tests.api.conftest import PRODUCT_CASE

    EscalationSettings.objects.create(tenant=side.tenant, recipient_email="cgs@partner.test")
    case = escalations.escalation_create(
        membership=member,
        kind=KINDS["products"],
        store=side.stores[0],
        clean=CleanCase(values=dict(PRODUCT_CASE), files={}, order=None),
    )
    escalations.escalation_update(
        membership=member,
        escalation=case,
        clean=CleanCase(values={**PRODUCT_CASE, "seller_sku": "SOCK-2"}, files={}, order=None),
        kept=[],
    )
    escalations.escalation_submit(membership=member, escalation=case)
    escalations.escalation_change_status(
        membership=member, escalation=case, status="waiting", note="Partner asked for the invoice."
    )
    escalations.escalation_note_add(membership=member, escalation=case, body="Invoice sent.")
    return case


def test_old_events_are_pruned_unless_still_waiting(world, endpoint):
    ours = world.ours
    _subscribe(ours.tenant, endpoint.url, events=["note.created"])
    member = KeyMember(world.keys["write"].api_key)
    for body in ("old sent", "old waiting", "recent"):
        inbox_services.note_add(membership=member, conversation=ours.tickets[0], body=body)
    events = list(OutboundEvent.objects.order_by("id"))
    month_ago = timezone.now() - timedelta(days=31)
    OutboundEvent.objects.filter(pk__in=[events[0].pk, events[1].pk]).update(created_at=month_ago)
    WebhookDelivery.objects.filter(event=events[0]).update(status=DeliveryStatus.SUCCEEDED)
    assert delivery.events_prune() == 1
    assert list(OutboundEvent.objects.order_by("id")) == events[1:]


def test_idempotency_records_expire_after_a_day(world):
    from api.idempotency import records_expire
    from api.models import IdempotencyRecord

    old = IdempotencyRecord.objects.create(
        tenant=world.ours.tenant,
        key="old",
        fingerprint="x",
        created_at=timezone.now() - timedelta(hours=25),
    )
    kept = IdempotencyRecord.objects.create(tenant=world.ours.tenant, key="new", fingerprint="y")
    assert records_expire() == 1
    assert list(IdempotencyRecord.objects.all()) == [kept]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
