"""/api/v1/email-channels/ and e-mail tickets in the API: read with a key of the organisation,
a connection test and "read now" with a write key; another organisation's channel is a 404 and
a key limited to stores may not see mailboxes at all."""

from __future__ import annotations

import pytest

from api.services import api_key_create
from email_channel.polling import channel_poll
from inbox.models import Conversation
from tenants.models import APIScope
from tests.api.conftest import KeyClient
from tests.factories_marketplaces import StoreFactory

from .conftest import buyer_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(tenant, other_tenant, private_cache):
    shop = StoreFactory(tenant=tenant)
    return {
        "write": KeyClient(api_key_create(tenant=tenant, name="ERP", scope=APIScope.WRITE).secret),
        "read": KeyClient(api_key_create(tenant=tenant, name="BI", scope=APIScope.READ).secret),
        "limited": KeyClient(
            api_key_create(tenant=tenant, name="Bot", scope=APIScope.WRITE, stores=[shop]).secret
        ),
        "other": KeyClient(
            api_key_create(tenant=other_tenant, name="Rival", scope=APIScope.WRITE).secret
        ),
    }


def test_channels_are_listed_without_their_passwords(keys, email_channel):
    body = keys["read"].get("/api/v1/email-channels/").json()

    [channel] = body["results"]
    assert channel["id"] == str(email_channel.public_id)
    assert channel["store_id"] == str(email_channel.store.public_id)
    assert channel["address"] == "support@shop.test"
    assert channel["folders"] == [email_channel.imap_folders]
    assert not any("password" in name for name in channel)


def test_the_connection_test_answers_each_step(keys, email_channel):
    response = keys["write"].post(f"/api/v1/email-channels/{email_channel.public_id}/check/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["steps"][0] == {
        "ok": True,
        "text": "IMAP: signed in to 127.0.0.1 as support@shop.test.",
    }
    assert (
        keys["read"].post(f"/api/v1/email-channels/{email_channel.public_id}/check/").status_code
        == 403
    )


def test_another_organisation_and_a_store_limited_key_cannot_reach_a_channel(
    keys, email_channel, monkeypatch
):
    from email_channel import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.poll_channel, "delay", queued.append)
    base = f"/api/v1/email-channels/{email_channel.public_id}/"

    assert keys["other"].get(base).status_code == 404
    assert keys["other"].post(base + "check/").status_code == 404
    assert keys["other"].post(base + "poll/").status_code == 404
    assert keys["other"].get("/api/v1/email-channels/").json()["results"] == []
    assert keys["limited"].get("/api/v1/email-channels/").status_code == 403
    assert keys["limited"].post(base + "poll/").status_code == 403
    assert queued == []
    email_channel.refresh_from_db()
    assert email_channel.checked_at is None

    assert keys["write"].post(base + "poll/").status_code == 202
    assert queued == [email_channel.pk]


def test_an_email_ticket_is_a_ticket_of_the_api_with_its_channel(
    keys, email_channel, local_imap, folder
):
    local_imap.append(buyer_mail(body="Parcel?"), folder)
    channel_poll(channel_id=email_channel.pk)
    ticket = Conversation.objects.get(store=email_channel.store)

    body = keys["read"].get(f"/api/v1/tickets/{ticket.public_id}/").json()
    assert body["store"]["channel"] == "email"
    messages = keys["read"].get(f"/api/v1/tickets/{ticket.public_id}/messages/").json()
    assert [m["text"] for m in messages["results"]] == ["Parcel?"]

    reply = keys["write"].post(
        f"/api/v1/tickets/{ticket.public_id}/messages/", {"text": "On its way."}
    )
    assert reply.status_code == 201, reply.content
    note = keys["write"].post(f"/api/v1/tickets/{ticket.public_id}/notes/", {"body": "VIP"})
    assert note.status_code == 201
    assert keys["other"].get(f"/api/v1/tickets/{ticket.public_id}/").status_code == 404
