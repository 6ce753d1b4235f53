"""Everything an agent does to a ticket: replies, status, assignment, notes, read marking,
starting a conversation from an order, and the snippet library.

Each function is the one way to make its change: it checks that the member may serve the ticket's
store, writes in one transaction with the history row (TicketEvent, with the actor), and schedules
the platform side (sending, marking read) after commit. Views resolve the ticket with their access
helper first (404 for another tenant or store); the checks here are the second lock on the door.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplaces.adapter import store_api
from marketplaces.channel import (
    ChannelError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    StoreUnavailableError,
    UnavailableError,
    capabilities_for,
)
from marketplaces.models import Store
from marketplaces.selectors import allowed_store_ids
from orders.models import Order
from search import index as search_index
from sla import clocks as sla_clocks
from tenants.models import Membership, Role
from tenants.principals import actor_name, actor_trace

from . import events
from .models import (
    Conversation,
    ConversationOrder,
    DeliveryStatus,
    Message,
    MessageDirection,
    OrderLinkSource,
    Snippet,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from .snippets import SnippetError, validate_body
from .validation import ImageInput, ReplyInvalidError, validate_reply

logger = logging.getLogger(__name__)

NOTE_MAX_CHARS = 5000
PREVIEW_CHARS = 255


class TicketAccessError(PermissionDenied):
    """The member may not act on this ticket (another tenant, or a store they do not serve)."""


class InboxActionError(Exception):
    """An action that cannot be done; the message is for the agent."""


class SnippetInvalidError(Exception):
    """A snippet that cannot be saved; `errors` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


# --- Access -----------------------------------------------------------------------------------


def member_serves_store(membership: Membership, *, tenant_id: int, store_id: int) -> bool:
    if membership.tenant_id != tenant_id:
        return False
    allowed = allowed_store_ids(membership)
    return allowed is None or allowed.filter(store_id=store_id).exists()


def _require_serves(membership: Membership, *, tenant_id: int, store_id: int) -> None:
    if not member_serves_store(membership, tenant_id=tenant_id, store_id=store_id):
        raise TicketAccessError("You do not serve this store.")


def _event(
    conversation: Conversation,
    *,
    kind: str,
    actor: Membership | None,
    body: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        kind=kind,
        actor=actor.user if actor is not None else None,
        body=body,
        # An API key has no user: the row says which key acted ("via API key <name>").
        data={**(data or {}), **actor_trace(actor)},
    )


def _on_commit_task(task_name: str, *args: Any) -> None:
    """Dispatch one of inbox.tasks after commit (imported late: tasks import this module)."""

    def send() -> None:
        from . import tasks

        getattr(tasks, task_name).delay(*args)

    transaction.on_commit(send)


def _apply_status(
    conversation: Conversation, status: str, *, actor: Membership | None
) -> dict[str, Any]:
    """Changes the (locked) ticket's status in memory and records the change; returns the fields
    to save (none when the status is the same)."""
    if status == conversation.status:
        return {}
    previous = conversation.status
    now = timezone.now()
    conversation.status = status
    conversation.status_changed_at = now
    conversation.solved_at = now if status == TicketStatus.SOLVED else None
    _event(
        conversation,
        kind=TicketEventKind.STATUS,
        actor=actor,
        data={"from": previous, "to": status},
    )
    # The team's SLA clocks stand still unless the ticket is Open (sla.clocks).
    clocks = sla_clocks.ticket_moved(
        conversation,
        sla_clocks.clock_config(conversation.store_id),
        now=now,
        previous_status=previous,
    )
    return {
        "status": status,
        "status_changed_at": now,
        "solved_at": conversation.solved_at,
        **sla_clocks.changed_values(conversation, clocks),
    }


def _copy_fields(target: Conversation, source: Conversation, names: list[str]) -> None:
    for name in names:
        setattr(target, name, getattr(source, name))


# --- Replies ----------------------------------------------------------------------------------


def _preview(text: str) -> str:
    line = " ".join(text.split())
    if not line:
        return "[Image]"
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def reply_create(
    *,
    membership: Membership,
    conversation: Conversation,
    text: str | None,
    image: ImageInput | None = None,
    next_status: str | None = None,
    client_token: uuid.UUID | None = None,
) -> Message:
    """Stores the reply as QUEUED (shown at once), sets the ticket's next status, and sends it
    after commit. Raises ReplyInvalidError (field messages) before anything is written or sent.

    `client_token` makes a resubmitted form (double click, network retry) return the reply
    already stored instead of queueing a second one.
    """
    _require_serves(membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id)
    if next_status and next_status not in TicketStatus.values:
        raise ReplyInvalidError({"next_status": ["Choose Send, Send & Pending or Send & Solve."]})
    checked = validate_reply(
        text=text, image=image, capabilities=capabilities_for(conversation.store.platform)
    )
    if client_token is not None:
        existing = Message.objects.filter(
            tenant_id=conversation.tenant_id, client_token=client_token
        ).first()
        if existing is not None:
            if existing.conversation_id != conversation.pk:
                raise TicketAccessError("That reply belongs to another ticket.")
            return existing
    if not conversation.can_send_message:
        raise InboxActionError(
            f"{conversation.store.get_platform_display()} does not allow sending messages in "
            "this conversation any more."
        )

    now = timezone.now()
    message = Message(
        tenant_id=conversation.tenant_id,
        store_id=conversation.store_id,
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        sender_role="CUSTOMER_SERVICE",
        sender_name=actor_name(membership),
        type="TEXT" if checked.text else "IMAGE",
        text=checked.text,
        content={"content": checked.text} if checked.text else {},
        sent_at=now,
        created_at=now,
        author=membership.user,  # None for an API key: sender_name names it
        client_token=client_token or uuid.uuid4(),
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=now,
    )
    if checked.image is not None:
        message.attachment_content_type = checked.image.content_type
        message.content = {
            **message.content,
            "image": {"width": checked.image.width, "height": checked.image.height},
        }
    try:
        with transaction.atomic():
            locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
            if checked.image is not None:
                # The file is written under MEDIA_ROOT only once the reply is known to be valid.
                message.attachment.save(
                    f"{uuid.uuid4().hex}.{checked.image.extension}",
                    ContentFile(checked.image.data),
                    save=False,
                )
            message.save()
            previous = locked.status
            fields = _apply_status(locked, next_status, actor=membership) if next_status else {}
            updates = {
                **fields,
                "awaiting_reply_since": None,
                "unread_count": 0,
                "last_message_at": now,
                "last_message_preview": _preview(checked.text),
                "last_message_from_buyer": False,
                "updated_at": now,
            }
            Conversation.objects.filter(pk=locked.pk).update(
                **updates,
                **search_index.document_append(store=conversation.store, text=checked.text),
            )
            if fields:
                events.ticket_updated(locked, {"status": {"from": previous, "to": next_status}})
            for name, value in updates.items():
                setattr(conversation, name, value)
            _on_commit_task("send_reply", message.pk)
            # Answering marks the buyer's messages read on TikTok too (our unread count may lag
            # behind the platform's, so this is not made conditional on it).
            _on_commit_task("mark_conversation_read", conversation.pk)
    except IntegrityError:
        # Two submissions with one client token raced: the other one stored the reply.
        if client_token is None:
            raise
        return Message.objects.get(tenant_id=conversation.tenant_id, client_token=client_token)
    return message


def reply_retry(*, membership: Membership, message: Message) -> Message:
    """The Retry button. A FAILED reply goes back to the queue with a fresh attempt budget; a
    reply waiting for its next attempt after a transient error ("Retry now") is tried at once,
    its attempts so far still counted. If an earlier attempt may have reached TikTok, the sender
    reconciles before sending again."""
    _require_serves(membership, tenant_id=message.tenant_id, store_id=message.store_id)
    if message.direction != MessageDirection.OUTBOUND or not message.delivery_status:
        raise InboxActionError("Only a reply written here can be retried.")
    now = timezone.now()
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message.pk, delivery_status=DeliveryStatus.FAILED
        ).update(
            delivery_status=DeliveryStatus.QUEUED,
            attempts=0,
            next_attempt_at=now,
            failure_reason="",
            updated_at=now,
        )
        if not claimed:
            # Waiting out a backoff: due now. (The task already scheduled for later finds it
            # sent, or claims it if this one has not: a claim is a conditional update.)
            claimed = Message.objects.filter(
                pk=message.pk,
                delivery_status=DeliveryStatus.QUEUED,
                attempts__gt=0,
                next_attempt_at__gt=now,
            ).update(next_attempt_at=now)
        if not claimed:
            raise InboxActionError("This reply is not waiting for a retry.")
        _on_commit_task("send_reply", message.pk)
    message.refresh_from_db()
    return message


# --- Ticket actions ---------------------------------------------------------------------------


def ticket_open(*, membership: Membership, conversation: Conversation) -> bool:
    """An agent opened the ticket: its buyer messages are read. Returns True when there were
    unread ones (then TikTok is told too, after commit; a failure there is only logged)."""
    _require_serves(membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id)
    with transaction.atomic():
        cleared = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
            unread_count=0, updated_at=timezone.now()
        )
        if cleared:
            _on_commit_task("mark_conversation_read", conversation.pk)
    conversation.unread_count = 0
    return bool(cleared)


def ticket_set_status(
    *, membership: Membership, conversation: Conversation, status: str
) -> Conversation:
    _require_serves(membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id)
    if status not in TicketStatus.values:
        raise InboxActionError("Choose Open, Pending or Solved.")
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        previous = locked.status
        fields = _apply_status(locked, status, actor=membership)
        if fields:
            Conversation.objects.filter(pk=locked.pk).update(**fields, updated_at=timezone.now())
            events.ticket_updated(locked, {"status": {"from": previous, "to": status}})
    _copy_fields(conversation, locked, ["status", "status_changed_at", "solved_at"])
    return conversation


def _person(user: Any) -> dict[str, str] | None:
    if user is None:
        return None
    return {"id": str(user.public_id), "name": user.get_full_name().strip() or user.email}


def ticket_assign(
    *,
    membership: Membership,
    conversation: Conversation,
    assignee_membership: Membership | None,
) -> Conversation:
    """Assign to me, to another member who may serve the ticket's store, or unassign (None)."""
    _require_serves(membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id)
    if assignee_membership is not None and not member_serves_store(
        assignee_membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id
    ):
        raise InboxActionError("That teammate does not serve this ticket's store.")
    new_user = assignee_membership.user if assignee_membership is not None else None
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("assignee")
            .get(pk=conversation.pk)
        )
        if locked.assignee_id != (new_user.pk if new_user else None):
            _event(
                locked,
                kind=TicketEventKind.ASSIGNMENT,
                actor=membership,
                data={"from": _person(locked.assignee), "to": _person(new_user)},
            )
            Conversation.objects.filter(pk=locked.pk).update(
                assignee=new_user, updated_at=timezone.now()
            )
            events.ticket_updated(
                locked,
                {"assignee": {"from": _person(locked.assignee), "to": _person(new_user)}},
            )
    conversation.assignee = new_user
    return conversation


def note_add(*, membership: Membership, conversation: Conversation, body: str) -> TicketEvent:
    """An internal note: shown in the thread to the team, never sent to the buyer."""
    _require_serves(membership, tenant_id=conversation.tenant_id, store_id=conversation.store_id)
    clean = (body or "").replace("\r\n", "\n").strip()
    if not clean:
        raise InboxActionError("Write the note first.")
    if len(clean) > NOTE_MAX_CHARS:
        raise InboxActionError(f"A note is limited to {NOTE_MAX_CHARS:,} characters.")
    with transaction.atomic():
        note = _event(conversation, kind=TicketEventKind.NOTE, actor=membership, body=clean)
        Conversation.objects.filter(pk=conversation.pk).update(
            updated_at=timezone.now(),
            **search_index.document_append(store=conversation.store, text=clean),
        )
        events.note_created(note, conversation)
    return note


def conversation_mark_read(*, conversation_id: int) -> bool:
    """Tells TikTok the buyer's messages were read (the task body). Failures are logged and
    swallowed: read marking is a courtesy, never a reason to show an agent an error."""
    conversation = Conversation.objects.select_related("store").filter(pk=conversation_id).first()
    if conversation is None:
        return False
    try:
        store_api(conversation.store).mark_read(conversation.external_id)
    except StoreUnavailableError:
        logger.info("mark read skipped: store %s is not active", conversation.store_id)
        return False
    except ChannelError as error:
        logger.warning(
            "mark read of conversation %s (ticket %s) failed: %s",
            conversation.external_id,
            conversation.pk,
            error,
        )
        return False
    return True


# --- Starting a conversation from an order ------------------------------------------------------


def _start_error(error: Exception, store: Store) -> InboxActionError:
    platform = store.get_platform_display()
    if isinstance(error, StoreUnavailableError):
        return InboxActionError(
            f"{store.name} needs to be reconnected before you can message its buyers."
        )
    if isinstance(error, PermissionDeniedError):
        return InboxActionError(
            f"{platform} lets a seller start a chat only with a buyer who ordered or chatted "
            "recently; this buyer cannot be messaged from here."
        )
    if isinstance(error, OutcomeUnknownError | RateLimitedError | UnavailableError):
        return InboxActionError(
            f"{platform} did not answer in time. Try again in a moment: the same conversation "
            "is opened, never a second one."
        )
    return InboxActionError(f"{platform} refused to open the conversation: {error}")


def _ticket_of_new_conversation(*, store: Store, conversation_id: str) -> Conversation:
    """The ticket through ingest: the conversation's buyer and messages when TikTok answers the
    read, otherwise the bare ticket (the next poll fills in its buyer)."""
    from . import ingest, polling

    try:
        conversation, _ = polling.conversation_refresh(store=store, conversation_id=conversation_id)
    except ChannelError as error:
        logger.info("new conversation %s not read yet: %s", conversation_id, error)
        conversation = ingest.conversation_ingest(store=store, external_id=conversation_id)
    return conversation


def conversation_start_from_order(*, membership: Membership, order: Order) -> Conversation:
    """Opens (or reopens) the chat with the order's buyer and returns its ticket, reopened, with
    the order linked (source started_from_order)."""
    _require_serves(membership, tenant_id=order.tenant_id, store_id=order.store_id)
    if not order.buyer_user_id:
        raise InboxActionError("This order has no buyer id, so its buyer cannot be messaged.")
    store = order.store
    api = store_api(store)
    try:
        conversation_id = api.create_conversation(order.buyer_user_id)
    except ChannelError as error:
        raise _start_error(error, store) from error
    if not conversation_id:
        raise InboxActionError(
            f"{store.get_platform_display()} did not say which conversation it opened."
        )

    conversation = Conversation.objects.filter(store=store, external_id=conversation_id).first()
    if conversation is None:
        conversation = _ticket_of_new_conversation(store=store, conversation_id=conversation_id)

    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        previous = locked.status
        fields = _apply_status(locked, TicketStatus.OPEN, actor=membership)
        if fields:
            Conversation.objects.filter(pk=locked.pk).update(**fields, updated_at=timezone.now())
            events.ticket_updated(locked, {"status": {"from": previous, "to": TicketStatus.OPEN}})
        _, linked = ConversationOrder.objects.get_or_create(
            conversation=locked,
            order_external_id=order.external_id,
            defaults={
                "tenant_id": locked.tenant_id,
                "order": order,
                "source": OrderLinkSource.STARTED_FROM_ORDER,
            },
        )
        if linked:
            _event(
                locked,
                kind=TicketEventKind.ORDER_LINKED,
                actor=membership,
                data={"order_id": order.external_id, "source": OrderLinkSource.STARTED_FROM_ORDER},
            )
    locked.refresh_from_db()
    return locked


# --- Snippets ---------------------------------------------------------------------------------


def _require_snippet_editor(membership: Membership) -> None:
    if not membership.has_role(Role.ADMIN):
        raise PermissionDenied("Only owners and admins can change the snippet library.")


def _snippet_checked(
    *, membership: Membership, title: str, shortcut: str, body: str, current: Snippet | None
) -> dict[str, str]:
    from django.utils.text import slugify

    errors: dict[str, list[str]] = {}
    clean_title = (title or "").strip()
    if not clean_title:
        errors["title"] = ["Give the snippet a title."]
    elif len(clean_title) > 120:
        errors["title"] = ["A title is limited to 120 characters."]
    clean_shortcut = slugify((shortcut or "").strip().lstrip("/#"))
    if not clean_shortcut:
        errors["shortcut"] = ["Give the snippet a shortcut (letters, numbers and dashes)."]
    elif len(clean_shortcut) > 40:
        errors["shortcut"] = ["A shortcut is limited to 40 characters."]
    else:
        taken = Snippet.objects.filter(tenant_id=membership.tenant_id, shortcut=clean_shortcut)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            errors["shortcut"] = [f"Another snippet already uses the shortcut /{clean_shortcut}."]
    try:
        clean_body = validate_body(body)
    except SnippetError as error:
        errors["body"] = [str(error)]
        clean_body = ""
    if errors:
        raise SnippetInvalidError(errors)
    return {"title": clean_title, "shortcut": clean_shortcut, "body": clean_body}


def snippet_create(*, membership: Membership, title: str, shortcut: str, body: str) -> Snippet:
    _require_snippet_editor(membership)
    values = _snippet_checked(
        membership=membership, title=title, shortcut=shortcut, body=body, current=None
    )
    try:
        with transaction.atomic():
            return Snippet.objects.create(
                tenant_id=membership.tenant_id, created_by=membership.user, **values
            )
    except IntegrityError as error:  # a teammate saved the same shortcut meanwhile
        raise SnippetInvalidError(
            {"shortcut": [f"Another snippet already uses the shortcut /{values['shortcut']}."]}
        ) from error


def _own_snippet(membership: Membership, snippet: Snippet) -> None:
    if snippet.tenant_id != membership.tenant_id:
        raise PermissionDenied("No such snippet.")


def snippet_update(
    *, membership: Membership, snippet: Snippet, title: str, shortcut: str, body: str
) -> Snippet:
    _require_snippet_editor(membership)
    _own_snippet(membership, snippet)
    values = _snippet_checked(
        membership=membership, title=title, shortcut=shortcut, body=body, current=snippet
    )
    try:
        with transaction.atomic():
            Snippet.objects.filter(pk=snippet.pk).update(**values, updated_at=timezone.now())
    except IntegrityError as error:
        raise SnippetInvalidError(
            {"shortcut": [f"Another snippet already uses the shortcut /{values['shortcut']}."]}
        ) from error
    snippet.refresh_from_db()
    return snippet


def snippet_delete(*, membership: Membership, snippet: Snippet) -> None:
    _require_snippet_editor(membership)
    _own_snippet(membership, snippet)
    Snippet.objects.filter(pk=snippet.pk, tenant_id=membership.tenant_id).delete()


# Re-exported for callers that catch the composer's errors from here.
__all__ = [
    "InboxActionError",
    "ReplyInvalidError",
    "SnippetInvalidError",
    "TicketAccessError",
    "conversation_mark_read",
    "conversation_start_from_order",
    "member_serves_store",
    "note_add",
    "reply_create",
    "reply_retry",
    "snippet_create",
    "snippet_delete",
    "snippet_update",
    "ticket_assign",
    "ticket_open",
    "ticket_set_status",
]
