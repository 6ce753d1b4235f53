"""The e-mail channel's tests talk to real mail servers on loopback (email_channel.localmail):
pymap for IMAP, aiosmtpd for SMTP, started once per test session. Each test reads its own IMAP
folder, so tests never see each other's mail."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.utils import timezone

from email_channel import services, tasks
from email_channel.localmail import HOST, LocalIMAP, LocalSMTP
from email_channel.models import EmailChannel, Security


@pytest.fixture(scope="session")
def local_imap():
    server = LocalIMAP().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_smtp():
    server = LocalSMTP().start()
    yield server
    server.stop()


@pytest.fixture
def sent_mail(local_smtp):
    """The mail the local SMTP server accepts during this test."""
    local_smtp.received.clear()
    return local_smtp.received


@pytest.fixture
def folder(local_imap) -> str:
    name = f"T{uuid.uuid4().hex[:12]}"
    with local_imap.mailbox() as mailbox:
        mailbox.folder.create(name)
    return name


@pytest.fixture
def no_dispatch(monkeypatch) -> list[int]:
    """Poll tasks the pages would queue, recorded instead of sent to a broker."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.poll_channel, "delay", calls.append)
    return calls


def channel_values(local_imap, local_smtp, folder: str, **changes) -> dict:
    values = {
        "address": "support@shop.test",
        "from_name": "Acme Support",
        "imap_host": HOST,
        "imap_port": local_imap.port,
        "imap_security": Security.NONE,
        "imap_username": local_imap.username,
        "imap_folders": folder,
        "smtp_host": HOST,
        "smtp_port": local_smtp.port,
        "smtp_security": Security.NONE,
        "smtp_username": local_smtp.username,
        "is_active": True,
    }
    values.update(changes)
    return values


@pytest.fixture
def make_channel(local_imap, local_smtp, folder):
    def make(tenant, **changes) -> EmailChannel:
        return services.channel_create(
            tenant=tenant,
            values=channel_values(local_imap, local_smtp, folder, **changes),
            imap_password=local_imap.password,
            smtp_password=local_smtp.password,
        )

    return make


@pytest.fixture
def email_channel(tenant, make_channel) -> EmailChannel:
    return make_channel(tenant)


def buyer_mail(
    *,
    sender: str = "ann@buyer.test",
    to: str = "support@shop.test",
    subject: str = "Where is my parcel?",
    body: str = "Hello, my parcel has not arrived.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    date=None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ann Buyer <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date or timezone.now())
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@buyer.test>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, payload in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
