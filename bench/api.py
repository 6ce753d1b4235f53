"""The REST API at scale, and the webhook sender's throughput, on PostgreSQL.

1. API reads on bench/mailbox.py's data set (100,000 tickets, 1,000,000 messages in one tenant,
   built once by that script's builder and reused): the first page of `/api/v1/tickets/` (50
   rows; also 100 rows, a status filter and an `updated_since` sync page) and a ticket's messages
   (`/api/v1/tickets/<id>/messages/`, the 200-message ticket), measured through Django's test
   client with a real API key (authentication, rate limit, pagination, serialisers: everything
   but the socket), and their query counts at page sizes 10, 50 and 100.
2. Webhook fan-out: 10,000 `ticket.updated` events (real ticket payloads) to 3 subscriptions,
   i.e. 30,000 signed deliveries, sent by `integrations.delivery.deliveries_send_due` (the Celery
   task's body, run here in-process) to a local receiver in its own process (HTTP/1.1,
   keep-alive, answers 200 at once). Deliveries per second from the first claim to the last
   recorded outcome.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench [REDIS_URL=redis://…/<db>] \\
        .venv/bin/python bench/api.py [--iterations 300] [--events 10000] [--skip-reads]

Targets (issue 12): tickets first page p95 <= 50 ms, a ticket's messages p95 <= 50 ms, query
counts constant in the page size; fan-out >= 500 deliveries/s.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO_ROOT = BENCH.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _mailbox_bench() -> Any:
    """bench/mailbox.py, loaded by path (its name would shadow the standard library's)."""
    spec = importlib.util.spec_from_file_location("bench_mailbox", BENCH / "mailbox.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# --- The receiver (its own process) ---------------------------------------------------------


def _serve(port_queue: Any, stop: Any) -> None:

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.timeout = 0.5
    while not stop.is_set():
        server.handle_request()
    server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    args = parser.parse_args()

    mailbox = _mailbox_bench()  # sets Django up
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from api.services import api_key_create
    from inbox.models import Conversation
    from tenants.models import APIKey, APIScope

    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL=postgres://…/<yours>_bench")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    settings.API_RATE_LIMIT_PER_MINUTE = 10_000_000
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    if not settings.REDIS_URL:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    call_command("migrate", verbosity=0)

    tenant = mailbox.dataset_ready(100_000, 1_000_000)
    if tenant is None:
        mailbox.drop_dataset()
        tenant = mailbox.build_dataset(100_000, 1_000_000)
    else:
        print("Reusing bench/mailbox.py's 100,000 tickets and 1,000,000 messages")
    APIKey.objects.filter(tenant=tenant, name="bench").delete()
    secret = api_key_create(tenant=tenant, name="bench", scope=APIScope.WRITE).secret
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    heavy = Conversation.objects.get(tenant=tenant, number=1)
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)

    if not args.skip_reads:

        def ok(response: Any) -> None:
            if response.status_code != 200:
                raise SystemExit(f"answered {response.status_code}: {response.content[:300]!r}")

        recent = Conversation.objects.filter(tenant=tenant).order_by("-updated_at")[500].updated_at
        cases = [
            ("tickets, first page (50)", "/api/v1/tickets/", 50),
            ("tickets, first page (100)", "/api/v1/tickets/?page_size=100", 50),
            ("tickets, status=open", "/api/v1/tickets/?status=open", 50),
            (
                "tickets, updated_since (sync page)",
                f"/api/v1/tickets/?updated_since={recent.isoformat().replace('+', '%2B')}",
                50,
            ),
            ("a ticket's messages (50 of 200)", f"/api/v1/tickets/{heavy.public_id}/messages/", 50),
            (
                "a ticket's messages (100 of 200)",
                f"/api/v1/tickets/{heavy.public_id}/messages/?page_size=100",
                50,
            ),
        ]
        print(f"\nAPI reads ({args.iterations} requests each, p50 / p95 / p99 ms):")
        for label, url, target in cases:
            samples = mailbox.measure(client, url, args.iterations, ok, headers)
            mailbox.report(label, samples, target)
        print("\nQueries at page sizes 10 / 50 / 100:")
        for label, url in (
            ("tickets", "/api/v1/tickets/"),
            ("messages", f"/api/v1/tickets/{heavy.public_id}/messages/"),
        ):
            counts = []
            for size in (10, 50, 100):
                sep = "&" if "?" in url else "?"
                with CaptureQueriesContext(connection) as captured:
                    ok(client.get(f"{url}{sep}page_size={size}", **headers))
                counts.append(len(captured))
            print(f"  {label:<46} {counts}")

    if not args.skip_fanout:
        fanout(args, tenant, transaction)


def fanout(args: Any, tenant: Any, transaction: Any) -> None:
    from inbox.events import ticket_objects
    from inbox.models import Conversation
    from integrations import delivery
    from integrations.events import emit_many
    from integrations.models import (
        DeliveryAttempt,
        DeliveryStatus,
        OutboundEvent,
        WebhookDelivery,
        WebhookSubscription,
    )
    from integrations.services import subscription_create

    stop = multiprocessing.Event()
    ports: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(ports, stop), daemon=True)
    receiver.start()
    port = ports.get(timeout=10)
    try:
        WebhookSubscription.objects.filter(tenant=tenant).delete()
        OutboundEvent.objects.filter(tenant=tenant).delete()
        for n in range(args.subscriptions):
            subscription_create(
                tenant=tenant,
                url=f"http://127.0.0.1:{port}/hooks/{n}",
                events=["ticket.updated"],
            )
        pks = list(
            Conversation.objects.filter(tenant=tenant)
            .order_by("-last_message_at")
            .values_list("pk", flat=True)[: args.events]
        )
        started = time.perf_counter()
        for chunk in range(0, len(pks), 1000):
            part = pks[chunk : chunk + 1000]
            with transaction.atomic():
                emit_many(
                    tenant_id=tenant.pk,
                    event="ticket.updated",
                    subjects=lambda part=part: ticket_objects(part),
                    changed=[{"status": {"from": "open", "to": "pending"}} for _ in part],
                )
        queued = WebhookDelivery.objects.filter(tenant=tenant).count()
        print(
            f"\nWebhook fan-out: {len(pks):,} events x {args.subscriptions} subscriptions = "
            f"{queued:,} deliveries written in {time.perf_counter() - started:.1f} s "
            f"(load {os.getloadavg()[0]:.2f})",
            flush=True,
        )
        started = time.perf_counter()
        sent = delivery.deliveries_send_due()
        elapsed = time.perf_counter() - started
        succeeded = WebhookDelivery.objects.filter(
            tenant=tenant, status=DeliveryStatus.SUCCEEDED
        ).count()
        attempts = DeliveryAttempt.objects.filter(tenant=tenant).count()
        print(
            f"  sent {sent:,} ({succeeded:,} answered 2xx, {attempts:,} attempts logged) in "
            f"{elapsed:.1f} s: {succeeded / elapsed:,.0f} deliveries/s "
            f"(target >= 500/s; load {os.getloadavg()[0]:.2f}, "
            f"WEBHOOKS_CONCURRENCY={delivery.settings.WEBHOOKS_CONCURRENCY})"
        )
    finally:
        stop.set()
        receiver.join(timeout=5)
        WebhookSubscription.objects.filter(tenant=tenant).delete()
        OutboundEvent.objects.filter(tenant=tenant).delete()


if __name__ == "__main__":
    main()
