"""`python -m marketplaces.tiktok.sandbox serve|seed|credentials` (see sandbox/__init__.py)."""

from __future__ import annotations

import argparse
import sys
import time

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.control import credentials
from marketplaces.tiktok.sandbox.seed import seed_file


def _seed_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="SQLite data file (created if missing)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders-per-day", type=int, default=40)
    parser.add_argument("--days", type=int, default=95)


def _ratio(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m marketplaces.tiktok.sandbox", description="TikTok Shop sandbox (simulator)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="seed if needed, then serve the contract over HTTP")
    _seed_args(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9100)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--webhook-url")
    serve.add_argument("--redirect-url")
    serve.add_argument("--buyer-message-interval", type=float, help="seconds, 0 = off")
    serve.add_argument("--status-advance-interval", type=float, help="seconds, 0 = off")
    serve.add_argument("--rate-limit-ratio", type=_ratio)
    serve.add_argument("--error-ratio", type=_ratio)
    serve.add_argument("--latency-ms", type=int)
    serve.add_argument("--access-token-ttl", type=int, help="seconds (default 7 days)")

    seed = commands.add_parser("seed", help="create and seed a data file")
    _seed_args(seed)

    creds = commands.add_parser("credentials", help="print app credentials, tokens and ciphers")
    creds.add_argument("--data", required=True)

    live = commands.add_parser("live", help=argparse.SUPPRESS)
    live.add_argument("--data", required=True)
    live.add_argument("--parent-pid", type=int)

    args = parser.parse_args(argv)
    if args.command == "seed":
        started = time.monotonic()
        seed_file(args.data, seed=args.seed, orders_per_day=args.orders_per_day, days=args.days)
        print(f"seeded {args.data} in {time.monotonic() - started:.1f}s", file=sys.stderr)
        return 0
    if args.command == "credentials":
        conn = db.connect(args.data)
        if not db.is_seeded(conn):
            print(f"{args.data} is not a seeded sandbox file", file=sys.stderr)
            return 1
        sys.stdout.write(
            orjson.dumps(credentials(conn), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
        return 0
    if args.command == "live":
        from marketplaces.tiktok.sandbox.live import run

        run(args.data, args.parent_pid)
        return 0
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    seed_file(args.data, seed=args.seed, orders_per_day=args.orders_per_day, days=args.days)
    conn = db.connect(args.data)
    with db.Transaction(conn):
        config = db.json_meta_get(conn, "config", db.DEFAULT_CONFIG)
        for key in (
            "webhook_url",
            "redirect_url",
            "buyer_message_interval",
            "status_advance_interval",
            "access_token_ttl",
        ):
            value = getattr(args, key)
            if value is not None:
                config[key] = value
        db.json_meta_set(conn, "config", config)
        faults = db.json_meta_get(conn, "faults", db.DEFAULT_FAULTS)
        for key in ("rate_limit_ratio", "error_ratio", "latency_ms"):
            value = getattr(args, key)
            if value is not None:
                faults[key] = value
        db.json_meta_set(conn, "faults", faults)
        db.meta_set(conn, "base_url", f"http://{args.host}:{args.port}")
    conn.close()
    from marketplaces.tiktok.sandbox.server import serve

    base = f"http://{args.host}:{args.port}"
    print(
        f"TikTok Shop sandbox on {base} (data {args.data}): buyer page {base}/buyer/, "
        f"state {base}/_sandbox/state, credentials: python -m marketplaces.tiktok.sandbox "
        f"credentials --data {args.data}",
        file=sys.stderr,
        flush=True,
    )
    serve(args.data, args.host, args.port, args.workers, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
