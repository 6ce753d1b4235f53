"""Reads for the mailbox pages. Every function takes the tenant and the viewer's membership.

Access: a ticket of another tenant, or of a store an agent may not serve, is a 404 on every URL;
`conversation_get` is the one helper every ticket view starts with.

Cost: the list is one query for its rows (store, buyer and assignee joined, read as plain values)
plus one query for the folder counts (capped subqueries, cached per change stamp); the thread is
one query for the messages and one for the notes and history, whatever their number.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.http import Http404
from django.utils import timezone

from marketplaces.models import Store, StoreAccess
from marketplaces.selectors import allowed_store_ids
from orders.models import (
    Cancellation,
    CancellationLine,
    Order,
    OrderLine,
    Return,
    ReturnLine,
)
from search.query import parse
from search.tickets import TicketSearch, ticket_search
from tenants.models import Membership, Role, Tenant

from .models import (
    Conversation,
    ConversationOrder,
    DeliveryStatus,
    Message,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)

Folder = Literal["open", "pending", "solved", "mine", "unassigned", "due_soon", "overdue", "all"]
FOLDERS: dict[str, str] = {
    "open": "Open",
    "pending": "Pending",
    "solved": "Solved",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "due_soon": "Due soon",
    "overdue": "Overdue",
    "all": "All",
}
# Folders of tickets by their SLA due time (sla.clocks): listed most urgent first, and what they
# hold changes with the clock as well as with the tickets.
DUE_FOLDERS = frozenset({"due_soon", "overdue"})
SORTS = {"": "Newest first", "urgent": "Most urgent first"}
DEFAULT_FOLDER: Folder = "open"
COUNTS_TTL = 60  # seconds
FOLDER_COUNT_CAP = 1000


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such conversation.") from exc


def conversations_visible(*, tenant: Tenant, membership: Membership) -> QuerySet[Conversation]:
    """The tickets of the stores this member may serve; nothing for a member of another tenant."""
    conversations = Conversation.objects.filter(tenant=tenant)
    if membership.tenant_id != tenant.pk:
        return conversations.none()
    allowed = allowed_store_ids(membership)
    return conversations if allowed is None else conversations.filter(store_id__in=allowed)


def conversation_get(*, tenant: Tenant, membership: Membership, public_id: object) -> Conversation:
    """The ticket with its store, buyer and assignee, or 404 (another tenant's ticket, or a
    store this member may not serve). Every mailbox view about one ticket starts here.

    Without its search document: no view shows it, and a long ticket's is kilobytes of
    tsvector (4 KB for 200 messages) read, sent and parsed on every page, pane and action; a
    save() of this instance leaves the column to the writes that keep it current."""
    conversation = (
        conversations_visible(tenant=tenant, membership=membership)
        .select_related("store", "customer", "assignee")
        .defer("search_document")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def message_get(*, conversation: Conversation, public_id: object) -> Message:
    message = (
        Message.objects.filter(conversation=conversation, public_id=_as_uuid(public_id))
        .select_related("author")
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    return message


# --- The list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    folder: Folder = DEFAULT_FOLDER
    store: Store | None = None
    assignee: Membership | None = None  # a teammate's tickets (any status unless a folder says)
    search: str = ""
    sort: str = ""  # "" newest activity first, "urgent" soonest due first (SORTS)
    intent: str = ""  # a triage intent (Conversation.intent), "" for any

    @property
    def urgent(self) -> bool:
        return self.sort == "urgent" or self.folder in DUE_FOLDERS


def due_soon_window() -> timedelta:
    return timedelta(minutes=int(settings.SLA_DUE_SOON_MINUTES))


# "Now" in SQL compiled for reuse (the folder counts): replaced by the time of each execution
# (`_at_now`), the application's clock, as the rows and badges use it.
_COMPILED_NOW = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)


def _folder_q(folder: str, membership: Membership, *, now: datetime | None = None) -> Q:
    """The folder's filter; the due folders compare with `now` (default: this moment)."""
    if folder in (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED):
        return Q(status=folder)
    if folder == "mine":
        return Q(assignee_id=membership.user_id) & ~Q(status=TicketStatus.SOLVED)
    if folder == "unassigned":
        return Q(assignee__isnull=True) & ~Q(status=TicketStatus.SOLVED)
    if folder in DUE_FOLDERS:
        now = now or timezone.now()
        if folder == "overdue":
            return Q(sla_due_at__lte=now)
        return Q(sla_due_at__gt=now, sla_due_at__lte=now + due_soon_window())
    return Q()


def _at_now(params: tuple[Any, ...], alias: str) -> list[Any]:
    """The parameters of compiled SQL with `_COMPILED_NOW` (and the due-soon bound after it)
    replaced by this moment's, in the form the database's driver was given them."""
    adapt = connections[alias].ops.adapt_datetimefield_value
    now = timezone.now()
    swap = {
        adapt(_COMPILED_NOW): adapt(now),
        adapt(_COMPILED_NOW + due_soon_window()): adapt(now + due_soon_window()),
    }
    return [
        swap.get(param, param) if isinstance(param, datetime | str) else param for param in params
    ]


def folder_counts(
    *,
    tenant: Tenant,
    membership: Membership,
    store: Store | None = None,
    search: TicketSearch | None = None,
) -> dict[str, int]:
    """How many tickets each folder holds (within the store filter), counted up to
    FOLDER_COUNT_CAP ("1,000+"), in ONE query of one capped subquery per folder.

    Capped because an exact count reads every ticket of the tenant (a sequential scan of 100,000
    rows, bench/README.md), while each capped count stops at the cap on the folder's index; nobody
    pages through a thousand tickets. "Mine" and "Unassigned" count the work still to do (not
    solved), like the folders list them. "All" is not counted again: every ticket is Open, Pending
    or Solved, so it is the sum of those three, capped the same way (exact below the cap, "1,000+"
    from it, as if counted).
    """
    if search is not None and not (search.exact_ids or search.query.words):
        return dict.fromkeys(FOLDERS, 0)  # nothing to search for: nothing found, no query
    if search is not None:
        # A search's counts: the same capped subqueries, each also filtered by the search (not
        # kept compiled: the words change with every search).
        sql, params, alias = _compile_folder_counts(
            tenant=tenant, membership=membership, store=store, matches=search.matches()
        )
    else:
        sql, params, alias = _folder_counts_sql(tenant=tenant, membership=membership, store=store)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, _at_now(params, alias))
        row = cursor.fetchone()
    counted = [name for name in FOLDERS if name != "all"]
    counts = {name: int(count) for name, count in zip(counted, row, strict=True)}
    statuses = (
        counts[TicketStatus.OPEN] + counts[TicketStatus.PENDING] + counts[TicketStatus.SOLVED]
    )
    counts["all"] = min(statuses, FOLDER_COUNT_CAP)
    return {name: counts[name] for name in FOLDERS}


# The counts' SQL is the same for every request of one member with one store filter; building and
# compiling its five querysets took ~3 ms, more than the database spends on them (bench/README.md),
# after every change to any ticket; the list's change stamp, asked by every list, page and poll,
# ~0.5 ms. So each is compiled once per everything it is made of — the tenant, the member (id,
# user, role, whether limited to some stores: the store limits are read by a subquery, live), the
# store filter (and the cap) — and reused: nothing is kept but SQL text and its parameters.
_COMPILED_SQL: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], str]] = {}


def _viewer_key(*, tenant: Tenant, membership: Membership, store: Store | None) -> tuple[Any, ...]:
    """Everything the SQL of what a member sees of a tenant (within a store filter) is made of."""
    limited = membership.tenant_id == tenant.pk and allowed_store_ids(membership) is not None
    return (
        Conversation.objects.db,
        tenant.pk,
        membership.pk,
        membership.tenant_id,
        membership.user_id,
        membership.role,
        limited,
        store.pk if store is not None else None,
    )


def _compiled(
    key: tuple[Any, ...], compile_sql: Callable[[], tuple[str, tuple[Any, ...], str]]
) -> tuple[str, tuple[Any, ...], str]:
    compiled = _COMPILED_SQL.get(key)
    if compiled is None:
        if len(_COMPILED_SQL) >= 4096:
            _COMPILED_SQL.clear()
        compiled = _COMPILED_SQL[key] = compile_sql()
    return compiled


def _folder_counts_sql(
    *, tenant: Tenant, membership: Membership, store: Store | None
) -> tuple[str, tuple[Any, ...], str]:
    return _compiled(
        (
            "counts",
            *_viewer_key(tenant=tenant, membership=membership, store=store),
            FOLDER_COUNT_CAP,
            settings.SLA_DUE_SOON_MINUTES,
        ),
        lambda: _compile_folder_counts(tenant=tenant, membership=membership, store=store),
    )


def _compile_folder_counts(
    *, tenant: Tenant, membership: Membership, store: Store | None, matches: Q | None = None
) -> tuple[str, tuple[Any, ...], str]:
    """(SQL, parameters, database alias) of the counts query: one capped subquery per folder."""
    conversations = conversations_visible(tenant=tenant, membership=membership)
    if store is not None:
        conversations = conversations.filter(store=store)
    if matches is not None:
        conversations = conversations.filter(matches)
    counted = [name for name in FOLDERS if name != "all"]
    selects: list[str] = []
    params: list[Any] = []
    for name in counted:
        folder = conversations.filter(_folder_q(name, membership, now=_COMPILED_NOW))
        # A status folder is counted along its own index, newest first like the list reads it
        # ((tenant, [store,] status, -last_message_at)): the count stops after CAP entries of
        # that index. Unordered, a tenant that holds most of the table gets a sequential scan
        # that filters ~5 rows for each one counted (2-3x slower, bench/README.md). "Mine" and
        # "Unassigned" span two statuses, which that order cannot follow: left to the planner.
        if name in TicketStatus.values:
            folder = folder.order_by("-last_message_at")
        elif name in DUE_FOLDERS:  # along (tenant, [store,] sla_due_at)
            folder = folder.order_by("sla_due_at")
        else:
            folder = folder.order_by()
        capped = folder.values("pk")[:FOLDER_COUNT_CAP]
        sql, folder_params = capped.query.get_compiler(using=capped.db).as_sql()
        # The SQL is Django's own compilation with its values kept as parameters, and the alias
        # is one of the FOLDERS keys: nothing from the request is pasted in.
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) AS {name}_rows)")  # noqa: S608
        params.extend(folder_params)
    return "SELECT " + ", ".join(selects), tuple(params), conversations.db


def folder_count_label(count: int) -> str:
    """ "7", "980", and from the cap on "1,000+"."""
    return f"{FOLDER_COUNT_CAP:,}+" if count >= FOLDER_COUNT_CAP else f"{count:,}"


# Ticket writes commit in any order: a transaction that stamped updated_at first may commit after
# one that stamped later, and a stamp of the newest updated_at alone would never see it. So the
# stamp covers every change within this much of the newest one (a row committed late lands in
# it, and moves its count or its sum of times). Transactions here are short (no platform call
# inside one), far shorter than this.
LIST_STAMP_LOOKBACK = timedelta(minutes=2)


# The window is read newest first and at most this many rows: written so, PostgreSQL walks
# (tenant, updated_at, id) backwards from the newest change. As a bare range against a bound it
# cannot see when planning ("updated_at >= (newest) - 2 min"), it guessed a third of the
# tenant's tickets and scanned the table (~100 ms at 100,000 tickets). A change committed late
# carries a stamp seconds behind the newest, so it stays among these rows unless thousands of
# tickets changed in those seconds.
LIST_STAMP_ROWS = 2000


def list_stamp(*, tenant: Tenant, membership: Membership, store: Store | None = None) -> str:
    """What a polling list compares: the changes to the tickets it may show. Ingest and the
    ticket services write `updated_at` with every change the list shows (a message, a status,
    an assignee, a read), and (tenant, updated_at, id) is indexed: one probe for the newest and
    a short range scan behind it (LIST_STAMP_LOOKBACK) — an idle list costs this query and a
    204. A change committed out of timestamp order still changes the stamp."""
    if membership.tenant_id != tenant.pk:
        # Nothing to see (conversations_visible is empty): as an aggregate over no rows says.
        return hashlib.sha256(b"-").hexdigest()[:16]
    sql, params, alias = _compiled(
        ("stamp", *_viewer_key(tenant=tenant, membership=membership, store=store)),
        lambda: _compile_list_stamp(tenant=tenant, membership=membership, store=store),
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    # (newest change, rows near it, sum of their times); only ever compared with another stamp
    # made the same way.
    parts = [
        value.isoformat() if isinstance(value, datetime) else str(value)
        for value in (row or ("-",))
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _compile_list_stamp(
    *, tenant: Tenant, membership: Membership, store: Store | None
) -> tuple[str, tuple[Any, ...], str]:
    conversations = conversations_visible(tenant=tenant, membership=membership)
    if store is not None:
        conversations = conversations.filter(store=store)
    # The newest as the planner runs MAX: one probe of (tenant, updated_at, id), read backwards;
    # then the rows within the lookback of it, along the same index, newest first.
    newest = conversations.order_by("-updated_at").values("updated_at")[:1]
    window = (
        conversations.filter(
            updated_at__gte=ExpressionWrapper(
                Subquery(newest) - Value(LIST_STAMP_LOOKBACK), output_field=DateTimeField()
            )
        )
        .order_by("-updated_at")
        .values("updated_at")[:LIST_STAMP_ROWS]
    )
    sql, params = window.query.get_compiler(using=window.db).as_sql()
    vendor = connections[window.db].vendor
    # Seconds since the epoch, exact on PostgreSQL (days on SQLite): the sum moves when a row
    # of the window changes its time.
    epoch = "julianday(w.updated_at)" if vendor == "sqlite" else "EXTRACT(EPOCH FROM w.updated_at)"
    stamp = f"SELECT MAX(w.updated_at), COUNT(*), SUM({epoch}) FROM ({sql}) AS w"  # noqa: S608
    return stamp, tuple(params), window.db


def folder_counts_cached(
    *,
    tenant: Tenant,
    membership: Membership,
    store: Store | None = None,
    stamp: str,
    search: TicketSearch | None = None,
) -> dict[str, int]:
    """The folder counts (of a search's tickets, when searching), computed once per change
    stamp: page loads and polls while nothing changed reuse them. (A change of an agent's store
    limits shows within COUNTS_TTL.)"""
    key = f"inbox:folders:{membership.pk}:{store.pk if store else 0}:{stamp}"
    if search is not None:
        words = hashlib.sha256(search.query.text.lower().encode()).hexdigest()[:16]
        key = f"{key}:{words}"
    counts = cache.get(key)
    if counts is None:
        counts = folder_counts(tenant=tenant, membership=membership, store=store, search=search)
        cache.set(key, counts, COUNTS_TTL)
    return counts


def list_search(*, tenant: Tenant, membership: Membership, filters: ListFilters) -> TicketSearch:
    """The list's search (search.tickets) over the stores this member may serve (within the
    store filter): no query when nothing is searched, one (the exact ids) when something is."""
    stores = Store.objects.filter(tenant=tenant).only("pk", "region")
    if membership.tenant_id != tenant.pk:
        stores = stores.none()
    elif filters.store is not None:
        stores = stores.filter(pk=filters.store.pk)
    if not parse(filters.search):
        return TicketSearch(query=parse(""))  # nothing searched: no query
    allowed = allowed_store_ids(membership)
    if allowed is not None:
        stores = stores.filter(pk__in=allowed)
    return ticket_search(tenant=tenant, stores=stores, text=filters.search)


def mailbox_conversations(
    *,
    tenant: Tenant,
    membership: Membership,
    filters: ListFilters,
    search: TicketSearch | None = None,
) -> QuerySet[Conversation]:
    """The list's tickets, newest activity first (`list_page` reads the columns a row shows),
    found by `search` (default: `list_search` of the filters) when something is searched."""
    conversations = conversations_visible(tenant=tenant, membership=membership)
    if filters.store is not None:
        conversations = conversations.filter(store=filters.store)
    if filters.assignee is not None:
        conversations = conversations.filter(assignee_id=filters.assignee.user_id)
    conversations = conversations.filter(_folder_q(filters.folder, membership))
    if filters.intent:
        conversations = conversations.filter(intent=filters.intent)
    if filters.search:
        # Text with nothing to search for (punctuation, emoji) finds nothing: an empty list.
        if search is None:
            search = list_search(tenant=tenant, membership=membership, filters=filters)
        conversations = conversations.filter(search.matches())
    if filters.urgent:
        # Tickets triage marked urgent (anger, a threat, repeated messages) first.
        return conversations.order_by(
            F("urgent").desc(), F("sla_due_at").asc(nulls_last=True), "-last_message_at", "-id"
        )
    return conversations.order_by("-last_message_at", "-id")


@dataclass(frozen=True, slots=True)
class ListTicket:
    """One row of the list: the values it shows, with its store, buyer and assignee joined in.

    Plain values rather than a Conversation with its Store, Customer and User: reading 51 rows
    as those four model instances (and parsing every date column they have) took 14 ms at
    100,000 tickets, as these values 5 ms (bench/README.md).
    """

    pk: int
    public_id: uuid.UUID
    number: int
    status: str
    last_message_at: datetime
    last_message_preview: str
    last_message_from_buyer: bool
    unread_count: int
    store_name: str
    store_market: str
    buyer_store_id: int | None  # None: no buyer known for the ticket
    buyer_user_id: str | None
    assignee_id: int | None
    assignee_first_name: str | None
    assignee_last_name: str | None
    assignee_email: str | None
    # The SLA clocks (sla.display draws the soonest as the row's badge).
    sla_due_at: datetime | None = None
    platform_due_at: datetime | None = None
    sla_reply_due_at: datetime | None = None
    sla_resolution_due_at: datetime | None = None
    first_response_at: datetime | None = None
    store_id: int | None = None  # the ticket's store (a search's snippets read its language)
    # Triage's labels (triage/): the intent tag and the urgent mark.
    intent: str = ""
    urgent: bool = False


LIST_TICKET_COLUMNS = (
    "pk",
    "public_id",
    "number",
    "status",
    "last_message_at",
    "last_message_preview",
    "last_message_from_buyer",
    "unread_count",
    "store__name",
    "store__market",
    "customer__store_id",
    "customer__buyer_user_id",
    "assignee_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
    "sla_due_at",
    "platform_due_at",
    "sla_reply_due_at",
    "sla_resolution_due_at",
    "first_response_at",
    "store_id",
    "intent",
    "urgent",
)


@dataclass(frozen=True)
class ListPage:
    rows: list[ListTicket]
    next_cursor: str  # "" on the last page


def encode_cursor(conversation: Conversation | ListTicket, *, urgent: bool = False) -> str:
    position = f"{conversation.last_message_at.isoformat()}~{conversation.pk}"
    if not urgent:
        return position
    due = conversation.sla_due_at
    flag = "1" if conversation.urgent else "0"
    return f"u~{flag}~{due.isoformat() if due is not None else '-'}~{position}"


# A cursor names a ticket's time and id as `encode_cursor` wrote them; anything else (a year-1 or
# far-future time that overflows once in UTC, an id past a 64-bit integer, no zone) means the
# first page rather than a database error.
CURSOR_YEARS = range(1970, 9999)
MAX_ID = 2**63 - 1


def _moment(text: str) -> datetime | None:
    """An aware time a cursor may carry, in UTC; None for anything else."""
    try:
        moment = datetime.fromisoformat(text)
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None
    return utc if utc is not None and utc.year in CURSOR_YEARS else None


def _decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    moment, _, pk = cursor.partition("~")
    utc = _moment(moment)
    try:
        number = int(pk)
    except ValueError:
        return None
    if utc is None or not 0 < number <= MAX_ID:
        return None
    return utc, number


def _after_urgent(cursor: str) -> Q | None:
    """Rows after `cursor` in "most urgent first" order: tickets marked urgent first, then
    soonest due first, tickets without a due time last, newest activity first among equals (see
    mailbox_conversations). A cursor without the urgent flag (`u~<due>~...`, before triage)
    reads as one of a ticket not marked urgent."""
    _, _, rest = cursor.partition("~")
    flag, _, tail = rest.partition("~")
    if flag in ("0", "1"):
        rest = tail
    marked = flag == "1"
    due_text, _, position = rest.partition("~")
    decoded = _decode_cursor(position)
    if decoded is None:
        return None
    moment, pk = decoded
    older = Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk)
    if due_text == "-":
        after = Q(sla_due_at__isnull=True) & older
    else:
        due = _moment(due_text)
        if due is None:
            return None
        after = Q(sla_due_at__gt=due) | Q(sla_due_at=due) & older | Q(sla_due_at__isnull=True)
    if marked:
        return Q(urgent=False) | Q(urgent=True) & after
    return Q(urgent=False) & after


def list_page(
    conversations: QuerySet[Conversation],
    *,
    cursor: str = "",
    size: int = 50,
    urgent: bool = False,
    first: Sequence[int] = (),
) -> ListPage:
    """One keyset page (rows after `cursor` in the list's order: newest activity first, or
    soonest due first when `urgent`): one query whatever the page number, and rows that arrive
    meanwhile never shift what the next page shows.

    `first`: tickets that rank ahead of the others (a search's exact matches): the first page
    starts with those of them `conversations` holds (one more query), in the list's order; the
    pages read the others after them."""
    if first:
        rest = conversations.exclude(pk__in=list(first))
        if cursor:
            return list_page(rest, cursor=cursor, size=size, urgent=urgent)
        head = [
            ListTicket(*values)
            for values in conversations.filter(pk__in=list(first)).values_list(
                *LIST_TICKET_COLUMNS
            )[:size]
        ]
        tail = list_page(rest, size=max(size - len(head), 1), urgent=urgent)
        return ListPage(rows=head + tail.rows, next_cursor=tail.next_cursor)
    if cursor and urgent and cursor.startswith("u~"):
        after = _after_urgent(cursor)
        if after is not None:
            conversations = conversations.filter(after)
    elif cursor and not urgent:
        position = _decode_cursor(cursor)
        if position is not None:
            moment, pk = position
            conversations = conversations.filter(
                Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk)
            )
    rows = [
        ListTicket(*values)
        for values in conversations.values_list(*LIST_TICKET_COLUMNS)[: size + 1]
    ]
    more = len(rows) > size
    rows = rows[:size]
    return ListPage(
        rows=rows, next_cursor=encode_cursor(rows[-1], urgent=urgent) if more and rows else ""
    )


# The column a search's tickets are ranked by (`tickets_filtered`).
SEARCH_RANK = "search_rank"


def tickets_filtered(
    *,
    tenant: Tenant,
    membership: Membership,
    status: str | None = None,
    store: Store | None = None,
    assignee: Membership | None = None,
    unassigned: bool = False,
    unread: bool | None = None,
    updated_since: datetime | None = None,
    search: str = "",
    due: str | None = None,
) -> QuerySet[Conversation]:
    """The tickets an integrator asks for (REST API): the mailbox list's tickets and search
    (`mailbox_conversations`) with the filters a sync needs, store, buyer and assignee joined
    (one query per page). `due` is one of the Due soon / Overdue folders (DUE_FOLDERS).

    A search's tickets carry SEARCH_RANK (1 for its exact matches, 0 for the others), for the
    caller to order by before newest activity: the mailbox's ranking (`TicketSearch.exact_rank`).
    """
    folder = due if due in DUE_FOLDERS else status if status in TicketStatus.values else "all"
    filters = ListFilters(
        folder=folder,  # type: ignore[arg-type]
        store=store,
        assignee=assignee,
        search=search,
    )
    found = list_search(tenant=tenant, membership=membership, filters=filters) if search else None
    tickets = mailbox_conversations(
        tenant=tenant, membership=membership, filters=filters, search=found
    )
    if found is not None:
        tickets = tickets.annotate(**{SEARCH_RANK: found.exact_rank()})
    if due in DUE_FOLDERS and status in TicketStatus.values:
        tickets = tickets.filter(status=status)
    if unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    if unread is not None:
        tickets = tickets.filter(unread_count__gt=0) if unread else tickets.filter(unread_count=0)
    if updated_since is not None:
        tickets = tickets.filter(updated_at__gte=updated_since)
    return tickets.select_related("store", "customer", "assignee")


def ticket_messages(
    *, conversation: Conversation, updated_since: datetime | None = None
) -> QuerySet[Message]:
    """A ticket's visible messages (REST API; ordered by the caller's pagination)."""
    messages = Message.objects.filter(conversation=conversation, is_visible=True).select_related(
        "author"
    )
    if updated_since is not None:
        messages = messages.filter(updated_at__gte=updated_since)
    return messages


def ticket_notes(*, conversation: Conversation) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(
        conversation=conversation, kind=TicketEventKind.NOTE
    ).select_related("actor")


# --- One ticket ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadEntry:
    """One line of the thread: a platform message or reply, or a note / history event."""

    message: Message | None = None
    event: TicketEvent | None = None

    @property
    def at(self) -> datetime:
        if self.message is not None:
            return self.message.sent_at
        assert self.event is not None
        return self.event.created_at


def thread_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """Visible messages in platform order; replies still queued (no index yet) come last."""
    return (
        Message.objects.filter(conversation=conversation, is_visible=True)
        .select_related("author")
        .order_by(F("index_key").asc(nulls_last=True), "created_at", "id")
    )


def thread_events(*, conversation: Conversation) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(conversation=conversation).select_related("actor")


def _merge(messages: list[Message], events: list[TicketEvent]) -> list[ThreadEntry]:
    """Messages in index order with events merged in by time: an event goes before the first
    message that is newer than it."""
    entries: list[ThreadEntry] = []
    position = 0
    for message in messages:
        moment = message.sent_at if message.index_key else message.created_at
        while position < len(events) and events[position].created_at <= moment:
            entries.append(ThreadEntry(event=events[position]))
            position += 1
        entries.append(ThreadEntry(message=message))
    entries.extend(ThreadEntry(event=event) for event in events[position:])
    return entries


def thread(*, conversation: Conversation) -> list[ThreadEntry]:
    """The whole thread. Two queries whatever the length."""
    messages = list(thread_messages(conversation=conversation))
    events = list(thread_events(conversation=conversation))
    return _merge(messages, events)


def thread_window(*, conversation: Conversation, newest: int) -> tuple[list[ThreadEntry], int]:
    """The newest `newest` entries and how many older ones are hidden, in the same two queries
    as the whole thread: only the window's messages are read and built (the total comes from
    COUNT(*) OVER (), computed before the LIMIT). Notes and history are few and read whole."""
    window = list(
        thread_messages(conversation=conversation)
        .annotate(thread_total=Window(Count("pk")))
        .reverse()[:newest]
    )
    window.reverse()
    events = list(thread_events(conversation=conversation).order_by("created_at", "id"))
    message_total = window[0].thread_total if window else 0
    shown = _merge(window, events)[-newest:]
    return shown, message_total + len(events) - len(shown)


@dataclass(frozen=True, slots=True)
class ThreadState:
    version: str  # changes whenever the open ticket would look different
    newest_message_id: str  # the newest message's public id ("" for none): the composer's view


def thread_state(*, conversation: Conversation) -> ThreadState:
    """The ticket's version stamp and its newest message, in one query: the stamp already finds
    the newest message (by id), so the composer's newest-seen id costs no query of its own.

    Written as SQL: the ORM spent ~3 ms compiling the three subqueries for ~1 ms in the database,
    on every ticket page, pane and poll (bench/README.md). The subqueries read the same indexes
    as before (a ticket's messages and events by id, its replies by delivery state)."""
    with connections[Conversation.objects.db].cursor() as cursor:
        cursor.execute(
            _THREAD_VERSION_SQL,
            [
                DeliveryStatus.FAILED,
                DeliveryStatus.QUEUED,
                DeliveryStatus.SENDING,
                DeliveryStatus.FAILED,
                conversation.pk,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return ThreadState(version="gone", newest_message_id="")
    stamp = hashlib.sha256("|".join(str(part) for part in row).encode()).hexdigest()[:16]
    newest = row[5]  # the newest message's public id
    return ThreadState(version=stamp, newest_message_id=str(newest) if newest else "")


def thread_version(*, conversation: Conversation) -> str:
    """A stamp that changes whenever the open ticket would look different: a new message or
    event, a reply changing delivery state, status/assignee/read changes. One query."""
    return thread_state(conversation=conversation).version


_THREAD_VERSION_SQL = f"""
    SELECT c.updated_at, c.status, c.assignee_id, c.last_message_at, c.unread_count,
           (SELECT m.public_id FROM {Message._meta.db_table} m
             WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1),
           (SELECT e.id FROM {TicketEvent._meta.db_table} e
             WHERE e.conversation_id = c.id ORDER BY e.id DESC LIMIT 1),
           (SELECT CAST(COUNT(m.id) AS TEXT) || '/' || COALESCE(CAST(SUM(m.attempts) AS TEXT), '')
                   || '/' || CAST(SUM(CASE WHEN m.delivery_status = %s THEN 1 ELSE 0 END) AS TEXT)
              FROM {Message._meta.db_table} m
             WHERE m.conversation_id = c.id AND m.delivery_status IN (%s, %s, %s)
             GROUP BY m.conversation_id)
      FROM {Conversation._meta.db_table} c
     WHERE c.id = %s
"""  # noqa: S608 (table names from the models; every value is a parameter)


def assignable_members(*, tenant: Tenant, conversation: Conversation) -> list[Membership]:
    """Teammates who may serve this ticket's store (the assignee picker), in one query: owners
    and admins, agents without store limits, and agents limited to stores including this one."""
    limits = StoreAccess.objects.filter(tenant=tenant, membership=OuterRef("pk"))
    members = (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .annotate(
            limited=Exists(limits),
            serves=Exists(limits.filter(store_id=conversation.store_id)),
        )
        .order_by("user__first_name", "user__last_name", "user__email")
    )
    return [
        m
        for m in members
        if m.has_role(Role.ADMIN)
        or not (m.limited or m.limited_to_stores)  # type: ignore[attr-defined]
        or m.serves  # type: ignore[attr-defined]
    ]


# --- The order sidebar --------------------------------------------------------------------------


@dataclass
class SidebarOrder:
    """An order card of the workbench with its returns and cancellations."""

    order: Order
    linked: bool
    returns: list[Return] = field(default_factory=list)
    cancellations: list[Cancellation] = field(default_factory=list)


def ticket_orders(
    *, tenant: Tenant, conversation: Conversation, limit: int = 20
) -> list[SidebarOrder]:
    """The buyer's orders in this ticket's store, orders linked to the ticket first, then newest
    first; lines, returns and cancellations loaded in a fixed number of queries."""
    linked = set(
        ConversationOrder.objects.filter(tenant=tenant, conversation=conversation).values_list(
            "order_external_id", flat=True
        )
    )
    buyer = conversation.customer.buyer_user_id if conversation.customer else ""
    if not linked and not buyer:
        return []
    match = Q(external_id__in=linked)
    if buyer:
        match |= Q(buyer_user_id=buyer)
    # Whether any order has a return or a cancellation is asked with the orders (an index probe
    # on (store, order id) each): most have neither, and then those two queries are not sent.
    after_sale = {"store_id": OuterRef("store_id"), "order_external_id": OuterRef("external_id")}
    orders = list(
        Order.objects.filter(tenant=tenant, store_id=conversation.store_id)
        .filter(match)
        .annotate(
            has_returns=Exists(Return.objects.filter(tenant=tenant, **after_sale)),
            has_cancellations=Exists(Cancellation.objects.filter(tenant=tenant, **after_sale)),
        )
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-placed_at", "-id")[:limit]
    )
    orders.sort(key=lambda order: order.external_id not in linked)  # stable: newest within
    return orders_with_after_sales(tenant=tenant, orders=orders, linked=linked)


def orders_with_after_sales(
    *, tenant: Tenant, orders: list[Order], linked: set[str] | None = None
) -> list[SidebarOrder]:
    cards = [
        SidebarOrder(order=order, linked=order.external_id in (linked or set())) for order in orders
    ]
    if not cards:
        return cards
    by_key = {(card.order.store_id, card.order.external_id): card for card in cards}
    store_ids = {card.order.store_id for card in cards}
    # Orders read by ticket_orders say whether they have any (has_returns, has_cancellations);
    # others are asked.
    ids = [card.order.external_id for card in cards if getattr(card.order, "has_returns", True)]
    returns = (
        Return.objects.filter(tenant=tenant, store_id__in=store_ids, order_external_id__in=ids)
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.order_by("id")))
        .order_by("-requested_at", "-id")
        if ids
        else []
    )
    for record in returns:
        # The filter pairs any of the stores with any of the ids: keep only real pairs.
        if (card := by_key.get((record.store_id, record.order_external_id))) is not None:
            card.returns.append(record)
    ids = [
        card.order.external_id for card in cards if getattr(card.order, "has_cancellations", True)
    ]
    cancellations = (
        Cancellation.objects.filter(
            tenant=tenant, store_id__in=store_ids, order_external_id__in=ids
        )
        .prefetch_related(Prefetch("lines", queryset=CancellationLine.objects.order_by("id")))
        .order_by("-requested_at", "-id")
        if ids
        else []
    )
    for record in cancellations:
        if (card := by_key.get((record.store_id, record.order_external_id))) is not None:
            card.cancellations.append(record)
    return cards
