"""Mailbox background work. Task names are stable: queued messages outlive deploys.

Arguments are ids; bodies call `inbox.polling` and `inbox.ingest`.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from marketplaces import records
from marketplaces.adapter import store_api
from marketplaces.channel import (
    NotFoundError,
    RateLimitedError,
    StoreUnavailableError,
    UnavailableError,
)

from . import polling
from .ingest import conversation_orders_link_live
from .models import Conversation

logger = logging.getLogger(__name__)


@shared_task(name="inbox.poll_stores", ignore_result=True)
def poll_stores() -> int:
    """Beat (every INBOX_POLL_INTERVAL_SECONDS): one poll task per active store."""
    store_ids = polling.stores_to_poll()
    for store_id in store_ids:
        poll_store.delay(store_id)
    return len(store_ids)


@shared_task(name="inbox.poll_store", ignore_result=True)
def poll_store(store_id: int) -> str:
    """Polls one store under its lease; errors end the poll quietly (the next one retries)."""
    return polling.store_poll(store_id=store_id).outcome


@shared_task(
    bind=True,
    name="inbox.link_orders_live",
    ignore_result=True,
    autoretry_for=(RateLimitedError, UnavailableError),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=5,
)
def link_orders_live(self: Any, conversation_id: int, order_ids: list[str]) -> list[str]:
    """Order ids a buyer named (card or text) that were not synced: fetched from the store, one
    at a time (the platform refuses a whole batch when one id is another shop's), stored and
    linked. A number that is not an order of this store links nothing."""
    return _orders_link_live(conversation_id, order_ids)


@shared_task(name="inbox.link_orders_live_many", ignore_result=True)
def link_orders_live_many(checks: list[tuple[int, list[str]]]) -> int:
    """The order checks of one ingest, [(ticket id, order ids), ...]: one task for a burst of
    tickets. A ticket whose check meets a transient error goes on to its own retrying task."""
    linked = 0
    for conversation_id, order_ids in checks:
        try:
            linked += len(_orders_link_live(conversation_id, order_ids))
        except (RateLimitedError, UnavailableError):
            link_orders_live.apply_async((conversation_id, order_ids), countdown=10)
    return linked


def _orders_link_live(conversation_id: int, order_ids: list[str]) -> list[str]:
    conversation = Conversation.objects.select_related("store").filter(pk=conversation_id).first()
    if conversation is None:
        return []
    api = store_api(conversation.store)
    fetched: list[records.Order] = []
    for order_id in order_ids:
        try:
            fetched += api.orders_by_id([order_id])
        except NotFoundError:
            pass  # another shop's order: not one of this store's
        except StoreUnavailableError:
            return []
    return conversation_orders_link_live(
        conversation=conversation, order_ids=order_ids, fetched=fetched
    )


# --- Replies and read marking (inbox.outbox, inbox.services) ------------------------------------


@shared_task(name="inbox.send_reply", ignore_result=True)
def send_reply(message_id: int) -> str:
    """One attempt at sending a queued reply; a retry is scheduled at its backoff (the reply's
    next_attempt_at), and the beat sweeper picks it up if this schedule is lost."""
    from . import outbox

    outcome = outbox.reply_send(message_id=message_id)
    if outcome.status in ("retry", "waiting") and outcome.retry_in is not None:
        send_reply.apply_async((message_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="inbox.mark_conversation_read", ignore_result=True)
def mark_conversation_read(conversation_id: int) -> bool:
    """Tells the channel an agent read the ticket; failures are logged, never raised."""
    from . import services

    return services.conversation_mark_read(conversation_id=conversation_id)


@shared_task(name="inbox.resume_replies", ignore_result=True)
def resume_replies() -> int:
    """Beat: replies left in `sending` past their lease or `queued` past their time go again."""
    from . import outbox

    message_ids = outbox.replies_to_resume()
    for message_id in message_ids:
        send_reply.delay(message_id)
    return len(message_ids)
