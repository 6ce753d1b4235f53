"""Fault suite (issue 9): nothing lost or duplicated when calls fail, processes die, events arrive
late. Against PostgreSQL, a Redis of its own, real Celery worker processes and the sandbox.

- a store is connected to a fresh sandbox over the consent flow, its 90-day backfill started;
- the sandbox then answers --error-ratio 5xx and --rate-limit-ratio 429 (code 36009002);
- --messages buyer messages are written on the sandbox, a thousand a control call
  (/_sandbox/buyers/write-many), across --conversations conversations, each of a buyer of its own,
  and pushed to the webhook intake (gunicorn) as signed NEW_MESSAGE notifications, each delivered
  1-3 times, all shuffled (out of order), over --posters connections at once;
- once a ticket exists, the script queues one agent reply in it (sent by the workers);
- meanwhile a random worker is killed with SIGKILL every --kill-every seconds (--kills in all) and
  started again, and the Redis server (its own, on --redis-port) is restarted once;
- the beat's sweepers run every few seconds (here, in this process), with the recovery timeouts
  shortened (WEBHOOK_CLAIM_TIMEOUT_SECONDS ...: what a killed worker held is taken back after
  --recovery seconds instead of 10-15 minutes).

Then it checks, and prints the counts: every buyer message stored exactly once, every reply sent
and on the platform exactly once, every backfill job complete with every sandbox order stored
(no gap). Exit status 1 when anything is missing or doubled.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours> \\
        .venv/bin/python bench/faults.py --messages 2000 --kills 10

The Redis is started here (redis-server --port 6391 --save ''), never the machine's own.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

QUEUE = "faults"
WRITE_MANY = 1000  # buyer messages written on the sandbox per control call


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if self.ping():
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server on port {self.port} did not start")

    def ping(self) -> bool:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return result.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True
        )
        for _ in range(100):
            if not self.ping():
                return
            time.sleep(0.1)


class Workers:
    """--workers Celery worker processes (one child each), killed and restarted at will."""

    def __init__(self, count: int, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self.kills = 0

    def start(self, slot: int) -> None:
        log = self.log.open("ab")
        self.processes[slot] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUE,
                "-c",
                "1",
                "-n",
                f"faults{slot}-{time.time_ns()}@%h",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def start_all(self) -> None:
        for slot in range(len(self.processes)):
            self.start(slot)

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a worker and its child (the whole process group), then start another."""
        slot = rng.randrange(len(self.processes))
        process = self.processes[slot]
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.kills += 1
        self.start(slot)

    def stop_all(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def start_gunicorn(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    import socket

    out = log.open("ab")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=out,
        stderr=out,
    )
    out.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)


def notification(shop_id: str, message: dict[str, Any]) -> bytes:
    """The NEW_MESSAGE (type 14) the platform pushes for `message` (contract §8.3)."""
    return json.dumps(
        {
            "type": 14,
            "tts_notification_id": "73" + message["id"][2:],
            "shop_id": shop_id,
            "timestamp": int(time.time()),
            "data": {
                "content": message["content"],
                "conversation_id": message["conversation_id"],
                "create_time": message["create_time"],
                "is_visible": True,
                "message_id": message["id"],
                "index": str(message["index"]),
                "type": message["type"],
                "sender": {"im_user_id": message["sender"]["im_user_id"], "role": "BUYER"},
            },
        },
        separators=(",", ":"),
    ).encode()


def post(port: int, bodies: list[bytes], app_key: str, app_secret: str, posters: int = 1) -> int:
    """Posts every body over `posters` connections at once (the platform's deliveries arrive
    concurrently too); each takes every posters-th body, in the shuffled order. Returns the
    non-200 count (the intake answers 200 even while Redis is down: the event is stored first)."""
    if posters > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(posters) as pool:
            return sum(
                pool.map(
                    lambda share: post(port, share, app_key, app_secret),
                    [bodies[start::posters] for start in range(posters)],
                )
            )
    from marketplaces.tiktok.signing import sign_webhook

    failures = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for body in bodies:
        for _ in range(5):
            try:
                conn.request(
                    "POST",
                    "/webhooks/tiktok/",
                    body=body,
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": sign_webhook(app_key, app_secret, body),
                        "X-Forwarded-Proto": "https",
                    },
                )
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures += 1
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.2)
    conn.close()
    return failures


def sweep() -> None:
    """What the beat does, once: hand back what was left behind (webhooks, replies, sync jobs)
    and poll the store (a lost or failed webhook's message comes with the poll)."""
    from inbox import tasks as inbox_tasks
    from marketplaces import tasks as marketplace_tasks
    from orders import tasks as order_tasks

    for task in (
        marketplace_tasks.requeue_webhook_events,
        inbox_tasks.resume_replies,
        order_tasks.resume_sync_jobs,
    ):
        try:
            task.run()
        except Exception as exc:  # Redis restarting: the next sweep does it
            print(f"  sweep {task.name}: {type(exc).__name__}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds")
    parser.add_argument("--error-ratio", type=float, default=0.10)
    parser.add_argument("--rate-limit-ratio", type=float, default=0.05)
    parser.add_argument("--posters", type=int, default=4, help="concurrent webhook deliveries")
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--recovery", type=int, default=15, help="recovery timeouts, seconds")
    parser.add_argument("--settle", type=float, default=600, help="max seconds to settle")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--days", type=int, default=10, help="sandbox days of orders")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of your own.")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="sellerdesk-faults-"))
    started = time.monotonic()

    redis = Redis(args.redis_port)
    if not redis.ping():
        redis.start()
    atexit.register(redis.stop)  # atexit runs last-registered first: Redis goes last
    from tests.tiktok_sandbox import start_sandbox

    # A sandbox seed of this run's own: its shops are new to the database (one shop, one store).
    sandbox = start_sandbox(
        work, seed=int(time.time()) % 100_000, orders_per_day=30, days=args.days
    )
    atexit.register(sandbox.stop)
    creds = sandbox.credentials
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TIKTOK_APP_KEY": creds["app_key"],
        "TIKTOK_APP_SECRET": creds["app_secret"],
        "TIKTOK_SERVICE_ID": creds["service_id"],
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTHORIZE_URL_US": f"{sandbox.base_url}/us/open/authorize",
        "TIKTOK_AUTHORIZE_URL_ROW": f"{sandbox.base_url}/open/authorize",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
        "INBOX_SEND_BACKOFF_BASE_SECONDS": "1",
        "INBOX_SEND_BACKOFF_CAP_SECONDS": "5",
        "INBOX_SEND_MAX_ATTEMPTS": "50",
        **{
            name: str(args.recovery)
            for name in (
                "WEBHOOK_CLAIM_TIMEOUT_SECONDS",
                "WEBHOOK_ENQUEUE_GRACE_SECONDS",
                "INBOX_SEND_LEASE_SECONDS",
                "INBOX_QUEUED_GRACE_SECONDS",
                "SYNC_STALE_AFTER_SECONDS",
            )
        },
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Q

    from inbox import services as inbox_services
    from inbox.models import Conversation, DeliveryStatus, Message, MessageDirection
    from marketplaces.models import SyncJob, SyncJobStatus, SyncMode, WebhookEvent
    from marketplaces.models import WebhookEventStatus as EventStatus
    from orders import sync
    from orders.models import Order
    from tenants.models import Membership, Role
    from tests.factories import MembershipFactory, TenantFactory
    from tests.sandbox_stores import connect_store

    run = int(time.time())
    tenant = TenantFactory(name=f"Fault suite {run}", slug=f"faults-{run}")
    owner = MembershipFactory(tenant=tenant, role=Role.OWNER, user__email=f"o{run}@faults.test")
    store = connect_store(sandbox, tenant=tenant)
    shop_id = store.external_shop_id
    web_port = free_port()
    log = work / "processes.log"
    web = start_gunicorn(web_port, env, log)
    atexit.register(web.terminate)
    workers = Workers(args.workers, env, log)
    workers.start_all()
    atexit.register(workers.stop_all)
    sandbox.set_faults(error_ratio=args.error_ratio, rate_limit_ratio=args.rate_limit_ratio)
    jobs = sync.backfill_jobs_create(store=store)
    from orders.tasks import run_sync_job

    for job in jobs:
        run_sync_job.delay(job.pk)
    print(
        f"faults: {args.messages} messages in {args.conversations} conversations, "
        f"{args.workers} workers, {args.kills} kills, sandbox {args.error_ratio:.0%} 5xx "
        f"{args.rate_limit_ratio:.0%} 429, backfill of {args.days} days",
        flush=True,
    )

    # --- The chaos: kills and one Redis restart, in the background -----------------------------
    stop = threading.Event()
    redis_restarted = threading.Event()

    def chaos() -> None:
        while not stop.wait(args.kill_every):
            if workers.kills < args.kills:
                workers.kill_one(rng)
            if workers.kills >= args.kills // 2 and not redis_restarted.is_set():
                redis.stop()
                time.sleep(1.0)
                redis.start()
                redis_restarted.set()
            if workers.kills >= args.kills and redis_restarted.is_set():
                return

    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()

    # --- Buyer messages, written on the platform and pushed 1-3 times out of order -------------
    written: list[dict[str, Any]] = []
    conversations: list[str] = []
    replied: dict[str, int] = {}
    batch = max(50, args.messages // 20)
    posted = refused = 0
    for start in range(0, args.messages, batch):
        # Written on the platform in a few control calls: the first --conversations messages each
        # from a buyer new to the shop (a conversation of their own), the rest into one of those.
        items = []
        for n in range(start, min(args.messages, start + batch)):
            if n < args.conversations:
                items.append({"new_buyer": True, "text": f"Where is parcel {run}-{n}?"})
            else:
                items.append(
                    {"conversation": rng.randrange(args.conversations), "text": f"Hello {run}-{n}"}
                )
        parts: list[list[dict[str, Any]]] = []  # the new buyers' calls before the others'
        for item in items:
            if (
                not parts
                or len(parts[-1]) == WRITE_MANY
                or ("new_buyer" in item) != ("new_buyer" in parts[-1][-1])
            ):
                parts.append([])
            parts[-1].append(item)
        bodies = []
        for part in parts:
            for item in part:
                if "conversation" in item:
                    item["conversation_id"] = conversations[item.pop("conversation")]
            for message in sandbox.buyers_write_many(shop_id, part):
                if (
                    len(conversations) < args.conversations
                    and message["conversation_id"] not in conversations
                ):
                    conversations.append(message["conversation_id"])
                written.append(message)
                body = notification(shop_id, message)
                bodies += [body] * rng.randint(1, 3)
        rng.shuffle(bodies)
        refused += post(web_port, bodies, creds["app_key"], creds["app_secret"], args.posters)
        posted += len(bodies)
        # A reply in each ticket that exists by now (queued by the service, sent by workers).
        for ticket in Conversation.objects.filter(store=store).exclude(
            external_id__in=list(replied)
        ):
            text = f"We are on it ({run}-{ticket.number})."
            try:
                reply = inbox_services.reply_create(
                    membership=Membership.objects.get(pk=owner.pk),
                    conversation=ticket,
                    text=text,
                )
            except Exception as exc:  # the broker restarting: the sweeper sends it
                print(f"  reply: {type(exc).__name__}", flush=True)
                reply = Message.objects.filter(conversation=ticket, author__isnull=False).first()
            if reply is not None:
                replied[ticket.external_id] = reply.pk
        sweep()
    print(
        f"  posted {posted} deliveries of {len(written)} messages ({refused} not 200)", flush=True
    )

    # --- Settle: the beat's work until everything is done (or the time is up) ------------------
    chaos_thread.join(timeout=args.kill_every * (args.kills + 5))
    stop.set()
    written_ids = {message["id"] for message in written}
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        sweep()
        from inbox import polling

        polling.store_poll(store_id=store.pk)  # as the beat's poll (the lost webhook's message)
        for ticket in Conversation.objects.filter(store=store).exclude(
            external_id__in=list(replied)
        ):
            reply = inbox_services.reply_create(
                membership=Membership.objects.get(pk=owner.pk),
                conversation=ticket,
                text=f"We are on it ({run}-{ticket.number}).",
            )
            replied[ticket.external_id] = reply.pk
        stored = set(
            Message.objects.filter(store=store, external_id__in=written_ids).values_list(
                "external_id", flat=True
            )
        )
        pending_replies = (
            Message.objects.filter(pk__in=replied.values())
            .exclude(delivery_status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED])
            .count()
        )
        jobs_left = (
            SyncJob.objects.filter(store=store)
            .exclude(status__in=[SyncJobStatus.COMPLETED, SyncJobStatus.FAILED])
            .count()
        )
        # Events still to be handled: waiting, held, or failed with a retry to come.
        events_left = (
            WebhookEvent.objects.filter(shop_id=store.external_shop_id)
            .filter(
                Q(status__in=[EventStatus.RECEIVED, EventStatus.PROCESSING])
                | Q(status=EventStatus.FAILED, retry_at__isnull=False)
            )
            .count()
        )
        if (
            len(stored) == len(written_ids)
            and not pending_replies
            and not jobs_left
            and not events_left
        ):
            break
        time.sleep(2)
        connection.close()

    # --- Checks ---------------------------------------------------------------------------------
    sandbox.reset_faults()
    problems: list[str] = []
    rows = list(
        Message.objects.filter(store=store, direction=MessageDirection.INBOUND).values_list(
            "external_id", flat=True
        )
    )
    doubled = len(rows) - len(set(rows))
    written_tickets = Conversation.objects.filter(
        store=store, external_id__in=conversations
    ).count()
    missing = written_ids - set(rows)
    print(
        f"messages: written {len(written_ids)}, stored {len(set(rows) & written_ids)}, "
        f"missing {len(missing)}, stored twice {doubled}, "
        f"conversations written in {len(conversations)}, their tickets {written_tickets} "
        f"(the store's tickets in all {Conversation.objects.filter(store=store).count()}, with "
        f"any of the sandbox's seeded conversations a poll brought in)"
    )
    if missing or doubled:
        problems.append("messages")
    if written_tickets != len(conversations) or len(conversations) != min(
        args.conversations, args.messages
    ):
        problems.append("conversations")
    replies = Message.objects.filter(pk__in=replied.values())
    sent = replies.filter(delivery_status=DeliveryStatus.SENT)
    on_platform: dict[str, int] = {}
    for ticket_id, reply_pk in replied.items():
        text = Message.objects.get(pk=reply_pk).text
        found = [
            item
            for item in platform_messages(sandbox, ticket_id)
            if item["sender"]["role"] != "BUYER"
            and json.loads(item["content"]).get("content") == text
        ]
        on_platform[text] = len(found)
    twice = sum(1 for count in on_platform.values() if count > 1)
    never = sum(1 for count in on_platform.values() if count == 0)
    failed = replies.filter(delivery_status=DeliveryStatus.FAILED).count()
    print(
        f"replies: queued {len(replied)}, sent {sent.count()}, failed {failed}, "
        f"on the platform once {sum(1 for c in on_platform.values() if c == 1)}, "
        f"twice or more {twice}, never {never}"
    )
    if twice or never or failed or sent.count() != len(replied):
        problems.append("replies")
    events = WebhookEvent.objects.filter(shop_id=store.external_shop_id)
    given_up = events.filter(status=EventStatus.FAILED, retry_at__isnull=True)
    unsettled = events.filter(
        Q(status__in=[EventStatus.RECEIVED, EventStatus.PROCESSING])
        | Q(status=EventStatus.FAILED, retry_at__isnull=False)
    )
    print(
        f"webhooks: events {events.count()}, processed "
        f"{events.filter(status=EventStatus.PROCESSED).count()}, failed for good "
        f"{given_up.count()}, still waiting or to be retried {unsettled.count()}"
    )
    for event in given_up[:5]:
        print(f"  event {event.pk} failed for good: {event.last_error[:120]}")
    if given_up.exists() or unsettled.exists():
        problems.append("webhooks")
    want = set(expected_orders(sandbox, store))
    have = set(Order.objects.filter(store=store).values_list("external_id", flat=True))
    backfills = SyncJob.objects.filter(store=store, mode=SyncMode.BACKFILL)
    print(
        f"backfill: jobs {backfills.count()} "
        f"completed {backfills.filter(status=SyncJobStatus.COMPLETED).count()}, "
        f"orders on the platform {len(want)}, stored {len(have & want)}, "
        f"missing {len(want - have)}, unexpected {len(have - want)}"
    )
    if want != have or backfills.exclude(status=SyncJobStatus.COMPLETED).exists():
        problems.append("backfill")
    print(
        f"chaos: {workers.kills} workers killed with SIGKILL, Redis restarted "
        f"{'once' if redis_restarted.is_set() else 'never'}; "
        f"{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.1f}"
    )
    if workers.kills < args.kills or not redis_restarted.is_set():
        problems.append("chaos")

    print("OK: nothing lost, nothing doubled" if not problems else f"FAILED: {problems}")
    return 1 if problems else 0


def platform_messages(sandbox: Any, conversation_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    for _ in range(1000):
        query = {"page_size": "10", "sort_field": "index", "sort_order": "DESC"}
        if token:
            query["page_token"] = token
        data = sandbox.call(
            "GET",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            query=query,
        ).json()["data"]
        found += data["messages"]
        token = data.get("next_page_token")
        if not token:
            return found
    return found


def expected_orders(sandbox: Any, store: Any) -> list[str]:
    """Every order of the shop, read by walking the sandbox's own search (faults off)."""
    from marketplaces.adapter import store_api

    return [
        order.external_id
        for page in store_api(store).order_pages(page_size=100)
        for order in page.items
    ]


if __name__ == "__main__":
    sys.exit(main())
