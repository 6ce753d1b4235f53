"""The tickets' search documents (PostgreSQL): one `tsvector` per ticket, under a GIN index.

A ticket's document holds its buyer (the platform's buyer user id and the code of the masked
label agents see, "TikTok Shop Customer 853d82…"), the text of its visible messages and its
internal notes, parsed in the language of its store (`search_config`). It is kept current by the
statements that write those things: ingest appends its new messages in the UPDATE that moves the
tickets (`config.db.rows_update`, one statement a batch), a reply and a note append theirs in the
UPDATE of the ticket they already make. `documents_rebuild` writes whole documents again (the
`search_index_build` command, for a database that existed before the index).

Elsewhere (SQLite, `make run`'s default) there is no document: search falls back to a plain
substring match (`search.tickets`), and everything here does nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections
from django.db.models.expressions import RawSQL

from config.db import Computed, json_document
from inbox.models import Conversation, Customer, Message, TicketEvent, TicketEventKind
from marketplaces.models import Store

# The store's region decides how its buyers' words are stemmed; anything else is split into
# words without stemming or stop words ('simple'), which suits ids, codes and any language.
FALLBACK_CONFIG = "simple"
REGION_CONFIGS = {
    "US": "english",
    "GB": "english",
    "IE": "english",
    "SG": "english",
    "MY": "english",
    "PH": "english",
    "ES": "spanish",
    "MX": "spanish",
    "FR": "french",
    "DE": "german",
    "IT": "italian",
    "ID": "indonesian",
    "BR": "portuguese",
}
DOCUMENT = "search_document"


def enabled(alias: str | None = None) -> bool:
    return connections[alias or Conversation.objects.db].vendor == "postgresql"


def search_config(region: str | None) -> str:
    """The text-search configuration (a PostgreSQL regconfig) of a store in `region`."""
    return REGION_CONFIGS.get((region or "").strip().upper(), FALLBACK_CONFIG)


def store_configs(store_ids: Iterable[int]) -> dict[int, str]:
    """The configuration of each store, in one query."""
    ids = set(store_ids)
    if not ids:
        return {}
    return {
        pk: search_config(region)
        for pk, region in Store.objects.filter(pk__in=ids).values_list("pk", "region")
    }


def buyer_terms(store_id: int | None, buyer_user_id: str | None) -> str:
    """What a ticket's document holds of its buyer: the buyer user id and the label's code."""
    if store_id is None or not buyer_user_id:
        return ""
    code = hashlib.sha256(f"{store_id}:{buyer_user_id}".encode()).hexdigest()[:6]
    return f"{buyer_user_id} {code}"


def searchable_text(message: Message) -> str:
    """A message's words for the index: the visible text (images, cards: none)."""
    return message.text if message.is_visible and message.text else ""


# --- Appending (the write paths) ----------------------------------------------------------------


_APPEND_SQL = (
    "COALESCE({table}.search_document, ''::tsvector)"
    " || to_tsvector('simple', COALESCE(batch.search_buyer, ''))"
    " || to_tsvector(COALESCE(batch.search_config, 'simple')::regconfig,"
    " COALESCE(batch.search_text, ''))"
)


def ingest_append(
    tickets: Sequence[Conversation], texts: Mapping[int, tuple[str, str]], config: str
) -> Computed | None:
    """The document assignment for ingest's ticket UPDATE: per ticket pk, (buyer terms, text)
    appended in `config`. None where there is no index (SQLite) or nothing to add."""
    wanted = {pk: pair for pk, pair in texts.items() if pair[0] or pair[1]}
    if not wanted or not tickets or not enabled():
        return None
    return Computed(
        column=DOCUMENT,
        sql=f"CASE WHEN batch.search_text IS NULL THEN {{table}}.{DOCUMENT} ELSE {_APPEND_SQL} END",
        inputs={"search_buyer": "text", "search_text": "text", "search_config": "text"},
        values={
            pk: {"search_buyer": buyer, "search_text": text, "search_config": config}
            for pk, (buyer, text) in wanted.items()
        },
    )


def document_append(*, store: Store, text: str, buyer: str = "") -> dict[str, Any]:
    """`search_document=<it with text appended>` for a ticket's `.update(...)` (a reply, a
    note): the same statement. Empty where there is no index or no text."""
    if not (text.strip() or buyer) or not enabled():
        return {}
    sql = _APPEND_SQL.format(table=Conversation._meta.db_table)
    # RawSQL cannot read a per-row batch: the same expression over three parameters.
    sql = (
        sql.replace("batch.search_buyer", "%s")
        .replace("batch.search_config", "%s")
        .replace("batch.search_text", "%s")
    )
    # The SQL is this module's constant; every value is a parameter.
    return {DOCUMENT: RawSQL(sql, (buyer, search_config(store.region), text))}  # noqa: S611


# --- Rebuilding ---------------------------------------------------------------------------------


_REBUILD_SQL = """
UPDATE {conversation} AS c SET {document} =
    setweight(to_tsvector('simple', COALESCE((
        SELECT cu.buyer_user_id || ' ' || left(encode(sha256(convert_to(
                   cu.store_id::text || ':' || cu.buyer_user_id, 'UTF8')), 'hex'), 6)
          FROM {customer} AS cu WHERE cu.id = c.customer_id), '')), 'A')
    || to_tsvector(batch.config::regconfig, COALESCE((
        SELECT string_agg(m.text, ' ' ORDER BY m.index_key NULLS LAST, m.id)
          FROM {message} AS m
         WHERE m.conversation_id = c.id AND m.is_visible AND m.text <> ''), ''))
    || to_tsvector(batch.config::regconfig, COALESCE((
        SELECT string_agg(e.body, ' ' ORDER BY e.id)
          FROM {event} AS e WHERE e.conversation_id = c.id AND e.kind = %s), ''))
FROM jsonb_to_recordset(%s::jsonb) AS batch(id bigint, config text)
WHERE c.id = batch.id
"""


def documents_rebuild(conversation_ids: Sequence[int]) -> int:
    """Writes the whole documents of these tickets again, in one statement; returns how many.
    (After anything that removes words; and for tickets stored before the index existed.)"""
    if not conversation_ids or not enabled():
        return 0
    stores = dict(
        Conversation.objects.filter(pk__in=list(conversation_ids)).values_list("pk", "store_id")
    )
    configs = store_configs(stores.values())
    batch = [
        {"id": pk, "config": configs.get(store_id, FALLBACK_CONFIG)}
        for pk, store_id in stores.items()
    ]
    sql = _REBUILD_SQL.format(
        conversation=Conversation._meta.db_table,
        document=DOCUMENT,
        customer=Customer._meta.db_table,
        message=Message._meta.db_table,
        event=TicketEvent._meta.db_table,
    )
    with connections[Conversation.objects.db].cursor() as cursor:
        cursor.execute(sql, [TicketEventKind.NOTE.value, json_document(batch)])
        return cursor.rowcount
