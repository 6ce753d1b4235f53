"""The outbound webhook events of escalation cases (integrations.events), written with the
change by `services._event`:

- escalation.created: a case was opened (as a draft);
- escalation.updated: a draft's values or files were changed;
- escalation.status_changed: submitted, waiting on partner, resolved, rejected, reopened; its
  `changed` is {"status": {"from": ..., "to": ...}} and the note left with it, if any;
- escalation.note_added: a note was added to the case's history.

Each carries the case as GET /api/v1/escalations/<id>/ shows it, built only when some
subscription wants the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from integrations.events import emit

if TYPE_CHECKING:
    from .models import Escalation, EscalationEvent

# History kinds -> event types (a failed e-mail changes nothing an integrator sees).
EVENT_OF_KIND = {
    "created": "escalation.created",
    "edited": "escalation.updated",
    "submitted": "escalation.status_changed",
    "status": "escalation.status_changed",
    "note": "escalation.note_added",
}


def escalation_object(escalation_id: int) -> dict[str, Any]:
    from .api import escalation_representation, escalations_with_details
    from .models import Escalation

    case = escalations_with_details(Escalation.objects.filter(pk=escalation_id)).get()
    return escalation_representation(case)


def announce(escalation: Escalation, event: EscalationEvent) -> None:
    event_type = EVENT_OF_KIND.get(event.kind)
    if event_type is None:
        return
    changed: dict[str, Any] = {}
    if event_type == "escalation.status_changed":
        changed["status"] = {"from": event.from_status, "to": event.to_status}
    if event.body and event.kind in ("status", "note"):
        changed["note"] = {"body": event.body, "by": event.actor_name}
    emit(
        tenant_id=escalation.tenant_id,
        event=event_type,
        subject=lambda: escalation_object(escalation.pk),
        changed=changed,
    )
