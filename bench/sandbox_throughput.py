"""Throughput of the TikTok sandbox: signed POST /order/202309/orders/search, page_size=100.

Starts a sandbox (rate limiting and other faults off) on a seeded file, then load generator
processes, each on its own keep-alive connection, send genuinely signed requests (a fresh
timestamp and signature per request, each verified by the sandbox) for a bounded time, walking
the result pages with next_page_token. Prints requests/s and latency percentiles.

    .venv/bin/python bench/sandbox_throughput.py [--orders-per-day 1000 --days 90]
        [--duration 10] [--clients 4] [--workers 2] [--threads 4] [--data FILE]

Target (issue 3): at least 500 requests/s on a 2-core machine over loopback.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from marketplaces.tiktok.signing import sign_request  # noqa: E402

PATH = "/order/202309/orders/search"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "marketplaces.tiktok.sandbox", *args]


def load(port: int, credentials: dict, until: float, warmup_until: float, queue: object) -> None:
    """One client: a keep-alive connection, signed requests back to back until `until`."""
    seller = credentials["sellers"][0]
    cipher = seller["shops"][0]["cipher"]
    headers = {"x-tts-access-token": seller["access_token"], "Content-Type": "application/json"}
    body = b"{}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    response_bytes = 0
    token = ""
    while True:
        started = time.perf_counter()
        if time.time() >= until:
            break
        query = {
            "app_key": credentials["app_key"],
            "timestamp": str(int(time.time())),
            "shop_cipher": cipher,
            "page_size": "100",
        }
        if token:
            query["page_token"] = token
        query["sign"] = sign_request(credentials["app_secret"], PATH, query, body)
        connection.request("POST", f"{PATH}?{urlencode(query)}", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        ok = response.status == 200 and payload.startswith(b'{"code":0,')
        if ok:
            # Walk the pages like a backfill would; the token sits near the start of `data`.
            start = payload.find(b'"next_page_token":"') + len(b'"next_page_token":"')
            token = payload[start : payload.find(b'"', start)].decode()
        if time.time() < warmup_until:
            continue
        if ok:
            latencies.append(elapsed)
            response_bytes += len(payload)
        else:
            errors += 1
    connection.close()
    queue.put((latencies, errors, response_bytes))  # type: ignore[attr-defined]


def percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, int(share * len(sorted_values)))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="existing or new data file (default: a temp file)")
    parser.add_argument("--orders-per-day", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="sandbox-bench-")
    data = args.data or os.path.join(directory, "bench.sqlite3")
    if not os.path.exists(data):
        started = time.monotonic()
        subprocess.run(
            sandbox_command(
                "seed",
                "--data",
                data,
                "--orders-per-day",
                str(args.orders_per_day),
                "--days",
                str(args.days),
            ),
            cwd=REPO_ROOT,
            check=True,
        )
        print(
            f"seed: {args.days} days x {args.orders_per_day} orders/day "
            f"in {time.monotonic() - started:.1f}s"
        )
    port = free_port()
    log = open(os.path.join(directory, "sandbox.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(
        sandbox_command(
            "serve",
            "--data",
            data,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--rate-limit-ratio",
            "0",
            "--error-ratio",
            "0",
            "--latency-ms",
            "0",
        ),
        cwd=REPO_ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        credentials = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and credentials is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/_sandbox/credentials")
                credentials = json.loads(connection.getresponse().read())
            except OSError:
                time.sleep(0.2)
        if credentials is None:
            print("sandbox did not start", file=sys.stderr)
            return 1
        state_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        state_connection.request("GET", "/_sandbox/state")
        shop_orders = json.loads(state_connection.getresponse().read())["shops"][0]["orders"]

        queue: multiprocessing.Queue = multiprocessing.Queue()
        warmup_until = time.time() + args.warmup
        until = warmup_until + args.duration
        clients = [
            multiprocessing.Process(
                target=load, args=(port, credentials, until, warmup_until, queue)
            )
            for _ in range(args.clients)
        ]
        for client in clients:
            client.start()
        results = [queue.get(timeout=args.duration + args.warmup + 60) for _ in clients]
        for client in clients:
            client.join(timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()

    latencies = sorted(latency for result in results for latency in result[0])
    errors = sum(result[1] for result in results)
    response_bytes = sum(result[2] for result in results)
    count = len(latencies)
    print(
        f"shop orders: {shop_orders}; server: {args.workers} gunicorn workers x "
        f"{args.threads} threads; load: {args.clients} client processes; "
        f"{os.cpu_count()} CPUs; load average before end: {os.getloadavg()[0]:.2f}"
    )
    print(
        f"requests: {count} ok, {errors} errors in {args.duration:.0f}s "
        f"-> {count / args.duration:.0f} requests/s "
        f"({response_bytes / max(count, 1) / 1024:.0f} KiB per response)"
    )
    if count:
        p50, p90, p99 = (percentile(latencies, share) * 1000 for share in (0.5, 0.9, 0.99))
        mean = statistics.fmean(latencies) * 1000
        print(
            f"latency ms: p50 {p50:.1f}  p90 {p90:.1f}  p99 {p99:.1f}  "
            f"max {latencies[-1] * 1000:.1f}  mean {mean:.1f}"
        )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
