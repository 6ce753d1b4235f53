"""Agent-facing writes on orders: the internal note, and fetching an order or its tracking live.

The live fetches call the platform, so they run only for a POST (`order_fetch`) or in a task
(`order_tracking_fetch`, queued by `order_tracking_refresh`); GET views read what is stored.

Sync (`orders/sync/`) keeps the database current in the background; these functions serve the
person looking at a page right now, so they ask only the stores that person may serve and turn
every marketplace failure into a sentence the page can show.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

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
from .models import Order, OrderTracking

logger = logging.getLogger(__name__)

# TikTok order ids are digits; letters, "_" and "-" are allowed for other ids, but never a comma,
# which the order detail endpoint would read as a second id.
ORDER_ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


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
    asked: bool = False  # the stores were asked live (a POST) and none had it


def _store_problem(store: Store) -> str:
    """Why a store cannot be asked, to follow its name: "needs re-authorization"."""
    if store.status == StoreStatus.NEEDS_REAUTH:
        return "needs re-authorization"
    return f"is {store.get_status_display().lower()}"


def is_order_id(value: str) -> bool:
    return bool(ORDER_ID_PATTERN.match(value))


def order_lookup(*, membership: Membership, external_id: str) -> OrderLookup:
    """The order with this exact id in the member's stores, from the database only: a GET may
    call this. When it is not synced, `order_fetch` (a POST) asks the stores."""
    external_id = external_id.strip()
    lookup = OrderLookup(external_id=external_id)
    if is_order_id(external_id):
        lookup.order = selectors.order_find(
            tenant=membership.tenant, external_id=external_id, membership=membership
        )
    return lookup


def order_fetch(
    *, membership: Membership, external_id: str, store: Store | None = None
) -> OrderLookup:
    """The order with this exact id: from the database, or else fetched from each store the
    member may serve (or only `store`) in turn and stored with the sync's own upsert.

    Calls the platform: only for a POST or a task, never inside a transaction."""
    lookup = order_lookup(membership=membership, external_id=external_id)
    external_id = lookup.external_id
    if lookup.order is not None or not is_order_id(external_id):
        return lookup
    stores = stores_visible_to(membership).exclude(status=StoreStatus.DISCONNECTED)
    if store is not None:
        stores = stores.filter(pk=store.pk)
    for store in stores:
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
    lookup.asked = True
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


# --- Tracking: stored, fetched by a task ----------------------------------------------------------


class TrackingStep(NamedTuple):
    description: str
    occurred_at: datetime | None


def has_shipped(order: Order) -> bool:
    """A tracking number on the order or a line: only then is there tracking to ask for."""
    return bool(order.tracking_number) or any(line.tracking_number for line in order.lines.all())


def tracking_steps(tracking: OrderTracking | None) -> list[TrackingStep]:
    """The stored events, newest first."""
    if tracking is None:
        return []
    return [
        TrackingStep(
            event["description"],
            datetime.fromisoformat(event["occurred_at"]) if event.get("occurred_at") else None,
        )
        for event in tracking.events
    ]


def order_tracking_refresh(*, order: Order) -> OrderTracking:
    """Queue a fetch of `order`'s tracking (the "Refresh tracking" button, POST in the API).

    A fetch already on its way is not queued twice (a double click, two agents); the task is
    dispatched after commit, and the page shows the stored events meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        tracking, _ = OrderTracking.objects.select_for_update().get_or_create(
            order=order, defaults={"tenant_id": order.tenant_id}
        )
        if tracking.pending:
            return tracking
        tracking.requested_at = now
        tracking.save(update_fields=["requested_at"])
        order_id = order.pk

        def dispatch() -> None:
            from .tasks import fetch_tracking

            try:
                fetch_tracking.delay(order_id)
            except Exception:
                logger.exception("Could not enqueue the tracking fetch of order %s", order_id)

        transaction.on_commit(dispatch)
    return tracking


def _tracking_problem(order: Order, error: ChannelError) -> str:
    """Why tracking could not be fetched, as a sentence for the agent."""
    store = order.store
    if isinstance(error, StoreUnavailableError):
        return f"Tracking can't be fetched while {store.name} {_store_problem(store)}." + (
            " Reconnect it on the Stores page." if store.status == StoreStatus.NEEDS_REAUTH else ""
        )
    if isinstance(error, InvalidTokenError):
        return (
            f"{store.get_platform_display()} refused Sellerdesk's access to {store.name}. If "
            "this keeps happening, reconnect the store on the Stores page."
        )
    return (
        f"{store.get_platform_display()} did not answer with the tracking just now. "
        "Try again in a minute."
    )


def order_tracking_fetch(*, order_id: int) -> OrderTracking | None:
    """The task body: ask the order's channel for its tracking events (outside any transaction),
    then store them, or why they could not be fetched, in one short write. Earlier events stay
    when a fetch fails: the page shows them with their age and the failure."""
    order = Order.objects.select_related("store").filter(pk=order_id).first()
    if order is None:
        return None
    started = timezone.now()
    values: dict[str, object] = {"attempted_at": started, "error": ""}
    if has_shipped(order):  # else: nothing has shipped, no call spent on the rate limit
        try:
            events = store_api(order.store).tracking(order.external_id)
        except ChannelError as error:
            if not isinstance(error, StoreUnavailableError | InvalidTokenError):
                logger.warning("Tracking fetch failed for order %s: %s", order.pk, error)
            values["error"] = _tracking_problem(order, error)[:500]
        else:
            steps = sorted(
                (TrackingStep(event.description, event.occurred_at) for event in events),
                key=lambda step: step.occurred_at or started,
                reverse=True,
            )
            values["events"] = [
                {
                    "description": step.description,
                    "occurred_at": step.occurred_at.isoformat() if step.occurred_at else None,
                }
                for step in steps
            ]
            values["fetched_at"] = started
    else:
        values["events"] = []
        values["fetched_at"] = started
    tracking, _ = OrderTracking.objects.update_or_create(
        order=order, defaults={"tenant_id": order.tenant_id, **values}
    )
    return tracking
