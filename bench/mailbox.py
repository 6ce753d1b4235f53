"""Mailbox pages at scale: 100,000 tickets and 1,000,000 messages in one tenant, on PostgreSQL.

Builds the data set once in a database of your own (INSERT … SELECT over generate_series, a few
seconds per million rows; reused on later runs unless --regenerate), then measures the server
time of the real views through Django's test client (middleware, session, access helpers,
selectors, templates: everything but the socket):

- the mailbox list (`/mailbox/`, the default folder, then "All" and a store filter),
- a ticket with 200 messages (`/mailbox/<public_id>/`): opened by URL, which is TWO requests (the
  page with rail, thread, sidebar and composer; then the list pane it loads right after itself,
  `hx-trigger="load"`, measured on its own and back to back with the page), as the HTMX pane a
  click in the list loads, and with all entries shown,
- the number of queries of the list at page sizes 25, 50 and 100 (must not grow with the size).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<yours>_bench \\
        .venv/bin/python bench/mailbox.py [--iterations 300] [--regenerate] [--explain]

Targets (issue 5): list p95 <= 50 ms, ticket page p95 <= 80 ms, constant query count.
"""

from __future__ import annotations

import argparse
import gc
import html
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from inbox import views  # noqa: E402
from inbox.models import (  # noqa: E402
    Conversation,
    ConversationOrder,
    Message,
    OrderLinkSource,
    TicketCounter,
    TicketEvent,
    TicketEventKind,
)
from inbox.selectors import thread_messages  # noqa: E402
from marketplaces.models import Market, Store, StoreStatus  # noqa: E402
from orders.models import Order, OrderLine, OrderStatus  # noqa: E402
from tenants.middleware import SESSION_KEY  # noqa: E402
from tenants.models import Membership, Role, Tenant, User  # noqa: E402

TENANT_SLUG = "bench-mailbox"
OWNER_EMAIL = "bench-owner@example.test"
STORES = 4
HEAVY_TICKET_MESSAGES = 200  # ticket number 1 is the one whose page is measured
BUYER_ORDERS = 6


# --- The data set --------------------------------------------------------------------------------


def dataset_ready(tickets: int, messages: int) -> Tenant | None:
    tenant = Tenant.objects.filter(slug=TENANT_SLUG).first()
    if tenant is None:
        return None
    have_tickets = Conversation.objects.filter(tenant=tenant).count()
    have_messages = Message.objects.filter(tenant=tenant).count()
    if (have_tickets, have_messages) != (tickets, messages):
        return None
    # Data sets built before 2026-12-07 stamped every ticket (but the few a run touched) as
    # changed at one instant, which no mailbox has: the list's change stamp and the API's
    # updated_since pages read the tickets changed near the newest change, here all of them.
    # A ticket last changed with its last message is what the builder writes now.
    tickets_of = Conversation.objects.filter(tenant=tenant)
    if tickets_of.order_by().values("updated_at").distinct()[:1000].count() < 1000:
        tickets_of.update(updated_at=F("last_message_at"))
        with connection.cursor() as cursor:  # the old index entries, and fresh statistics
            cursor.execute("VACUUM ANALYZE inbox_conversation")
    return tenant


def drop_dataset() -> None:
    """The bench database is yours alone: empty the mailbox tables instead of a slow cascade."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE inbox_message, inbox_ticketevent, inbox_conversationorder, "
            "inbox_conversation, inbox_customer, inbox_ticketcounter CASCADE"
        )
    Tenant.objects.filter(slug=TENANT_SLUG).delete()
    User.objects.filter(email=OWNER_EMAIL).delete()


def timed(label: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = step()
    print(f"  {label:<46} {time.perf_counter() - started:7.1f} s", flush=True)
    return result


def build_dataset(tickets: int, messages: int) -> Tenant:
    """One tenant, four stores, `tickets` tickets (one buyer each), `messages` messages.

    Ticket 1 holds 200 messages, 12 notes and 6 linked orders; the other messages are spread
    evenly over the other tickets. Statuses 60% open / 20% pending / 20% solved, a third of the
    tickets assigned to the owner, a quarter unread, activity one minute apart.
    """
    if messages < HEAVY_TICKET_MESSAGES + tickets - 1:
        raise SystemExit("need at least one message per ticket besides the 200 of ticket 1")
    print(f"Building {tickets:,} tickets and {messages:,} messages…", flush=True)
    user = User.objects.create_user(
        email=OWNER_EMAIL,
        password="bench-password-1",  # noqa: S106 (bench data) first_name="Bench", last_name="Owner"
    )
    tenant = Tenant.objects.create(name="Bench Mailbox", slug=TENANT_SLUG, time_zone="UTC")
    Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    stores = [
        Store.objects.create(
            tenant=tenant,
            external_shop_id=f"749404964264{n:07d}",
            name=f"Bench Store {n + 1}",
            region="US",
            market=Market.US,
            status=StoreStatus.ACTIVE,
        )
        for n in range(STORES)
    ]
    store_ids = "ARRAY[" + ",".join(str(store.pk) for store in stores) + "]::bigint[]"
    now = timezone.now()
    params = {"tenant": tenant.pk, "owner": user.pk, "now": now, "tickets": tickets}
    others = tickets - 1
    spread = messages - HEAVY_TICKET_MESSAGES

    with connection.cursor() as cursor:

        def run(sql: str, extra: dict[str, Any] | None = None) -> None:
            cursor.execute(sql, {**params, **(extra or {})})

        timed(
            "customers",
            lambda: run(
                f"""
                INSERT INTO inbox_customer
                    (tenant_id, store_id, public_id, buyer_user_id, im_user_id, created_at)
                SELECT %(tenant)s, ({store_ids})[1 + i %% {STORES}], gen_random_uuid(),
                       (7021436810000000000 + i)::text, (7494000000000000000 + i)::text, %(now)s
                FROM generate_series(1, %(tickets)s) AS i
                """  # noqa: S608 (only constants and integers are formatted in)
            ),
        )
        timed(
            "tickets",
            lambda: run(
                f"""
                INSERT INTO inbox_conversation
                    (tenant_id, store_id, customer_id, public_id, number, external_id, status,
                     status_changed_at, assignee_id, last_message_at, last_message_preview,
                     last_message_from_buyer, unread_count, awaiting_reply_since, message_cursor,
                     can_send_message, participant_count, created_at, updated_at, solved_at)
                SELECT %(tenant)s, c.store_id, c.id, gen_random_uuid(), i,
                       (7494560000000000000 + i)::text,
                       CASE WHEN i %% 10 < 6 THEN 'open' WHEN i %% 10 < 8 THEN 'pending'
                            ELSE 'solved' END,
                       %(now)s - make_interval(mins => i),
                       CASE WHEN i %% 3 = 0 THEN %(owner)s END,
                       %(now)s - make_interval(mins => i),
                       'Hi, where is my order? It has been a few days since I paid for it #' || i,
                       i %% 2 = 0, CASE WHEN i %% 4 = 0 THEN 1 + i %% 3 ELSE 0 END,
                       CASE WHEN i %% 2 = 0 AND i %% 10 < 6
                            THEN %(now)s - make_interval(mins => i) END,
                       lpad((7494560000000000000 + i)::text, {24}, '0'),
                       true, 2, %(now)s - make_interval(mins => i + 60),
                       %(now)s - make_interval(mins => i),
                       CASE WHEN i %% 10 >= 8 THEN %(now)s - make_interval(mins => i) END
                FROM generate_series(1, %(tickets)s) AS i
                JOIN inbox_customer c
                  ON c.tenant_id = %(tenant)s AND c.buyer_user_id = (7021436810000000000 + i)::text
                """  # noqa: S608 (only constants and integers are formatted in)
            ),
        )
        message_columns = """
            (tenant_id, store_id, conversation_id, public_id, external_id, index_key, direction,
             sender_role, sender_name, type, text, content, is_visible, sent_at, created_at,
             updated_at, author_id, client_token, delivery_status, failure_reason, attempts,
             next_attempt_at, attachment, attachment_content_type)
        """
        # Buyer and agent take turns; every 25th is an image, every 40th an order card.
        message_values = """
            %(tenant)s, t.store_id, t.id, gen_random_uuid(),
            (7300000000000000000 + m)::text, lpad((7300000000000000000 + m)::text, 24, '0'),
            CASE WHEN m %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
            CASE WHEN m %% 2 = 0 THEN 'BUYER' ELSE 'CUSTOMER_SERVICE' END,
            CASE WHEN m %% 2 = 0 THEN '' ELSE 'Bench Owner' END,
            CASE WHEN m %% 25 = 0 THEN 'IMAGE' WHEN m %% 40 = 0 THEN 'ORDER_CARD' ELSE 'TEXT' END,
            CASE WHEN m %% 25 = 0 OR m %% 40 = 0 THEN ''
                 ELSE 'Message ' || m || ': could you tell me when my parcel will arrive?' END,
            CASE WHEN m %% 25 = 0 THEN jsonb_build_object(
                     'url', 'https://p16-oec.example/img/' || m || '.png',
                     'width', 640, 'height', 480)
                 WHEN m %% 40 = 0 THEN jsonb_build_object('order_id', '576461413038700001')
                 ELSE '{}'::jsonb END,
            true, t.last_message_at - make_interval(secs => s), %(now)s, %(now)s,
            NULL, NULL, CASE WHEN m %% 2 = 0 THEN '' ELSE 'sent' END, '', 0, NULL, '', ''
        """
        timed(
            f"messages of ticket 1 ({HEAVY_TICKET_MESSAGES})",
            lambda: run(
                f"""
                INSERT INTO inbox_message {message_columns}
                SELECT {message_values}
                FROM (SELECT m, ({HEAVY_TICKET_MESSAGES} - m) * 60 AS s
                      FROM generate_series(1, {HEAVY_TICKET_MESSAGES}) AS m) AS g
                JOIN inbox_conversation t ON t.tenant_id = %(tenant)s AND t.number = 1
                """  # noqa: S608 (only constants and integers are formatted in)
            ),
        )
        timed(
            f"messages of the other tickets ({spread:,})",
            lambda: run(
                f"""
                INSERT INTO inbox_message {message_columns}
                SELECT {message_values}
                FROM (SELECT {HEAVY_TICKET_MESSAGES} + k AS m,
                             2 + (k - 1) %% {others} AS number,
                             ({spread} - k) / {others} * 60 AS s
                      FROM generate_series(1, {spread}) AS k) AS g
                JOIN inbox_conversation t ON t.tenant_id = %(tenant)s AND t.number = g.number
                """  # noqa: S608 (only constants and integers are formatted in)
            ),
        )
    TicketCounter.objects.create(tenant=tenant, last_number=tickets)

    heavy = Conversation.objects.select_related("customer").get(tenant=tenant, number=1)
    with transaction.atomic():
        for n in range(BUYER_ORDERS):
            order = Order.objects.create(
                tenant=tenant,
                store=heavy.store,
                external_id=f"5764614130387{n:05d}",
                buyer_user_id=heavy.customer.buyer_user_id,
                status=OrderStatus.IN_TRANSIT if n % 2 else OrderStatus.AWAITING_SHIPMENT,
                placed_at=timezone.now() - timedelta(days=n),
                updated_at=timezone.now() - timedelta(days=n),
                currency="USD",
                total_amount=Decimal("25.00") + n,
                shipping_provider="USPS",
                tracking_number=f"9400111899223{n:08d}",
            )
            for k in range(2):
                OrderLine.objects.create(
                    tenant=tenant,
                    order=order,
                    external_id=f"5770865121237{n:03d}{k:02d}",
                    product_name="Short Boat Invisible Socks" if k == 0 else "Ceramic Mug",
                    sku_name="Red",
                    currency="USD",
                    sale_price=Decimal("12.50"),
                )
            if n < 3:
                ConversationOrder.objects.create(
                    tenant=tenant,
                    conversation=heavy,
                    order=order,
                    order_external_id=order.external_id,
                    source=OrderLinkSource.ORDER_CARD,
                )
        TicketEvent.objects.bulk_create(
            TicketEvent(
                tenant=tenant,
                conversation=heavy,
                kind=TicketEventKind.NOTE,
                actor=user,
                body=f"Internal note {n}: checked the carrier, parcel is moving.",
                created_at=heavy.last_message_at - timedelta(minutes=200 - n * 15),
            )
            for n in range(12)
        )
    timed("ANALYZE", lambda: connection.cursor().execute("ANALYZE"))
    return tenant


# --- Measuring -----------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Samples(list):
    """Milliseconds of server time per request; `cpu`: the same requests' CPU time in this
    process (Python, the templates, psycopg; not PostgreSQL's own), which the other processes
    of a busy machine inflate far less than the wall clock: the figure to compare two versions
    of the code by when the machine is not quiet."""

    cpu: list[float]


def measure(
    client: Client,
    url: str,
    iterations: int,
    check: Callable[[Any], None],
    headers: dict[str, str] | None = None,
    before: Callable[[], None] | None = None,
) -> Samples:
    headers = headers or {}
    first = client.get(url, **headers)
    check(first)
    for _ in range(min(20, iterations)):  # warm caches, connections and templates
        client.get(url, **headers)
    samples = Samples()
    samples.cpu = []
    for _ in range(iterations):
        if before is not None:
            before()  # not timed
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
        samples.cpu.append((time.process_time() - cpu_started) * 1000)
        if response.status_code != first.status_code:
            raise SystemExit(f"{url} answered {response.status_code}")
    return samples


def measure_pair(
    client: Client,
    first: tuple[str, dict[str, str]],
    second: tuple[str, dict[str, str]],
    iterations: int,
) -> list[float]:
    """Two requests back to back, timed together: a ticket page and the list pane it loads."""
    for _ in range(min(20, iterations)):
        for url, headers in (first, second):
            client.get(url, **headers)
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        for url, headers in (first, second):
            response = client.get(url, **headers)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def lazy_list_url(page: str) -> str:
    """The URL a ticket page's list pane loads itself from (its hx-get on `load`)."""
    section = page.split("data-lazy-list", 1)[1].split(">", 1)[0]
    return html.unescape(section.split('hx-get="', 1)[1].split('"', 1)[0])


def report(label: str, samples: list[float], target: float | None) -> None:
    p95 = percentile(samples, 0.95)
    missed = f" MISSED (target {target} ms)"
    verdict = "" if target is None else (" ok" if p95 <= target else missed)
    cpu = getattr(samples, "cpu", None)
    cpu_text = f"  cpu p50={statistics.median(cpu):5.1f} ms" if cpu else ""
    print(
        f"{label:<44} n={len(samples):<4} p50={statistics.median(samples):6.1f} ms  "
        f"p95={p95:6.1f} ms  max={max(samples):6.1f} ms{cpu_text}{verdict}"
    )


def captured_sql(client: Client, url: str) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return [query["sql"] for query in captured.captured_queries], response.content.decode()


def query_count(client: Client, url: str) -> tuple[int, int]:
    """(queries, ticket rows shown) of one request, caches warm (the counts are cached per
    change stamp: a cold request adds the one folder-count query, whatever the page size)."""
    client.get(url)
    sqls, body = captured_sql(client, url)
    return len(sqls), body.count("data-ticket-row")


def explain(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        for (line,) in cursor.fetchall():
            print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data set")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each page"
    )
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the process's objects to the garbage collector (config/wsgi.py freezes them)",
    )
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL=postgres://…/<yours>_bench")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    # Folder counts are cached per change stamp; a private in-process cache keeps the bench off
    # the shared file cache in var/ (production uses Redis: add ~0.2 ms per cache round trip).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    call_command("migrate", verbosity=0)

    tenant = None if args.regenerate else dataset_ready(args.tickets, args.messages)
    if tenant is None:
        drop_dataset()
        tenant = build_dataset(args.tickets, args.messages)
    else:
        print(
            f"Reusing {args.tickets:,} tickets, {args.messages:,} messages (--regenerate: rebuild)"
        )

    owner = User.objects.get(email=OWNER_EMAIL)
    heavy = Conversation.objects.get(tenant=tenant, number=1)
    client = Client()
    client.force_login(owner)
    session = client.session
    session[SESSION_KEY] = str(tenant.public_id)
    session.save()
    if not args.no_gc_freeze:
        # As a server process does once Django is loaded (config/wsgi.py): what is here now
        # stays out of the cyclic collector's reach, only what requests allocate is walked.
        gc.collect()
        gc.freeze()

    def list_ok(response: Any) -> None:
        body = response.content.decode()
        newest = Conversation.objects.filter(tenant=tenant).order_by("-last_message_at").first()
        assert response.status_code == 200, response.status_code
        assert f"#{newest.number}" in body, "the list does not show the newest ticket"

    newest = Message.objects.filter(conversation=heavy, type="TEXT").order_by("-index_key")[0]
    oldest = Message.objects.filter(conversation=heavy, type="TEXT").order_by("index_key")[0]

    def ticket_ok(response: Any) -> None:
        """The ticket opens on its newest entries, the older ones behind "Show earlier"."""
        body = response.content.decode()
        assert response.status_code == 200, response.status_code
        assert newest.text in body, "the newest message is missing"
        assert "?earlier=" in body, "no way to the earlier messages"

    def full_thread_ok(response: Any) -> None:
        body = response.content.decode()
        assert response.status_code == 200, response.status_code
        assert newest.text in body and oldest.text in body, "not all 200 messages are shown"

    def entries_in(body: str) -> int:
        return body.count('<div class="bubble ') + body.count('<p class="system-event">')

    def earlier_page_ok(response: Any) -> None:
        """ "Show earlier" by HTMX: the page before alone, not the thread around it."""
        body = response.content.decode()
        assert response.status_code == 200, response.status_code
        assert 0 < entries_in(body) <= views.THREAD_WINDOW + 1, entries_in(body)
        assert newest.text not in body, "the page before brought the newest entries again"

    def earlier_nojs_ok(response: Any) -> None:
        """Without JavaScript: the ticket again, from the page before on."""
        body = response.content.decode()
        assert response.status_code == 200, response.status_code
        assert newest.text in body, "the newest message is missing"
        assert views.THREAD_WINDOW < entries_in(body) <= 2 * views.THREAD_WINDOW + 1

    store = Store.objects.filter(tenant=tenant).order_by("pk").first()
    ticket_url = f"/mailbox/{heavy.public_id}/"
    pane = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "thread-pane"}
    list_pane = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-pane"}
    hx = {"HTTP_HX_REQUEST": "true"}
    oldest_entry = str(thread_messages(conversation=heavy).first().public_id)
    selected_row = f'id="ticket-{heavy.public_id}"'

    def page_ok(response: Any) -> None:
        """Opened by URL: the thread is there, the list's rows are not (they load next)."""
        ticket_ok(response)
        body = response.content.decode()
        assert "data-ticket-row" not in body, "the page drew the list's rows itself"
        assert lazy_list_url(body) == f"/mailbox/?selected={heavy.public_id}", "no lazy list"

    def lazy_list_ok(response: Any) -> None:
        """The list pane the page loads: 50 rows, ticket #1's highlighted, no rail."""
        body = response.content.decode()
        assert response.status_code == 200, response.status_code
        assert body.count("data-ticket-row") == views.LIST_PAGE_SIZE, "not a full page of rows"
        row = body.split(selected_row, 1)[1].split(">", 1)[0]
        assert 'aria-current="true"' in row, "the open ticket's row is not highlighted"
        assert 'id="mailbox-rail"' not in body, "the list pane drew the rail again"

    print(
        f"\nPostgreSQL {connection.pg_version // 10000}, {args.iterations} timed requests per "
        "line after 20 warm-up, Django test client (server time, no socket), "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs:"
    )

    def touch_a_ticket() -> None:
        """A buyer wrote somewhere: the list's change stamp moves, so its counts are recomputed."""
        Conversation.objects.filter(tenant=tenant, number=random.randint(2, args.tickets)).update(
            updated_at=timezone.now()
        )

    def run_all() -> None:
        n = args.iterations
        report("list /mailbox/ (Open)", measure(client, "/mailbox/", n, list_ok), 50)
        report("list ?folder=all", measure(client, "/mailbox/?folder=all", n, list_ok), 50)
        report(
            "list right after any ticket changed",
            measure(client, "/mailbox/", n, list_ok, before=touch_a_ticket),
            50,
        )
        store_url = f"/mailbox/?folder=all&store={store.public_id}"
        report("list ?folder=all&store=…", measure(client, store_url, n, lambda r: None), 50)
        version = client.get("/mailbox/").content.decode().split('data-list-version="')[1][:16]
        poll_url = f"/mailbox/poll/?v={version}"
        report("idle list poll (204)", measure(client, poll_url, n, poll_ok), None)
        report(
            "ticket by URL: 1. the page (no list rows)",
            measure(client, ticket_url, n, page_ok),
            80,
        )
        lazy_url = lazy_list_url(client.get(ticket_url).content.decode())
        report(
            "ticket by URL: 2. its list pane (on load)",
            measure(client, lazy_url, n, lazy_list_ok, headers=list_pane),
            50,
        )
        report(
            "ticket by URL: 1 + 2 back to back",
            measure_pair(client, (ticket_url, {}), (lazy_url, list_pane), n),
            None,
        )
        report(
            "ticket pane, 200 messages (HTMX click)",
            measure(client, ticket_url, n, ticket_ok, headers=pane),
            80,
        )
        # "Show earlier" (its hx-get): the page of entries before the oldest on screen, added
        # above it; without JavaScript the link draws the ticket again from that page on.
        first = client.get(ticket_url).content.decode().split("?earlier=", 1)[1][:36]
        report(
            "Show earlier: the page before (HTMX)",
            measure(client, f"{ticket_url}poll/?earlier={first}", n, earlier_page_ok, headers=hx),
            80,
        )
        report(
            "Show earlier without JavaScript (~100 entries)",
            measure(client, f"{ticket_url}?earlier={first}", n, earlier_nojs_ok),
            80,
        )
        # After every page was added, a poll that finds a change redraws all 200 entries (in the
        # background: nobody waits on it). `v` is stale on purpose, so each one redraws.
        everything = f"{ticket_url}poll/?v=stale&from={oldest_entry}"
        report(
            "poll redraw of the whole thread, all 200 shown (background)",
            measure(client, everything, n, full_thread_ok, headers=hx),
            None,
        )

    def poll_ok(response: Any) -> None:
        assert response.status_code == 204, f"an idle poll answered {response.status_code}"

    run_all()
    print("\nQueries per list page by page size (must not grow):")
    counts = {}
    default_size = views.LIST_PAGE_SIZE
    try:
        for size in (25, 50, 100):
            views.LIST_PAGE_SIZE = size  # the view's page size is a module constant
            counts[size], rows = query_count(client, "/mailbox/?folder=all")
            print(f"  page size {size:>3}: {counts[size]} queries, {rows} rows shown")
            assert rows == size, f"the page showed {rows} rows, not {size}"
    finally:
        views.LIST_PAGE_SIZE = default_size
    print("  constant" if len(set(counts.values())) == 1 else "  GROWS WITH THE PAGE SIZE")
    print("\nWhere the time goes (one request each; SQL as timed by Django):")
    for label, url, headers in (
        ("list /mailbox/", "/mailbox/", {}),
        ("ticket page by URL", ticket_url, {}),
        ("its list pane", lazy_list_url(client.get(ticket_url).content.decode()), list_pane),
        ("ticket pane (HTMX)", ticket_url, pane),
    ):
        client.get(url, **headers)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            client.get(url, **headers)
            total = (time.perf_counter() - started) * 1000
        sql_ms = sum(float(query["time"]) for query in captured.captured_queries) * 1000
        print(
            f"  {label:<20} {len(captured.captured_queries):>3} queries, {sql_ms:6.1f} ms SQL, "
            f"{total - sql_ms:6.1f} ms Python (views, templates) of {total:6.1f} ms"
        )

    if args.explain:
        for label, url in (("list (after a change)", "/mailbox/"), ("ticket", ticket_url)):
            touch_a_ticket()
            sqls, _ = captured_sql(client, url)
            selects = [sql for sql in sqls if sql.lstrip().upper().startswith("SELECT")]
            slowest = max(selects, key=time_query)
            print(f"\nEXPLAIN ANALYZE of the slowest {label} query:\n    {slowest[:300]}")
            explain(slowest)


def time_query(sql: str) -> float:
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return time.perf_counter() - started


if __name__ == "__main__":
    main()
