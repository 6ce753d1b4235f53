"""Agent-facing writes on orders: the internal note, and fetching an order or its tracking live.

Sync (`orders/sync.py`) keeps the database current in the background; these functions serve the
person looking at a page right now, so they ask only the stores that person may serve and turn
every marketplace failure into a sentence the page can show.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from marketplaces.adapter import store_api
from marketplaces.channel import (
    ChannelError,
    InvalidTokenError,
    NotFoundError,
    PermissionDeniedError,
    StoreUnavailableError,
)
from marketplaces.models import Store, StoreStatus
from marketplaces.selectors import stores_visible_to
from tenants.models import AuditEvent, Membership

from . import selectors
from .ingest import cancellations_upsert, orders_upsert, returns_upsert
from .models import Order

logger = logging.getLogger(__name__)

# TikTok order ids are digits; letters, "_" and "-" are allowed for other ids, but never a comma,
# which the order detail endpoint would read as a second id.
ORDER_ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
TRACKING_CACHE_SECONDS = 300


class TrackingUnavailableError(Exception):
    """Tracking could not be fetched; the message is shown to the agent as it is."""


# --- The internal note ---------------------------------------------------------------------------


class NoteConflictError(Exception):
    """Someone saved the note after this person opened it; their text is not overwritten."""

    def __init__(self, order: Order) -> None:
        super().__init__("The internal note was changed meanwhile.")
        self.order = order


def note_version(order: Order) -> str:
    """What the note form carries to notice a concurrent edit: when the note was last saved."""
    edited_at = order.internal_note_updated_at
    return edited_at.isoformat() if edited_at else ""


@transaction.atomic
def order_internal_note_update(
    *, order: Order, note: str, by: Membership, seen_version: str | None = None
) -> bool:
    """Save the agents' note on `order`; False (and nothing written) when the text is unchanged.

    With `seen_version` (from `note_version` when the form was shown), a note saved by someone
    else since then raises NoteConflictError instead of being overwritten.
    """
    note = note.strip()
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("internal_note_updated_by")
        .get(pk=order.pk, tenant_id=by.tenant_id)
    )
    if locked.internal_note == note:
        return False
    if seen_version is not None and seen_version != note_version(locked):
        raise NoteConflictError(locked)
    previous = locked.internal_note
    now = timezone.now()
    Order.objects.filter(pk=locked.pk).update(
        internal_note=note, internal_note_updated_at=now, internal_note_updated_by=by.user
    )
    AuditEvent.objects.create(
        tenant_id=by.tenant_id,
        actor=by.user,
        action="order.note_updated",
        detail={
            "order": locked.external_id,
            "order_public_id": str(locked.public_id),
            "store": str(order.store.public_id),
            "before": previous,
            "after": note,
        },
    )
    order.internal_note = note
    order.internal_note_updated_at = now
    order.internal_note_updated_by = by.user
    return True


# --- Finding an order by id, live when it is not synced yet --------------------------------------


@dataclass
class OrderLookup:
    """What a search by exact order id found, and which stores could not be asked."""

    external_id: str
    order: Order | None = None
    fetched_live: bool = False
    # Stores that might hold the order but could not answer: (store, why), shown with "not found".
    unreachable: list[tuple[Store, str]] = field(default_factory=list)


def _store_problem(store: Store) -> str:
    """Why a store cannot be asked, to follow its name: "needs re-authorization"."""
    if store.status == StoreStatus.NEEDS_REAUTH:
        return "needs re-authorization"
    return f"is {store.get_status_display().lower()}"


def is_order_id(value: str) -> bool:
    return bool(ORDER_ID_PATTERN.match(value))


def order_lookup(*, membership: Membership, external_id: str) -> OrderLookup:
    """The order with this exact id in the member's stores: from the database, or else fetched
    from each store they may serve in turn and stored with the sync's own upsert."""
    external_id = external_id.strip()
    lookup = OrderLookup(external_id=external_id)
    if not is_order_id(external_id):
        return lookup
    lookup.order = selectors.order_find(
        tenant=membership.tenant, external_id=external_id, membership=membership
    )
    if lookup.order is not None:
        return lookup
    for store in stores_visible_to(membership).exclude(status=StoreStatus.DISCONNECTED):
        if store.status != StoreStatus.ACTIVE:
            lookup.unreachable.append((store, f"it {_store_problem(store)}"))
            continue
        try:
            found = store_api(store).orders_by_id([external_id])
        except NotFoundError:
            continue  # another shop's order: simply not in this store
        except PermissionDeniedError as exc:
            logger.warning("Order lookup refused by store %s: %s", store.pk, exc)
            lookup.unreachable.append(
                (store, f"{store.get_platform_display()} refused the request")
            )
            continue
        except StoreUnavailableError:
            lookup.unreachable.append((store, f"it {_store_problem(store)}"))
            continue
        except InvalidTokenError:
            # The adapter counted it; enough of these pause the store for re-authorization.
            lookup.unreachable.append(
                (store, f"{store.get_platform_display()} refused the store's access")
            )
            continue
        except ChannelError as exc:
            logger.warning("Order lookup failed for store %s: %s", store.pk, exc)
            lookup.unreachable.append((store, f"{store.get_platform_display()} did not answer"))
            continue
        found = [order for order in found if order.external_id == external_id]
        if not found:
            continue
        orders_upsert(store=store, orders=found)
        _after_sales_fetch(store=store, external_id=external_id)
        lookup.order = Order.objects.select_related("store").get(
            store=store, external_id=external_id
        )
        lookup.fetched_live = True
        lookup.unreachable = []
        return lookup
    return lookup


def _after_sales_fetch(*, store: Store, external_id: str) -> None:
    """The returns and cancellations of an order just fetched live, so its page is complete.
    Best effort: the order is what was asked for, and the next sync brings these anyway."""
    api = store_api(store)
    try:
        for page in api.return_pages(order_ids=[external_id]):
            returns_upsert(store=store, returns=page.items)
        for page in api.cancellation_pages(order_ids=[external_id]):
            cancellations_upsert(store=store, cancellations=page.items)
    except ChannelError as exc:
        logger.warning("After-sales fetch failed for store %s: %s", store.pk, exc)


# --- Live tracking, cached briefly ----------------------------------------------------------------


class TrackingStep(NamedTuple):
    description: str
    occurred_at: datetime | None


def _tracking_cache_key(order: Order) -> str:
    # The platform's update time is part of the key: a synced change fetches fresh events.
    return f"orders:tracking:{order.tenant_id}:{order.pk}:{order.updated_at.timestamp():.0f}"


def order_tracking(*, order: Order) -> list[TrackingStep]:
    """Tracking events of `order`, newest first, from its channel (cached for a few minutes).

    Raises TrackingUnavailableError with a sentence for the agent; failures are not cached, so
    the next view tries again.
    """
    if not order.tracking_number and not any(line.tracking_number for line in order.lines.all()):
        return []  # nothing has shipped: no call spent on the store's rate limit
    key = _tracking_cache_key(order)
    cached = cache.get(key)
    if cached is not None:
        return [TrackingStep(*step) for step in cached]
    try:
        events = store_api(order.store).tracking(order.external_id)
    except StoreUnavailableError as exc:
        raise TrackingUnavailableError(
            f"Tracking can't be fetched while {order.store.name} {_store_problem(order.store)}."
            + (
                " Reconnect it on the Stores page."
                if order.store.status == StoreStatus.NEEDS_REAUTH
                else ""
            )
        ) from exc
    except InvalidTokenError as exc:
        raise TrackingUnavailableError(
            f"{order.store.get_platform_display()} refused Sellerdesk's access to "
            f"{order.store.name}. If this keeps "
            "happening, reconnect the store on the Stores page."
        ) from exc
    except ChannelError as exc:
        logger.warning("Tracking fetch failed for order %s: %s", order.pk, exc)
        raise TrackingUnavailableError(
            f"{order.store.get_platform_display()} did not answer with the tracking just now. "
            "Try again in a minute."
        ) from exc
    steps = sorted(
        (TrackingStep(event.description, event.occurred_at) for event in events),
        key=lambda step: step.occurred_at or timezone.now(),
        reverse=True,
    )
    seconds = getattr(settings, "ORDER_TRACKING_CACHE_SECONDS", TRACKING_CACHE_SECONDS)
    cache.set(key, [tuple(step) for step in steps], seconds)
    return steps
