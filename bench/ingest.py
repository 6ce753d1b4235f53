"""Ingest throughput: buyer messages through the mailbox's ingest on PostgreSQL.

No HTTP: records are built in memory (the client's own mapping parses platform-shaped JSON) and
webhook events are stored as the intake view stores them, so the figures are the ingest service
alone. Passes over a fresh tenant and store:

- poll:     new conversations read --per-conversation messages each, a page of 20 conversations
            stored at a time (`messages_ingest_many`, as `inbox.polling` does);
- burst:    --webhook-messages NEW_MESSAGE events, one message each, into existing tickets,
            stored as the intake stores them and processed by the one drain task the intake
            enqueues for the shop (`webhook_events_drain`: a batch of 200 per transaction);
- repeat:   the burst delivered again under new notification ids (duplicates: nothing stored);
- shops:    the burst again in each of --workers further shops, drained by one process per
            shop at once (Celery's prefork pool: a task per process);
- lone:     --lone events, each the only one waiting when its drain runs: the latency of a
            single message on a quiet store (p50/p95 per event, drain included).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/ingest.py [--conversations 1000 --per-conversation 10 --workers 2]

One message in five names an order id that is not synced, so the live check is enqueued after
commit as in production: point REDIS_URL at a Redis database and CELERY_TASK_DEFAULT_QUEUE at a
queue no worker reads (the bench empties that queue at the end). Without REDIS_URL the
filesystem broker of `make run` is used, which is far slower to enqueue than Redis.

    REDIS_URL=redis://127.0.0.1:6379/13 CELERY_TASK_DEFAULT_QUEUE=ingest-bench \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench .venv/bin/python bench/ingest.py

Target (issue 5): at least 1,000 buyer messages/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TEXTS = [
    "Hi, where is my order?",
    "The parcel says delivered but I have nothing.",
    "Can I change the size to M?",
    "My order id is 576469260282336209",
    "Thanks!",
]


def conversation_json(number: int) -> dict[str, Any]:
    return {
        "id": f"71068883239{number:08d}",
        "participant_count": 2,
        "can_send_message": True,
        "create_time": int(T0.timestamp()),
        "participants": [
            {
                "im_user_id": f"7078855651{number:09d}",
                "user_id": f"749404964{number:010d}",
                "role": "BUYER",
            },
            {"im_user_id": "7078855651811650001", "user_id": "", "role": "SHOP"},
        ],
    }


def message_json(conversation: int, number: int) -> dict[str, Any]:
    return {
        "id": f"72{conversation:08d}{number:08d}",
        "index": str(7494560109732334000 + number * 11),
        "type": "TEXT",
        "content": '{"content":"' + TEXTS[number % len(TEXTS)] + '"}',
        "create_time": int((T0 + timedelta(seconds=number)).timestamp()),
        "is_visible": True,
        "sender": {"im_user_id": f"7078855651{conversation:09d}", "role": "BUYER"},
    }


def timed(job: Callable[[], int]) -> tuple[int, float]:
    """(what the job returned, seconds it took)."""
    started = time.perf_counter()
    count = job()
    return count, time.perf_counter() - started


def drain_in_process(shop_id: str, start: Any) -> None:
    """A forked worker process: waits for the start signal, drains one shop, exits."""
    from django.db import connections

    from marketplaces.services import webhook_events_drain

    connections.close_all()  # the parent's connection is not this process's to use
    start.wait()
    webhook_events_drain(shop_id=shop_id, webhook_type=14)
    connections.close_all()


def webhook_payload(shop_id: str, conversation: int, number: int, notification: str) -> dict:
    """A NEW_MESSAGE notification (contract §8.3, type 14) as the intake stores it."""
    message = message_json(conversation, number)
    return {
        "type": 14,
        "tts_notification_id": notification,
        "shop_id": shop_id,
        "timestamp": int(T0.timestamp()) + number,
        "data": {
            "content": message["content"],
            "conversation_id": f"71068883239{conversation:08d}",
            "create_time": message["create_time"],
            "is_visible": True,
            "message_id": message["id"],
            "index": message["index"],
            "type": "TEXT",
            "sender": message["sender"],
        },
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--per-conversation", type=int, default=10)
    parser.add_argument("--page-size", type=int, default=20, help="conversations per poll page")
    parser.add_argument("--webhook-messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="shops drained at once")
    parser.add_argument("--lone", type=int, default=300)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of your own.")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from inbox.ingest import Delivery, messages_ingest_many
    from inbox.models import Conversation, Message
    from marketplaces.models import Market, Store, WebhookEvent, WebhookEventStatus
    from marketplaces.services import webhook_events_drain
    from marketplaces.tiktok import mapping
    from tenants.models import Tenant

    call_command("migrate", verbosity=0)
    stamp = int(time.time())
    tenant = Tenant.objects.create(name=f"Ingest bench {stamp}", slug=f"ingest-bench-{stamp}")
    store = Store.objects.create(
        tenant=tenant,
        external_shop_id=f"7494049642{stamp:09d}",
        shop_cipher=f"GCP_bench{stamp}",
        name="Bench shop",
        region="US",
        market=Market.US,
    )
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; tenant {tenant.pk}")

    # --- poll pass: new conversations, a page at a time ---------------------------------------
    pages: list[list[Any]] = []
    for c in range(args.conversations):
        record = mapping.conversation(conversation_json(c))
        messages = [
            mapping.message(message_json(c, n), record.external_id)
            for n in range(1, args.per_conversation + 1)
        ]
        if c % args.page_size == 0:
            pages.append([])
        pages[-1].append(Delivery(record.external_id, messages, "", record))
    total = args.conversations * args.per_conversation

    def poll_job(page: list[Any]) -> Callable[[], int]:
        def job() -> int:
            results = messages_ingest_many(store=store, deliveries=page)
            return sum(len(result.new_messages) for result in results.values())

        return job

    stored, seconds = timed(lambda: sum(poll_job(page)() for page in pages))
    assert stored == total, (stored, total)
    print(
        f"poll    1 worker : {stored:>6} messages, {args.conversations} new tickets, pages of "
        f"{args.page_size} x {args.per_conversation} in {seconds:6.2f} s = "
        f"{stored / seconds:8.0f} msg/s"
    )

    # --- burst pass: NEW_MESSAGE events into existing tickets --------------------------------
    def store_events(prefix: str, first: int, count: int, shop: Any = store) -> list[int]:
        now = datetime.now(UTC)
        events = WebhookEvent.objects.bulk_create(
            [
                WebhookEvent(
                    notification_id=f"{prefix}{stamp}-{n}",
                    type=14,
                    shop_id=shop.external_shop_id,
                    payload=webhook_payload(
                        shop.external_shop_id,
                        n % args.conversations,
                        1000 + n,
                        f"{prefix}{stamp}-{n}",
                    ),
                    received_at=now,
                )
                for n in range(first, first + count)
            ]
        )
        return [event.pk for event in events]

    def drain_job() -> int:
        return webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14)

    burst = store_events("burst-", 0, args.webhook_messages)
    before = Message.objects.filter(store=store).count()
    _, seconds = timed(drain_job)
    stored = Message.objects.filter(store=store).count() - before
    processed = WebhookEvent.objects.filter(
        pk__in=burst, status=WebhookEventStatus.PROCESSED
    ).count()
    assert processed == len(burst), (processed, len(burst))
    assert stored == len(burst), (stored, len(burst))
    print(
        f"burst   1 drain  : {stored:>6} messages, one per NEW_MESSAGE event    "
        f"in {seconds:6.2f} s = {stored / seconds:8.0f} msg/s"
    )

    repeat = store_events("repeat-", 0, args.webhook_messages)
    _, seconds = timed(drain_job)
    processed = WebhookEvent.objects.filter(
        pk__in=repeat, status=WebhookEventStatus.PROCESSED
    ).count()
    assert processed == len(repeat), (processed, len(repeat))
    assert Message.objects.filter(store=store).count() == before + len(burst)
    print(
        f"repeat  1 drain  : {len(repeat):>6} duplicate deliveries, none stored      "
        f"in {seconds:6.2f} s = {len(repeat) / seconds:8.0f} events/s"
    )

    # --- lone pass: one event at a time, nothing else waiting ---------------------------------
    lone = store_events("lone-", args.webhook_messages, args.lone)
    WebhookEvent.objects.filter(pk__in=lone).update(status=WebhookEventStatus.FAILED)
    timings = []
    for pk in lone:
        # As if it had just arrived: the only waiting event, taken by the drain it enqueued.
        WebhookEvent.objects.filter(pk=pk).update(status=WebhookEventStatus.RECEIVED)
        started = time.perf_counter()
        assert drain_job() == 1
        timings.append((time.perf_counter() - started) * 1000)
    assert WebhookEvent.objects.filter(
        pk__in=lone, status=WebhookEventStatus.PROCESSED
    ).count() == len(lone)
    print(
        f"lone    1 drain  : {len(lone):>6} events one at a time: p50 "
        f"{percentile(timings, 0.5):.2f} ms, p95 {percentile(timings, 0.95):.2f} ms "
        "per drain, start to end"
    )

    expected = total + len(burst) + len(lone)
    assert Message.objects.filter(store=store).count() == expected
    assert Conversation.objects.filter(store=store).count() == args.conversations
    numbers = sorted(Conversation.objects.filter(store=store).values_list("number", flat=True))
    assert numbers == list(range(1, args.conversations + 1)), "ticket numbers not gapless"
    print(f"checked: {expected} messages and {args.conversations} tickets stored once each")

    # --- shops pass: a burst in each of --workers shops, one drain process per shop ----------
    # (Celery's prefork pool runs a task per process; the drains of two shops run side by side.)
    shops = []
    for number in range(args.workers):
        shop = Store.objects.create(
            tenant=tenant,
            external_shop_id=f"7494049643{stamp:09d}{number}",
            shop_cipher=f"GCP_bench{stamp}_{number}",
            name=f"Bench shop {number + 2}",
            region="US",
            market=Market.US,
        )
        for page in pages:
            messages_ingest_many(store=shop, deliveries=page)
        store_events(f"shop{number}-", 0, args.webhook_messages, shop=shop)
        shops.append(shop)
    connection.close()
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [
        context.Process(target=drain_in_process, args=(shop.external_shop_id, start))
        for shop in shops
    ]
    for worker in workers:
        worker.start()
    time.sleep(1)  # every process connected and waiting
    started = time.perf_counter()
    start.set()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    assert all(worker.exitcode == 0 for worker in workers)
    stored = 0
    for shop in shops:
        count = Message.objects.filter(store=shop).count() - total
        assert count == args.webhook_messages, (count, args.webhook_messages)
        stored += count
    assert (
        not WebhookEvent.objects.filter(shop_id__in=[shop.external_shop_id for shop in shops])
        .exclude(status=WebhookEventStatus.PROCESSED)
        .exists()
    )
    print(
        f"shops   {args.workers} drains : {stored:>6} messages, {args.workers} shops at once "
        f"             in {seconds:6.2f} s = {stored / seconds:8.0f} msg/s"
    )
    purge_bench_queue()


def purge_bench_queue() -> None:
    """Drops the order checks the bench enqueued, from its own queue only."""
    from django.conf import settings

    from config.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    if queue == "celery":
        print("order checks were enqueued on the default queue 'celery' and left there")
        return
    with app.connection_for_write() as conn:
        dropped = conn.default_channel.queue_purge(queue)
    print(f"order checks enqueued and dropped from queue {queue!r}: {dropped}")


if __name__ == "__main__":
    main()
