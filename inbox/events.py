"""The mailbox's webhook events: the objects they carry, as the API shows them.

Built only when some subscription wants the event (integrations.events.emit calls these lazily),
with one query per batch whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from integrations.events import emit, emit_many

from .models import Conversation, Message, TicketEvent


def ticket_objects(pks: Iterable[int]) -> list[dict[str, Any]]:
    from .api import ticket_representation, ticket_values

    wanted = list(pks)
    rows = {row["id"]: row for row in ticket_values(Conversation.objects.filter(pk__in=wanted))}
    return [ticket_representation(rows[pk]) for pk in wanted]


def message_objects(pks: Iterable[int]) -> list[dict[str, Any]]:
    from .api import message_representation

    wanted = list(pks)
    rows = {
        message.pk: message
        for message in Message.objects.select_related("author", "conversation").filter(
            pk__in=wanted
        )
    }
    return [message_representation(rows[pk], rows[pk].conversation.public_id) for pk in wanted]


def ticket_updated(conversation: Conversation, changed: dict[str, Any]) -> None:
    emit(
        tenant_id=conversation.tenant_id,
        event="ticket.updated",
        subject=lambda: ticket_objects([conversation.pk])[0],
        changed=changed,
    )


def tickets_changed(tenant_id: int, event: str, changes: dict[int, dict[str, Any]]) -> None:
    """`ticket.created` / `ticket.updated` for several tickets: {ticket pk: changed fields}."""
    if not changes:
        return
    pks = list(changes)
    emit_many(
        tenant_id=tenant_id,
        event=event,
        subjects=lambda: ticket_objects(pks),
        changed=[changes[pk] for pk in pks],
    )


def messages_event(tenant_id: int, event: str, pks: list[int]) -> None:
    if pks:
        emit_many(tenant_id=tenant_id, event=event, subjects=lambda: message_objects(pks))


def note_created(note: TicketEvent, conversation: Conversation) -> None:
    def subject() -> dict[str, Any]:
        from .api import NoteSerializer

        return {**NoteSerializer(note).data, "ticket_id": str(conversation.public_id)}

    emit(tenant_id=note.tenant_id, event="note.created", subject=subject)
