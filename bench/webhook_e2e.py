"""Webhook to ticket, end to end: signed NEW_MESSAGE posts over HTTP until every message is stored.

Starts gunicorn (config.wsgi) and a Celery worker (prefork) against a PostgreSQL database and a
Redis of your own, makes a store with --conversations tickets, then posts --messages signed
type-14 notifications (one new buyer message each, into those tickets) from --clients
keep-alive connections, and waits until the worker has stored them all. The intake stores each
event and enqueues a drain for the shop (one while one is pending); the worker's drains store
the waiting messages a batch per transaction. Prints the rate of the posts, the end-to-end rate
(first post to last message stored), how long the last message trailed the last post, and each
event's wait from receipt to processed.

    REDIS_URL=redis://127.0.0.1:6379/13 CELERY_TASK_DEFAULT_QUEUE=webhook-e2e-bench \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/webhook_e2e.py [--messages 5000 --clients 2]

Target (issue 5): ingest at least 1,000 buyer messages/s; webhook acknowledgement p99 <= 25 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from webhook_ack import (  # the bench folder is put on the path above
    REPO_ROOT,
    conversation_id,
    free_port,
    migrated_env,
    notification,
    percentile,
    post_all,
    purge_bench_queue,
    report,
    start_gunicorn,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or not os.environ.get("CELERY_TASK_DEFAULT_QUEUE"):
        sys.exit("Set REDIS_URL and CELERY_TASK_DEFAULT_QUEUE (a queue of this bench's own).")
    env = migrated_env()
    import django

    django.setup()
    from django.db import connection

    from inbox.ingest import Delivery, messages_ingest_many
    from inbox.models import Message
    from marketplaces.models import Market, Store, WebhookEvent, WebhookEventStatus
    from marketplaces.tiktok import mapping
    from tenants.models import Tenant

    purge_bench_queue()  # nothing left over from an earlier run
    run = int(time.time()) % 10**8
    tenant = Tenant.objects.create(name=f"Webhook bench {run}", slug=f"webhook-bench-{run}")
    store = Store.objects.create(
        tenant=tenant,
        external_shop_id=f"7494049{run:08d}",
        shop_cipher=f"GCP_e2e{run}",
        name="Bench shop",
        region="US",
        market=Market.US,
    )
    deliveries = []
    for n in range(args.conversations):
        record = mapping.conversation(
            {
                "id": conversation_id(n),
                "participant_count": 2,
                "can_send_message": True,
                "create_time": int(time.time()),
                "participants": [
                    {"im_user_id": f"70788{n:09d}", "user_id": f"74940{n:09d}", "role": "BUYER"}
                ],
            }
        )
        deliveries.append(Delivery(record.external_id, [], "", record))
    messages_ingest_many(store=store, deliveries=deliveries)
    connection.close()

    port = free_port()
    server = start_gunicorn(port, args.web_workers, env)
    worker = None
    try:
        # 1. A backlog: everything is posted while no worker runs, then one starts and drains it
        #    (the worker's own rate, from its first claim to its last processed event).
        bodies = [
            notification(n, run, shop_id=store.external_shop_id, conversations=args.conversations)
            for n in range(args.messages)
        ]
        latencies, posting = post_all(port, bodies, args.clients)
        print(
            f"gunicorn {args.web_workers} workers, Celery worker {args.concurrency} processes, "
            f"{args.clients} client(s), {args.conversations} tickets, PostgreSQL, Redis"
        )
        report("acks, no worker running", latencies, posting)
        worker = start_worker(env, args.concurrency)
        wait_stored(store, args.messages)
        first, last = window(store, run)
        print(
            f"backlog: {args.messages} messages drained by the worker in {last - first:6.2f} s "
            f"= {args.messages / (last - first):6.0f} msg/s (first claim to last processed)"
        )

        # 2. Live: posted while the worker runs; every message stored as it comes.
        run2 = run + 1
        bodies = [
            notification(n, run2, shop_id=store.external_shop_id, conversations=args.conversations)
            for n in range(args.messages)
        ]
        started = time.perf_counter()
        latencies, posting = post_all(port, bodies, args.clients)
        posted = time.perf_counter()
        wait_stored(store, 2 * args.messages)
        done = time.perf_counter()
        report("acks, worker running", latencies, posting)
        print(
            f"live: {args.messages} messages stored {done - started:6.2f} s after the first post "
            f"(posts at {args.messages / posting:4.0f}/s); the last {done - posted:5.2f} s after "
            "the last post"
        )
        waits = [
            (processed - received).total_seconds() * 1000
            for received, processed in WebhookEvent.objects.filter(
                notification_id__startswith=f"73{run2:08d}"
            ).values_list("received_at", "processed_at")
        ]
        print(
            f"live: receipt to processed p50 {percentile(waits, 0.5):7.1f} ms  "
            f"p95 {percentile(waits, 0.95):7.1f} ms  max {max(waits):7.1f} ms"
        )
        stored = Message.objects.filter(store=store).count()
        processed = WebhookEvent.objects.filter(
            shop_id=store.external_shop_id, status=WebhookEventStatus.PROCESSED
        ).count()
        print(f"checked: {stored} messages stored once, {processed} events processed")
        assert stored == processed == 2 * args.messages, (stored, processed)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        purge_bench_queue()


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--queues",
            env["CELERY_TASK_DEFAULT_QUEUE"],
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return worker


def wait_stored(store: object, count: int, timeout: float = 300) -> None:
    from inbox.models import Message

    deadline = time.monotonic() + timeout
    while Message.objects.filter(store=store).count() < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"not all {count} messages were stored in {timeout:.0f} s")
        time.sleep(0.05)


def window(store: object, run: int) -> tuple[float, float]:
    """(first claim, last processed) of this run's events, in seconds since the epoch."""
    from django.db.models import Max, Min

    from marketplaces.models import WebhookEvent

    times = WebhookEvent.objects.filter(notification_id__startswith=f"73{run:08d}").aggregate(
        first=Min("claimed_at"), last=Max("processed_at")
    )
    return times["first"].timestamp(), times["last"].timestamp()


if __name__ == "__main__":
    main()
