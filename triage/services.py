"""Triage's writes: labelling new buyer messages (their tickets' topic, language, urgency) and
an agent's one-click correction."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.db import rows_update
from inbox import events as inbox_events
from inbox.models import Conversation, Message
from tenants.models import Membership

from .compact import CompactModel
from .engine import _classify
from .labels import INTENTS, Intent, LabelSource
from .models import IntentCorrection, MessageLabel
from .rules import rule_label
from .selectors import latest_buyer_message
from .tenant_models import models_for
from .urgency import REPEATED_MESSAGES, urgency_reasons

logger = logging.getLogger(__name__)

# Below this confidence a message keeps the ticket's topic (it may be about the same thing).
TOPIC_CONFIDENCE = 0.5
TICKET_FIELDS = ("intent", "intent_confidence", "intent_source", "language", "urgent")


def _predictions(
    messages: list[Message], models: dict[int, CompactModel | None]
) -> dict[int, tuple[str, float, str]]:
    """The classifier's answer for every message no rule decides: one call per organisation."""
    wanted: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        if rule_label(message_type=message.type, text=message.text, ticket_intent="") is None:
            wanted[message.tenant_id].append(message)
    found: dict[int, tuple[str, float, str]] = {}
    for tenant_id, batch in wanted.items():
        answers = _classify(models.get(tenant_id), [message.text for message in batch])
        found.update(zip((message.pk for message in batch), answers, strict=True))
    return found


def messages_label(*, message_ids: list[int]) -> int:
    """Labels these buyer messages (those not labelled yet) and moves their tickets' topic,
    language and urgency; returns how many it labelled. The classifier runs before the
    transaction; rules that depend on the ticket's topic (an image after a damage claim) run
    under the tickets' row locks, in message order."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, triage_label__isnull=True)
        .only("pk", "tenant_id", "conversation_id", "type", "text", "sent_at", "index_key")
        .order_by("conversation_id", "index_key", "sent_at", "pk")
    )
    if not messages:
        return 0
    models = models_for(sorted({message.tenant_id for message in messages}))
    predictions = _predictions(messages, models)
    by_ticket: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_ticket[message.conversation_id].append(message)
    now = timezone.now()
    with transaction.atomic():
        tickets = {
            ticket.pk: ticket
            for ticket in Conversation.objects.select_for_update()
            .filter(pk__in=list(by_ticket))
            .order_by("pk")
        }
        labels: list[MessageLabel] = []
        changed: dict[int, dict[str, Any]] = {}
        for ticket_pk, batch in by_ticket.items():
            ticket = tickets[ticket_pk]
            before = {name: getattr(ticket, name) for name in TICKET_FIELDS}
            model = models.get(ticket.tenant_id)
            version = str(model.meta.get("version", "")) if model is not None else ""
            for message in batch:
                label = _label(message, ticket, predictions.get(message.pk), version, now)
                labels.append(label)
                _move_ticket(ticket, label)
            if ticket.unread_count >= REPEATED_MESSAGES:
                ticket.urgent = True  # the buyer keeps writing without an answer
            moved = {
                name: {"from": before[name], "to": getattr(ticket, name)}
                for name in ("intent", "urgent", "language")
                if before[name] != getattr(ticket, name)
            }
            if any(before[name] != getattr(ticket, name) for name in TICKET_FIELDS):
                ticket.updated_at = now
                changed[ticket.pk] = moved
        MessageLabel.objects.bulk_create(labels, ignore_conflicts=True)
        dirty = [tickets[pk] for pk in changed]
        if dirty:
            rows_update(Conversation.objects.all(), dirty, [*TICKET_FIELDS, "updated_at"])
        by_tenant: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        for pk, moved in changed.items():
            if moved:
                by_tenant[tickets[pk].tenant_id][pk] = moved
        for tenant_id, changes in by_tenant.items():
            inbox_events.tickets_changed(tenant_id, "ticket.updated", changes)
    return len(labels)


def _label(
    message: Message,
    ticket: Conversation,
    prediction: tuple[str, float, str] | None,
    version: str,
    now: Any,
) -> MessageLabel:
    reasons = urgency_reasons(message.text)
    rule = rule_label(message_type=message.type, text=message.text, ticket_intent=ticket.intent)
    if rule is not None or prediction is None:
        intent = rule.intent if rule is not None else Intent.OTHER
        confidence, language, source = (
            (1.0 if intent != Intent.OTHER else 0.0),
            "und",
            LabelSource.RULE,
        )
        rule_name = rule.rule if rule is not None else "no classifier"
        sets_topic = rule.sets_topic if rule is not None else False
    else:
        intent, confidence, language = prediction
        source, rule_name = LabelSource.MODEL, ""
        # A topic is replaced only by a confident label of a request (not thanks, not other).
        sets_topic = not ticket.intent or (
            intent not in (Intent.OTHER, Intent.THANKS_CLOSING) and confidence >= TOPIC_CONFIDENCE
        )
        if not version:
            source, rule_name = LabelSource.RULE, "no classifier"
    label = MessageLabel(
        message_id=message.pk,
        tenant_id=message.tenant_id,
        conversation_id=message.conversation_id,
        intent=intent,
        confidence=confidence,
        language=language,
        urgent=bool(reasons),
        reasons=",".join(reasons),
        source=source,
        rule=rule_name,
        model_version=version if source == LabelSource.MODEL else "",
        labelled_at=now,
    )
    label.sets_topic = sets_topic  # type: ignore[attr-defined]  (read by _move_ticket)
    return label


def _move_ticket(ticket: Conversation, label: MessageLabel) -> None:
    """A label moves the ticket's topic unless an agent set it; language and urgency always."""
    if label.sets_topic and ticket.intent_source != LabelSource.AGENT:  # type: ignore[attr-defined]
        ticket.intent = label.intent
        ticket.intent_confidence = label.confidence
        ticket.intent_source = label.source
    if label.language != "und":
        ticket.language = label.language
    if label.urgent:
        ticket.urgent = True


@dataclass(frozen=True)
class CorrectionResult:
    conversation: Conversation
    correction: IntentCorrection | None


class CorrectionError(ValueError):
    """A correction that cannot be made; the message is for the agent."""


def ticket_intent_correct(
    *,
    conversation: Conversation,
    membership: Membership,
    intent: str | None = None,
    urgent: bool | None = None,
) -> CorrectionResult:
    """An agent sets the ticket's intent (stored as a correction of the buyer's latest words, to
    learn from) and/or its urgency. The topic then stays as the agent set it."""
    if intent is not None and intent not in INTENTS:
        raise CorrectionError(f"Unknown intent {intent!r}: choose one of {', '.join(INTENTS)}.")
    if intent is None and urgent is None:
        raise CorrectionError("Nothing to change: give an intent or an urgency.")
    with transaction.atomic():
        ticket = Conversation.objects.select_for_update().get(
            pk=conversation.pk, tenant_id=membership.tenant_id
        )
        moved: dict[str, Any] = {}
        correction = None
        fields: list[str] = []
        if intent is not None:
            message = latest_buyer_message(conversation=ticket)
            correction = IntentCorrection.objects.create(
                tenant_id=ticket.tenant_id,
                conversation=ticket,
                message=message,
                text=message.text[:2000] if message is not None else "",
                intent=intent,
                previous_intent=ticket.intent,
                corrected_by=membership.user,
            )
            if ticket.intent != intent:
                moved["intent"] = {"from": ticket.intent, "to": intent}
            ticket.intent, ticket.intent_confidence = intent, 1.0
            ticket.intent_source = LabelSource.AGENT
            fields += ["intent", "intent_confidence", "intent_source"]
        if urgent is not None and urgent != ticket.urgent:
            moved["urgent"] = {"from": ticket.urgent, "to": urgent}
            ticket.urgent = urgent
            fields.append("urgent")
        if fields:
            ticket.save(update_fields=[*fields, "updated_at"])
        if moved:
            inbox_events.ticket_updated(ticket, moved)
    return CorrectionResult(conversation=ticket, correction=correction)
