"""Decisions on returns and cancellations in the tickets' history: who decided what, when, and
with what result, in the ticket it was taken from and in every ticket linked to the order."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from orders.aftersale import action_sentence, register_after_sale_observer
from orders.models import AfterSaleAction

from .models import Conversation, ConversationOrder, TicketEvent, TicketEventKind


@register_after_sale_observer
def ticket_history_write(action: AfterSaleAction) -> None:
    tickets = set(
        ConversationOrder.objects.filter(
            tenant_id=action.tenant_id,
            conversation__store_id=action.store_id,
            order_external_id=action.order_external_id,
        ).values_list("conversation_id", flat=True)
    )
    if action.conversation_public_id is not None:
        tickets.update(
            Conversation.objects.filter(
                tenant_id=action.tenant_id,
                store_id=action.store_id,
                public_id=action.conversation_public_id,
            ).values_list("pk", flat=True)
        )
    if not tickets:
        return
    actor = action.actor_name or (
        action.actor.display_name if action.actor is not None else "Someone"
    )
    sentence = action_sentence(action, actor)
    now = timezone.now()
    with transaction.atomic():
        TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    tenant_id=action.tenant_id,
                    conversation_id=ticket,
                    kind=TicketEventKind.AFTER_SALE,
                    actor=action.actor,
                    body=sentence,
                    data={
                        "action": str(action.public_id),
                        "kind": action.kind,
                        "record": action.record_external_id,
                        "order_id": action.order_external_id,
                        "decision": action.decision,
                        "status": action.status,
                    },
                    created_at=now,
                )
                for ticket in sorted(tickets)
            ]
        )
        Conversation.objects.filter(pk__in=tickets).update(updated_at=now)
