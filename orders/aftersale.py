"""Seller decisions on returns and cancellations: who may take them, what the marketplace offers,
the confirmation step, and the decision itself, taken once.

The flow, the same from a ticket and from the order page:
1. `after_sale_review` (the agent pressed a decision): the record is read again from the
   marketplace, so a request that has moved on is seen before anything is sent; a rejection gets
   the marketplace's own list of reasons. Nothing is written but the refreshed record.
2. `after_sale_decide` (the agent confirmed): an `AfterSaleAction` row is written first, under
   the form's token (a double click finds it and calls nothing) and under "one decision at a time
   per request"; then the marketplace is called with the row's idempotency key (a retry after an
   unconfirmed answer re-sends the same key: never applied twice); then the record is read back
   and stored as the marketplace says it is, and the outcome goes into the ticket history
   (observers, registered by the mailbox) and the audit log.

Only owners and admins, and agents an admin allowed for the store (`AfterSaleGrant`), may decide;
everyone must serve the store. The marketplace is never called inside a transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplaces import records
from marketplaces.adapter import (
    StoreUnavailableError,
    cancellation_decisions,
    return_decisions,
    store_api,
)
from marketplaces.channel import (
    ChannelError,
    InvalidTokenError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from marketplaces.models import Store
from marketplaces.selectors import allowed_store_ids
from tenants.models import AuditEvent, Membership, Role
from tenants.principals import KeyMember, actor_name, actor_trace, is_key

from .ingest import cancellations_upsert, orders_upsert, returns_upsert
from .models import (
    AfterSaleAction,
    AfterSaleActionStatus,
    AfterSaleGrant,
    AfterSaleKind,
    Cancellation,
    Return,
)
from .views import money

logger = logging.getLogger(__name__)

COMMENT_MAX_CHARS = 500

AfterSaleRecord = Return | Cancellation


class AfterSaleError(Exception):
    """A decision that cannot be taken or was refused; the message is for the agent."""


class AfterSalePermissionError(AfterSaleError):
    """The person may not act on this store's returns and cancellations."""


# --- Who may act ----------------------------------------------------------------------------------


def may_act(membership: Membership | KeyMember, store: Store) -> bool:
    """Owners and admins may; an agent may for the stores an admin allowed (and that they serve).

    An API key (created by an admin, its write scope checked by the API) may for every store it
    serves: a key limited to some stores acts on those only.
    """
    if membership.tenant_id != store.tenant_id:
        return False
    if membership.has_role(Role.ADMIN):
        return True
    allowed = allowed_store_ids(membership)
    if allowed is not None and not allowed.filter(store_id=store.pk).exists():
        return False
    if is_key(membership):
        return True
    return AfterSaleGrant.objects.filter(
        tenant_id=store.tenant_id, membership=membership, store=store
    ).exists()


def after_sale_grants_set(
    *, actor: Membership, membership: Membership, stores: list[Store]
) -> None:
    """An admin chooses the stores whose returns an agent may act on (the others are revoked)."""
    if not actor.has_role(Role.ADMIN) or actor.tenant_id != membership.tenant_id:
        raise AfterSalePermissionError("Only owners and admins choose who may act on returns.")
    wanted = {store.pk for store in stores if store.tenant_id == actor.tenant_id}
    with transaction.atomic():
        current = set(
            AfterSaleGrant.objects.filter(
                tenant_id=actor.tenant_id, membership=membership
            ).values_list("store_id", flat=True)
        )
        AfterSaleGrant.objects.filter(
            tenant_id=actor.tenant_id, membership=membership, store_id__in=current - wanted
        ).delete()
        AfterSaleGrant.objects.bulk_create(
            [
                AfterSaleGrant(
                    tenant_id=actor.tenant_id,
                    membership=membership,
                    store_id=store_id,
                    granted_by=actor.user,
                )
                for store_id in wanted - current
            ]
        )
        if wanted != current:
            AuditEvent.objects.create(
                tenant_id=actor.tenant_id,
                actor=actor.user,
                action="returns.access_set",
                detail={
                    "member": str(membership.public_id),
                    "stores": sorted(
                        str(store.public_id) for store in stores if store.pk in wanted
                    ),
                },
            )


# --- What the marketplace offers ------------------------------------------------------------------


def kind_of(record: AfterSaleRecord) -> str:
    return AfterSaleKind.RETURN if isinstance(record, Return) else AfterSaleKind.CANCELLATION


def _next_actions(record: AfterSaleRecord) -> list[str]:
    actions = record.raw.get("seller_next_action_response") if isinstance(record.raw, dict) else []
    found = [str(item.get("action")) for item in actions or [] if isinstance(item, dict)]
    return found or ([record.seller_next_action] if record.seller_next_action else [])


def decisions_of(record: AfterSaleRecord) -> list[records.SellerDecision]:
    """The decisions the marketplace offers on this record now (empty: none is due)."""
    if isinstance(record, Return):
        return return_decisions(
            status=record.status,
            return_type=record.return_type,
            next_actions=_next_actions(record),
            can_buyer_keep_item=record.can_buyer_keep_item,
        )
    return cancellation_decisions(
        status=record.status, cancel_type=record.cancel_type, next_actions=_next_actions(record)
    )


@dataclass(frozen=True, slots=True)
class Offer:
    """A decision as the agent reads it: its key in forms, its words, what the buyer gets."""

    key: str  # "APPROVE_RETURN" or "APPROVE_RETURN:keep" (a returnless refund)
    decision: records.SellerDecision
    outcome: str

    @property
    def label(self) -> str:
        return self.decision.label

    @property
    def needs_reason(self) -> bool:
        return self.decision.needs_reason


def _key(decision: records.SellerDecision) -> str:
    return f"{decision.code}:keep" if decision.buyer_keep_item else str(decision.code)


def offers_of(record: AfterSaleRecord) -> list[Offer]:
    refund = money(record.refund_total, record.currency) or "the amount the marketplace works out"
    return [
        Offer(key=_key(decision), decision=decision, outcome=decision.outcome.format(refund=refund))
        for decision in decisions_of(record)
    ]


def _offer(record: AfterSaleRecord, key: str) -> Offer | None:
    return next((offer for offer in offers_of(record) if offer.key == key), None)


# --- Reading the record again ---------------------------------------------------------------------


def _channel_problem(error: Exception, store: Store) -> str:
    """What went wrong talking to the marketplace, in the seller's words."""
    platform = store.get_platform_display()
    if isinstance(error, StoreUnavailableError):
        return str(error)
    if isinstance(error, InvalidTokenError):
        return f"{platform} refused {store.name}'s access; reconnect the store on the Stores page."
    if isinstance(error, RateLimitedError | UnavailableError | OutcomeUnknownError):
        return f"{platform} did not answer in time. Nothing was changed; try again in a moment."
    if isinstance(error, ChannelError):
        return f"{platform} refused it: {error.detail}"
    return f"{platform} could not be asked: {error}"


def after_sale_refresh(*, record: AfterSaleRecord) -> AfterSaleRecord:
    """The record (and its order) as the marketplace has them now, stored; raises ChannelError."""
    store = record.store
    api = store_api(store)
    if isinstance(record, Return):
        found = [
            r for page in api.return_pages(return_ids=[record.external_id]) for r in page.items
        ]
        returns_upsert(store=store, returns=found)
    else:
        found = [
            c
            for page in api.cancellation_pages(cancel_ids=[record.external_id])
            for c in page.items
        ]
        cancellations_upsert(store=store, cancellations=found)
    orders = api.orders_by_id([record.order_external_id])
    orders_upsert(store=store, orders=orders)
    return type(record).objects.select_related("store").get(pk=record.pk)


def _moved_on(record: AfterSaleRecord, seen_status: str) -> str:
    return (
        f"This {'return' if isinstance(record, Return) else 'cancellation request'} has moved on "
        f"since you opened it: it is now “{record.status_label}”. Nothing was sent."
    )


@dataclass(frozen=True, slots=True)
class Review:
    """The confirmation step: the record as it is now, the decision and what the buyer gets."""

    record: AfterSaleRecord
    offer: Offer
    reasons: list[records.RejectReason]
    token: uuid.UUID


def _check_may_act(membership: Membership | KeyMember, record: AfterSaleRecord) -> None:
    if not may_act(membership, record.store):
        raise AfterSalePermissionError(
            f"You may not act on returns and cancellations of {record.store.name}. Ask an admin "
            "to allow you (Settings, Members, Returns)."
        )


def after_sale_review(
    *, membership: Membership | KeyMember, record: AfterSaleRecord, key: str, seen_status: str
) -> Review:
    """Step 1: read the record again and say what the decision would do (no decision sent)."""
    _check_may_act(membership, record)
    try:
        record = after_sale_refresh(record=record)
    except ChannelError as error:
        raise AfterSaleError(_channel_problem(error, record.store)) from error
    if seen_status and record.status != seen_status:
        raise AfterSaleError(_moved_on(record, seen_status))
    offer = _offer(record, key)
    if offer is None:
        raise AfterSaleError(
            f"{record.store.get_platform_display()} does not offer that decision now (the "
            "request is "
            f"“{record.status_label}”). Nothing was sent."
        )
    reasons: list[records.RejectReason] = []
    if offer.needs_reason:
        try:
            reasons = store_api(record.store).reject_reasons(record.external_id)
        except ChannelError as error:
            raise AfterSaleError(_channel_problem(error, record.store)) from error
        if not reasons:
            raise AfterSaleError(
                f"{record.store.get_platform_display()} offers no reason to reject this "
                "request, so it cannot be rejected from here."
            )
    return Review(record=record, offer=offer, reasons=reasons, token=uuid.uuid4())


# --- Deciding -------------------------------------------------------------------------------------

Observer = Callable[[AfterSaleAction], None]
_OBSERVERS: list[Observer] = []


def register_after_sale_observer(observer: Observer) -> Observer:
    """Called with each finished decision (the mailbox writes it into the tickets' history)."""
    _OBSERVERS.append(observer)
    return observer


@dataclass(frozen=True, slots=True)
class Decided:
    action: AfterSaleAction
    record: AfterSaleRecord
    repeated: bool  # a resubmission: nothing was called again


def _claim(
    *,
    membership: Membership | KeyMember,
    record: AfterSaleRecord,
    offer: Offer,
    reason: records.RejectReason | None,
    comment: str,
    seen_status: str,
    client_token: uuid.UUID,
    conversation_public_id: uuid.UUID | None,
) -> tuple[AfterSaleAction, bool]:
    """(the action to send, whether the same form had already stored it)."""
    try:
        with transaction.atomic():
            action = AfterSaleAction.objects.create(
                tenant_id=record.tenant_id,
                store_id=record.store_id,
                kind=kind_of(record),
                record_external_id=record.external_id,
                order_external_id=record.order_external_id,
                decision=offer.key,
                approve=offer.decision.approve,
                label=offer.label,
                outcome=offer.outcome[:500],
                reject_reason=reason.name if reason else "",
                reject_reason_text=(reason.text if reason else "")[:255],
                comment=comment,
                seen_status=seen_status,
                client_token=client_token,
                actor=membership.user,
                actor_name=actor_name(membership)[:255],
                conversation_public_id=conversation_public_id,
            )
    except IntegrityError:
        existing = AfterSaleAction.objects.filter(
            tenant_id=record.tenant_id, client_token=client_token
        ).first()
        if existing is not None:
            return existing, True  # the same form, submitted twice at once
        raise AfterSaleError(
            "Someone is sending a decision on this request right now. Wait for it, then look again."
        ) from None
    return action, False


def _decision_of(action: AfterSaleAction) -> records.SellerDecision:
    code, _, keep = action.decision.partition(":")
    return records.SellerDecision(
        code,
        approve=action.approve,
        label=action.label,
        outcome=action.outcome,
        buyer_keep_item=keep == "keep",
    )


def _finish(action: AfterSaleAction, status: str, message: str = "") -> None:
    AfterSaleAction.objects.filter(pk=action.pk).update(
        status=status, message=message[:500], finished_at=timezone.now()
    )
    action.status, action.message = status, message[:500]


def _send(action: AfterSaleAction, record: AfterSaleRecord) -> None:
    """One call, with the action's idempotency key; the outcome written on the action."""
    api = store_api(record.store)
    decide = api.return_decide if isinstance(record, Return) else api.cancellation_decide
    try:
        decide(
            record.external_id,
            decision=_decision_of(action),
            idempotency_key=str(action.idempotency_key),
            reject_reason=action.reject_reason,
            comment=action.comment,
        )
    except (RateLimitedError, UnavailableError, OutcomeUnknownError) as error:
        logger.warning("after-sale decision %s unconfirmed: %s", action.pk, error)
        _finish(
            action,
            AfterSaleActionStatus.UNCONFIRMED,
            f"{record.store.get_platform_display()} did not confirm the decision. Press Confirm "
            "again: it is sent with the same key, so it is applied at most once.",
        )
        return
    except ChannelError as error:
        _finish(action, AfterSaleActionStatus.REFUSED, _channel_problem(error, record.store))
        return
    _finish(action, AfterSaleActionStatus.DONE)


def _notify(action: AfterSaleAction, membership: Membership | KeyMember) -> None:
    AuditEvent.objects.create(
        tenant_id=action.tenant_id,
        actor=membership.user,
        action=f"{action.kind}.decided",
        detail={
            **actor_trace(membership),
            "record": action.record_external_id,
            "order": action.order_external_id,
            "decision": action.decision,
            "status": action.status,
            "reject_reason": action.reject_reason,
            "message": action.message,
        },
    )
    for observer in _OBSERVERS:
        try:
            observer(action)
        except Exception:
            logger.exception("after-sale observer failed for action %s", action.pk)


def _new_action(
    *,
    membership: Membership | KeyMember,
    record: AfterSaleRecord,
    key: str,
    seen_status: str,
    client_token: uuid.UUID,
    reject_reason: str,
    comment: str,
    conversation_public_id: uuid.UUID | None,
) -> tuple[AfterSaleAction, bool]:
    """Checks the decision against the record as stored and the marketplace's reasons, then
    stores it (SENDING)."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise AfterSaleError(f"The comment is limited to {COMMENT_MAX_CHARS} characters.")
    if record.status != seen_status:
        raise AfterSaleError(_moved_on(record, seen_status))
    offer = _offer(record, key)
    if offer is None:
        raise AfterSaleError(
            f"{record.store.get_platform_display()} does not offer that decision now (the "
            "request is "
            f"“{record.status_label}”). Nothing was sent."
        )
    reason = None
    if offer.needs_reason:
        if not reject_reason:
            raise AfterSaleError("Choose the reason to give the buyer.")
        try:
            offered = store_api(record.store).reject_reasons(record.external_id)
        except ChannelError as error:
            raise AfterSaleError(_channel_problem(error, record.store)) from error
        reason = next((item for item in offered if item.name == reject_reason), None)
        if reason is None:
            raise AfterSaleError(
                f"{record.store.get_platform_display()} does not offer that reason for this "
                "request any more. Choose another one."
            )
    return _claim(
        membership=membership,
        record=record,
        offer=offer,
        reason=reason,
        comment=comment,
        seen_status=seen_status,
        client_token=client_token,
        conversation_public_id=conversation_public_id,
    )


def after_sale_decide(
    *,
    membership: Membership | KeyMember,
    record: AfterSaleRecord,
    key: str,
    seen_status: str,
    client_token: uuid.UUID,
    reject_reason: str = "",
    comment: str = "",
    conversation_public_id: uuid.UUID | None = None,
) -> Decided:
    """Step 2: take the decision once. Raises AfterSaleError when it cannot be sent at all; a
    refusal by the marketplace comes back as a REFUSED action with its sentence."""
    _check_may_act(membership, record)
    action = AfterSaleAction.objects.filter(
        tenant_id=record.tenant_id, client_token=client_token
    ).first()
    if action is not None and action.status != AfterSaleActionStatus.UNCONFIRMED:
        return Decided(action=action, record=record, repeated=True)
    if action is None:
        # The same decision whose answer was lost is sent again under its own key, whatever form
        # it comes from: the marketplace then applies it at most once.
        action = AfterSaleAction.objects.filter(
            store_id=record.store_id,
            kind=kind_of(record),
            record_external_id=record.external_id,
            decision=key,
            status=AfterSaleActionStatus.UNCONFIRMED,
        ).first()
    if action is None:
        action, repeated = _new_action(
            membership=membership,
            record=record,
            key=key,
            seen_status=seen_status,
            client_token=client_token,
            reject_reason=reject_reason,
            comment=comment,
            conversation_public_id=conversation_public_id,
        )
        if repeated:
            return Decided(action=action, record=record, repeated=True)
    else:
        try:
            with transaction.atomic():
                taken = AfterSaleAction.objects.filter(
                    pk=action.pk, status=AfterSaleActionStatus.UNCONFIRMED
                ).update(status=AfterSaleActionStatus.SENDING)
        except IntegrityError:
            taken = 0
        if not taken:
            raise AfterSaleError(
                "Someone is sending a decision on this request right now. Wait for it, then "
                "look again."
            )
    _send(action, record)
    try:
        record = after_sale_refresh(record=record)
    except ChannelError as error:
        logger.warning("after-sale record %s not refreshed: %s", record.external_id, error)
    _notify(action, membership)
    return Decided(action=action, record=record, repeated=False)


def action_sentence(action: AfterSaleAction, actor: str) -> str:
    """The ticket history's line: who, what, on what, with what result."""
    what = "the return" if action.kind == AfterSaleKind.RETURN else "the cancellation request"
    on = f"{what} of order {action.order_external_id}"
    if action.status == AfterSaleActionStatus.DONE:
        sentence = f"{actor}: {action.label.lower()} on {on}. {action.outcome}"
        if action.reject_reason_text:
            sentence += f" Reason given: {action.reject_reason_text}."
        return sentence
    if action.status == AfterSaleActionStatus.REFUSED:
        return f"{actor} tried to {action.label.lower()} on {on}; {action.message}"
    return f"{actor} sent “{action.label}” on {on}; {action.message}"


def actions_of_order(*, store: Store, order_external_id: str, limit: int = 20) -> list[Any]:
    return list(
        AfterSaleAction.objects.filter(store=store, order_external_id=order_external_id)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
