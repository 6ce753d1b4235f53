"""Events for outbound webhooks: the one way a change is announced to integrators.

Call `emit` (or `emit_many` for a batch) INSIDE the transaction that makes the change: the event
and its deliveries are written with it (an outbox), so a rolled-back change announces nothing and
a committed one is always delivered (after commit, by Celery; see integrations.delivery).

    from integrations.events import emit

    with transaction.atomic():
        ...change the ticket...
        emit(
            tenant_id=ticket.tenant_id,
            event="ticket.updated",
            subject=lambda: ticket_object(ticket),   # the full object, as the API shows it
            changed={"status": {"from": "open", "to": "solved"}},
        )

`subject` is called only when some active subscription of the organisation wants the event (a
cached look-up), so an organisation without webhooks pays one cache read per change. Adding an
event type: add it to EVENT_TYPES with a sentence (the settings page and the API list it), emit
it where the change is made, and test it in tests/integrations/.

The body sent:
    {"type": "ticket.updated", "id": "<event id>", "timestamp": "2026-…Z",
     "organisation": {"id": "<uuid>", "slug": "acme"},
     "data": {"object": {...as GET /api/v1/tickets/<id>/...}, "changed": {"status": {...}}}}
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

EVENT_TYPES: dict[str, str] = {
    "ticket.created": "A new ticket: a buyer started a conversation.",
    "ticket.updated": "A ticket's status or assignee changed (reopened by the buyer included).",
    "ticket.sla_breached": (
        "A ticket missed a service level: TikTok Shop's reply window or the team's first "
        "response, next response or resolution target (`changed.sla_breach` says which)."
    ),
    "message.received": "A buyer's message arrived.",
    "message.sent": "A reply written in Sellerdesk (mailbox or API) reached the marketplace.",
    "message.failed": "A reply could not be sent (the reason is in the message).",
    "note.created": "An internal note was added to a ticket.",
    "order.updated": "An order was created or changed (status, shipping, cancellation…).",
    "store.needs_reauthorization": "A store lost its marketplace authorization.",
    "escalation.created": "An escalation case was opened (as a draft).",
    "escalation.updated": "A draft escalation case's fields or files were changed.",
    "escalation.status_changed": (
        "An escalation case was submitted, or its status changed (waiting on partner, resolved, "
        "rejected, reopened)."
    ),
    "escalation.note_added": "A note was added to an escalation case's history.",
}

SUBSCRIPTIONS_CACHE_SECONDS = 60


def _cache_key(tenant_id: int) -> str:
    return f"webhooks:subscriptions:{tenant_id}"


def subscriptions_for(tenant_id: int) -> list[tuple[int, list[str]]]:
    """(subscription id, event types) of the organisation's active subscriptions, cached."""
    from .models import WebhookSubscription

    key = _cache_key(tenant_id)
    found = cache.get(key)
    if found is None:
        found = [
            (pk, list(events))
            for pk, events in WebhookSubscription.objects.filter(
                tenant_id=tenant_id, is_active=True
            ).values_list("pk", "events")
        ]
        cache.set(key, found, SUBSCRIPTIONS_CACHE_SECONDS)
    return found


def subscriptions_changed(tenant_id: int) -> None:
    """Forget the cached subscriptions now and again after commit (a look-up racing the commit
    cannot keep the old list)."""
    key = _cache_key(tenant_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def wanted(tenant_id: int, event: str) -> list[int]:
    """The subscriptions that want `event` (none: nothing to write)."""
    return [pk for pk, events in subscriptions_for(tenant_id) if event in events]


def emit(
    *,
    tenant_id: int,
    event: str,
    subject: Callable[[], dict[str, Any]] | dict[str, Any],
    changed: dict[str, Any] | None = None,
) -> int:
    """Announces one change; returns how many deliveries were queued."""
    return emit_many(
        tenant_id=tenant_id,
        event=event,
        subjects=lambda: [subject() if callable(subject) else subject],
        changed=[changed or {}],
    )


def emit_many(
    *,
    tenant_id: int,
    event: str,
    subjects: Callable[[], Sequence[dict[str, Any]]],
    changed: Sequence[dict[str, Any]] | None = None,
) -> int:
    """Announces several changes of one type (a batch of ingested messages) in one statement
    per table. `changed[i]` goes with `subjects()[i]`."""
    if event not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event!r}: add it to EVENT_TYPES.")
    subscription_ids = wanted(tenant_id, event)
    if not subscription_ids:
        return 0
    if not connection.in_atomic_block:
        # Without the caller's transaction the event could be written for a change that then
        # rolls back (or lost for one that commits): the outbox promise would not hold.
        raise RuntimeError("emit() must be called inside the transaction that makes the change.")
    from .models import OutboundEvent, WebhookDelivery

    objects = list(subjects())
    changes = list(changed) if changed is not None else [{} for _ in objects]
    organisation = _organisation(tenant_id)
    now = timezone.now()
    rows = []
    for data, change in zip(objects, changes, strict=True):
        public_id = uuid.uuid4()
        rows.append(
            OutboundEvent(
                tenant_id=tenant_id,
                public_id=public_id,
                type=event,
                created_at=now,
                payload={
                    "type": event,
                    "id": str(public_id),
                    "timestamp": now.isoformat().replace("+00:00", "Z"),
                    "organisation": organisation,
                    "data": {"object": data, "changed": change or {}},
                },
            )
        )
    OutboundEvent.objects.bulk_create(rows)
    deliveries = [
        WebhookDelivery(
            tenant_id=tenant_id,
            subscription_id=subscription_id,
            event=row,
            next_attempt_at=now,
            created_at=now,
        )
        for row in rows
        for subscription_id in subscription_ids
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    transaction.on_commit(_kick)
    return len(deliveries)


def _organisation(tenant_id: int) -> dict[str, str]:
    from tenants.models import Tenant

    key = f"webhooks:organisation:{tenant_id}"
    found = cache.get(key)
    if found is None:
        public_id, slug = Tenant.objects.values_list("public_id", "slug").get(pk=tenant_id)
        found = {"id": str(public_id), "slug": slug}
        cache.set(key, found, 3600)
    return found


KICK_KEY = "webhooks:kick"


def _kick() -> None:
    """Wakes the sender after commit: one task queued at a time. The sender clears the flag
    before it looks for due deliveries, so a commit after that look queues the next one; the
    beat sweeps anyway."""
    try:
        if cache.add(KICK_KEY, 1, timeout=60):
            from .tasks import deliver_due

            deliver_due.delay()
    except Exception:
        # The deliveries are stored; the beat's sweep sends them.
        logger.exception("Could not enqueue the webhook sender")
