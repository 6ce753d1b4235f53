"""Backfill throughput: one sandbox shop with 90 days x 1,000 orders/day, end to end.

Seeds a sandbox data file (unless --data names an existing one), starts the sandbox on a free
port with rate limiting and other faults off, migrates a PostgreSQL database of your own
(DATABASE_URL), connects one store to the first US shop, and runs the order backfill job exactly
as a worker does (`orders.sync.sync_job_run`: windows, pages of 100, bulk upserts, a checkpoint
per page). Then the returns and cancellations jobs of the same period. Prints orders/s, the
peak RSS of this process (the one doing the sync) and the counts checked against the sandbox.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/backfill.py [--orders-per-day 1000 --days 90] [--data FILE]

Targets (issue 4): at least 1,500 orders/s, peak RSS at most 300 MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


# --- Helpers shared by the order benchmarks ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "marketplaces.tiktok.sandbox", *args]


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc."""
    fields: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the sandbox's gunicorn workers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree = [pid]
    for candidate in tree:
        tree.extend(child for child, parent in parents.items() if parent == candidate)
    return tree


def database_backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def seed(data: str, orders_per_day: int, days: int) -> float:
    started = time.monotonic()
    subprocess.run(
        sandbox_command(
            "seed", "--data", data, "--orders-per-day", str(orders_per_day), "--days", str(days)
        ),
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


@contextmanager
def sandbox(data: str, directory: str, *, workers: int, threads: int) -> Iterator[dict[str, Any]]:
    """A sandbox server on a free port, faults off; yields its credentials plus `base_url`."""
    port = free_port()
    with open(os.path.join(directory, "sandbox.log"), "wb") as log:
        server = subprocess.Popen(
            sandbox_command(
                "serve",
                "--data",
                data,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--rate-limit-ratio",
                "0",
                "--error-ratio",
                "0",
                "--latency-ms",
                "0",
                "--status-advance-interval",
                "0",
                "--buyer-message-interval",
                "0",
            ),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            credentials = None
            deadline = time.monotonic() + 60
            while credentials is None and time.monotonic() < deadline:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/_sandbox/credentials")
                    credentials = json.loads(connection.getresponse().read())
                except OSError:
                    time.sleep(0.2)
            if credentials is None:
                raise RuntimeError("the sandbox did not start; see sandbox.log")
            credentials["base_url"] = f"http://127.0.0.1:{port}"
            credentials["pid"] = server.pid
            yield credentials
        finally:
            server.terminate()
            server.wait(timeout=15)


def control(base_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    payload = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = json.loads(response.read() or b"null")
    connection.close()
    if response.status >= 400:
        raise RuntimeError(f"{method} {path}: {response.status} {data}")
    return data


def setup_django(credentials: dict[str, Any] | None = None) -> None:
    """Django on DATABASE_URL, TIKTOK_* pointed at the sandbox, DEBUG off (no query log)."""
    credentials = credentials or {
        "app_key": "none",
        "app_secret": "none",
        "service_id": "none",
        "base_url": "http://127.0.0.1:9",
    }
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL=postgres://... (a database of your own).")
    from cryptography.fernet import Fernet

    os.environ.update(
        SELLERDESK_ENV_FILE=os.devnull,
        DEBUG="false",
        SECRET_KEY="bench-" + "x" * 50,
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        TIKTOK_APP_KEY=credentials["app_key"],
        TIKTOK_APP_SECRET=credentials["app_secret"],
        TIKTOK_SERVICE_ID=credentials["service_id"],
        TIKTOK_API_BASE_URL=credentials["base_url"],
        TIKTOK_AUTH_BASE_URL=credentials["base_url"],
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def bench_store(credentials: dict[str, Any], *, label: str) -> Any:
    """A fresh tenant with one store on the first US shop, tokens from the sandbox."""
    from datetime import UTC, datetime, timedelta

    from marketplaces.models import Market, Store
    from tenants.models import Tenant

    seller = credentials["sellers"][0]
    shop = seller["shops"][0]
    Tenant.objects.filter(slug__startswith=f"bench-{label}-").delete()
    stamp = int(time.time())
    tenant = Tenant.objects.create(name=f"bench {label} {stamp}", slug=f"bench-{label}-{stamp}")
    store = Store(
        tenant=tenant,
        external_shop_id=shop["id"],
        shop_cipher=shop["cipher"],
        shop_code=shop["code"],
        name=shop["name"],
        region=shop["region"],
        market=Market.US,
        seller_type=shop["seller_type"],
    )
    now = datetime.now(tz=UTC)
    store.set_tokens(
        access_token=seller["access_token"],
        access_token_expires_at=now + timedelta(days=7),
        refresh_token=seller["refresh_token"],
        refresh_token_expires_at=now + timedelta(days=365),
    )
    store.save()
    return store


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) / {five:.2f} (5 min)"


# --- The benchmark --------------------------------------------------------------------------------


def run_job(job_id: int) -> tuple[float, Any]:
    from orders import sync

    started = time.perf_counter()
    result = sync.sync_job_run(job_id=job_id, budget_seconds=3600)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders-per-day", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--data", help="an existing sandbox data file (else a fresh seed)")
    parser.add_argument("--workers", type=int, default=2, help="sandbox gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="sandbox threads per worker")
    parser.add_argument("--keep", action="store_true", help="keep the bench tenant's rows")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as directory:
        data = args.data or os.path.join(directory, "sandbox.sqlite3")
        if not args.data or not os.path.exists(data):
            seconds = seed(data, args.orders_per_day, args.days)
            print(f"seed: {args.days} days x {args.orders_per_day} orders/day in {seconds:.1f}s")
        with sandbox(data, directory, workers=args.workers, threads=args.threads) as credentials:
            setup_django(credentials)
            from marketplaces.models import SyncJob
            from orders import sync
            from orders.models import Cancellation, Order, OrderLine, Return

            store = bench_store(credentials, label="backfill")
            rss_before, _ = rss_mb()
            print(f"machine: {load_note()} before the run")
            orders_job, returns_job, cancellations_job = sync.backfill_jobs_create(store=store)
            sandbox_pids = process_tree(credentials["pid"])
            backend_pid = database_backend_pid()
            cpu_before = (
                cpu_seconds(os.getpid()),
                sum(cpu_seconds(pid) for pid in sandbox_pids),
                cpu_seconds(backend_pid),
            )

            seconds, result = run_job(orders_job.pk)
            cpu_used = [
                after - before
                for after, before in zip(
                    (
                        cpu_seconds(os.getpid()),
                        sum(cpu_seconds(pid) for pid in sandbox_pids),
                        cpu_seconds(backend_pid),
                    ),
                    cpu_before,
                    strict=True,
                )
            ]
            job = SyncJob.objects.get(pk=orders_job.pk)
            orders_total = job.total_estimate
            stored = Order.objects.filter(store=store).count()
            lines = OrderLine.objects.filter(order__store=store).count()
            rss_now, rss_peak = rss_mb()
            print(
                f"orders: {result.status}; {job.items_fetched} fetched in {job.pages_fetched} "
                f"pages / {job.windows_done} windows; sandbox total_count {job.total_estimate}; "
                f"rows {stored} orders, {lines} lines"
            )
            print(
                f"orders backfill: {seconds:.1f}s -> {job.items_fetched / seconds:,.0f} orders/s "
                f"end to end (target >= 1,500)"
            )
            print(
                f"worker RSS: {rss_before:.0f} MB before, {rss_now:.0f} MB after, "
                f"peak {rss_peak:.0f} MB (target <= 300)"
            )
            pages = max(1, job.pages_fetched)
            print(
                "CPU per page of 100 orders: "
                f"sync worker {cpu_used[0] * 1000 / pages:.1f} ms, "
                f"sandbox {cpu_used[1] * 1000 / pages:.1f} ms, "
                f"PostgreSQL backend {cpu_used[2] * 1000 / pages:.1f} ms; "
                f"wall {seconds * 1000 / pages:.1f} ms"
            )
            for label, pending, model in (
                ("returns", returns_job, Return),
                ("cancellations", cancellations_job, Cancellation),
            ):
                seconds, result = run_job(pending.pk)
                job = SyncJob.objects.get(pk=pending.pk)
                print(
                    f"{label}: {result.status}; {job.items_fetched} of {job.total_estimate} in "
                    f"{seconds:.1f}s ({model.objects.filter(store=store).count()} rows)"
                )
            print(f"peak RSS after all three jobs: {rss_mb()[1]:.0f} MB; {load_note()} at the end")
            if not args.keep:
                store.tenant.delete()
    if stored != orders_total:
        print(f"MISMATCH: {stored} orders stored, the sandbox counts {orders_total}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
