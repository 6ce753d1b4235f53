"""The demo's support mailbox: `--connect` adds the demo organisation's e-mail channel on the
local mail servers (make run starts them) and puts a few buyers' e-mails in it; `--send` writes
one more e-mail as a buyer, to try threading and replies by hand.

    manage.py email_demo --connect
    manage.py email_demo --send "Where is order 576461413038700012?" --from kim@buyer.test
    manage.py email_demo --send "Thanks!" --ticket 12      (a reply to ticket #12)
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from imap_tools import MailBoxUnencrypted

from email_channel import services
from email_channel.models import EmailChannel, Security
from inbox.models import Conversation
from tenants.models import Tenant

ADDRESS = "support@shop.test"
IMAP_PASSWORD = "support-secret"  # noqa: S105  (the local demo server's, email_channel.localmail)
SMTP_PASSWORD = "smtp-secret"  # noqa: S105
SEED = [
    ("maria@buyer.test", "Maria Lopez", "Wrong size delivered",
     "Hi, I ordered the mug set in blue (order 576461413038700001) but got green. Can I swap it?"),
    ("kim@buyer.test", "Kim Park", "Invoice please",
     "Hello, could you send me an invoice for my last order? Thanks, Kim"),
    ("ola@buyer.test", "Ola Nordmann", "Parcel not arrived",
     "My parcel was due on Friday and it is still not here. What can you do?"),
]  # fmt: skip


class Command(BaseCommand):
    help = "Connect the demo's support mailbox to the local mail servers, or send as a buyer."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--imap-port", type=int, default=1143)
        parser.add_argument("--smtp-port", type=int, default=1025)
        parser.add_argument("--connect", action="store_true")
        parser.add_argument("--send", default="")
        parser.add_argument("--from", dest="sender", default="kim@buyer.test")
        parser.add_argument("--subject", default="A question about my order")
        parser.add_argument("--ticket", type=int, default=0, help="Answer this ticket number.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No organisation {options['tenant']!r} (run seed_demo first).")
        if options["connect"]:
            self._connect(tenant, options)
        if options["send"]:
            channel = EmailChannel.objects.filter(tenant=tenant, address=ADDRESS).first()
            if channel is None:
                raise CommandError("The demo mailbox is not connected: run with --connect first.")
            to, subject = ADDRESS, options["subject"]
            if options["ticket"]:
                ticket = Conversation.objects.get(
                    tenant=tenant, store=channel.store, number=options["ticket"]
                )
                to = channel.reply_address(ticket.external_id)
                subject = f"Re: {subject} [#{ticket.number}]"
            self._append(channel.imap_port, options["sender"], "", to, subject, options["send"])
            self.stdout.write(f"Sent as {options['sender']} to {to}: {subject}")

    def _connect(self, tenant: Tenant, options: dict[str, Any]) -> None:
        values = {
            "address": ADDRESS,
            "from_name": f"{tenant.name} Support",
            "imap_host": "127.0.0.1",
            "imap_port": options["imap_port"],
            "imap_security": Security.NONE,
            "imap_username": ADDRESS,
            "imap_folders": "INBOX",
            "smtp_host": "127.0.0.1",
            "smtp_port": options["smtp_port"],
            "smtp_security": Security.NONE,
            "smtp_username": ADDRESS,
            "is_active": True,
        }
        channel = EmailChannel.objects.filter(tenant=tenant, address=ADDRESS).first()
        if channel is None:
            channel = services.channel_create(
                tenant=tenant,
                values=values,
                imap_password=IMAP_PASSWORD,
                smtp_password=SMTP_PASSWORD,
            )
        else:
            services.channel_update(channel=channel, values=values)
        with MailBoxUnencrypted("127.0.0.1", options["imap_port"]).login(
            ADDRESS, IMAP_PASSWORD
        ) as mailbox:
            empty = mailbox.folder.status("INBOX", ["MESSAGES"])["MESSAGES"] == 0
        if empty:  # the local server keeps mail in memory: a restart starts it empty
            for sender, name, subject, body in SEED:
                self._append(options["imap_port"], sender, name, ADDRESS, subject, body)
        self.stdout.write(f"E-mail channel {ADDRESS} connected to the local mail servers.")

    def _append(self, port: int, sender: str, name: str, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = f"{name} <{sender}>" if name else sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(timezone.now())
        message["Message-ID"] = f"<{uuid.uuid4().hex}@buyer.test>"
        message.set_content(body)
        with MailBoxUnencrypted("127.0.0.1", port).login(ADDRESS, IMAP_PASSWORD) as mailbox:
            mailbox.append(message.as_bytes(), "INBOX")
