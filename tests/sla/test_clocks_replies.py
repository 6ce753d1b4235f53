"""The clocks and the outbox, over the live sandbox: a reply stops the clocks only once it has
reached the buyer; a queued reply does not, and one that fails to send leaves them running."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inbox import outbox, polling, services
from inbox.models import Conversation, DeliveryStatus, Message
from marketplaces.models import StoreStatus


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch) -> None:
    """Tasks are not dispatched: the test runs the sender itself."""
    from inbox import tasks

    for name in ("send_reply", "mark_conversation_read"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def live(connect_sandbox_store, tenant, tiktok_settings, make_policy) -> tuple[Any, Conversation]:
    # The sandbox's conversations may have older replies: first and next response alike.
    make_policy(first_response_minutes=60, next_response_minutes=60)
    store = connect_sandbox_store(tenant=tenant)
    written = tiktok_settings.buyer_write(store.external_shop_id, text="Is it shipped yet?")
    ticket, _ = polling.conversation_refresh(
        store=store, conversation_id=written["conversation_id"]
    )
    # Platform times are whole seconds, and a buyer message of the reply's own second counts as
    # still waiting: the replies of these tests are written in a later second.
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
    return store, Conversation.objects.get(pk=ticket.pk)


def test_a_reply_that_fails_to_send_leaves_both_clocks_running(live, owner_membership):
    store, ticket = live
    waiting = ticket.reply_wait_since
    assert waiting is not None
    assert ticket.platform_due_at == waiting + timedelta(hours=24)
    assert ticket.sla_reply_due_at == waiting + timedelta(minutes=60)
    first_response = ticket.first_response_at  # None, or a reply of the sandbox's history

    reply = services.reply_create(
        membership=owner_membership, conversation=ticket, text="It ships tomorrow."
    )
    queued = Conversation.objects.get(pk=ticket.pk)
    # Queued is not reached: nothing stopped.
    assert (queued.reply_wait_since, queued.platform_due_at, queued.sla_reply_due_at) == (
        waiting,
        waiting + timedelta(hours=24),
        waiting + timedelta(minutes=60),
    )
    assert queued.first_response_at == first_response

    store.status = StoreStatus.NEEDS_REAUTH
    store.save()
    assert outbox.reply_send(message_id=reply.pk).status == "failed"
    failed = Conversation.objects.get(pk=ticket.pk)
    assert (failed.reply_wait_since, failed.platform_due_at, failed.sla_due_at) == (
        waiting,
        waiting + timedelta(hours=24),
        waiting + timedelta(minutes=60),
    )
    assert failed.first_response_at == first_response

    store.status = StoreStatus.ACTIVE
    store.save()
    services.reply_retry(membership=owner_membership, message=reply)
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    sent = Conversation.objects.get(pk=ticket.pk)
    assert (sent.reply_wait_since, sent.platform_due_at, sent.sla_reply_due_at) == (
        None,
        None,
        None,
    )
    assert sent.first_response_at == first_response or reply.sent_at
    assert sent.sla_due_at is None and sent.sla_check_at is None


def test_a_buyer_message_written_after_the_reply_keeps_the_clock_running(
    live, owner_membership, tiktok_settings
):
    store, ticket = live
    reply = services.reply_create(
        membership=owner_membership, conversation=ticket, text="Checking with the carrier."
    )
    # The buyer writes again before our reply went out; the poll brings it in.
    tiktok_settings.buyer_write(
        store.external_shop_id, conversation_id=ticket.external_id, text="Hello??"
    )
    polling.conversation_refresh(store=store, conversation_id=ticket.external_id)
    newest = Message.objects.filter(conversation=ticket, text="Hello??").get().sent_at

    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    after = Conversation.objects.get(pk=ticket.pk)
    assert after.reply_wait_since == newest
    assert after.platform_due_at == newest + timedelta(hours=24)
    assert after.sla_reply_due_at == newest + timedelta(minutes=60)
