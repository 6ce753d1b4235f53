"""The outbox's settings, outcome and errors, backoff, and the claim: a reply taken queued ->
sending with a conditional UPDATE, and every write made under that claim (`_mine`, `_save_state`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from marketplaces.records import SenderRole

from ..models import DeliveryStatus, Message, MessageDirection

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
