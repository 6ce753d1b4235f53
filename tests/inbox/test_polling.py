"""The per-store poll over the live sandbox: first poll, cursors, the lease, errors, fan-out."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import tasks as inbox_tasks
from inbox.models import (
    Conversation,
    Customer,
    Message,
    MessageDirection,
    StoreInboxState,
    index_key,
)
from inbox.polling import PollOutcome, poll_lease_claim, store_poll
from marketplaces.adapter import reset_default_client, store_api
from marketplaces.models import StoreStatus
from marketplaces.tiktok.adapter import TikTokStoreAPI
from tests.factories_marketplaces import StoreFactory
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db

SEEDED_CONVERSATIONS = 12  # per shop (sandbox README)


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings):
    """A sandbox of this test's own: buyers write into it, so counts stay exact."""
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    yield sandbox
    reset_default_client()


@pytest.fixture
def message_reads(monkeypatch) -> list[tuple[str, str | None]]:
    """Every messages() call the product makes: (conversation id, after_index)."""
    calls: list[tuple[str, str | None]] = []
    original = TikTokStoreAPI.messages

    def recording(self, conversation_id, *, after_index=None):
        calls.append((conversation_id, after_index))
        return original(self, conversation_id, after_index=after_index)

    monkeypatch.setattr(TikTokStoreAPI, "messages", recording)
    return calls


def platform_conversations(store) -> list:
    return [item for page in store_api(store).conversation_pages() for item in page.items]


def test_the_first_poll_stores_every_conversation_and_message_of_the_store(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    api = store_api(store)
    expected = {
        record.external_id: (record, api.messages(record.external_id))
        for record in platform_conversations(store)
    }

    result = store_poll(store_id=store.pk)

    assert (result.outcome, result.error) == (PollOutcome.POLLED, "")
    assert (result.conversations_seen, result.conversations_read) == (
        SEEDED_CONVERSATIONS,
        SEEDED_CONVERSATIONS,
    )
    total = sum(len(messages) for _, messages in expected.values())
    assert result.new_messages == total
    assert Message.objects.filter(store=store).count() == total
    assert sorted(Conversation.objects.filter(store=store).values_list("number", flat=True)) == (
        list(range(1, SEEDED_CONVERSATIONS + 1))
    )
    for ticket in Conversation.objects.filter(store=store).select_related("customer"):
        record, messages = expected[ticket.external_id]
        assert ticket.customer.buyer_user_id == record.buyer.user_id
        assert ticket.message_cursor == index_key(messages[-1].index)
        stored = list(
            Message.objects.filter(conversation=ticket)
            .order_by("index_key")
            .values_list("external_id", flat=True)
        )
        assert stored == [m.external_id for m in messages]
    assert Customer.objects.filter(store=store).count() == SEEDED_CONVERSATIONS
    # Every receivable type arrived and was kept, the ones the mailbox cannot show included.
    types = Counter(Message.objects.filter(store=store).values_list("type", flat=True))
    for kind in ("VIDEO", "EMOTICONS", "OTHER", "ORDER_CARD", "PRODUCT_CARD", "IMAGE"):
        assert types[kind] == 1, kind
    hidden = Message.objects.get(store=store, is_visible=False)
    assert (hidden.type, hidden.direction, hidden.text) == (
        "NOTIFICATION",
        MessageDirection.SYSTEM,
        "Please rate this conversation",
    )
    state = StoreInboxState.objects.get(store=store)
    assert (state.poll_lease_until, state.last_poll_error) == (None, "")
    assert state.last_polled_at is not None


def test_the_cursor_makes_the_next_polls_ask_only_for_what_is_new(sandbox, tenant, message_reads):
    store = connect_store(sandbox, tenant=tenant)
    store_poll(store_id=store.pk)
    message_reads.clear()

    quiet = store_poll(store_id=store.pk)

    assert (quiet.outcome, quiet.conversations_read, quiet.new_messages) == ("polled", 0, 0)
    assert message_reads == []

    ticket = Conversation.objects.filter(store=store).order_by("number").first()
    cursor = ticket.message_cursor
    written = sandbox.buyer_write(
        store.external_shop_id, conversation_id=ticket.external_id, text="Any news?"
    )

    busy = store_poll(store_id=store.pk)

    assert message_reads == [(ticket.external_id, str(int(cursor)))]
    assert (busy.conversations_read, busy.new_messages) == (1, 1)
    new = Message.objects.get(store=store, external_id=written["id"])
    assert (new.text, new.conversation_id, new.direction) == (
        "Any news?",
        ticket.pk,
        MessageDirection.INBOUND,
    )
    ticket.refresh_from_db()
    assert ticket.message_cursor == index_key(written["index"])
    assert (ticket.last_message_preview, ticket.last_message_from_buyer) == ("Any news?", True)


def test_a_poll_while_another_worker_holds_the_lease_does_nothing(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    held_until = poll_lease_claim(store=store)

    assert store_poll(store_id=store.pk).outcome == PollOutcome.BUSY
    assert not Conversation.objects.filter(store=store).exists()
    assert StoreInboxState.objects.get(store=store).poll_lease_until == held_until


def test_a_lease_left_by_a_dead_worker_expires(sandbox, tenant):
    store = connect_store(sandbox, tenant=tenant)
    long_ago = timezone.now() - timedelta(hours=1)
    poll_lease_claim(store=store, now=long_ago)

    assert store_poll(store_id=store.pk).outcome == PollOutcome.POLLED
    assert Conversation.objects.filter(store=store).count() == SEEDED_CONVERSATIONS


def test_a_rate_limited_poll_ends_quietly_and_the_next_one_carries_on(sandbox, tenant, settings):
    store = connect_store(sandbox, tenant=tenant)
    settings.TIKTOK_MAX_RETRIES = 0
    reset_default_client()
    sandbox.set_faults(rate_limit_ratio=1.0)

    failed = store_poll(store_id=store.pk)

    assert failed.outcome == PollOutcome.FAILED
    assert failed.error.startswith("RateLimitedError: ")
    state = StoreInboxState.objects.get(store=store)
    assert (state.poll_lease_until, state.last_poll_error) == (None, failed.error)
    assert not Conversation.objects.filter(store=store).exists()

    sandbox.reset_faults()
    again = store_poll(store_id=store.pk)

    assert (again.outcome, again.conversations_read) == (PollOutcome.POLLED, SEEDED_CONVERSATIONS)
    assert StoreInboxState.objects.get(store=store).last_poll_error == ""


def test_a_store_that_is_not_active_is_skipped(tiktok_settings, tenant):
    store = StoreFactory(tenant=tenant, status=StoreStatus.NEEDS_REAUTH)

    assert store_poll(store_id=store.pk).outcome == PollOutcome.SKIPPED
    assert not StoreInboxState.objects.filter(store=store).exists()


def test_the_beat_task_polls_each_active_store(tenant, other_tenant, monkeypatch):
    ours = StoreFactory(tenant=tenant)
    theirs = StoreFactory(tenant=other_tenant)
    StoreFactory(tenant=tenant, status=StoreStatus.NEEDS_REAUTH)
    StoreFactory(tenant=tenant, status=StoreStatus.DISCONNECTED)
    queued: list[int] = []
    monkeypatch.setattr(inbox_tasks.poll_store, "delay", queued.append)

    assert inbox_tasks.poll_stores() == 2
    assert queued == [ours.pk, theirs.pk]


def test_polling_one_tenants_store_leaves_another_tenant_untouched(sandbox, tenant, other_tenant):
    ours = connect_store(sandbox, tenant=tenant)
    theirs = connect_store(sandbox, tenant=other_tenant, market="ROW")
    store_poll(store_id=theirs.pk)
    before = list(Message.objects.filter(store=theirs).order_by("pk").values())
    numbers = list(Conversation.objects.filter(store=theirs).values_list("number", flat=True))

    store_poll(store_id=ours.pk)

    assert list(Message.objects.filter(store=theirs).order_by("pk").values()) == before
    assert list(Conversation.objects.filter(store=theirs).values_list("number", flat=True)) == (
        numbers
    )
    assert Conversation.objects.filter(store=ours, tenant=tenant).count() == SEEDED_CONVERSATIONS
    assert not Message.objects.filter(store=ours).exclude(tenant=tenant).exists()
