"""Ticket search: the one way the mailbox, its folder counts and the REST API's `q` find tickets.

A search is read once (`search.query.parse`) and answered in two parts:

- exact lookups, resolved first in ONE query of index probes (`exact_ticket_ids`): the ticket
  number, the tickets linked to an order id, the tickets of the buyer who placed that order (even
  when no ticket is linked to it yet) and of a buyer by platform user id. They rank first.
- words, matched against each ticket's search document (PostgreSQL full text in the store's
  language, GIN index; see search.index), newest activity first. On SQLite: a substring match
  over messages and notes, the fallback that keeps `make run` working.

Resolving the exact ids first keeps the list query to `id = ANY(…) OR document @@ query`, which
the planner reads either through the GIN index (rare words) or along the folder's
(tenant, status, -last_message_at) index until a page is full (common words). The order-id
subqueries OR-ed into the list query, as before, read every ticket of the tenant (0.6-1.4 s at
100,000 tickets, issue 11).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery as PgSearchQuery
from django.db import connections
from django.db.models import Case, CharField, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import SHA256, Cast, Concat
from django.utils.safestring import SafeString, mark_safe

from inbox.models import (
    Conversation,
    ConversationOrder,
    Customer,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
)
from marketplaces.models import Store
from orders.models import Order
from tenants.models import Tenant

from . import index
from .query import SearchQuery, parse

# Exact matches shown ahead of the word matches: a ticket number, an order's tickets, a buyer's.
MAX_EXACT = 100
SNIPPET_WORDS = 18
# A row's snippet comes from the ticket's newest messages that match: only this many are read
# (a ticket found by its order id or a note, with 200 messages that do not hold the words, cost
# 10 ms of ts_headline's parsing when all were read; bench/search.py). Else the preview is shown.
SNIPPET_MESSAGES = 30


@dataclass(frozen=True)
class TicketSearch:
    """A search as the ticket queries apply it."""

    query: SearchQuery
    exact_ids: tuple[int, ...] = ()
    configs: tuple[str, ...] = (index.FALLBACK_CONFIG,)  # the languages of the stores searched
    postgres: bool = True
    # (store pk, its configuration) of each store searched, read with them: what the rows'
    # snippets are parsed in (index.store_configs, without reading the stores again).
    store_configs: tuple[tuple[int, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.query)

    def matches(self) -> Q:
        """Tickets this search finds (exact or by words)."""
        found = Q(pk__in=self.exact_ids) if self.exact_ids else Q(pk__in=[])
        return found | self.word_matches()

    def exact_rank(self) -> Case | Value:
        """1 for the exact matches, 0 for the others: the ranking for lists that order by a
        column (the REST API's keyset pages), descending before newest activity. The mailbox
        applies the same ranking as two queries (`inbox.selectors.list_page`'s `first`)."""
        if not self.exact_ids:
            return Value(0, output_field=IntegerField())
        return Case(
            When(pk__in=self.exact_ids, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )

    def word_matches(self) -> Q:
        query = self.query
        if not query.words:
            return Q(pk__in=[])
        if self.postgres:
            words = Q()
            for config in self.configs:
                words |= Q(
                    search_document=PgSearchQuery(query.terms, config=config, search_type="plain")
                )
            return words
        return _substring_matches(query)


def ticket_search(*, tenant: Tenant, stores: Iterable[Store], text: object) -> TicketSearch:
    """THE entry point: the search for `text` over the tickets of `stores` (the stores the
    viewer may serve). One query when the text can be an exact id, none otherwise."""
    query = parse(text)
    stores = list(stores)
    postgres = index.enabled()
    store_configs = tuple((store.pk, index.search_config(store.region)) for store in stores)
    configs = tuple(sorted({config for _, config in store_configs})) or (index.FALLBACK_CONFIG,)
    if not query:
        return TicketSearch(
            query=query, configs=configs, postgres=postgres, store_configs=store_configs
        )
    exact = exact_ticket_ids(tenant=tenant, store_ids=[store.pk for store in stores], query=query)
    return TicketSearch(
        query=query,
        exact_ids=exact,
        configs=configs,
        postgres=postgres,
        store_configs=store_configs,
    )


def exact_ticket_ids(
    *, tenant: Tenant, store_ids: Sequence[int], query: SearchQuery
) -> tuple[int, ...]:
    """The tickets a ticket number, an order id or a buyer user id names: one query, a UNION of
    index probes ((tenant, number); (tenant, order id) on links and on orders, then the buyer by
    (store, buyer) and their tickets by buyer; a buyer user id likewise). Visibility is applied
    by the caller's queryset.

    Written as SQL: the ORM's form of "the buyers of this order" (an OR of IN subqueries) made
    PostgreSQL read every buyer and every ticket of the tenant, 525 ms at 100,000 tickets
    (bench/search.py); each part here is an index probe."""
    if not query.has_exact or not store_ids:
        return ()
    stores = ", ".join(["%s"] * len(store_ids))
    parts: list[str] = []
    params: list[Any] = []
    if query.ticket_number:
        parts.append(_BY_NUMBER)
        params += [tenant.pk, query.ticket_number]
    if query.order_id:
        parts += [_BY_LINK, _BY_ORDER.format(stores=stores), _BY_BUYER.format(stores=stores)]
        params += [tenant.pk, query.order_id, tenant.pk, query.order_id, *store_ids]
        params += [*store_ids, query.order_id]
    if not parts:
        return ()  # a buyer's label code: its words find it (search.index)
    # Only the constant parts above are joined; every value is a parameter.
    sql = " UNION ".join(f"SELECT * FROM ({part}) AS part{n}" for n, part in enumerate(parts))  # noqa: S608
    with connections[Conversation.objects.db].cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {MAX_EXACT}", params)
        return tuple(sorted({pk for (pk,) in cursor.fetchall()}, reverse=True))


# The parts (table names from the models, the store list as placeholders; values are parameters).
_TICKETS = Conversation._meta.db_table
_BY_NUMBER = f"SELECT c.id FROM {_TICKETS} c WHERE c.tenant_id = %s AND c.number = %s"  # noqa: S608
_BY_LINK = (
    f"SELECT l.conversation_id FROM {ConversationOrder._meta.db_table} l"  # noqa: S608
    " WHERE l.tenant_id = %s AND l.order_external_id = %s"
)
_BY_ORDER = (
    f"SELECT c.id FROM {Order._meta.db_table} o"  # noqa: S608
    f" JOIN {Customer._meta.db_table} b"
    " ON b.store_id = o.store_id AND b.buyer_user_id = o.buyer_user_id"
    f" JOIN {_TICKETS} c ON c.customer_id = b.id"
    " WHERE o.tenant_id = %s AND o.external_id = %s AND o.store_id IN ({stores})"
)
_BY_BUYER = (
    f"SELECT c.id FROM {Customer._meta.db_table} b"  # noqa: S608
    f" JOIN {_TICKETS} c ON c.customer_id = b.id"
    " WHERE b.store_id IN ({stores}) AND b.buyer_user_id = %s"
)


# --- SQLite: the substring fallback -------------------------------------------------------------


class BuyerLabel(SHA256):
    """The hex digest behind a buyer's masked label, computed by the database."""


def _substring_matches(query: SearchQuery) -> Q:
    """Every word in one message or note, or the buyer's label code: what `make run` on SQLite
    offers instead of the full-text index (it reads every message of the tenant)."""
    in_message = Message.objects.filter(conversation=OuterRef("pk"), is_visible=True)
    in_note = TicketEvent.objects.filter(conversation=OuterRef("pk"), kind=TicketEventKind.NOTE)
    for word in query.words:
        in_message = in_message.filter(text__icontains=word)
        in_note = in_note.filter(body__icontains=word)
    found = Q(Exists(in_message)) | Q(Exists(in_note))
    if query.buyer_label:
        label = BuyerLabel(
            Concat(
                Cast("store_id", CharField()),
                Value(":"),
                "customer__buyer_user_id",
                output_field=CharField(),
            )
        )
        found |= Q(
            Exists(
                Conversation.objects.annotate(label=label).filter(
                    pk=OuterRef("pk"), label__startswith=query.buyer_label
                )
            )
        )
    return found


# --- Highlights ---------------------------------------------------------------------------------

# Markers ts_headline puts around a match: control characters no message keeps (removed first),
# turned into <mark> after the text is escaped.
_START, _STOP = "\x02", "\x03"

_SNIPPETS_SQL = """
SELECT t.id, s.direction,
       ts_headline(s.config::regconfig, s.text, plainto_tsquery(s.config::regconfig, %s),
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) ||
                   ', MaxWords={words}, MinWords=6, MaxFragments=1, FragmentDelimiter=" … "')
  FROM jsonb_to_recordset(%s::jsonb) AS t(id bigint, config text)
 CROSS JOIN LATERAL (
       SELECT m.direction, t.config, translate(m.text, chr(2) || chr(3), '  ') AS text
         FROM (SELECT r.direction, r.text, r.index_key FROM {message} AS r
                WHERE r.conversation_id = t.id AND r.is_visible AND r.text <> ''
                ORDER BY r.index_key DESC NULLS FIRST
                LIMIT {newest}) AS m
        WHERE to_tsvector(t.config::regconfig, m.text) @@ plainto_tsquery(t.config::regconfig, %s)
        ORDER BY m.index_key DESC NULLS FIRST
        LIMIT 1) AS s
"""


@dataclass(frozen=True, slots=True)
class Snippet:
    html: SafeString
    from_buyer: bool


def snippets(
    search: TicketSearch, tickets: Sequence[tuple[int, int]], configs: dict[int, str]
) -> dict[int, Snippet]:
    """For each (ticket pk, store pk) of a page: the newest message the words match, with the
    matches marked, in one query (PostgreSQL; each ticket's messages read newest first until
    one matches). Tickets found otherwise (a note, the buyer, an id) get none."""
    if not search.query.words or not tickets:
        return {}
    if not search.postgres:
        return _substring_snippets(search.query, [pk for pk, _ in tickets])
    from config.db import json_document

    sql = _SNIPPETS_SQL.format(
        words=SNIPPET_WORDS, message=Message._meta.db_table, newest=SNIPPET_MESSAGES
    )
    batch = [
        {"id": pk, "config": configs.get(store_id, index.FALLBACK_CONFIG)}
        for pk, store_id in tickets
    ]
    terms = search.query.terms
    with connections[Message.objects.db].cursor() as cursor:
        cursor.execute(sql, [terms, json_document(batch), terms])
        rows = cursor.fetchall()
    return {
        pk: Snippet(html=_marked(text), from_buyer=direction == MessageDirection.INBOUND)
        for pk, direction, text in rows
    }


def _substring_snippets(query: SearchQuery, ticket_ids: list[int]) -> dict[int, Snippet]:
    """SQLite: the newest message holding every word, per ticket, in one query."""
    messages = Message.objects.filter(conversation_id__in=ticket_ids, is_visible=True).exclude(
        text=""
    )
    for word in query.words:
        messages = messages.filter(text__icontains=word)
    found: dict[int, Snippet] = {}
    for pk, direction, text in messages.order_by(
        "conversation_id", F("index_key").desc(nulls_first=True), "-id"
    ).values_list("conversation_id", "direction", "text"):
        if pk not in found:
            found[pk] = Snippet(
                html=highlighted(" ".join(text.split()), query),
                from_buyer=direction == MessageDirection.INBOUND,
            )
    return found


def _marked(text: str) -> SafeString:
    """Escaped text with ts_headline's markers as <mark> (the markers can come from nowhere
    else: they were removed from the message first)."""
    escaped = html.escape(" ".join(text.split()))
    return mark_safe(  # noqa: S308 (escaped first; only our own tags added)
        escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")
    )


def highlighted(text: str, query: SearchQuery) -> SafeString:
    """`text` escaped, with the searched words marked where they start a word (the preview of a
    ticket found by a note or an id, and every row on SQLite)."""
    if not query.words:
        return mark_safe(html.escape(text))  # noqa: S308 (escaped)
    words = sorted(set(query.words), key=len, reverse=True)
    pattern = re.compile(
        r"(?<![^\W_])(" + "|".join(re.escape(word) for word in words) + ")", re.IGNORECASE
    )
    # Split before escaping: a word can never match inside an entity such as &amp;.
    parts = pattern.split(text)
    return mark_safe(  # noqa: S308 (every part escaped; only our own tags added)
        "".join(
            f"<mark>{html.escape(part)}</mark>" if position % 2 else html.escape(part)
            for position, part in enumerate(parts)
        )
    )
