"""Answering an e-mail ticket: the reply goes through the inbox's outbox to the local SMTP
server, addressed and threaded so the buyer's answer finds the ticket again."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes

import pytest
from django.db import transaction
from django.utils import timezone

from email_channel import keys
from email_channel.adapter import store_api
from email_channel.models import EmailThread
from email_channel.polling import channel_poll
from inbox import outbox, services
from inbox.models import Conversation, DeliveryStatus
from marketplaces import channel, records
from tenants.models import Membership

from .conftest import buyer_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(email_channel, local_imap, folder):
    local_imap.append(
        buyer_mail(subject="Where is my parcel?", message_id="<first@buyer.test>"), folder
    )
    assert channel_poll(channel_id=email_channel.pk).stored == 1
    return Conversation.objects.get(store=email_channel.store)


def _reply(owner, ticket, text="Your parcel ships today."):
    membership = Membership.objects.get(user=owner, tenant=ticket.tenant)
    reply = services.reply_create(membership=membership, conversation=ticket, text=text)
    return reply, outbox.reply_send(message_id=reply.pk)


def test_a_reply_is_delivered_with_threading_headers(owner, ticket, email_channel, sent_mail):
    reply, outcome = _reply(owner, ticket)

    assert outcome.status == "sent"
    [(sender, recipients, raw)] = sent_mail
    mail = message_from_bytes(raw)
    assert sender == "support@shop.test"
    assert recipients == ["ann@buyer.test"]
    assert mail["From"] == "Acme Support <support@shop.test>"
    assert mail["To"] == "Ann Buyer <ann@buyer.test>"
    assert mail["Reply-To"] == f"support+{ticket.external_id}@shop.test"
    assert mail["Subject"] == f"Re: Where is my parcel? [#{ticket.number}]"
    assert mail["In-Reply-To"] == "<first@buyer.test>"
    assert mail["References"] == "<first@buyer.test>"
    assert mail.get_payload(decode=True).decode().strip() == "Your parcel ships today."
    reply.refresh_from_db()
    our_id = mail["Message-ID"].strip("<>")
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.external_id == keys.message_key(our_id)
    assert reply.index_key is not None  # placed in the thread by its sending time
    assert EmailThread.objects.get(conversation=ticket).references == [
        "first@buyer.test",
        our_id,
    ]


def test_the_channel_refuses_to_send_inside_an_open_transaction(ticket, email_channel, sent_mail):
    api = store_api(email_channel.store)
    content = records.TextContent(text="Your parcel ships today.")

    with pytest.raises(channel.TransactionOpenError), transaction.atomic():
        api.send_message(ticket.external_id, content=content)

    assert sent_mail == []  # refused before any SMTP conversation


def test_the_buyers_answer_to_a_reply_finds_the_ticket_and_reopens_it(
    owner, ticket, email_channel, sent_mail, local_imap, folder
):
    _reply(owner, ticket)
    ours = message_from_bytes(sent_mail[0][2])["Message-ID"]
    Conversation.objects.filter(pk=ticket.pk).update(status="solved")

    # A new subject, no token: only In-Reply-To ties it to the ticket. (Date headers are whole
    # seconds: the answer is dated after the reply's second.)
    later = timezone.now() + timedelta(seconds=2)
    local_imap.append(buyer_mail(subject="thanks!", in_reply_to=ours, date=later), folder)
    channel_poll(channel_id=email_channel.pk)

    ticket.refresh_from_db()
    assert Conversation.objects.filter(store=email_channel.store).count() == 1
    assert ticket.status == "open"
    assert list(ticket.messages.order_by("index_key").values_list("direction", flat=True)) == [
        "inbound",
        "outbound",
        "inbound",
    ]

    # The next reply answers the buyer's newest mail.
    _reply(owner, ticket, "Glad to help.")
    second = message_from_bytes(sent_mail[1][2])
    assert second["In-Reply-To"] != ours
    assert second["References"].split()[:2] == ["<first@buyer.test>", ours]


def test_a_refused_smtp_password_fails_the_reply_with_the_reason_and_keeps_it(
    owner, ticket, email_channel, sent_mail
):
    email_channel.set_passwords(smtp="wrong")
    email_channel.save()

    reply, outcome = _reply(owner, ticket)

    assert outcome.status == "failed"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.text == "Your parcel ships today."
    assert reply.failure_reason == (
        "E-mail refused the message: SMTP: 127.0.0.1 refused the user name or password for "
        "support@shop.test; fix it in Settings → Channels, then retry."
    )
    assert sent_mail == []


def test_a_server_that_is_down_is_retried_later(owner, ticket, email_channel, sent_mail):
    from email_channel.localmail import free_port

    email_channel.smtp_port = free_port()
    email_channel.save()

    reply, outcome = _reply(owner, ticket)

    assert outcome.status == "retry"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.failure_reason == "Retrying: E-mail is not answering."


def test_an_email_reply_may_be_longer_than_a_chat_message(owner, ticket, sent_mail):
    text = "A long answer. " * 200  # 3,000 characters: over TikTok's 2,000

    _, outcome = _reply(owner, ticket, text)

    assert outcome.status == "sent"
    assert len(message_from_bytes(sent_mail[0][2]).get_payload(decode=True).decode()) >= 2999
