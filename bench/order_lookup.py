"""Order lookup by id with 500,000 orders in the tenant (PostgreSQL).

Loads the orders in bulk straight into PostgreSQL (COPY; spread over 5 stores, 90 days, with
realistic column values and a small raw document) unless the bench tenant already has them,
then times the lookup the orders search uses, `orders.selectors.order_find` (exact order id
across the viewer's stores): as an owner (all stores), as an agent limited to two stores, and for
ids that are not synced. Prints p50/p95/p99 per case and the query plan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/order_lookup.py [--orders 500000] [--lookups 2000] [--fresh]

Target (issue 4): under 10 ms at p95.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backfill import load_note, setup_django

SLUG = "bench-lookup"
STORES = 5
STATUSES = ["AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"]
FIRST_ID = 576_000_000_000_000_000


def external_id(number: int) -> str:
    return str(FIRST_ID + number * 7919)


def load_orders(tenant: Any, stores: list[Any], count: int) -> float:
    """COPY `count` orders into the tenant; returns the seconds it took."""
    import orjson
    from django.db import connection

    from orders.models import Order

    fields = [field for field in Order._meta.concrete_fields if not field.primary_key]
    template: dict[str, Any] = {}
    for field in fields:
        default = field.get_default()
        template[field.attname] = None if field.null and default in ("", None) else default
    template.update(
        tenant_id=tenant.pk,
        currency="USD",
        payment_method="Visa",
        delivery_option_name="Standard Shipping",
        shipping_provider="USPS",
        shipping_type="TIKTOK",
        fulfillment_type="FULFILLMENT_BY_SELLER",
        city="San Jose",
        state="California",
        postal_code="95110",
        country="US",
    )
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    now = datetime.now(tz=UTC)
    rng = random.Random(4)
    started = time.perf_counter()
    connection.ensure_connection()
    raw_connection = connection.connection
    with (
        raw_connection.cursor() as cursor,
        cursor.copy(f"COPY orders_order ({columns}) FROM STDIN") as copy,
    ):
        for number in range(count):
            placed = now - timedelta(seconds=rng.randrange(90 * 86400))
            total = Decimal(rng.randrange(500, 30000)) / 100
            row = dict(template)
            row.update(
                store_id=stores[number % len(stores)].pk,
                public_id=uuid.uuid4(),
                external_id=external_id(number),
                buyer_user_id=str(7_017_975_771_641_700_000 + rng.randrange(50_000)),
                status=STATUSES[number % len(STATUSES)],
                placed_at=placed,
                paid_at=placed + timedelta(seconds=20),
                updated_at=placed + timedelta(hours=rng.randrange(1, 72)),
                total_amount=total,
                sub_total=total,
                tracking_number=f"TT{rng.randrange(10**14):014d}",
                synced_at=now,
                raw=orjson.dumps({"id": external_id(number), "status": row["status"]}).decode(),
            )
            copy.write_row([row[field.attname] for field in fields])
    raw_connection.commit()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100)
    return (
        f"p50 {cuts[49] * 1000:.2f} ms, p95 {cuts[94] * 1000:.2f} ms, "
        f"p99 {cuts[98] * 1000:.2f} ms, max {ordered[-1] * 1000:.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--fresh", action="store_true", help="reload the orders even if present")
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from marketplaces.models import Store, StoreAccess
    from orders.models import Order
    from orders.selectors import order_find
    from tenants.models import Membership, Role, Tenant, User

    tenant = Tenant.objects.filter(slug=SLUG).first()
    have = Order.objects.filter(tenant=tenant).count() if tenant else 0
    if args.fresh or have != args.orders:
        if tenant is not None:
            tenant.delete()
        tenant = Tenant.objects.create(name="bench lookup", slug=SLUG)
        stores = [
            Store.objects.create(
                tenant=tenant,
                external_shop_id=f"bench-lookup-{number}",
                name=f"Bench shop {number}",
                region="US",
            )
            for number in range(STORES)
        ]
        seconds = load_orders(tenant, stores, args.orders)
        print(f"loaded {args.orders:,} orders with COPY in {seconds:.1f}s")
    else:
        print(f"reusing the {have:,} orders already loaded")
    stores = list(Store.objects.filter(tenant=tenant).order_by("pk"))
    user, _ = User.objects.get_or_create(email="bench-lookup-agent@example.com")
    agent, _ = Membership.objects.get_or_create(tenant=tenant, user=user, role=Role.AGENT)
    StoreAccess.objects.filter(membership=agent).delete()
    for store in stores[:2]:
        StoreAccess.objects.create(tenant=tenant, membership=agent, store=store)
    total = Order.objects.filter(tenant=tenant).count()

    rng = random.Random(7)
    ids = [external_id(rng.randrange(args.orders)) for _ in range(args.lookups)]
    missing = [str(FIRST_ID - 1 - n) for n in range(args.lookups)]
    cases = (
        ("owner, synced ids", None, ids),
        ("agent limited to 2 of 5 stores", agent, ids),
        ("owner, ids not synced", None, missing),
    )
    for order_id in ids[:200]:  # warm the connection and the index pages
        order_find(tenant=tenant, external_id=order_id)
    print(f"orders in the tenant: {total:,}; {load_note()}")
    # The cases take turns, so a burst of load from elsewhere hits all of them alike.
    samples: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    found = dict.fromkeys(samples, 0)
    for number in range(args.lookups):
        for label, membership, lookup_ids in cases:
            started = time.perf_counter()
            order = order_find(tenant=tenant, external_id=lookup_ids[number], membership=membership)
            samples[label].append(time.perf_counter() - started)
            found[label] += order is not None
    for label, _, _ in cases:
        print(
            f"order_find, {label}: {percentiles(samples[label])} "
            f"({found[label]}/{args.lookups} found)"
        )

    queryset = (
        Order.objects.filter(tenant=tenant, external_id=ids[0])
        .select_related("store")
        .order_by("-placed_at")[:1]
    )
    with connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print("plan:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))
    print(f"machine: {load_note()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
