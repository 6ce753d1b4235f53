"""The labels triage puts on buyer messages: intents (exactly the issue's), languages, sources."""

from __future__ import annotations

from django.db import models


class Intent(models.TextChoices):
    ORDER_STATUS = "order_status", "Order status"
    DELIVERY_PROBLEM = "delivery_problem", "Delivery problem"
    DAMAGED_OR_WRONG_ITEM = "damaged_or_wrong_item", "Damaged or wrong item"
    RETURN_REFUND = "return_refund", "Return or refund"
    CANCEL_ORDER = "cancel_order", "Cancel order"
    CHANGE_ORDER = "change_order", "Change order"
    PRODUCT_QUESTION = "product_question", "Product question"
    DISCOUNT_COUPON = "discount_coupon", "Discount or coupon"
    PAYMENT_ISSUE = "payment_issue", "Payment issue"
    THANKS_CLOSING = "thanks_closing", "Thanks / closing"
    OTHER = "other", "Other"


INTENTS: tuple[str, ...] = tuple(Intent.values)


class Language(models.TextChoices):
    """The languages the shipped model was trained on; "und" when a message has too little text."""

    ENGLISH = "en", "English"
    FRENCH = "fr", "French"
    SPANISH = "es", "Spanish"
    UNDETERMINED = "und", "Undetermined"


LANGUAGES: tuple[str, ...] = ("en", "fr", "es")


class LabelSource(models.TextChoices):
    RULE = "rule", "Rule"
    MODEL = "model", "Classifier"
    AGENT = "agent", "Agent"
