"""An agent's reply as an e-mail: addressed to the buyer, answerable to the ticket's reply
address, and threaded (In-Reply-To / References) so that the buyer's mail program shows it in
the same conversation. Sent with Django's SMTP backend and the channel's own credentials."""

from __future__ import annotations

import contextlib
import smtplib
from email.utils import formataddr, make_msgid

from django.core.mail import EmailMessage
from django.db import transaction

from marketplaces.channel import (
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    UnavailableError,
)
from marketplaces.models import Store

from . import keys
from .connection import smtp_backend, smtp_open
from .models import EmailChannel, EmailThread

# References kept on a thread (RFC 5322 asks for the first and the last few).
MAX_REFERENCES = 20


def reply_subject(subject: str, number: int) -> str:
    """'Re: Where is my parcel [#42]': the ticket number lets a reply without headers find it."""
    subject = " ".join((subject or "").split()) or "Your message"
    tag = f"[#{number}]"
    if not subject.lower().startswith(("re:", "aw:", "sv:")):
        subject = f"Re: {subject}"
    return subject if tag in subject else f"{subject} {tag}"


def reply_message(
    *, channel: EmailChannel, thread: EmailThread, number: int, token: str, text: str
) -> EmailMessage:
    message_id = make_msgid(domain=channel.domain)
    references = [f"<{ref}>" for ref in thread.references[-MAX_REFERENCES:]]
    headers = {"Message-ID": message_id}
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    return EmailMessage(
        subject=reply_subject(thread.subject, number),
        body=text,
        from_email=formataddr((channel.from_name, channel.address)),
        to=[formataddr((thread.buyer_name, thread.buyer_address))],
        reply_to=[channel.reply_address(token)],
        headers=headers,
    )


def _smtp_error(error: Exception, *, data_sent: bool) -> Exception:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return InvalidRequestError(
            f"the buyer's address was refused by the mail server ({error.recipients})."
        )
    if isinstance(error, smtplib.SMTPSenderRefused):
        return PermissionDeniedError(
            f"the mail server does not let this mailbox send as {error.sender!r}."
        )
    if isinstance(error, smtplib.SMTPResponseException):
        if 400 <= error.smtp_code < 500:
            return UnavailableError(f"the mail server said try later ({error.smtp_code}).")
        return InvalidRequestError(f"the mail server refused the e-mail ({error.smtp_code}).")
    if data_sent:
        # The connection broke after the mail was handed over: it may have been accepted.
        return OutcomeUnknownError(f"the mail server did not confirm the e-mail ({error}).")
    return UnavailableError(f"the mail server is not answering ({error}).")


def reply_send(*, store: Store, token: str, text: str) -> str:
    """Sends one reply of the ticket `token`; returns the key of the sent mail (its Message-ID)."""
    thread = (
        EmailThread.objects.select_related("channel", "conversation")
        .filter(conversation__store=store, conversation__external_id=token)
        .first()
    )
    if thread is None:
        raise NotFoundError("This ticket has no e-mail thread to answer.")
    channel = thread.channel
    message = reply_message(
        channel=channel, thread=thread, number=thread.conversation.number, token=token, text=text
    )
    backend = smtp_backend(channel)
    smtp_open(backend, channel)  # failures here certainly sent nothing
    try:
        assert backend.connection is not None
        backend.connection.sendmail(
            channel.address, message.recipients(), message.message().as_bytes(linesep="\r\n")
        )
    except smtplib.SMTPRecipientsRefused as error:
        raise _smtp_error(error, data_sent=False) from error
    except (smtplib.SMTPException, OSError) as error:
        raise _smtp_error(error, data_sent=True) from error
    finally:
        with contextlib.suppress(Exception):  # closed as well as it can be
            backend.close()
    sent_id = message.extra_headers["Message-ID"].strip().strip("<>")
    with transaction.atomic():
        locked = EmailThread.objects.select_for_update().get(pk=thread.pk)
        locked.references = [*locked.references, sent_id][-MAX_REFERENCES:]
        locked.save(update_fields=["references"])
    return keys.message_key(sent_id)
