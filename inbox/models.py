"""The mailbox: buyers, tickets (one per platform conversation), messages, notes and history.

A ticket is one TikTok conversation of one store. Platform messages are unique per store by their
external id, which makes ingest idempotent whichever feed (webhook or poll) delivers them first,
and are ordered by the platform's `index` (stored zero-padded so that text order is number order).
An agent's reply is a Message too: saved first as QUEUED, then SENT with its external id, or
FAILED with a reason and a retry — nothing an agent writes is ever lost.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Tenant

# Platform indexes are decimal strings of up to ~19 digits (contract §6.3); padded to this width
# they sort as text in number order, on every database.
INDEX_WIDTH = 24


def index_key(index: str | int | None) -> str | None:
    """The sortable form of a platform message index ("7494…" -> "00000" + "7494…")."""
    if index is None or str(index).strip() == "":
        return None
    digits = str(index).strip()
    if not digits.isdigit():
        raise ValueError(f"message index is not a number: {index!r}")
    return digits.zfill(INDEX_WIDTH)


class Customer(models.Model):
    """A buyer of one store, keyed by the platform's buyer user id (the order `user_id`).

    No name, e-mail or phone is kept: agents see a masked, stable label.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="customers")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    buyer_user_id = models.CharField(max_length=64)
    im_user_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "buyer_user_id"], name="customer_store_buyer")
        ]
        indexes = [models.Index(fields=["store", "im_user_id"], name="customer_store_im_user")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if "@" in self.buyer_user_id:  # an e-mail buyer is known by the address they wrote from
            return self.buyer_user_id
        digest = hashlib.sha256(f"{self.store_id}:{self.buyer_user_id}".encode()).hexdigest()
        return f"TikTok Shop Customer {digest[:6]}…"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"  # waiting for the buyer
    SOLVED = "solved", "Solved"


class Conversation(models.Model):
    """The ticket: one platform conversation of one store."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="conversations")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveIntegerField(help_text="Ticket number, per tenant.")
    external_id = models.CharField("conversation id", max_length=64)

    status = models.CharField(
        max_length=16, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )

    # Denormalised for the list page (one row, no joins to messages).
    last_message_at = models.DateTimeField(default=timezone.now, help_text="Newest activity.")
    last_message_preview = models.CharField(max_length=255, blank=True)
    last_message_from_buyer = models.BooleanField(default=False)
    unread_count = models.PositiveIntegerField(
        default=0, help_text="Buyer messages no agent has opened yet."
    )
    # Oldest buyer message still waiting for a reply (None when answered): drives SLA badges.
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)

    # Polling cursor: the newest platform message index stored (zero-padded, see index_key).
    message_cursor = models.CharField(max_length=INDEX_WIDTH, blank=True)
    can_send_message = models.BooleanField(default=True)
    participant_count = models.PositiveSmallIntegerField(default=2)

    created_at = models.DateTimeField(default=timezone.now, help_text="Platform create time.")
    updated_at = models.DateTimeField(auto_now=True)
    solved_at = models.DateTimeField(null=True, blank=True)

    # Service levels, kept by sla.clocks whenever ingest, a reply or a status moves the ticket.
    # The buyer's oldest message that no reply has REACHED yet (a queued or failed reply has not):
    # starts TikTok's clock and the team's reply clock.
    reply_wait_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(
        null=True, blank=True, help_text="When the first reply reached the buyer."
    )
    platform_due_at = models.DateTimeField(
        null=True, blank=True, help_text="TikTok's reply window."
    )
    sla_reply_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Team SLA: first or next response (None while Pending)."
    )
    sla_resolution_started_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True, help_text="Pending since.")
    sla_reply_paused_seconds = models.PositiveIntegerField(default=0, db_default=0)
    sla_resolution_paused_seconds = models.PositiveIntegerField(default=0, db_default=0)
    # The soonest of the three due times: the Due soon / Overdue folders and "most urgent first".
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # Clocks whose breach is already in the history (sla.clocks.BREACH_*), and the next due time
    # not yet recorded as missed (the breach sweeper's index).
    sla_breached = models.PositiveSmallIntegerField(default=0, db_default=0)
    sla_check_at = models.DateTimeField(null=True, blank=True)
    # Triage (the triage app writes these; inbox only shows, filters and sorts by them): the
    # ticket's topic among triage.labels.Intent ("" until a buyer message is labelled), how sure
    # and by what (rule, model, agent), the buyer's language, and whether it is urgent.
    intent = models.CharField(max_length=24, blank=True, default="", db_default="")
    intent_confidence = models.FloatField(null=True, blank=True)
    intent_source = models.CharField(max_length=8, blank=True, default="", db_default="")
    language = models.CharField(max_length=3, blank=True, default="", db_default="")
    urgent = models.BooleanField(default=False, db_default=False)
    # What search reads (PostgreSQL, under a GIN index; see search.index): the buyer, the visible
    # messages' text and the notes, in the store's language. NULL until first written.
    search_document = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="conversation_store_ext"),
            models.UniqueConstraint(fields=["tenant", "number"], name="conversation_tenant_number"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-last_message_at"], name="conv_tenant_activity"),
            models.Index(
                fields=["tenant", "status", "-last_message_at"], name="conv_tenant_status_activity"
            ),
            models.Index(
                fields=["tenant", "store", "status", "-last_message_at"],
                name="conv_tenant_store_status",
            ),
            models.Index(
                fields=["tenant", "assignee", "status", "-last_message_at"],
                name="conv_tenant_assignee_status",
            ),
            # The mailbox's change stamp: "anything new?" from polling lists is one index probe.
            # The list's change stamp (newest first, a backward scan) and the API's sync pages
            # (`updated_since`, oldest change first with the id as tie-break): one range scan
            # with LIMIT whatever the number of tickets changed at the same instant.
            models.Index(fields=["tenant", "updated_at", "id"], name="conv_tenant_updated_id"),
            # Due soon / Overdue and "most urgent first": soonest due first, tickets without a
            # due time last (NULLS LAST, as ascending btrees keep them), newest first among
            # equals. A store filter reads it too (a tenant has a few stores, not thousands).
            models.Index(
                fields=["tenant", "sla_due_at", "-last_message_at"], name="conv_tenant_due"
            ),
            models.Index(
                fields=["sla_check_at"],
                condition=Q(sla_check_at__isnull=False),
                name="conv_sla_check",
            ),
            # "Most urgent first": tickets triage marked urgent, then soonest due.
            models.Index(
                fields=["tenant", "-urgent", "sla_due_at", "-last_message_at"],
                name="conv_tenant_urgent_due",
            ),
            # The mailbox's intent filter.
            models.Index(
                fields=["tenant", "intent", "-last_message_at"], name="conv_tenant_intent"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", "From the buyer"
    OUTBOUND = "outbound", "From the seller"  # our agents, or the seller's other tools
    SYSTEM = "system", "System"  # platform notices, robot messages, agent joined


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Message(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    # Platform identity; both NULL while an agent's reply is still queued. NULL, not "", so that
    # the unique constraint skips queued replies and queued replies sort after sent ones.
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    index_key = models.CharField(max_length=INDEX_WIDTH, null=True, blank=True)  # noqa: DJ001

    direction = models.CharField(max_length=16, choices=MessageDirection.choices)
    sender_role = models.CharField(
        max_length=32, blank=True, help_text="BUYER, SHOP, CUSTOMER_SERVICE, SYSTEM, ROBOT, ..."
    )
    sender_name = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=32, help_text="Platform message type, kept as sent.")
    text = models.TextField(blank=True, help_text="TEXT content (or an agent's reply).")
    content = models.JSONField(default=dict, blank=True, help_text="Decoded platform content.")
    is_visible = models.BooleanField(default=True)
    sent_at = models.DateTimeField(default=timezone.now, help_text="Platform create time.")
    created_at = models.DateTimeField(default=timezone.now)
    # Every write that changes what the API shows of a message sets it (delivery state, the
    # platform's index of an echo), so `updated_since` syncs miss nothing.
    # (The database default too, so that bulk SQL inserts that name no such column stay valid.)
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())

    # Replies written in Sellerdesk.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_token = models.UUIDField(
        null=True, blank=True, unique=True, help_text="Idempotency key of a reply."
    )
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, blank=True, default=""
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attachment = models.FileField(upload_to="replies/%Y/%m/", blank=True)
    attachment_content_type = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_store_ext",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "index_key"], name="message_conv_index"),
            models.Index(fields=["conversation", "created_at"], name="message_conv_created"),
            models.Index(
                fields=["delivery_status", "next_attempt_at"],
                condition=Q(delivery_status__in=["queued", "sending"]),
                name="message_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.external_id or self.public_id}"


class TicketEventKind(models.TextChoices):
    NOTE = "note", "Internal note"
    STATUS = "status", "Status changed"
    ASSIGNMENT = "assignment", "Assignment changed"
    ORDER_LINKED = "order_linked", "Order linked"
    REOPENED = "reopened", "Reopened by the buyer"
    CREATED = "created", "Ticket created"
    SLA_BREACH = "sla_breach", "Service level missed"
    AFTER_SALE = "after_sale", "Return or cancellation decided"


class TicketEvent(models.Model):
    """Internal notes and the ticket's history; shown in the thread, never sent to the buyer."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=TicketEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="ticketevent_conv")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.conversation_id}"


class OrderLinkSource(models.TextChoices):
    ORDER_CARD = "order_card", "Order card from the buyer"
    ENTERED_FROM_ORDER = "entered_from_order", "Buyer came from the order"
    TEXT = "text", "Order id in the buyer's text"
    MANUAL = "manual", "Linked by an agent"
    STARTED_FROM_ORDER = "started_from_order", "Conversation started from the order"


class ConversationOrder(models.Model):
    """An order this ticket is about; linked orders come first in the sidebar."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="order_links"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_external_id = models.CharField(max_length=64)
    source = models.CharField(max_length=24, choices=OrderLinkSource.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "order_external_id"], name="conversation_order_unique"
            )
        ]
        # Search by order id: the tickets linked to it, one index probe.
        indexes = [
            models.Index(fields=["tenant", "order_external_id"], name="conv_order_tenant_order")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} -> order {self.order_external_id}"


class Snippet(models.Model):
    """A saved reply; its body may use whitelisted order, buyer, store and agent placeholders."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="snippets")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=120)
    shortcut = models.SlugField(max_length=40, help_text="Typed after / or # in the composer.")
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "shortcut"], name="snippet_tenant_shortcut")
        ]
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class TicketCounter(models.Model):
    """The last ticket number handed out in a tenant; incremented under a row lock."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.last_number}"


class StoreInboxState(models.Model):
    """Per-store polling state: a lease so that two workers never poll one store at once."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, primary_key=True, related_name="inbox_state"
    )
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"inbox state of store {self.store_id}"
