"""Writes about escalation cases: the only way to open, edit, submit, move or annotate a case.

Each function checks what it is given (values through `validation.validate`), changes the case
and writes its history row in one transaction. Submitting sends the e-mail outside any
transaction (a slow mail server never holds a lock), under a claim so that a double click sends
once. Views and the API call these same functions, with the same rules.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.models import Conversation
from marketplaces.models import Store
from tenants.models import Membership, Role
from tenants.principals import Actor, actor_name, is_key

from . import events, selectors
from .document import headline, tenant_zone
from .kinds import Kind
from .mail import escalation_email
from .models import (
    CLOSED_STATUSES,
    TRANSITIONS,
    Escalation,
    EscalationAttachment,
    EscalationEvent,
    EscalationEventKind,
    EscalationSettings,
    EscalationStatus,
)
from .validation import CheckedFile, CleanCase

logger = logging.getLogger(__name__)

# A send that has not finished in this long is taken to have died with its process.
SUBMIT_CLAIM_SECONDS = 300
NOTE_MAX_CHARS = 5000


class EscalationError(Exception):
    """An action the case's state does not allow, said in the seller's words."""


def _event(
    escalation: Escalation,
    kind: str,
    *,
    actor: Actor | None,
    body: str = "",
    from_status: str = "",
    to_status: str = "",
) -> EscalationEvent:
    """The history row of a change, and its outbound webhook event (`events.announce`): the one
    place every change of a case passes through, inside the change's transaction."""
    event = EscalationEvent.objects.create(
        tenant_id=escalation.tenant_id,
        escalation=escalation,
        kind=kind,
        actor=actor.user if actor is not None else None,
        actor_label=actor_name(actor) if actor is not None and is_key(actor) else "",
        body=body,
        from_status=from_status,
        to_status=to_status,
    )
    events.announce(escalation, event)
    return event


def _store_files(
    *,
    membership: Actor,
    files: dict[str, list[CheckedFile]],
    escalation: Escalation | None,
) -> list[EscalationAttachment]:
    stored = []
    for field_name, checked in files.items():
        for item in checked:
            attachment = EscalationAttachment(
                tenant_id=membership.tenant_id,
                escalation=escalation,
                field=field_name,
                name=item.name,
                content_type=item.content_type,
                size=item.size,
                uploaded_by=membership.user,
            )
            attachment.file.save(item.name, ContentFile(item.data), save=False)
            attachment.save()
            stored.append(attachment)
    return stored


def attachments_stage(
    *, membership: Membership, files: dict[str, list[CheckedFile]]
) -> list[EscalationAttachment]:
    """Keeps the files that passed their checks on a refused form, so that the person need not
    choose them again; `staged_attachments_purge` removes those never used."""
    with transaction.atomic():
        return _store_files(membership=membership, files=files, escalation=None)


def _adopt(
    *, membership: Membership, escalation: Escalation, kept: list[EscalationAttachment]
) -> None:
    staged = [a.pk for a in kept if a.escalation_id is None]
    if staged:
        EscalationAttachment.objects.filter(
            pk__in=staged,
            tenant_id=membership.tenant_id,
            escalation=None,
            uploaded_by_id=membership.user_id,
        ).update(escalation=escalation)


def escalation_create(
    *,
    membership: Actor,
    kind: Kind,
    store: Store,
    clean: CleanCase,
    kept: list[EscalationAttachment] = (),  # type: ignore[assignment]
    conversation: Conversation | None = None,
) -> Escalation:
    """A new draft case. `clean` comes from validation.validate for this kind and store."""
    if store.tenant_id != membership.tenant_id:
        raise EscalationError("That store is not of your organisation.")
    if not selectors.is_escalatable(store):
        raise EscalationError(selectors.not_escalatable_message(store))
    if conversation is not None and conversation.store_id != store.pk:
        raise EscalationError("The ticket is of another store than the case.")
    with transaction.atomic():
        escalation = Escalation.objects.create(
            tenant_id=membership.tenant_id,
            store=store,
            kind=kind.key,
            values=clean.values,
            summary=headline(kind, clean.values, tenant_zone(membership.tenant)),
            conversation=conversation,
            order=clean.order,
            created_by=membership.user,
        )
        _store_files(membership=membership, files=clean.files, escalation=escalation)
        _adopt(membership=membership, escalation=escalation, kept=list(kept))
        _event(escalation, EscalationEventKind.CREATED, actor=membership, to_status="draft")
    return escalation


def escalation_update(
    *,
    membership: Actor,
    escalation: Escalation,
    clean: CleanCase,
    kept: list[EscalationAttachment],
) -> Escalation:
    """New values for a draft; its files are the kept ones plus the new ones."""
    kind = escalation.kind_spec
    with transaction.atomic():
        locked = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if locked.status != EscalationStatus.DRAFT:
            raise EscalationError(
                f"{escalation.reference} is {locked.get_status_display().lower()}: "
                "only drafts can be edited."
            )
        keep_ids = [a.pk for a in kept]
        dropped = list(
            EscalationAttachment.objects.filter(escalation=locked).exclude(pk__in=keep_ids)
        )
        EscalationAttachment.objects.filter(pk__in=[a.pk for a in dropped]).delete()
        # The stored files go once the rows are gone for good.
        transaction.on_commit(lambda: [a.file.delete(save=False) for a in dropped])
        locked.values = clean.values
        locked.summary = headline(kind, clean.values, tenant_zone(membership.tenant))
        locked.order = clean.order
        locked.save(update_fields=["values", "summary", "order", "updated_at"])
        _store_files(membership=membership, files=clean.files, escalation=locked)
        _adopt(membership=membership, escalation=locked, kept=kept)
        _event(locked, EscalationEventKind.EDITED, actor=membership)
    return locked


def escalation_submit(*, membership: Actor, escalation: Escalation) -> Escalation:
    """Sends the case by e-mail to the organisation's escalation address and marks it
    submitted. Refused without an address, or when the case is not a draft; a failed send
    leaves the draft as it was, with the reason in its history."""
    settings_row = selectors.escalation_settings_get(tenant=membership.tenant)
    to = settings_row.recipient_email if settings_row else ""
    if not to:
        raise EscalationError(
            "No escalation address is set: an owner or admin sets it in "
            "Settings \N{RIGHTWARDS ARROW} Escalations."
        )
    now = timezone.now()
    claimed = (
        Escalation.objects.filter(pk=escalation.pk, status=EscalationStatus.DRAFT)
        .filter(
            Q(submitting_since=None)
            | Q(submitting_since__lt=now - timedelta(seconds=SUBMIT_CLAIM_SECONDS))
        )
        .update(submitting_since=now)
    )
    if not claimed:
        current = Escalation.objects.get(pk=escalation.pk)
        if current.status != EscalationStatus.DRAFT:
            raise EscalationError(
                f"{escalation.reference} was submitted already "
                f"({current.get_status_display().lower()})."
            )
        raise EscalationError(f"{escalation.reference} is being sent right now.")
    attachments = selectors.attachments_of(escalation=escalation)
    try:
        message = escalation_email(escalation, to=to, attachments=attachments)
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        reason = _send_failure(exc)
        logger.warning("escalation %s: e-mail not sent: %s", escalation.public_id, reason)
        with transaction.atomic():
            Escalation.objects.filter(pk=escalation.pk).update(submitting_since=None)
            _event(escalation, EscalationEventKind.SEND_FAILED, actor=membership, body=reason)
        raise EscalationError(
            f"The e-mail to {to} could not be sent ({reason}). The case is kept as a draft: "
            "try again in a moment."
        ) from exc
    with transaction.atomic():
        Escalation.objects.filter(pk=escalation.pk).update(
            status=EscalationStatus.SUBMITTED,
            submitted_at=now,
            submitted_to=to,
            submitting_since=None,
            updated_at=timezone.now(),
        )
        _event(
            escalation,
            EscalationEventKind.SUBMITTED,
            actor=membership,
            body=f"E-mailed to {to}",
            from_status=EscalationStatus.DRAFT,
            to_status=EscalationStatus.SUBMITTED,
        )
    escalation.refresh_from_db()
    return escalation


def _send_failure(exc: BaseException) -> str:
    # The server's answer is useful ("550 mailbox unavailable"); nothing secret is in it.
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def escalation_change_status(
    *, membership: Actor, escalation: Escalation, status: str, note: str = ""
) -> Escalation:
    """submitted -> waiting on partner -> resolved / rejected (and back where TRANSITIONS
    allows), with an optional note in the history."""
    note = _clean_note(note)
    with transaction.atomic():
        locked = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if status not in TRANSITIONS.get(locked.status, ()):
            labels = dict(EscalationStatus.choices)
            if locked.status == EscalationStatus.DRAFT and status == EscalationStatus.SUBMITTED:
                raise EscalationError("Submit the case to send it; that makes it submitted.")
            raise EscalationError(
                f"A case that is {labels[locked.status].lower()} cannot become "
                f"{labels.get(status, status).lower()}."
            )
        before = locked.status
        locked.status = status
        locked.closed_at = timezone.now() if status in CLOSED_STATUSES else None
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        _event(
            locked,
            EscalationEventKind.STATUS,
            actor=membership,
            body=note,
            from_status=before,
            to_status=status,
        )
    return locked


def _clean_note(note: str) -> str:
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise EscalationError(
            f"A note is limited to {NOTE_MAX_CHARS:,} characters; this one has {len(note):,}."
        )
    return note


def escalation_note_add(*, membership: Actor, escalation: Escalation, body: str) -> EscalationEvent:
    body = _clean_note(body)
    if not body:
        raise EscalationError("Write a note first.")
    with transaction.atomic():
        event = _event(escalation, EscalationEventKind.NOTE, actor=membership, body=body)
        Escalation.objects.filter(pk=escalation.pk).update(updated_at=timezone.now())
    return event


def escalation_settings_update(
    *, membership: Membership, recipient_email: str
) -> EscalationSettings:
    if not membership.has_role(Role.ADMIN):
        raise EscalationError("Only owners and admins can change where escalations are sent.")
    row, _ = EscalationSettings.objects.update_or_create(
        tenant_id=membership.tenant_id,
        defaults={
            "recipient_email": recipient_email.strip().lower(),
            "updated_by": membership.user,
        },
    )
    return row


def staged_attachments_purge(*, older_than: datetime) -> int:
    """Deletes files kept from refused forms that were never used, and their stored files."""
    stale = list(
        EscalationAttachment.objects.filter(escalation=None, created_at__lt=older_than)[:500]
    )
    for attachment in stale:
        attachment.file.delete(save=False)
    EscalationAttachment.objects.filter(pk__in=[a.pk for a in stale]).delete()
    return len(stale)
