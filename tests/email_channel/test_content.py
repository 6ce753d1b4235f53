"""What an e-mail shows in the mailbox: sanitised HTML with remote images blocked until asked,
the quoted history folded, attachments kept and served with their checks, auto-replies
labelled, unreadable mail kept, and order ids linked to the tenant's orders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from email_channel.polling import channel_poll
from inbox.models import Conversation, ConversationOrder, Message
from tests.factories_marketplaces import OrderFactory, StoreFactory

from .conftest import buyer_mail

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def _ingest(email_channel, local_imap, folder, raw: bytes) -> Message:
    local_imap.append(raw, folder)
    result = channel_poll(channel_id=email_channel.pk)
    assert result.outcome == "ok", result.error
    return Message.objects.filter(store=email_channel.store).latest("pk")


def _urls(message: Message) -> tuple[str, str]:
    ids = [message.conversation.public_id, message.public_id]
    return (
        reverse("email_message_body", args=ids),
        reverse("email_message_attachment", args=[*ids, 1]),
    )


def test_html_is_sanitised_and_remote_images_wait_until_asked(
    owner_client, email_channel, local_imap, folder
):
    html = (
        '<p onclick="steal()">Hello <b>team</b></p><script>alert(1)</script>'
        '<img src="https://tracker.test/pixel.png" onerror="x()"><a href="javascript:x()">x</a>'
    )
    message = _ingest(email_channel, local_imap, folder, buyer_mail(body="Hello team", html=html))

    stored = message.content["email"]["html"]
    assert "script" not in stored and "onclick" not in stored and "onerror" not in stored
    assert "javascript:" not in stored
    body_url, _ = _urls(message)
    blocked = owner_client.get(body_url)
    assert blocked.status_code == 200
    assert b"tracker.test" not in blocked.content
    assert b"<b>team</b>" in blocked.content
    assert "img-src data:;" in blocked["Content-Security-Policy"]
    assert "script" not in blocked["Content-Security-Policy"]
    shown = owner_client.get(body_url + "?images=1")
    assert b'src="https://tracker.test/pixel.png"' in shown.content
    assert "img-src data: https: http:;" in shown["Content-Security-Policy"]

    page = owner_client.get(reverse("ticket_detail", args=[message.conversation.public_id]))
    text = page.content.decode()
    assert f'src="{body_url}"' in text
    assert "Load remote images" in text
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in text


def test_the_quoted_history_is_folded_away(owner_client, email_channel, local_imap, folder):
    body = "Still nothing, sorry.\n\nOn Mon, 1 Dec 2026, Acme Support wrote:\n> We shipped it.\n"
    message = _ingest(email_channel, local_imap, folder, buyer_mail(body=body))

    assert message.text == "Still nothing, sorry."
    assert message.content["email"]["quoted"].startswith("On Mon, 1 Dec 2026")
    page = owner_client.get(reverse("ticket_detail", args=[message.conversation.public_id]))
    assert "<summary>Quoted text</summary>" in page.content.decode()
    assert message.conversation.last_message_preview == "Still nothing, sorry."


def test_attachments_are_kept_checked_and_served_to_the_team_only(
    owner_client, client, other_owner, email_channel, local_imap, folder, settings
):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 64 * 1024
    raw = buyer_mail(
        attachments=[
            ("photo.png", "image/png", PNG),
            ("huge.pdf", "application/pdf", b"%PDF" + b"0" * 70 * 1024),
            ("setup.exe", "application/octet-stream", b"MZ..."),
        ]
    )
    message = _ingest(email_channel, local_imap, folder, raw)

    photo, huge, program = message.content["email"]["attachments"]
    assert (photo["name"], photo["size"], photo["refused"]) == ("photo.png", len(PNG), "")
    assert huge["path"] == "" and huge["refused"] == (
        "Not kept: larger than 0 MB. Ask the buyer for a smaller file."
    )
    assert program["path"] == "" and program["refused"] == (
        "Not kept: .exe files can carry programs."
    )
    _, attachment_url = _urls(message)
    served = owner_client.get(attachment_url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PNG
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    page = owner_client.get(reverse("ticket_detail", args=[message.conversation.public_id]))
    text = page.content.decode()
    assert f'href="{attachment_url}"' in text
    assert "PNG · 67 bytes" in text
    assert "Not kept: .exe files can carry programs." in text

    # Another organisation: the ticket, its body and its attachments are 404s.
    client.force_login(other_owner)
    body_url, _ = _urls(message)
    assert client.get(attachment_url).status_code == 404
    assert client.get(body_url).status_code == 404


def test_auto_replies_are_labelled_in_the_thread_and_the_list(
    owner_client, email_channel, local_imap, folder
):
    message = _ingest(
        email_channel,
        local_imap,
        folder,
        buyer_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
    )

    assert message.type == "AUTO_REPLY"
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.last_message_preview.startswith("[Automatic reply] Hello")
    assert conversation.unread_count == 0
    page = owner_client.get(reverse("ticket_detail", args=[conversation.public_id]))
    assert "Automatic reply</span>" in page.content.decode()


def test_unknown_charsets_and_broken_mime_are_kept_readable(email_channel, local_imap, folder):
    raw = (
        b"From: ann@buyer.test\r\nTo: support@shop.test\r\nSubject: =?x-klingon?q?Hallo?=\r\n"
        b'Message-ID: <odd@buyer.test>\r\nContent-Type: multipart/mixed; boundary="NOPE"\r\n\r\n'
        b"--WRONG\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nQapla\xe9 order\r\n"
    )
    message = _ingest(email_channel, local_imap, folder, raw)

    assert message.external_id.startswith("m:")
    assert message.content["email"]["from"] == "ann@buyer.test"
    assert message.conversation.status == "open"


def test_order_ids_in_an_email_link_the_tenants_order(tenant, email_channel, local_imap, folder):
    shop = StoreFactory(tenant=tenant)
    order = OrderFactory(store=shop, external_id="576461413038712345")
    OrderFactory(store=StoreFactory(), external_id="576461413038799999")  # another tenant's

    message = _ingest(
        email_channel,
        local_imap,
        folder,
        buyer_mail(body="Order 576461413038712345 and 576461413038799999 never came."),
    )

    links = ConversationOrder.objects.filter(conversation=message.conversation)
    assert [(link.order_id, link.source) for link in links] == [(order.pk, "text")]
