"""Ingest throughput: buyer messages through `inbox.ingest.messages_ingest` on PostgreSQL.

Records are built in memory (the client's own mapping parses platform-shaped JSON), so the figure
is the ingest service alone: no HTTP. Three passes over a fresh tenant and store:

- poll:     many new conversations, each read as one batch of --per-conversation messages (the
            shape of a first poll, or a poll after a busy hour);
- webhook:  one message per call into existing tickets (the shape of NEW_MESSAGE deliveries),
            with --workers threads delivering at once;
- repeat:   the webhook pass delivered again (duplicates: nothing new is stored).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/ingest.py [--conversations 500 --per-conversation 10 --workers 4]

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
import os
import sys
import threading
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


def run_threads(workers: int, jobs: list[Callable[[], int]]) -> tuple[int, float]:
    """Runs the jobs on `workers` threads; (messages stored, seconds)."""
    from django.db import connection

    if workers == 1:  # in this thread (and visible to a profiler)
        started = time.perf_counter()
        count = sum(job() for job in jobs)
        return count, time.perf_counter() - started
    lock = threading.Lock()
    queue = list(reversed(jobs))
    stored = [0]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                count = job()
                with lock:
                    stored[0] += count
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return stored[0], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--per-conversation", type=int, default=10)
    parser.add_argument("--webhook-messages", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of your own.")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from inbox.ingest import messages_ingest
    from inbox.models import Conversation, Message
    from marketplaces.models import Market, Store
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

    # --- poll pass: new conversations, one batch each ---------------------------------------
    batches = []
    for c in range(args.conversations):
        record = mapping.conversation(conversation_json(c))
        messages = [
            mapping.message(message_json(c, n), record.external_id)
            for n in range(1, args.per_conversation + 1)
        ]
        batches.append((record, messages))
    total = args.conversations * args.per_conversation

    def poll_job(record: Any, messages: list[Any]) -> Callable[[], int]:
        def job() -> int:
            # As the poll does: the ticket and its messages in one transaction.
            result = messages_ingest(
                store=store,
                conversation_id=record.external_id,
                messages=messages,
                complete_after="",
                record=record,
            )
            return len(result.new_messages)

        return job

    stored, seconds = run_threads(1, [poll_job(r, m) for r, m in batches])
    assert stored == total, (stored, total)
    print(
        f"poll    1 worker : {stored:>6} messages in {args.conversations} new conversations "
        f"({args.per_conversation}/batch) in {seconds:6.2f} s = {stored / seconds:8.0f} msg/s"
    )

    # --- webhook pass: one message per call into existing tickets -----------------------------
    singles = [
        mapping.message(
            message_json(n % args.conversations, 1000 + n),
            f"71068883239{n % args.conversations:08d}",
        )
        for n in range(args.webhook_messages)
    ]

    def webhook_job(record: Any) -> Callable[[], int]:
        def job() -> int:
            result = messages_ingest(
                store=store, conversation_id=record.conversation_id, messages=[record]
            )
            return len(result.new_messages)

        return job

    for workers, label in (
        (1, "webhook 1 worker "),
        (args.workers, f"webhook {args.workers} workers"),
    ):
        part = singles[: len(singles) // 2] if workers == 1 else singles[len(singles) // 2 :]
        stored, seconds = run_threads(workers, [webhook_job(r) for r in part])
        assert stored == len(part), (stored, len(part))
        print(
            f"{label}: {stored:>6} messages, one per call            "
            f"in {seconds:6.2f} s = {stored / seconds:8.0f} msg/s"
        )

    stored, seconds = run_threads(args.workers, [webhook_job(r) for r in singles])
    assert stored == 0
    print(
        f"repeat  {args.workers} workers: {len(singles):>6} duplicate deliveries, none stored      "
        f"in {seconds:6.2f} s = {len(singles) / seconds:8.0f} deliveries/s"
    )
    expected = total + len(singles)
    assert Message.objects.filter(store=store).count() == expected
    assert Conversation.objects.filter(store=store).count() == args.conversations
    print(f"checked: {expected} messages and {args.conversations} tickets stored once each")
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
