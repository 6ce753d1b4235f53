"""The per-store poll: the backstop that finds what webhooks did not bring (they are not reliable,
contract §8.1), and the way a conversation named by a webhook is read.

A store is polled under a lease (StoreInboxState.poll_lease_until, claimed with a conditional
UPDATE) so two workers never poll one store at once; a worker that dies leaves a lease that
simply expires. The conversations list comes newest activity first: a conversation is asked for
messages only when its latest message is newer than the ticket's cursor, and then only for the
messages after the cursor; paging stops at the first page with nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from marketplaces import records
from marketplaces.adapter import StoreAPI, store_api
from marketplaces.channel import (
    ChannelError,
    StoreUnavailableError,
    platforms_listing_conversations,
)
from marketplaces.models import Store, StoreStatus

from .ingest import Delivery, messages_ingest, messages_ingest_many
from .models import Conversation, StoreInboxState, index_key

logger = logging.getLogger(__name__)

# Longer than any poll takes; a lease left by a dead worker frees the store after this.
POLL_LEASE = timedelta(minutes=5)
# Pages of 20 conversations read per poll at most (the first poll of a busy store stops here;
# older conversations are read when they next have activity).
MAX_POLL_PAGES = 25
# Pages searched for one conversation named by a webhook (it has just had activity, so it is on
# the first page unless many others moved in the meantime).
MAX_LOOKUP_PAGES = 5


class PollOutcome:
    POLLED = "polled"
    BUSY = "busy"  # another worker holds the lease
    SKIPPED = "skipped"  # the store is not active
    FAILED = "failed"  # the platform refused or did not answer; the next poll tries again


@dataclass
class PollResult:
    outcome: str
    conversations_seen: int = 0
    conversations_read: int = 0
    new_messages: int = 0
    error: str = ""


# --- The lease ----------------------------------------------------------------------------------


def poll_lease_claim(
    *, store: Store, now: datetime | None = None, duration: timedelta = POLL_LEASE
) -> datetime | None:
    """The lease's end when this worker got it; None when another worker holds it."""
    now = now or timezone.now()
    StoreInboxState.objects.get_or_create(store=store)
    until = now + duration
    claimed = (
        StoreInboxState.objects.filter(store=store)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lte=now))
        .update(poll_lease_until=until)
    )
    return until if claimed else None


def poll_lease_release(*, store: Store, until: datetime, error: str = "") -> None:
    """Records the poll and frees the store, unless the lease expired and someone else has it."""
    StoreInboxState.objects.filter(store=store).update(
        last_polled_at=timezone.now(), last_poll_error=error[:2000]
    )
    StoreInboxState.objects.filter(store=store, poll_lease_until=until).update(
        poll_lease_until=None
    )


# --- Reading conversations ----------------------------------------------------------------------


def _platform_index(cursor: str) -> str | None:
    """The platform's form of a stored cursor ("000…7494" -> "7494"), None when empty."""
    return str(int(cursor)) if cursor else None


def _latest_key(record: records.Conversation) -> str | None:
    latest = record.latest_message
    if latest is None or not latest.index:
        return None
    try:
        return index_key(latest.index)
    except ValueError:
        return None


def conversation_read(
    *,
    api: StoreAPI,
    store: Store,
    record: records.Conversation | None,
    external_id: str = "",
    cursor: str | None = None,
) -> tuple[Conversation, int]:
    """Stores every message after the ticket's cursor and upserts the ticket with them, in one
    transaction after the platform answered; (ticket, new messages).

    `cursor` is the ticket's cursor when the caller has it (None: read it here). If another
    worker moved it meanwhile, the older one only brings messages that are ignored.
    """
    external_id = record.external_id if record is not None else external_id
    if cursor is None:
        cursor = (
            Conversation.objects.filter(store=store, external_id=external_id)
            .values_list("message_cursor", flat=True)
            .first()
        ) or ""
    messages = api.messages(external_id, after_index=_platform_index(cursor))
    result = messages_ingest(
        store=store,
        conversation_id=external_id,
        messages=messages,
        complete_after=cursor,
        record=record,
    )
    return result.conversation, len(result.new_messages)


def conversation_find(
    api: StoreAPI, conversation_id: str, *, max_pages: int = MAX_LOOKUP_PAGES
) -> records.Conversation | None:
    """The conversation record (with its buyer) from the newest pages of the list."""
    for number, page in enumerate(api.conversation_pages(), start=1):
        for record in page.items:
            if record.external_id == conversation_id:
                return record
        if number >= max_pages:
            break
    return None


def conversation_refresh(*, store: Store, conversation_id: str) -> tuple[Conversation, int]:
    """A conversation a webhook named: its buyer from the list, its new messages from the cursor."""
    api = store_api(store)
    record = conversation_find(api, conversation_id)
    return conversation_read(api=api, store=store, record=record, external_id=conversation_id)


# --- The poll -----------------------------------------------------------------------------------


def stores_to_poll() -> list[int]:
    return list(
        Store.objects.filter(
            status=StoreStatus.ACTIVE, platform__in=platforms_listing_conversations()
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _poll_pages(store: Store, result: PollResult) -> None:
    """Reads the list newest first; each page's new messages are stored in one transaction."""
    api = store_api(store)
    for number, page in enumerate(api.conversation_pages(), start=1):
        tickets = {
            ticket.external_id: ticket
            for ticket in Conversation.objects.filter(
                store=store, external_id__in=[record.external_id for record in page.items]
            ).only("external_id", "message_cursor", "customer_id")
        }
        deliveries: list[Delivery] = []
        anything_new = False
        try:
            for record in page.items:
                result.conversations_seen += 1
                ticket = tickets.get(record.external_id)
                latest = _latest_key(record)
                if ticket is not None and (latest is None or latest <= ticket.message_cursor):
                    if ticket.customer_id is None:  # the buyer, now known
                        deliveries.append(Delivery(record.external_id, [], None, record))
                    continue
                anything_new = True
                cursor = ticket.message_cursor if ticket is not None else ""
                messages = api.messages(record.external_id, after_index=_platform_index(cursor))
                deliveries.append(Delivery(record.external_id, messages, cursor, record))
                result.conversations_read += 1
        finally:
            # What was read before an error is stored all the same; the rest comes next time.
            stored = messages_ingest_many(store=store, deliveries=deliveries)
            result.new_messages += sum(len(each.new_messages) for each in stored.values())
        if not anything_new or number >= MAX_POLL_PAGES:
            return


def store_poll(*, store_id: int) -> PollResult:
    """Polls one store if it is active and no other worker is polling it."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None or store.status != StoreStatus.ACTIVE:
        return PollResult(PollOutcome.SKIPPED)
    until = poll_lease_claim(store=store)
    if until is None:
        return PollResult(PollOutcome.BUSY)
    result = PollResult(PollOutcome.POLLED)
    try:
        _poll_pages(store, result)
    except StoreUnavailableError:
        result.outcome = PollOutcome.SKIPPED
    except ChannelError as exc:
        # Rate limits, server errors, refused tokens (counted by the adapter): what was stored
        # stays stored, the cursor of an unfinished conversation did not move, the next poll
        # carries on from there.
        result.outcome = PollOutcome.FAILED
        result.error = f"{type(exc).__name__}: {exc}"
        logger.warning("Inbox poll of store %s stopped: %s", store.pk, result.error)
    finally:
        poll_lease_release(store=store, until=until, error=result.error)
    return result
