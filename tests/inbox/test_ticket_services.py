"""Ticket actions (inbox.services): replies stored first, read marking, status, assignment, notes,
retry, store limits and tenants; starting a conversation from an order over the live sandbox."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from inbox import services
from inbox.models import (
    Conversation,
    ConversationOrder,
    DeliveryStatus,
    Message,
    MessageDirection,
    OrderLinkSource,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from marketplaces.adapter import store_api
from marketplaces.models import StoreStatus
from orders.ingest import orders_upsert
from orders.models import Order
from tenants.models import Membership, Role
from tests.factories_inbox import ConversationFactory, OutboxMessageFactory
from tests.factories_marketplaces import StoreAccessFactory, StoreFactory, member


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def scheduled(monkeypatch) -> list[tuple[str, tuple]]:
    from inbox import tasks

    calls: list[tuple[str, tuple]] = []
    for name in ("send_reply", "mark_conversation_read"):
        monkeypatch.setattr(
            getattr(tasks, name), "delay", lambda *args, _name=name: calls.append((_name, args))
        )
    return calls


@pytest.fixture
def owner_membership(owner, tenant) -> Membership:
    return Membership.objects.get(user=owner, tenant=tenant)


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Sunrise US")


@pytest.fixture
def other_store(tenant):
    return StoreFactory(tenant=tenant, name="Maomao GB")


@pytest.fixture
def ticket(store) -> Conversation:
    return ConversationFactory(
        store=store,
        unread_count=2,
        awaiting_reply_since=timezone.now(),
        last_message_preview="Where is my parcel?",
        last_message_from_buyer=True,
    )


@pytest.fixture
def limited_agent(tenant, other_store) -> Membership:
    """An agent who serves only the other store."""
    agent = member(tenant, Role.AGENT, "limited@acme.test")
    agent.user.first_name, agent.user.last_name = "Lena", "Limited"
    agent.user.save()
    StoreAccessFactory(store=other_store, membership=agent)
    return agent


@pytest.fixture
def stranger(other_tenant) -> Membership:
    return member(other_tenant, Role.OWNER, "owner@rival.test")


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- Replies -----------------------------------------------------------------------------------


def test_a_reply_is_stored_queued_and_sent_after_commit(
    owner_membership, owner, ticket, scheduled, django_capture_on_commit_callbacks
):
    owner.first_name, owner.last_name = "Olivia", "Owner"
    owner.save()
    token = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_create(
            membership=owner_membership,
            conversation=ticket,
            text="Hi! It ships today.\r\nThanks",
            next_status=TicketStatus.PENDING,
            client_token=token,
        )
        assert scheduled == []  # nothing leaves before the commit

    stored = Message.objects.get()
    assert stored.pk == reply.pk
    assert (stored.direction, stored.type, stored.delivery_status) == (
        MessageDirection.OUTBOUND,
        "TEXT",
        DeliveryStatus.QUEUED,
    )
    assert stored.text == "Hi! It ships today.\nThanks"
    assert stored.content == {"content": "Hi! It ships today.\nThanks"}
    assert (stored.author, stored.sender_name, stored.client_token) == (
        owner,
        "Olivia Owner",
        token,
    )
    assert (stored.external_id, stored.index_key, stored.attempts) == (None, None, 0)
    assert stored.attachment.name == ""

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.awaiting_reply_since is None
    assert ticket.unread_count == 0
    assert ticket.last_message_preview == "Hi! It ships today. Thanks"
    assert ticket.last_message_from_buyer is False
    assert ticket.last_message_at == stored.created_at

    event = TicketEvent.objects.get()
    assert (event.kind, event.actor, event.data) == (
        TicketEventKind.STATUS,
        owner,
        {"from": "open", "to": "pending"},
    )
    assert scheduled == [("send_reply", (stored.pk,)), ("mark_conversation_read", (ticket.pk,))]


def test_a_resubmitted_reply_with_the_same_client_token_is_stored_once(
    owner_membership, ticket, scheduled, django_capture_on_commit_callbacks
):
    token = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.reply_create(
            membership=owner_membership, conversation=ticket, text="Once", client_token=token
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = services.reply_create(
            membership=owner_membership, conversation=ticket, text="Once", client_token=token
        )
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert [name for name, _ in scheduled] == ["send_reply", "mark_conversation_read"]


def test_an_image_reply_is_saved_under_media_root(
    owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("photo.bin", png(), content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_create(
            membership=owner_membership,
            conversation=ticket,
            text="",
            image=upload,
            next_status=TicketStatus.SOLVED,
        )
    reply.refresh_from_db()
    assert reply.type == "IMAGE"
    assert reply.text == ""
    assert reply.attachment_content_type == "image/png"
    assert reply.content == {"image": {"width": 64, "height": 48}}
    saved = Path(reply.attachment.path)
    assert saved.is_relative_to(media / "replies")
    assert saved.suffix == ".png"
    assert saved.read_bytes() == png()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.last_message_preview) == (TicketStatus.SOLVED, "[Image]")
    assert ticket.solved_at is not None


def test_a_conversation_closed_by_the_platform_takes_no_reply(
    owner_membership, ticket, scheduled, django_capture_on_commit_callbacks
):
    Conversation.objects.filter(pk=ticket.pk).update(can_send_message=False)
    ticket.refresh_from_db()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(
            services.InboxActionError,
            match="TikTok Shop does not allow sending messages in this conversation any more",
        ),
    ):
        services.reply_create(membership=owner_membership, conversation=ticket, text="Hello")
    assert Message.objects.count() == 0
    assert scheduled == []


def test_a_limited_agent_cannot_reply_on_another_stores_ticket(
    limited_agent, ticket, scheduled, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.TicketAccessError),
    ):
        services.reply_create(membership=limited_agent, conversation=ticket, text="Hello")
    assert Message.objects.count() == 0
    assert scheduled == []


def test_another_tenant_cannot_touch_our_ticket(
    stranger, ticket, scheduled, django_capture_on_commit_callbacks
):
    before = Conversation.objects.filter(pk=ticket.pk).values().get()
    with django_capture_on_commit_callbacks(execute=True):
        for action in (
            lambda: services.reply_create(membership=stranger, conversation=ticket, text="Hi"),
            lambda: services.ticket_open(membership=stranger, conversation=ticket),
            lambda: services.ticket_set_status(
                membership=stranger, conversation=ticket, status=TicketStatus.SOLVED
            ),
            lambda: services.ticket_assign(
                membership=stranger, conversation=ticket, assignee_membership=stranger
            ),
            lambda: services.note_add(membership=stranger, conversation=ticket, body="Mine now"),
        ):
            with pytest.raises(services.TicketAccessError):
                action()
    assert Conversation.objects.filter(pk=ticket.pk).values().get() == before
    assert Message.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert scheduled == []


def test_retry_puts_a_failed_reply_back_in_the_queue(
    owner_membership, ticket, scheduled, django_capture_on_commit_callbacks
):
    failed = OutboxMessageFactory(
        conversation=ticket,
        delivery_status=DeliveryStatus.FAILED,
        attempts=8,
        failure_reason="TikTok Shop is not answering.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.reply_retry(membership=owner_membership, message=failed)
    assert (retried.delivery_status, retried.attempts, retried.failure_reason) == (
        DeliveryStatus.QUEUED,
        0,
        "",
    )
    assert scheduled == [("send_reply", (failed.pk,))]
    with pytest.raises(services.InboxActionError, match="not waiting for a retry"):
        services.reply_retry(membership=owner_membership, message=retried)


def test_retry_refuses_buyer_messages(owner_membership, ticket, scheduled):
    from tests.factories_inbox import MessageFactory

    buyer_message = MessageFactory(conversation=ticket)
    with pytest.raises(services.InboxActionError, match="Only a reply written here"):
        services.reply_retry(membership=owner_membership, message=buyer_message)


# --- Read marking, status, assignment, notes ---------------------------------------------------


def test_opening_a_ticket_marks_it_read_once(
    owner_membership, ticket, scheduled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ticket_open(membership=owner_membership, conversation=ticket) is True
    ticket.refresh_from_db()
    assert ticket.unread_count == 0
    assert scheduled == [("mark_conversation_read", (ticket.pk,))]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ticket_open(membership=owner_membership, conversation=ticket) is False
    assert scheduled == [("mark_conversation_read", (ticket.pk,))]


def test_status_changes_are_recorded_with_the_actor(owner_membership, owner, ticket):
    services.ticket_set_status(
        membership=owner_membership, conversation=ticket, status=TicketStatus.SOLVED
    )
    services.ticket_set_status(
        membership=owner_membership, conversation=ticket, status=TicketStatus.SOLVED
    )
    services.ticket_set_status(
        membership=owner_membership, conversation=ticket, status=TicketStatus.OPEN
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at) == (TicketStatus.OPEN, None)
    assert list(TicketEvent.objects.values_list("kind", "actor", "data")) == [
        (TicketEventKind.STATUS, owner.pk, {"from": "open", "to": "solved"}),
        (TicketEventKind.STATUS, owner.pk, {"from": "solved", "to": "open"}),
    ]
    with pytest.raises(services.InboxActionError, match="Choose Open, Pending or Solved"):
        services.ticket_set_status(membership=owner_membership, conversation=ticket, status="x")


def test_assign_to_me_to_a_teammate_and_unassign(tenant, owner_membership, owner, ticket, store):
    teammate = member(tenant, Role.AGENT, "tom@acme.test")
    teammate.user.first_name, teammate.user.last_name = "Tom", "Teammate"
    teammate.user.save()
    owner.first_name, owner.last_name = "Olivia", "Owner"
    owner.save()

    services.ticket_assign(
        membership=owner_membership, conversation=ticket, assignee_membership=owner_membership
    )
    services.ticket_assign(
        membership=owner_membership, conversation=ticket, assignee_membership=teammate
    )
    services.ticket_assign(
        membership=owner_membership, conversation=ticket, assignee_membership=teammate
    )
    services.ticket_assign(membership=teammate, conversation=ticket, assignee_membership=None)

    ticket.refresh_from_db()
    assert ticket.assignee is None
    olivia = {"id": str(owner.public_id), "name": "Olivia Owner"}
    tom = {"id": str(teammate.user.public_id), "name": "Tom Teammate"}
    assert list(TicketEvent.objects.values_list("kind", "actor", "data")) == [
        (TicketEventKind.ASSIGNMENT, owner.pk, {"from": None, "to": olivia}),
        (TicketEventKind.ASSIGNMENT, owner.pk, {"from": olivia, "to": tom}),
        (TicketEventKind.ASSIGNMENT, teammate.user.pk, {"from": tom, "to": None}),
    ]


def test_a_ticket_cannot_go_to_an_agent_who_does_not_serve_its_store(
    owner_membership, limited_agent, ticket, stranger
):
    for assignee in (limited_agent, stranger):
        with pytest.raises(services.InboxActionError, match="does not serve this ticket's store"):
            services.ticket_assign(
                membership=owner_membership, conversation=ticket, assignee_membership=assignee
            )
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert TicketEvent.objects.count() == 0


def test_a_note_is_internal_and_never_sent(
    owner_membership, owner, ticket, scheduled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = services.note_add(
            membership=owner_membership, conversation=ticket, body="  Buyer is a VIP\r\n"
        )
    assert (note.kind, note.body, note.actor) == (TicketEventKind.NOTE, "Buyer is a VIP", owner)
    assert Message.objects.count() == 0
    assert scheduled == []
    with pytest.raises(services.InboxActionError, match="Write the note first"):
        services.note_add(membership=owner_membership, conversation=ticket, body=" ")
    with pytest.raises(services.InboxActionError, match="limited to 5,000"):
        services.note_add(membership=owner_membership, conversation=ticket, body="x" * 5001)
    assert TicketEvent.objects.count() == 1


# --- Over the live sandbox ---------------------------------------------------------------------


@pytest.fixture
def live_store(connect_sandbox_store, tenant):
    return connect_sandbox_store(tenant=tenant)


def first_order(store) -> Order:
    page = next(store_api(store).order_pages())
    record = next(item for item in page.items if item.buyer_user_id)
    orders_upsert(store=store, orders=[record])
    return Order.objects.get(store=store, external_id=record.external_id)


def test_start_a_conversation_from_an_order_and_land_in_the_same_ticket_again(
    live_store, owner_membership, owner
):
    order = first_order(live_store)
    ticket = services.conversation_start_from_order(membership=owner_membership, order=order)

    assert ticket.store_id == live_store.pk
    assert ticket.status == TicketStatus.OPEN
    link = ConversationOrder.objects.get(conversation=ticket)
    assert (link.order, link.order_external_id, link.source) == (
        order,
        order.external_id,
        OrderLinkSource.STARTED_FROM_ORDER,
    )
    assert list(
        TicketEvent.objects.filter(conversation=ticket).values_list("kind", "actor", "data")
    ) == [
        (TicketEventKind.CREATED, None, {"conversation_id": ticket.external_id}),  # by ingest
        (
            TicketEventKind.ORDER_LINKED,
            owner.pk,
            {"order_id": order.external_id, "source": "started_from_order"},
        ),
    ]

    services.ticket_set_status(
        membership=owner_membership, conversation=ticket, status=TicketStatus.SOLVED
    )
    again = services.conversation_start_from_order(membership=owner_membership, order=order)
    assert again.pk == ticket.pk
    assert again.status == TicketStatus.OPEN  # reopened
    assert (
        Conversation.objects.filter(store=live_store, external_id=ticket.external_id).count() == 1
    )
    assert ConversationOrder.objects.filter(conversation=ticket).count() == 1
    assert list(
        TicketEvent.objects.filter(conversation=ticket, kind=TicketEventKind.STATUS).values_list(
            "data", flat=True
        )
    ) == [{"from": "open", "to": "solved"}, {"from": "solved", "to": "open"}]


def test_start_is_refused_for_a_store_to_reconnect_and_for_a_limited_agent(
    live_store, owner_membership, limited_agent
):
    order = first_order(live_store)
    with pytest.raises(services.TicketAccessError):
        services.conversation_start_from_order(membership=limited_agent, order=order)
    live_store.status = StoreStatus.NEEDS_REAUTH
    live_store.save()
    order.refresh_from_db()
    with pytest.raises(services.InboxActionError) as caught:
        services.conversation_start_from_order(membership=owner_membership, order=order)
    assert str(caught.value) == (
        f"{live_store.name} needs to be reconnected before you can message its buyers."
    )
    assert Conversation.objects.count() == 0


def test_start_is_refused_for_a_buyer_the_platform_does_not_know(live_store, owner_membership):
    order = first_order(live_store)
    order.buyer_user_id = "7000000000000000001"
    order.save()
    with pytest.raises(services.InboxActionError) as caught:
        services.conversation_start_from_order(membership=owner_membership, order=order)
    assert str(caught.value) == (
        "TikTok Shop lets a seller start a chat only with a buyer who ordered or chatted "
        "recently; this buyer cannot be messaged from here."
    )
    assert Conversation.objects.count() == 0


def platform_unread(sandbox, conversation_id: str) -> int:
    """The conversation's unread count as the platform lists it (a signed call of our own)."""
    token = None
    while True:
        query = {"page_size": "20", **({"page_token": token} if token else {})}
        data = sandbox.call("GET", "/customer_service/202309/conversations", query=query).json()
        for item in data["data"]["conversations"]:
            if item["id"] == conversation_id:
                return item["unread_count"]
        token = data["data"].get("next_page_token")
        if not token:
            raise AssertionError(f"conversation {conversation_id} not listed")


def test_mark_read_tells_the_platform_and_never_raises(live_store, tiktok_settings):
    sandbox = tiktok_settings
    written = sandbox.buyer_write(live_store.external_shop_id, text="Anyone there?")
    ticket = ConversationFactory(store=live_store, external_id=written["conversation_id"])

    assert platform_unread(sandbox, written["conversation_id"]) >= 1
    assert services.conversation_mark_read(conversation_id=ticket.pk) is True
    assert platform_unread(sandbox, written["conversation_id"]) == 0
    unknown = ConversationFactory(store=live_store, external_id="1")
    assert services.conversation_mark_read(conversation_id=unknown.pk) is False
    live_store.status = StoreStatus.NEEDS_REAUTH
    live_store.save()
    assert services.conversation_mark_read(conversation_id=ticket.pk) is False
    assert services.conversation_mark_read(conversation_id=999999) is False
