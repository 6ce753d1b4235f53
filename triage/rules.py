"""Rules that are certain, applied before the classifier.

- a return/refund request the buyer sends (RETURN_REFUND_CARD) is `return_refund`;
- a buyer's order card alone is about that order (`order_status`), unless the ticket already
  has a topic: then the card is the order the topic is about, and the topic stays;
- an image or video after a damage claim is the evidence of that claim
  (`damaged_or_wrong_item`); without one it says nothing by itself;
- a text without letters (empty, emoji, punctuation, an order number alone) is `other` with no
  confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from .labels import Intent
from .text import letters

RETURN_REQUEST_TYPES = frozenset({"RETURN_REFUND_CARD"})
ORDER_CARD_TYPES = frozenset({"ORDER_CARD", "BUYER_ENTER_FROM_ORDER"})
MEDIA_TYPES = frozenset({"IMAGE", "VIDEO"})
TEXT_TYPES = frozenset({"TEXT", ""})


@dataclass(frozen=True, slots=True)
class RuleLabel:
    intent: str
    rule: str
    # A topic for the ticket (True), or a label of this message only that keeps the ticket's.
    sets_topic: bool


def rule_label(*, message_type: str, text: str, ticket_intent: str) -> RuleLabel | None:
    """The certain label of a buyer message, or None for the classifier to decide."""
    if message_type in RETURN_REQUEST_TYPES:
        return RuleLabel(Intent.RETURN_REFUND, "return request", sets_topic=True)
    if message_type in ORDER_CARD_TYPES:
        has_topic = ticket_intent not in ("", Intent.OTHER)
        return RuleLabel(Intent.ORDER_STATUS, "order card", sets_topic=not has_topic)
    if message_type in MEDIA_TYPES:
        if ticket_intent == Intent.DAMAGED_OR_WRONG_ITEM:
            return RuleLabel(
                Intent.DAMAGED_OR_WRONG_ITEM, "image after a damage claim", sets_topic=True
            )
        return RuleLabel(Intent.OTHER, "image", sets_topic=False)
    if message_type not in TEXT_TYPES:
        return RuleLabel(Intent.OTHER, message_type.lower(), sets_topic=False)
    if letters(text) == 0:
        return RuleLabel(Intent.OTHER, "no words", sets_topic=False)
    return None
