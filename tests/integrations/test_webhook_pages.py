"""Settings → Webhooks: add an endpoint (secret shown), the delivery log with response codes,
resend, reveal the secret, turn off and on, delete; other organisations' webhooks are 404."""

from __future__ import annotations

import re

import pytest

from integrations import delivery
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from integrations.services import subscription_create
from tests.integrations.test_webhooks import Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    server = Endpoint()
    yield server
    server.close()


def test_an_owner_adds_a_webhook_and_reads_its_log(
    owner_client, owner, tenant, endpoint, private_cache
):
    page = owner_client.get("/settings/webhooks/")
    assert page.status_code == 200 and "No webhooks yet" in page.content.decode()
    added = owner_client.post(
        "/settings/webhooks/", {"url": endpoint.url, "events": ["note.created"]}
    )
    assert added.status_code == 200
    secret = re.search(r"data-secret>([^<]+)<", added.content.decode()).group(1)
    subscription = WebhookSubscription.objects.get(tenant=tenant)
    assert subscription.secret == secret and secret not in subscription.secret_encrypted

    from inbox.services import note_add
    from tenants.models import Membership
    from tests.factories_inbox import ConversationFactory
    from tests.factories_marketplaces import StoreFactory

    ticket = ConversationFactory(store=StoreFactory(tenant=tenant), tenant=tenant)
    endpoint.statuses = [502]
    note_add(membership=Membership.objects.get(user=owner), conversation=ticket, body="x")
    delivery.deliveries_send_due()
    row = WebhookDelivery.objects.get()
    log = owner_client.get(f"/settings/webhooks/{subscription.public_id}/").content.decode()
    assert row.webhook_id in log and "1: 502" in log
    assert secret not in log
    revealed = owner_client.post(f"/settings/webhooks/{subscription.public_id}/secret/")
    assert secret in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"

    owner_client.post(
        f"/settings/webhooks/{subscription.public_id}/deliveries/{row.public_id}/resend/"
    )
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    delivery.deliveries_send_due()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.SUCCEEDED, 2, 200)
    assert [h["webhook-id"] for h, _ in endpoint.received] == [row.webhook_id] * 2

    owner_client.post(f"/settings/webhooks/{subscription.public_id}/toggle/")
    subscription.refresh_from_db()
    assert subscription.is_active is False
    owner_client.post(f"/settings/webhooks/{subscription.public_id}/delete/")
    assert not WebhookSubscription.objects.exists()


def test_a_private_address_is_refused_on_the_page(owner_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = owner_client.post(
        "/settings/webhooks/", {"url": "http://10.0.0.5/hook", "events": ["note.created"]}
    )
    assert response.status_code == 400
    assert "private or local address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_agents_may_not_manage_webhooks(agent_client):
    assert agent_client.get("/settings/webhooks/").status_code == 403


@pytest.mark.parametrize("action", ["", "secret/", "toggle/", "delete/"])
def test_another_tenants_webhook_is_404_and_unchanged(owner_client, other_tenant, settings, action):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    theirs, _ = subscription_create(
        tenant=other_tenant, url="http://127.0.0.1:9/x", events=["note.created"]
    )
    url = f"/settings/webhooks/{theirs.public_id}/{action}"
    response = owner_client.post(url) if action else owner_client.get(url)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active is True
    assert WebhookSubscription.objects.filter(pk=theirs.pk).exists()
