"""The clocks in the mailbox: badges on rows and in the ticket header, the Due soon and Overdue
folders with their counts, "most urgent first", and what other tenants and limited agents see."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox import views
from inbox.models import TicketStatus
from marketplaces.models import StoreAccess
from sla.display import duration_words
from tenants.models import Membership, Role
from tests.factories import MembershipFactory
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _own_cache(private_cache, clock) -> None:
    """Counts are cached per change stamp; the clock stands at NOW."""
    clock.set(NOW)


def ticket(store, *, due: timedelta | None = None, platform: bool = True, **kwargs):
    """A ticket whose soonest clock (TikTok's, or the team's first response) is `due` from NOW."""
    at = NOW + due if due is not None else None
    fields = {"platform_due_at": at} if platform else {"sla_reply_due_at": at}
    return ConversationFactory(store=store, tenant=store.tenant, sla_due_at=at, **fields, **kwargs)


def row_numbers(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<span class="ticket-number">#(\d+)</span>', body)]


def badges(body: str) -> list[tuple[str, str]]:
    """(class, words) of each SLA badge, in page order."""
    return re.findall(
        r'<span class="sla-badge (sla-\w+)"[^>]*>(?:<span class="visually-hidden">[^<]*</span>)?'
        r"([^<]*)</span>",
        body,
    )


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(hours=1, minutes=20), "1 h 20 m"),
        (timedelta(hours=3), "3 h"),
        (timedelta(minutes=45, seconds=59), "45 m"),
        (timedelta(seconds=10), "1 m"),
        (timedelta(days=2, hours=3, minutes=5), "2 d 3 h"),
        (timedelta(days=1), "1 d"),
    ],
)
def test_durations_read_like_a_person_writes_them(delta, words):
    assert duration_words(delta) == words


def test_rows_carry_a_badge_of_their_soonest_clock_in_words_and_colour(owner_client, tenant):
    store = StoreFactory(tenant=tenant)
    ticket(store, due=timedelta(hours=-3), number=1)
    ticket(store, due=timedelta(hours=1, minutes=20), number=2)
    ticket(store, due=timedelta(minutes=20), platform=False, number=3)
    ticket(store, due=None, number=4)

    body = owner_client.get(reverse("mailbox"), {"sort": "urgent"}).content.decode()

    assert row_numbers(body) == [1, 3, 2, 4]
    assert badges(body) == [
        ("sla-overdue", "overdue 3 h"),
        ("sla-soon", "due in 20 m"),
        ("sla-later", "due in 1 h 20 m"),
    ]
    assert 'title="TikTok reply window: due 2 Nov 2026, 09:00 UTC"' in body
    assert '<span class="visually-hidden">First response: </span>due in 20 m' in body


def test_the_ticket_header_lists_every_running_clock_soonest_first(owner_client, tenant):
    store = StoreFactory(tenant=tenant)
    conversation = ConversationFactory(
        store=store,
        tenant=tenant,
        platform_due_at=NOW + timedelta(hours=20),
        sla_reply_due_at=NOW - timedelta(minutes=12),
        sla_resolution_due_at=NOW + timedelta(hours=3),
        sla_due_at=NOW - timedelta(minutes=12),
        first_response_at=NOW - timedelta(hours=5),
    )
    body = owner_client.get(reverse("ticket_detail", args=[conversation.public_id])).content
    # The ticket bar shows the clock that falls due first; its More menu lists them all.
    bar = body.decode().split('id="ticket-sla"', 1)[1].split("</div>", 1)[0]
    assert badges(bar) == [("sla-overdue", "overdue 12 m")]
    assert '<span class="visually-hidden">Next response: </span>' in bar
    header = body.decode().split('class="menu-clocks"', 1)[1].split("</div>", 1)[0]
    assert re.findall(
        r'<span class="sla-clock">([^<]+) <span class="sla-badge (sla-\w+)"', header
    ) == [
        ("Next response", "sla-overdue"),
        ("Resolution", "sla-later"),
        ("TikTok reply window", "sla-later"),
    ]
    assert [words for _, words in badges(header)] == ["overdue 12 m", "due in 3 h", "due in 20 h"]


def test_due_soon_and_overdue_folders_list_most_urgent_first_with_counts(
    owner_client, tenant, other_tenant
):
    store = StoreFactory(tenant=tenant)
    ticket(store, due=timedelta(hours=-1), number=10)
    ticket(store, due=timedelta(days=-2), number=11, status=TicketStatus.PENDING)
    ticket(store, due=timedelta(minutes=30), number=12)
    ticket(store, due=timedelta(minutes=5), number=13)
    ticket(store, due=timedelta(hours=5), number=14)
    ticket(store, due=None, number=15)
    ticket(StoreFactory(tenant=other_tenant), due=timedelta(hours=-1), number=16)

    overdue = owner_client.get(reverse("mailbox"), {"folder": "overdue"}).content.decode()
    due_soon = owner_client.get(reverse("mailbox"), {"folder": "due_soon"}).content.decode()

    assert row_numbers(overdue) == [11, 10]
    assert row_numbers(due_soon) == [13, 12]
    counts = dict(re.findall(r'data-count="(\w+)">([^<]*)<', overdue))
    assert (counts["due_soon"], counts["overdue"], counts["open"]) == ("2", "2", "5")
    assert '<h1 id="list-title">Overdue</h1>' in overdue


def test_time_alone_moves_a_ticket_from_due_soon_to_overdue(owner_client, tenant, clock):
    store = StoreFactory(tenant=tenant)
    ticket(store, due=timedelta(minutes=30), number=20)
    first = owner_client.get(reverse("mailbox"), {"folder": "overdue"})
    version = re.search(r'data-list-version="([^"]+)"', first.content.decode()).group(1)
    poll = reverse("mailbox_poll") + f"?folder=overdue&v={version}"
    assert owner_client.get(poll).status_code == 204

    clock.set(NOW + timedelta(minutes=31))  # nothing changed but the time
    moved = owner_client.get(poll)
    assert moved.status_code == 200
    assert row_numbers(moved.content.decode()) == [20]


def test_most_urgent_first_pages_through_due_and_undue_tickets(owner_client, tenant, monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    store = StoreFactory(tenant=tenant)
    for number, due in enumerate([-30, 10, 10, 90, None, None], start=30):
        ticket(store, due=timedelta(minutes=due) if due is not None else None, number=number)
    seen: list[int] = []
    params = {"sort": "urgent"}
    for _ in range(4):
        body = owner_client.get(reverse("mailbox"), params).content.decode()
        seen += row_numbers(body)
        more = re.search(r'before=([^"]+)"', body)
        if more is None:
            break
        params = {"sort": "urgent", "before": unquote(more.group(1))}
    # Equal due times: newest activity first (the factory's later tickets are newer).
    assert seen == [30, 32, 31, 33, 35, 34]


def test_the_overdue_list_costs_the_same_queries_for_few_or_many_rows(owner_client, tenant, clock):
    store = StoreFactory(tenant=tenant)
    ticket(store, due=timedelta(hours=-1))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse("mailbox"), {"folder": "overdue"}).status_code == 200
        return len(captured)

    queries()  # warm: the counts' SQL is compiled once per member
    clock.set(NOW + timedelta(minutes=1))  # a new change stamp: the counts are counted again
    few = queries()
    for _ in range(12):
        ticket(store, due=timedelta(hours=-2), assignee=None)
    clock.set(NOW + timedelta(minutes=2))
    assert queries() == few


def test_a_limited_agent_sees_overdue_tickets_of_their_stores_only(client, tenant):
    mine, theirs = StoreFactory(tenant=tenant), StoreFactory(tenant=tenant)
    ticket(mine, due=timedelta(hours=-1), number=40)
    ticket(theirs, due=timedelta(hours=-1), number=41)
    agent = MembershipFactory(tenant=tenant, role=Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=mine)
    client.force_login(agent.user)

    body = client.get(reverse("mailbox"), {"folder": "overdue"}).content.decode()
    assert row_numbers(body) == [40]
    assert dict(re.findall(r'data-count="(\w+)">([^<]*)<', body))["overdue"] == "1"
    assert Membership.objects.filter(pk=agent.pk).exists()
