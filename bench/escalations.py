"""Escalation pages with many cases in one tenant (PostgreSQL).

Builds (once, reused until --regenerate) a tenant with --cases escalation cases over 4 stores and
400 tickets, each with a history row, then times the real views through Django's test client
(middleware, session, access helper, selectors, templates): the list (all, one status, one store,
as an agent limited to one store, a page 400 deep), a case page, its printable page, the REST
API's first page and a case (with a key), the ticket page's workbench strip (the query it adds to
every ticket page), and building the e-mail of a case with three 2 MB screenshots (MIME
serialisation included; nothing is sent). Prints p50/p95 and the queries of each page.

    createdb -h 127.0.0.1 -U postgres <yours>_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/escalations.py [--cases 20000] [--iterations 200] [--regenerate]

Targets: a list ≤ 50 ms and a case page ≤ 80 ms at p95 (the mailbox's), the sidebar partial
≤ 2 ms, an e-mail with 6 MB of screenshots read, built and serialised in ≤ 1 s (the agent waits
for it once, on Submit). The first line times a small page as the machine's pace in that window.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="escalations-bench-"))

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from escalations import selectors  # noqa: E402
from escalations.mail import escalation_email  # noqa: E402
from escalations.models import (  # noqa: E402
    Escalation,
    EscalationAttachment,
    EscalationEvent,
    EscalationSettings,
    EscalationStatus,
)
from inbox.models import Conversation, Customer  # noqa: E402
from marketplaces.models import Store, StoreAccess  # noqa: E402
from tenants.middleware import SESSION_KEY  # noqa: E402
from tenants.models import Membership, Role, Tenant, User  # noqa: E402

SLUG = "bench-escalations"
STATUSES = [s for s, _ in EscalationStatus.choices]
KINDS = ["orders", "reverse_orders", "products", "inventory", "violation", "live"]


def timed(label: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = step()
    print(f"  {label}: {time.perf_counter() - started:.1f} s")
    return result


def build(cases: int) -> Tenant:
    Tenant.objects.filter(slug=SLUG).delete()
    tenant = Tenant.objects.create(name="Escalations bench", slug=SLUG)
    owner = User.objects.create_user(email="owner@esc-bench.test", password=None)
    agent = User.objects.create_user(email="agent@esc-bench.test", password=None)
    owner_m = Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    agent_m = Membership.objects.create(tenant=tenant, user=agent, role=Role.AGENT)
    stores = [
        Store.objects.create(
            tenant=tenant, external_shop_id=f"74940496426424{n:05d}", name=f"Bench shop {n}"
        )
        for n in range(4)
    ]
    StoreAccess.objects.create(tenant=tenant, membership=agent_m, store=stores[0])
    EscalationSettings.objects.create(tenant=tenant, recipient_email="partner@bench.test")
    tickets = []
    for n in range(400):
        store = stores[n % 4]
        customer = Customer.objects.create(tenant=tenant, store=store, buyer_user_id=f"b{n}")
        tickets.append(
            Conversation.objects.create(
                tenant=tenant, store=store, customer=customer, number=n + 1, external_id=f"c{n}"
            )
        )
    now = timezone.now()
    values = {
        "problem": "tracking_not_syncing",
        "tiktok_order_id": "576461413038785752",
        "order_date": "2026-09-12T08:00:00+00:00",
        "tracking_number": "1Z999AA10123456784",
        "details": "Carrier shows no scans since the label was printed.",
    }
    rows = [
        Escalation(
            tenant=tenant,
            store=stores[n % 4],
            kind=KINDS[n % len(KINDS)],
            status=STATUSES[n % len(STATUSES)],
            values=values,
            summary=f"Tracking not syncing · 5764614130387{n:05d}",
            conversation=tickets[n % 400] if n % 3 == 0 else None,
            created_by=owner,
            created_at=now - timedelta(minutes=n),
        )
        for n in range(cases)
    ]

    def insert() -> None:
        with transaction.atomic():
            Escalation.objects.bulk_create(rows, batch_size=2000)
            EscalationEvent.objects.bulk_create(
                [
                    EscalationEvent(
                        tenant=tenant,
                        escalation=case,
                        kind="created",
                        actor=owner,
                        to_status="draft",
                    )
                    for case in rows
                ],
                batch_size=5000,
            )

    timed(f"{cases:,} cases and their history", insert)
    connection.cursor().execute("ANALYZE")
    del owner_m
    return tenant


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(label: str, samples: list[float], target: float, queries: int | None = None) -> None:
    p95 = percentile(samples, 0.95)
    verdict = "ok" if p95 <= target else f"MISSED (target {target} ms)"
    shown = "" if queries is None else f"  {queries} queries"
    print(
        f"{label:<46} p50={statistics.median(samples):6.1f} ms  p95={p95:6.1f} ms  "
        f"max={max(samples):6.1f} ms{shown}  {verdict}"
    )


def measure(step: Callable[[], Any], iterations: int) -> list[float]:
    for _ in range(min(20, iterations)):
        step()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def page(client: Client, url: str, iterations: int, label: str, target: float) -> None:
    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")

    samples = measure(get, iterations)
    with CaptureQueriesContext(connection) as captured:
        get()
    report(label, samples, target, len(captured.captured_queries))


def signed_in(email: str, tenant: Tenant) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    session = client.session
    session[SESSION_KEY] = str(tenant.public_id)
    session.save()
    return client


def api_client(tenant: Tenant) -> Client:
    """A client that sends a read key of the tenant (a new key each run; old ones revoked)."""
    from api.services import api_key_create
    from tenants.models import APIKey, APIScope

    APIKey.objects.filter(tenant=tenant).delete()
    key = api_key_create(tenant=tenant, name="Bench", scope=APIScope.READ)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key.secret}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL=postgres://…/<yours>_bench")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    call_command("migrate", verbosity=0)

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if (
        args.regenerate
        or tenant is None
        or Escalation.objects.filter(tenant=tenant).count() != args.cases
    ):
        print("Building the data set")
        tenant = build(args.cases)
    # This machine's PostgreSQL runs without autovacuum: without a VACUUM the visibility map of
    # freshly written rows is unset and the list's index-only scans read the table anyway.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE escalations_escalation")
    print(f"{args.cases:,} cases in one tenant; {args.iterations} requests a line")

    owner = signed_in("owner@esc-bench.test", tenant)
    agent = signed_in("agent@esc-bench.test", tenant)
    store = Store.objects.filter(tenant=tenant).order_by("id")[1]
    case = Escalation.objects.filter(tenant=tenant, conversation__isnull=False).first()
    assert case is not None
    # The machine's own pace in this window: a small page (the base template, one form).
    page(owner, "/settings/escalations/", args.iterations, "calibration: a small settings page", 30)
    page(owner, "/escalations/", args.iterations, "list, all (owner)", 50)
    page(owner, "/escalations/?status=waiting", args.iterations, "list, one status", 50)
    page(owner, f"/escalations/?store={store.public_id}", args.iterations, "list, one store", 50)
    page(agent, "/escalations/", args.iterations, "list, agent limited to one store", 50)
    page(
        owner,
        f"/escalations/?page={args.cases // 50 - 1}",
        args.iterations,
        "list, a late page",
        50,
    )
    page(owner, f"/escalations/{case.public_id}/", args.iterations, "case page", 80)
    page(owner, f"/escalations/{case.public_id}/print/", args.iterations, "printable page", 80)
    # The REST API (issue 12's target for a list, p95 <= 50 ms): a key's first page and a case.
    api = api_client(tenant)
    page(api, "/api/v1/escalations/", args.iterations, "API: list, 50 cases", 50)
    page(api, f"/api/v1/escalations/{case.public_id}/", args.iterations, "API: a case", 50)

    conversation = case.conversation
    sidebar = measure(
        lambda: selectors.escalations_of_conversation(tenant=tenant, conversation=conversation),
        args.iterations,
    )
    report("ticket workbench's cases (its one query)", sidebar, 2)

    draft = Escalation.objects.filter(tenant=tenant, kind="orders").first()
    assert draft is not None
    EscalationAttachment.objects.filter(escalation=draft).delete()
    for n in range(3):
        attachment = EscalationAttachment(
            tenant=tenant,
            escalation=draft,
            field="screenshot_here",
            name=f"shot{n}.png",
            content_type="image/png",
            size=2 * 1024 * 1024,
        )
        attachment.file.save(f"shot{n}.png", ContentFile(os.urandom(2 * 1024 * 1024)), save=False)
        attachment.save()

    def build_email() -> None:
        # What Submit does before the network: read the files, build and serialise the MIME
        # message (base64 of 6 MB in Python's email package is most of it).
        attachments = selectors.attachments_of(escalation=draft)
        message = escalation_email(draft, to="partner@bench.test", attachments=attachments)
        message.message().as_bytes(linesep="\r\n")

    report("e-mail with 3 x 2 MB screenshots, serialised", measure(build_email, 30), 1000)


if __name__ == "__main__":
    main()
