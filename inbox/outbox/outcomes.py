"""Outcomes of an attempt (retry with backoff, or fail with the ticket back to the buyer), the
attempt itself (`reply_send`, the task body) and the sweeper (`replies_to_resume`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from marketplaces.channel import (
    ChannelError,
    InvalidTokenError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    StoreUnavailableError,
    UnavailableError,
)
from marketplaces.models import Store
from sla import services as sla_services

from .. import events as inbox_events
from ..models import (
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from .claims import (
    ORDER_WAIT_SECONDS,
    AttachmentMissingError,
    ClaimLostError,
    SendOutcome,
    _mine,
    _timeout,
    backoff_seconds,
    max_attempts,
    reply_claim,
)
from .sending import _deliver

logger = logging.getLogger(__package__)  # inbox.outbox, as before the package


def _retry_or_fail(
    message: Message, attempt: int, *, reason: str, retry_after: float | None = None
) -> SendOutcome:
    if attempt >= max_attempts():
        return _fail(message, attempt, reason=f"{reason} Gave up after {attempt} attempts.")
    delay = backoff_seconds(attempt, retry_after=retry_after)
    changed = _mine(message, attempt).update(
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        failure_reason=f"Retrying: {reason}"[:500],
        content=message.content,
        updated_at=timezone.now(),
    )
    if not changed:
        return SendOutcome("skipped")
    return SendOutcome("retry", retry_in=delay, reason=reason)


def _fail(message: Message, attempt: int, *, reason: str) -> SendOutcome:
    with transaction.atomic():
        ticket = sla_services.ticket_lock(message.conversation_id)
        changed = _mine(message, attempt).update(
            delivery_status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            failure_reason=reason[:500],
            content=message.content,
            updated_at=timezone.now(),
        )
        if changed:
            inbox_events.messages_event(message.tenant_id, "message.failed", [message.pk])
            _ticket_back_to_the_buyer(ticket, message, reason)
    if not changed:
        return SendOutcome("skipped")
    return SendOutcome("failed", reason=reason)


def _ticket_back_to_the_buyer(ticket: Conversation, message: Message, reason: str) -> None:
    """A reply that will not reach the buyer answered nobody: its ticket (locked) goes back to
    Open with the buyer waiting again, and its history says why.

    "Send & Solve" (or Pending) moved the ticket when the reply was queued; left there, a buyer
    whose answer never arrived would sit unseen in Solved. Nothing moves when a later reply of
    ours already reached the buyer, or when nothing the buyer wrote is waiting for one.
    """
    from ..services import _apply_status

    answered_later = Message.objects.filter(
        conversation_id=ticket.pk,
        direction=MessageDirection.OUTBOUND,
        delivery_status=DeliveryStatus.SENT,
        created_at__gt=message.created_at,
    ).exists()
    waiting_since = ticket.reply_wait_since
    if answered_later or waiting_since is None:
        return
    fields: dict[str, Any] = {}
    if ticket.status != TicketStatus.OPEN:
        previous = ticket.status
        fields = _apply_status(ticket, TicketStatus.OPEN, actor=None)
        TicketEvent.objects.create(
            tenant_id=ticket.tenant_id,
            conversation=ticket,
            kind=TicketEventKind.REOPENED,
            body=(
                f"Reopened: the reply could not be sent (was {TicketStatus(previous).label}). "
                f"{reason}"
            )[:2000],
            data={"from": previous, "to": TicketStatus.OPEN, "failed_message": message.pk},
        )
        inbox_events.ticket_updated(ticket, {"status": {"from": previous, "to": ticket.status}})
    if ticket.awaiting_reply_since is None:
        fields["awaiting_reply_since"] = waiting_since
    if fields:
        Conversation.objects.filter(pk=ticket.pk).update(**fields, updated_at=timezone.now())


def _failure_reason(error: Exception, store: Store) -> str:
    """Why a reply could not be sent, in the seller's words."""
    store_name, platform = store.name, store.get_platform_display()
    if isinstance(error, StoreUnavailableError):
        return f"{store_name} needs to be reconnected to {platform}; reconnect it, then retry."
    if isinstance(error, InvalidTokenError):
        return (
            f"{platform} no longer accepts {store_name}'s access; reconnect the store, then retry."
        )
    if isinstance(error, PermissionDeniedError):
        return (
            f"{platform} refused to send it: the shop may not message this buyer ({error.detail})."
        )
    if isinstance(error, NotFoundError):
        return f"{platform} no longer knows this conversation."
    if isinstance(error, QuotaExceededError):
        return f"{platform}'s daily messaging limit is reached; retry later."
    if isinstance(error, ChannelError):
        code = f" (code {error.code})" if error.code is not None else ""
        return f"{platform} refused the message: {error.detail}{code}."
    if isinstance(error, AttachmentMissingError):
        return "The attached image is no longer stored; send the image again."
    if isinstance(error, ValueError):
        return f"The image could not be sent: {error}"
    return f"The reply could not be sent: {error}"


def _earlier_reply_pending(message_id: int) -> datetime | None:
    """When an older reply of the same ticket is still queued or sending, the time it is due:
    replies reach the buyer in the order they were written, so this one waits for it."""
    mine = Message.objects.filter(pk=message_id).values("conversation_id", "created_at").first()
    if mine is None:
        return None
    earlier = (
        Message.objects.filter(
            conversation_id=mine["conversation_id"],
            direction=MessageDirection.OUTBOUND,
            delivery_status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENDING),
        )
        .filter(
            Q(created_at__lt=mine["created_at"])
            | Q(created_at=mine["created_at"], pk__lt=message_id)
        )
        .order_by("next_attempt_at")
        .values_list("delivery_status", "next_attempt_at")
        .first()
    )
    if earlier is None:
        return None
    status, due = earlier
    # One being sent right now is done in a moment (its next_attempt_at is only its lease).
    return timezone.now() if status == DeliveryStatus.SENDING or due is None else due


def reply_send(*, message_id: int) -> SendOutcome:
    """One attempt at sending a queued reply (the task body)."""
    waiting_for = _earlier_reply_pending(message_id)
    if waiting_for is not None:
        # Not claimed, nothing counted: it is looked at again shortly after the earlier one.
        wait = (waiting_for - timezone.now()).total_seconds() + ORDER_WAIT_SECONDS
        return SendOutcome(
            "waiting", retry_in=min(max(wait, ORDER_WAIT_SECONDS), 60.0), reason="earlier reply"
        )
    attempt = reply_claim(message_id=message_id)
    if attempt is None:
        return SendOutcome("skipped")
    message = Message.objects.select_related("store", "conversation").get(pk=message_id)
    if not isinstance(message.content, dict):
        message.content = {}
    platform = message.store.get_platform_display()
    try:
        _deliver(message, attempt)
    except ClaimLostError:
        return SendOutcome("skipped")
    except OutcomeUnknownError:
        return _retry_or_fail(
            message,
            attempt,
            reason=f"{platform} did not confirm the message in time; it is checked before "
            "any new attempt, so it is never sent twice.",
        )
    except RateLimitedError as error:
        return _retry_or_fail(
            message,
            attempt,
            reason=f"{platform} asked us to slow down.",
            retry_after=error.retry_after,
        )
    except UnavailableError:
        return _retry_or_fail(message, attempt, reason=f"{platform} is not answering.")
    except (ChannelError, AttachmentMissingError, ValueError) as error:
        logger.warning("reply %s failed: %s", message.pk, error)
        return _fail(message, attempt, reason=_failure_reason(error, message.store))
    return SendOutcome("sent")


def replies_to_resume(*, now: datetime | None = None) -> list[int]:
    """The sweeper: replies left `sending` past their lease (worker killed: back to the queue,
    where the next attempt reconciles) and queued replies whose task is overdue."""
    now = now or timezone.now()
    abandoned = list(
        Message.objects.filter(
            delivery_status=DeliveryStatus.SENDING, next_attempt_at__lt=now
        ).values_list("pk", flat=True)[:500]
    )
    # Conditional on the lease still being expired: a worker finishing meanwhile keeps its reply.
    resumed = [
        pk
        for pk in abandoned
        if Message.objects.filter(
            pk=pk, delivery_status=DeliveryStatus.SENDING, next_attempt_at__lt=now
        ).update(delivery_status=DeliveryStatus.QUEUED, next_attempt_at=now, updated_at=now)
    ]
    # Only the first reply still to go in each ticket: a later one waits for it with its own
    # task chain (reply_send answers "waiting" and the task looks again), and handing it out at
    # every sweep started one more chain each time. Its turn comes when the earlier one is sent
    # or failed; if its chain was lost meanwhile, this sweep finds it then.
    earlier_pending = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=MessageDirection.OUTBOUND,
        delivery_status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENDING),
    ).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    overdue = list(
        Message.objects.filter(
            delivery_status=DeliveryStatus.QUEUED,
            next_attempt_at__lte=now - _timeout("QUEUED_GRACE"),
        )
        .exclude(Exists(earlier_pending))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    return resumed + [pk for pk in overdue if pk not in resumed]
