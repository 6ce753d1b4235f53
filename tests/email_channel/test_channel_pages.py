"""Settings → Channels: adding a support mailbox, testing its servers (each failure said as it
is), changing it; owners and admins only, another organisation's channel is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from email_channel.models import EmailChannel
from marketplaces.models import Platform, Store

from .conftest import channel_values

pytestmark = pytest.mark.django_db


def _form(local_imap, local_smtp, folder, **changes) -> dict:
    values = channel_values(local_imap, local_smtp, folder)
    values.update(imap_password=local_imap.password, smtp_password=local_smtp.password)
    values.update(changes)
    if values.get("is_active") is False:
        values.pop("is_active")
    return values


def test_an_owner_adds_a_channel_with_its_store_and_encrypted_passwords(
    owner_client, tenant, local_imap, local_smtp, folder, no_dispatch
):
    response = owner_client.post(
        reverse("email_channel_list"), _form(local_imap, local_smtp, folder, action="add")
    )

    channel = EmailChannel.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("email_channel_edit", args=[channel.public_id])
    assert channel.address == "support@shop.test"
    assert channel.store.platform == Platform.EMAIL
    assert channel.store.tenant == tenant
    assert channel.store.name == "E-mail support@shop.test"
    # Ciphertext at rest; the properties decrypt.
    assert local_imap.password not in channel.imap_password_encrypted
    assert channel.imap_password == local_imap.password
    assert channel.smtp_password == local_smtp.password
    assert no_dispatch == [channel.pk]


def test_test_connection_says_which_password_was_refused_and_keeps_the_form(
    owner_client, tenant, local_imap, local_smtp, folder
):
    response = owner_client.post(
        reverse("email_channel_list"),
        _form(local_imap, local_smtp, folder, imap_password="wrong", action="check"),
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-check-result="failed"' in body
    assert "IMAP: 127.0.0.1 refused the user name or password for support@shop.test." in body
    assert "✓ SMTP: connected to 127.0.0.1 as support@shop.test." in body
    assert 'value="support@shop.test"' in body  # the draft is kept
    assert not EmailChannel.objects.exists()


def test_test_connection_names_a_closed_port_a_missing_folder_and_a_bad_smtp_password(
    owner_client, local_imap, local_smtp, folder
):
    from email_channel.localmail import free_port

    closed = free_port()
    response = owner_client.post(
        reverse("email_channel_list"),
        _form(local_imap, local_smtp, folder, imap_port=closed, action="check"),
    )
    assert f"IMAP: 127.0.0.1 refused the connection on port {closed}." in response.content.decode()

    response = owner_client.post(
        reverse("email_channel_list"),
        _form(local_imap, local_smtp, "Nowhere", smtp_password="bad", action="check"),
    )
    body = response.content.decode()
    assert "IMAP: the folder &#x27;Nowhere&#x27; does not exist." in body
    assert "SMTP: 127.0.0.1 refused the user name or password for support@shop.test." in body


def test_a_working_channel_passes_its_connection_test(owner_client, email_channel, local_imap):
    response = owner_client.post(reverse("email_channel_check", args=[email_channel.public_id]))

    body = response.content.decode()
    assert 'data-check-result="ok"' in body
    assert f"IMAP: folder {email_channel.imap_folders} has 0 messages." in body
    email_channel.refresh_from_db()
    assert email_channel.check_state == "ok"


def test_saving_without_passwords_keeps_the_stored_ones(
    owner_client, email_channel, local_imap, local_smtp
):
    values = _form(
        local_imap,
        local_smtp,
        email_channel.imap_folders,
        imap_password="",
        smtp_password="",
        from_name="Acme Help",
    )
    response = owner_client.post(
        reverse("email_channel_edit", args=[email_channel.public_id]), values
    )

    assert response.status_code == 302
    email_channel.refresh_from_db()
    assert email_channel.from_name == "Acme Help"
    assert email_channel.imap_password == local_imap.password


def test_turning_a_channel_off_disconnects_its_store(
    owner_client, email_channel, local_imap, local_smtp
):
    values = _form(local_imap, local_smtp, email_channel.imap_folders, is_active=False)
    owner_client.post(reverse("email_channel_edit", args=[email_channel.public_id]), values)

    store = Store.objects.get(pk=email_channel.store_id)
    assert store.status == "disconnected"


def test_an_address_is_read_once_per_organisation(
    owner_client, email_channel, local_imap, local_smtp, folder
):
    response = owner_client.post(
        reverse("email_channel_list"), _form(local_imap, local_smtp, folder, action="add")
    )
    assert response.status_code == 400
    assert "This organisation already reads this address." in response.content.decode()
    assert EmailChannel.objects.count() == 1


def test_agents_may_not_manage_channels(agent_client, email_channel):
    assert agent_client.get(reverse("email_channel_list")).status_code == 403
    url = reverse("email_channel_edit", args=[email_channel.public_id])
    assert agent_client.get(url).status_code == 403


def test_another_organisations_channel_is_a_404_and_unchanged(
    client, other_owner, email_channel, local_imap, local_smtp, no_dispatch
):
    client.force_login(other_owner)
    for name in ("email_channel_edit", "email_channel_check", "email_channel_poll"):
        url = reverse(name, args=[email_channel.public_id])
        assert client.post(url, _form(local_imap, local_smtp, "INBOX")).status_code == 404
    edit = reverse("email_channel_edit", args=[email_channel.public_id])
    assert client.get(edit).status_code == 404
    listing = client.get(reverse("email_channel_list")).content.decode()
    assert "support@shop.test" not in listing
    email_channel.refresh_from_db()
    assert email_channel.checked_at is None
    assert email_channel.imap_folders != "INBOX"
    assert no_dispatch == []


def test_a_mailbox_is_not_listed_among_the_marketplace_stores(owner_client, email_channel):
    page = owner_client.get(reverse("store_list")).content.decode()

    assert "E-mail support@shop.test" not in page
