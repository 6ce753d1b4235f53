"""Ingest of e-mail (named email_ingest.py: bench/ is first on sys.path and must not shadow the
standard library's `email` package) from a real local IMAP server (PostgreSQL): mails per second.

Starts the local IMAP server (pymap, email_channel.localmail), appends --count buyer e-mails
(a third of them replies by In-Reply-To, a tenth with a small attachment, some HTML) to a fresh
folder, then times ONE full read of the mailbox by the product's poll (`channel_poll`: UID
search, bulk fetch without marking read, parsing, sanitising, threading, ingest into tickets,
the folder's position) and a second read that finds nothing new. Prints mails/s and tickets.

    createdb -h 127.0.0.1 -U postgres <yours>_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/email_ingest.py [--count 10000]

Target (issue 17): ingest of 10,000 e-mails from the local IMAP server ≥ 200 messages/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="email-bench-"))

import django  # noqa: E402

django.setup()

from email.message import EmailMessage  # noqa: E402
from email.utils import format_datetime  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from email_channel import polling, services  # noqa: E402
from email_channel.localmail import HOST, LocalIMAP, LocalSMTP  # noqa: E402
from email_channel.models import Security  # noqa: E402
from inbox.models import Conversation, Message  # noqa: E402
from tenants.models import Tenant  # noqa: E402


def mail(number: int, run: str) -> bytes:
    message = EmailMessage()
    buyer = number % max(1, COUNT // 3)
    message["From"] = f"Buyer {buyer} <buyer{buyer}@bench.test>"
    message["To"] = "support@bench.test"
    message["Subject"] = f"Order 5764614130387{number:05d} has not arrived"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = f"<{run}-{number}@bench.test>"
    if number % 3 == 2:
        message["In-Reply-To"] = f"<{run}-{number - 1}@bench.test>"
    text = f"Hello, my order 5764614130387{number:05d} is late.\n\nOn Monday we wrote:\n> shipped"
    message.set_content(text)
    if number % 4 == 0:
        message.add_alternative(
            f"<p>Hello, my <b>order</b> is late.</p><img src='https://x.test/{number}.png'>",
            subtype="html",
        )
    if number % 10 == 0:
        message.add_attachment(
            b"\x89PNG\r\n" + os.urandom(2048), maintype="image", subtype="png", filename="photo.png"
        )
    return message.as_bytes()


def main() -> None:
    global COUNT
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="cProfile the read (top 25)")
    args = parser.parse_args()
    COUNT = args.count
    call_command("migrate", verbosity=0)
    imap, smtp = LocalIMAP().start(), LocalSMTP().start()
    try:
        run = uuid.uuid4().hex[:8]
        folder = f"bench{run}"
        with imap.mailbox() as mailbox:
            mailbox.folder.create(folder)
            started = time.perf_counter()
            for number in range(COUNT):
                mailbox.append(mail(number, run), folder)
            print(f"seeded {COUNT} mails in {time.perf_counter() - started:.1f} s")
        tenant = Tenant.objects.create(name=f"E-mail bench {run}", slug=f"email-bench-{run}")
        channel = services.channel_create(
            tenant=tenant,
            values={
                "address": "support@bench.test",
                "imap_host": HOST,
                "imap_port": imap.port,
                "imap_security": Security.NONE,
                "imap_username": imap.username,
                "imap_folders": folder,
                "smtp_host": HOST,
                "smtp_port": smtp.port,
                "smtp_security": Security.NONE,
                "smtp_username": "",
                "is_active": True,
            },
            imap_password=imap.password,
            smtp_password="",
        )
        polling.MAX_PER_POLL = max(polling.MAX_PER_POLL, COUNT)
        # What a worker has loaded before its first poll (triage's classifier imports sklearn
        # when ingest first announces buyer messages: seconds, once per process).
        import triage.tasks  # noqa: F401

        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        result = polling.channel_poll(channel_id=channel.pk)
        elapsed = time.perf_counter() - started
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        assert result.outcome == "ok", result.error
        stored = Message.objects.filter(store=channel.store).count()
        tickets = Conversation.objects.filter(store=channel.store).count()
        print(
            f"read {result.fetched} mails, stored {stored} messages in {tickets} tickets "
            f"in {elapsed:.1f} s: {result.fetched / elapsed:.0f} mails/s (target >= 200)"
        )
        started = time.perf_counter()
        again = polling.channel_poll(channel_id=channel.pk)
        print(
            f"second read: {again.fetched} new in {(time.perf_counter() - started) * 1000:.0f} ms"
        )
    finally:
        imap.stop()
        smtp.stop()
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


COUNT = 1000

if __name__ == "__main__":
    main()
