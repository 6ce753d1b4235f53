"""Writes the tickets' search documents of an existing database, in batches, with a progress bar.

    python manage.py search_index_build [--batch 2000] [--missing] [--tenant <slug>]

Each batch is one UPDATE of up to `--batch` tickets (their messages and notes aggregated by the
database) in its own short transaction, walking the tickets by id: the table is never locked for
long, ingest and agents carry on meanwhile (a ticket they touch during the build gets its new
words appended as usual), and an interrupted build resumes with `--missing` (the tickets whose
document was never written). Needs PostgreSQL; elsewhere there is no index to build.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from tqdm import tqdm

from inbox.models import Conversation
from search import index
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Build the tickets' search documents (PostgreSQL) in batches, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="tickets per statement")
        parser.add_argument(
            "--missing",
            action="store_true",
            help="only tickets without a document (resume an interrupted build)",
        )
        parser.add_argument("--tenant", default="", help="only this organisation (its slug)")
        parser.add_argument(
            "--pause", type=float, default=0.0, help="seconds to sleep between batches"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not index.enabled():
            self.stdout.write("No search index on this database (PostgreSQL only): nothing to do.")
            return
        batch = options["batch"]
        if not 1 <= batch <= 50_000:
            raise CommandError("--batch takes 1 to 50,000 tickets.")
        tickets = Conversation.objects.all()
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No organisation {options['tenant']!r}.")
            tickets = tickets.filter(tenant=tenant)
        if options["missing"]:
            tickets = tickets.filter(search_document__isnull=True)
        total = tickets.count()
        written, after = 0, 0
        started = time.monotonic()
        with tqdm(
            total=total, unit="ticket", file=self.stderr, mininterval=1.0, dynamic_ncols=True
        ) as progress:
            while True:
                ids = list(
                    tickets.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
                )
                if not ids:
                    break
                with transaction.atomic():
                    written += index.documents_rebuild(ids)
                after = ids[-1]
                progress.update(len(ids))
                if options["pause"]:
                    time.sleep(options["pause"])
        # Merge what the batches left in the GIN index's pending list (searches read it whole)
        # and give the planner the documents' statistics.
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list('conv_search_gin')")
            cursor.execute(f"ANALYZE {Conversation._meta.db_table}")
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Search documents written: {written:,} (in {seconds:.1f} s).")
        )
