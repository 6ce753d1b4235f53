"""Reading the mailbox from the local IMAP server: threading onto tickets, stored once whatever
happens (re-polls, a crash between fetch and store, the same mail in two folders), auto-replies
and bounces that reopen nothing, our own mail coming back, and a mailbox that refuses us."""

from __future__ import annotations

import pytest
from django.utils import timezone

from email_channel import keys
from email_channel.models import EmailThread, FolderState
from email_channel.polling import channel_poll
from inbox.models import Conversation, Message, TicketStatus

from .conftest import buyer_mail

pytestmark = pytest.mark.django_db


def poll(channel):
    result = channel_poll(channel_id=channel.pk)
    assert result.outcome == "ok", result.error
    return result


def tickets(channel):
    return list(Conversation.objects.filter(store=channel.store).order_by("number"))


def test_a_new_mail_becomes_a_ticket_with_its_thread(email_channel, local_imap, folder):
    local_imap.append(
        buyer_mail(subject="Re: Where is my parcel?", message_id="<first@buyer.test>"), folder
    )

    result = poll(email_channel)

    assert (result.fetched, result.stored, len(result.new_tickets)) == (1, 1, 1)
    [ticket] = tickets(email_channel)
    assert keys.TOKEN_PATTERN.match(ticket.external_id)
    assert ticket.status == TicketStatus.OPEN
    assert ticket.unread_count == 1
    assert ticket.last_message_preview == "Hello, my parcel has not arrived."
    assert ticket.customer.buyer_user_id == "ann@buyer.test"
    assert ticket.customer.display_name == "ann@buyer.test"  # not a masked marketplace label
    # No platform reply window on a mailbox (TikTok's clock is TikTok's); team policies apply.
    assert ticket.platform_due_at is None
    [message] = ticket.messages.all()
    assert message.external_id == keys.message_key("first@buyer.test")
    assert message.direction == "inbound"
    assert message.content["email"]["from"] == "ann@buyer.test"
    assert message.content["email"]["subject"] == "Re: Where is my parcel?"
    thread = EmailThread.objects.get(conversation=ticket)
    assert (thread.buyer_address, thread.buyer_name) == ("ann@buyer.test", "Ann Buyer")
    assert thread.subject == "Where is my parcel?"
    assert thread.references == ["first@buyer.test"]


def test_nothing_is_stored_twice_after_a_repoll_a_crash_or_a_second_folder(
    email_channel, local_imap, folder
):
    raw = buyer_mail(message_id="<once@buyer.test>")
    local_imap.append(raw, folder)
    poll(email_channel)
    assert poll(email_channel).fetched == 0  # nothing new above the stored position

    # A crash after fetching, before the position was stored: the same mail is read again.
    FolderState.objects.filter(channel=email_channel).update(last_uid=0)
    again = poll(email_channel)
    assert (again.fetched, again.stored) == (1, 0)

    # The same mail in a second folder.
    with local_imap.mailbox() as mailbox:
        mailbox.folder.create(f"{folder}-archive")
    local_imap.append(raw, f"{folder}-archive")
    email_channel.imap_folders = f"{folder},{folder}-archive"
    email_channel.save()
    both = poll(email_channel)
    assert (both.fetched, both.stored) == (1, 0)

    assert Message.objects.filter(store=email_channel.store).count() == 1
    assert len(tickets(email_channel)) == 1


def test_a_changed_uidvalidity_reads_the_folder_again_without_duplicates(
    email_channel, local_imap, folder
):
    local_imap.append(buyer_mail(), folder)
    poll(email_channel)
    FolderState.objects.filter(channel=email_channel).update(uid_validity=1, last_uid=999)

    result = poll(email_channel)

    assert (result.fetched, result.stored) == (1, 0)
    state = FolderState.objects.get(channel=email_channel)
    assert state.uid_validity != 1 and state.last_uid < 999


def test_replies_thread_by_token_then_headers_then_subject_number(
    email_channel, local_imap, folder
):
    local_imap.append(buyer_mail(sender="ann@buyer.test", message_id="<a1@buyer.test>"), folder)
    local_imap.append(buyer_mail(sender="bob@buyer.test", message_id="<b1@buyer.test>"), folder)
    poll(email_channel)
    ann, bob = tickets(email_channel)
    for ticket in (ann, bob):  # solved: a known buyer's new mail no longer joins them
        Conversation.objects.filter(pk=ticket.pk).update(status=TicketStatus.SOLVED)

    # A reply to Ann's ticket address, from another address of hers.
    local_imap.append(
        buyer_mail(sender="ann@work.test", to=email_channel.reply_address(ann.external_id)),
        folder,
    )
    # Bob answers his own first mail by its Message-ID.
    local_imap.append(
        buyer_mail(sender="bob@buyer.test", in_reply_to="<b1@buyer.test>", subject="Re: x"),
        folder,
    )
    # A forwarded note names Ann's ticket number only.
    local_imap.append(
        buyer_mail(sender="carol@buyer.test", subject=f"Fwd: about [#{ann.number}]"), folder
    )
    # And a stranger starts a new ticket.
    local_imap.append(buyer_mail(sender="dave@buyer.test"), folder)
    result = poll(email_channel)

    assert result.stored == 4
    assert len(result.new_tickets) == 1
    assert ann.messages.count() == 3
    assert bob.messages.count() == 2
    ann.refresh_from_db()
    bob.refresh_from_db()
    assert (ann.status, bob.status) == (TicketStatus.OPEN, TicketStatus.OPEN)  # reopened
    assert len(tickets(email_channel)) == 3


def test_a_known_buyer_joins_their_open_ticket_but_a_solved_one_starts_anew(
    email_channel, local_imap, folder
):
    local_imap.append(buyer_mail(subject="First"), folder)
    local_imap.append(buyer_mail(subject="Something else"), folder)  # same batch, same buyer
    poll(email_channel)
    [ticket] = tickets(email_channel)
    assert ticket.messages.count() == 2

    Conversation.objects.filter(pk=ticket.pk).update(status=TicketStatus.SOLVED)
    local_imap.append(buyer_mail(subject="A new question"), folder)
    poll(email_channel)

    assert len(tickets(email_channel)) == 2


def test_auto_replies_and_bounces_are_kept_but_reopen_nothing(email_channel, local_imap, folder):
    local_imap.append(buyer_mail(message_id="<q@buyer.test>"), folder)
    poll(email_channel)
    [ticket] = tickets(email_channel)
    Conversation.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.SOLVED, unread_count=0, status_changed_at=timezone.now()
    )

    local_imap.append(
        buyer_mail(
            subject="Automatic reply: Where is my parcel?",
            in_reply_to="<q@buyer.test>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        folder,
    )
    bounce = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.buyer.test>\r\n"
        b"To: support@shop.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce1@mx.buyer.test>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <q@buyer.test>\r\n"
        b"--B--\r\n"
    )
    local_imap.append(bounce, folder)
    result = poll(email_channel)

    assert result.stored == 2
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert ticket.unread_count == 0
    assert sorted(ticket.messages.values_list("type", flat=True)) == [
        "AUTO_REPLY",
        "DELIVERY_FAILURE",
        "TEXT",
    ]


def test_our_own_mail_coming_back_is_skipped(email_channel, local_imap, folder):
    local_imap.append(buyer_mail(sender="support@shop.test"), folder)
    local_imap.append(buyer_mail(sender="support+t0123456789abcdef@shop.test"), folder)

    result = poll(email_channel)

    assert (result.fetched, result.skipped, result.stored) == (2, 2, 0)
    assert tickets(email_channel) == []


def test_a_refused_password_is_shown_on_the_channel_and_nothing_changes(
    email_channel, local_imap, folder
):
    local_imap.append(buyer_mail(), folder)
    email_channel.set_passwords(imap="wrong")
    email_channel.save()

    result = channel_poll(channel_id=email_channel.pk)

    assert result.outcome == "failed"
    email_channel.refresh_from_db()
    assert email_channel.last_poll_error == (
        "IMAP: 127.0.0.1 refused the user name or password for support@shop.test."
    )
    assert email_channel.poll_lease_until is None
    assert tickets(email_channel) == []


def test_one_poll_at_a_time_per_mailbox(email_channel):
    email_channel.poll_lease_until = timezone.now() + timezone.timedelta(minutes=5)
    email_channel.save()

    assert channel_poll(channel_id=email_channel.pk).outcome == "busy"


def test_a_server_that_drops_mid_fetch_leaves_a_clear_state_and_nothing_half_stored(
    email_channel, local_imap, folder
):
    """A server that greets, signs us in (opening INBOX), then hangs up on the next command."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    selected: list[bool] = []

    def serve() -> None:
        connection, _ = listener.accept()
        stream = connection.makefile("rwb")
        stream.write(b"* OK IMAP4rev1 ready\r\n")
        stream.flush()
        for line in stream:
            tag, command = line.strip().split(b" ", 2)[:2]
            if command.upper() == b"CAPABILITY":
                stream.write(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
            elif command.upper() == b"LOGIN":
                stream.write(tag + b" OK signed in\r\n")
            elif command.upper() == b"SELECT" and not selected:
                selected.append(True)
                stream.write(b"* 0 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n")
                stream.write(tag + b" OK selected\r\n")
            else:
                break  # the folder's turn: the connection drops
            stream.flush()
        connection.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    email_channel.imap_port = listener.getsockname()[1]
    email_channel.save()

    result = channel_poll(channel_id=email_channel.pk)

    assert result.outcome == "failed"
    email_channel.refresh_from_db()
    assert email_channel.last_poll_error.startswith("IMAP: the server broke off while reading mail")
    assert email_channel.poll_lease_until is None
    assert not FolderState.objects.filter(channel=email_channel, last_uid__gt=0).exists()
    assert tickets(email_channel) == []
