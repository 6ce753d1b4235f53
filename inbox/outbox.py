"""Sending agents' replies: claimed, retried with backoff, never sent twice.

A reply is stored QUEUED by `services.reply_create`; `reply_send(message_id=)` (the task body)
claims it with a conditional UPDATE (queued -> sending, attempts + 1), so two workers never send
one reply, then uploads its image (IMAGE message) and sends its text (TEXT message).

Never twice: before each platform send the reply's `content["outbox"]["in_flight"]` records what
is being sent and when. A send that certainly did not happen (a refusal, a 429, a connection that
never opened) clears it; a send whose outcome is unknown (timeout, 5xx: OutcomeUnknownError) or a
worker killed mid-call leaves it, and the next attempt first *reconciles*: it looks for a message
of ours with the same type and text (or image url) created after the attempt began — among the
rows ingest already stored (the platform's copy coming back by webhook or poll) and on the
platform after the conversation's cursor — and adopts it instead of sending again. Only a message
id no other row holds can be adopted, so two identical replies never share one platform message.

Errors: rate limits, server and transport errors and unknown outcomes are retried with jittered
exponential backoff up to INBOX_SEND_MAX_ATTEMPTS, then FAILED; refusals that a retry cannot fix
(store needs re-authorization, permission, unknown conversation, invalid content) are FAILED at
once with a reason in the seller's words. The beat sweeper (`replies_to_resume`) takes back
replies left in `sending` past their lease (worker killed) or `queued` past their time (task lost).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from marketplaces.adapter import StoreAPI, store_api
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
    capabilities_for,
)
from marketplaces.models import Store
from marketplaces.records import ImageContent, OutgoingContent, SenderRole, TextContent
from marketplaces.records import Message as MessageRecord
from sla import services as sla_services

from . import cards
from . import events as inbox_events
from .models import (
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    index_key,
)

logger = logging.getLogger(__name__)

# A claimed reply not finished within this time is taken back by the sweeper. Longer than the
# worst single send (client retries of 429 / refused connections with their backoff), so a slow
# attempt is never overtaken by a second one.
SEND_LEASE = timedelta(minutes=15)
# Queued replies whose task should have run this long ago are dispatched again by the sweeper.
QUEUED_GRACE = timedelta(seconds=30)


def _timeout(name: str) -> timedelta:
    """A recovery timeout: the module's value unless settings name it in seconds (the fault
    suite shortens them, so that what a killed worker left is recovered within its run)."""
    seconds = getattr(settings, f"INBOX_{name}_SECONDS", None)
    return timedelta(seconds=seconds) if seconds is not None else globals()[name]


# Platform create times are whole seconds and clocks differ a little.
CLOCK_SKEW = timedelta(seconds=2)
SELLER_ROLES = (SenderRole.SHOP, SenderRole.CUSTOMER_SERVICE)
# A reply written after another one still in the queue waits this long past its time.
ORDER_WAIT_SECONDS = 2.0


class AttachmentMissingError(Exception):
    pass


class ClaimLostError(Exception):
    """The sweeper took the reply back (lease expired); this worker stops touching it."""


@dataclass(frozen=True, slots=True)
class SendOutcome:
    status: str  # "sent", "retry", "failed", "skipped", "waiting" (for an earlier reply)
    retry_in: float | None = None
    reason: str = ""


def max_attempts() -> int:
    return int(settings.INBOX_SEND_MAX_ATTEMPTS)


def backoff_seconds(
    attempt: int, *, retry_after: float | None = None, jitter: Callable[[], float] = random.random
) -> float:
    """Delay before attempt `attempt + 1`: base * 2**(attempt-1), capped, the upper half jittered
    so that replies failing together do not come back together; at least `retry_after`."""
    base = float(settings.INBOX_SEND_BACKOFF_BASE_SECONDS)
    cap = float(settings.INBOX_SEND_BACKOFF_CAP_SECONDS)
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    delay = ceiling / 2 + jitter() * ceiling / 2
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


# --- Claiming and writing under the claim -----------------------------------------------------


def reply_claim(*, message_id: int, now: datetime | None = None) -> int | None:
    """queued -> sending when due; returns the attempt number, or None when another worker has
    it, it is not due yet, or it is already sent or failed."""
    now = now or timezone.now()
    claimed = (
        Message.objects.filter(
            pk=message_id,
            direction=MessageDirection.OUTBOUND,
            delivery_status=DeliveryStatus.QUEUED,
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            delivery_status=DeliveryStatus.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + _timeout("SEND_LEASE"),
            updated_at=now,
        )
    )
    if not claimed:
        return None
    return Message.objects.values_list("attempts", flat=True).get(pk=message_id)


def _mine(message: Message, attempt: int) -> Any:
    return Message.objects.filter(
        pk=message.pk, delivery_status=DeliveryStatus.SENDING, attempts=attempt
    )


def _save_state(message: Message, attempt: int) -> None:
    if not _mine(message, attempt).update(content=message.content):
        raise ClaimLostError


# --- Reconciling ------------------------------------------------------------------------------


def _matches(record: MessageRecord, content: OutgoingContent) -> bool:
    if record.type != content.type or record.sender.role not in SELLER_ROLES:
        return False
    if isinstance(content, TextContent):
        return (record.text or "") == content.text
    if isinstance(content, ImageContent):
        return record.image is not None and record.image.url == content.url
    if cards.is_card(str(content.type)):
        ids = cards.card_ids(content)
        return {key: str(record.content.get(key) or "") for key in ids} == ids
    return False


def _ingested_twin(message: Message, content: OutgoingContent, since: datetime) -> Message | None:
    """The platform's copy of our message stored by ingest (webhook or poll) as its own row."""
    twins = Message.objects.filter(
        store_id=message.store_id,
        conversation_id=message.conversation_id,
        direction=MessageDirection.OUTBOUND,
        sender_role__in=SELLER_ROLES,
        delivery_status="",
        external_id__isnull=False,
        type=str(content.type),
        sent_at__gte=since,
    ).exclude(pk=message.pk)
    if isinstance(content, TextContent):
        twins = twins.filter(text=content.text)
    elif isinstance(content, ImageContent):
        twins = twins.filter(content__url=content.url)
    elif cards.is_card(str(content.type)):
        for key, value in cards.card_ids(content).items():
            twins = twins.filter(**{f"content__{key}": value})
    return twins.order_by("index_key", "pk").first()


def _found(
    *, external_id: str, index: str | None, created_at: datetime | None, role: str
) -> dict[str, Any]:
    return {"id": external_id, "index": index, "created_at": created_at, "role": role}


def reconcile(
    api: StoreAPI, message: Message, content: OutgoingContent, *, started_at: datetime
) -> dict[str, Any] | None:
    """Our message, if the channel has it, sent at or after `started_at` (minus clock skew)."""
    since = started_at - CLOCK_SKEW
    twin = _ingested_twin(message, content, since)
    if twin is not None and twin.external_id:
        return _found(
            external_id=twin.external_id,
            index=twin.index_key,
            created_at=twin.sent_at,
            role=twin.sender_role,
        )
    conversation = Conversation.objects.only("external_id", "message_cursor").get(
        pk=message.conversation_id
    )
    # The cursor is stored zero-padded (models.index_key); the platform index has no padding,
    # and the client compares indexes by length first.
    after = conversation.message_cursor.lstrip("0") or None
    records = api.messages(conversation.external_id, after_index=after)
    candidates = [
        record
        for record in records
        if _matches(record, content)
        and record.external_id
        and (record.created_at is None or record.created_at >= since)
    ]
    if not candidates:
        return None
    taken = set(
        Message.objects.filter(
            store_id=message.store_id,
            external_id__in=[record.external_id for record in candidates],
        )
        .exclude(pk=message.pk)
        .values_list("external_id", flat=True)
    )
    for record in candidates:
        if record.external_id not in taken:
            return _found(
                external_id=record.external_id,
                index=index_key(record.index) if record.index else None,
                created_at=record.created_at,
                role=record.sender.role,
            )
    return None


# --- Sending ----------------------------------------------------------------------------------


def _send_once(
    api: StoreAPI, message: Message, attempt: int, content: OutgoingContent
) -> dict[str, Any]:
    """Sends `content` unless an earlier attempt already did (reconcile first)."""
    state = message.content.setdefault("outbox", {})
    in_flight = state.get("in_flight")
    if in_flight and in_flight.get("type") == str(content.type):
        started = datetime.fromisoformat(in_flight["started_at"])
        found = reconcile(api, message, content, started_at=started)
        if found is not None:
            logger.info(
                "reply %s: found on the channel as %s after an unconfirmed send; not sent again",
                message.pk,
                found["id"],
            )
            # The trace stays until the reply is marked sent with it (see _mark_sent).
            return found
    state["in_flight"] = {"type": str(content.type), "started_at": timezone.now().isoformat()}
    _save_state(message, attempt)  # written before the call: a killed worker leaves the trace
    try:
        external_id = api.send_message(message.conversation.external_id, content=content)
    except OutcomeUnknownError:
        raise  # in_flight stays: the next attempt reconciles
    except ChannelError:
        state["in_flight"] = None  # a refusal: certainly not sent
        _save_state(message, attempt)
        raise
    if not external_id:
        raise OutcomeUnknownError("the channel accepted the message without its id")
    state["in_flight"] = None
    return _found(external_id=external_id, index=None, created_at=None, role="")


def _image_content(api: StoreAPI, message: Message, attempt: int) -> ImageContent:
    image = message.content.setdefault("image", {})
    if not image.get("url"):
        if not message.attachment or not message.attachment.storage.exists(message.attachment.name):
            raise AttachmentMissingError
        with message.attachment.open("rb") as handle:
            data = handle.read()
        uploaded = api.upload_image(image=data, filename=message.attachment.name.rsplit("/", 1)[-1])
        image.update(
            url=uploaded.url,
            width=uploaded.width or image.get("width") or 1,
            height=uploaded.height or image.get("height") or 1,
        )
        _save_state(message, attempt)
    return ImageContent(url=image["url"], width=int(image["width"]), height=int(image["height"]))


def _holder_is_a_reply(message: Message, external_id: str) -> bool:
    return (
        Message.objects.filter(store_id=message.store_id, external_id=external_id)
        .exclude(pk=message.pk)
        .filter(Q(author__isnull=False) | ~Q(delivery_status=""))
        .exists()
    )


def _mark_sent(message: Message, attempt: int, found: dict[str, Any], other_ids: list[str]) -> None:
    ours = [found["id"], *other_ids]
    state = message.content.setdefault("outbox", {})
    was_in_flight = state.get("in_flight")
    state["in_flight"] = None
    updates: dict[str, Any] = {
        "delivery_status": DeliveryStatus.SENT,
        "external_id": found["id"],
        "next_attempt_at": None,
        "failure_reason": "",
        "content": message.content,
        "sent_at": found["created_at"] or timezone.now(),
        "updated_at": timezone.now(),
    }
    if found["index"]:
        updates["index_key"] = found["index"]
    else:
        # A channel whose sent messages never come back (e-mail) places the reply by its time.
        sent_index = capabilities_for(message.store.platform).sent_index
        if sent_index is not None:
            updates["index_key"] = index_key(sent_index(updates["sent_at"]))
    if found["role"]:
        updates["sender_role"] = found["role"]
    for _ in range(3):
        try:
            with transaction.atomic():
                # The ticket first, as ingest locks it: its clocks stop in this transaction.
                ticket = sla_services.ticket_lock(message.conversation_id)
                # Ingest may have stored the platform's copy of our message first (webhook or poll
                # faster than this write): ours replaces it and takes its place in the thread.
                # Otherwise ingest gives ours its index when the copy comes back (same id).
                copies = Message.objects.filter(
                    store_id=message.store_id,
                    external_id__in=ours,
                    author__isnull=True,
                    delivery_status="",
                ).exclude(pk=message.pk)
                for copy in copies:
                    if copy.external_id == found["id"] and copy.index_key:
                        updates.update(
                            index_key=copy.index_key,
                            sent_at=copy.sent_at,
                            sender_role=copy.sender_role,
                        )
                copies.delete()
                changed = _mine(message, attempt).update(**updates)
                if changed:  # it reached the buyer: TikTok's clock and the team's stop
                    sla_services.ticket_reply_reached(
                        conversation=ticket,
                        reply_created_at=message.created_at,
                        reached_at=updates["sent_at"],
                    )
                    inbox_events.messages_event(message.tenant_id, "message.sent", [message.pk])
        except IntegrityError:
            if not _holder_is_a_reply(message, found["id"]):
                continue  # a copy ingested between our delete and our update: once more
            # Another reply holds that id (two identical replies reconciled at once): the message
            # found was not ours. The trace stays, so the next attempt checks again (that id now
            # excluded) and sends only if nothing else is found.
            for key in ("text_message_id", "image_message_id", "card_message_id"):
                if state.get(key) == found["id"]:
                    state[key] = None
            state["in_flight"] = was_in_flight
            raise OutcomeUnknownError("the message found belongs to another reply") from None
        if not changed:
            raise ClaimLostError
        for name, value in updates.items():
            setattr(message, name, value)
        return
    raise OutcomeUnknownError("the platform's copy kept coming back")


def _deliver_card(api: StoreAPI, message: Message, attempt: int) -> None:
    """A card (inbox.cards): one platform message, sent once like a reply's text."""
    state = message.content.setdefault("outbox", {})
    if not state.get("card_message_id"):
        found = _send_once(api, message, attempt, cards.outgoing_content(message))
        state["card_message_id"] = found["id"]
        _save_state(message, attempt)
    else:
        found = _found(external_id=state["card_message_id"], index=None, created_at=None, role="")
    _mark_sent(message, attempt, found, [])


def _deliver(message: Message, attempt: int) -> None:
    api = store_api(message.store)
    if cards.is_card(message.type):
        _deliver_card(api, message, attempt)
        return
    state = message.content.setdefault("outbox", {})
    sent_ids: list[str] = []
    last: dict[str, Any] | None = None
    if message.attachment and not state.get("image_message_id"):
        found = _send_once(api, message, attempt, _image_content(api, message, attempt))
        state["image_message_id"] = found["id"]
        _save_state(message, attempt)
        last = found
    if state.get("image_message_id"):
        sent_ids.append(state["image_message_id"])
    if message.text and not state.get("text_message_id"):
        found = _send_once(api, message, attempt, TextContent(message.text))
        state["text_message_id"] = found["id"]
        _save_state(message, attempt)
        last = found
    if last is None:  # everything was sent on an earlier attempt that died before marking it
        last_id = state.get("text_message_id") or state.get("image_message_id")
        last = _found(external_id=last_id, index=None, created_at=None, role="")
    _mark_sent(message, attempt, last, [i for i in sent_ids if i != last["id"]])


# --- Outcomes ---------------------------------------------------------------------------------


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
    from .services import _apply_status

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
