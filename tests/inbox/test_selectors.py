"""inbox.selectors: the access helper, the thread's order, the assignee picker, the workbench's
orders and the change stamps the polls compare."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from inbox import selectors
from inbox.models import Conversation, DeliveryStatus, TicketEventKind
from marketplaces.models import StoreAccess
from tenants.models import Membership, Role
from tests.factories_inbox import (
    ConversationFactory,
    ConversationOrderFactory,
    MessageFactory,
    OutboxMessageFactory,
    TicketEventFactory,
)
from tests.factories_marketplaces import (
    BASE_TIME,
    CancellationFactory,
    OrderFactory,
    ReturnFactory,
    StoreFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant)


@pytest.fixture
def owner_membership(owner):
    return Membership.objects.get(user=owner)


def test_conversation_get_is_404_for_another_tenant_a_limited_agent_or_a_bad_id(
    tenant, other_tenant, store, owner_membership
):
    conversation = ConversationFactory(store=store, tenant=tenant)
    assert (
        selectors.conversation_get(
            tenant=tenant, membership=owner_membership, public_id=conversation.public_id
        )
        == conversation
    )
    rival = member(other_tenant, Role.OWNER)
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=StoreFactory(tenant=tenant))
    for membership, tenant_used, public_id in (
        (rival, other_tenant, conversation.public_id),
        (rival, tenant, conversation.public_id),  # a membership of another tenant
        (limited, tenant, conversation.public_id),
        (owner_membership, tenant, uuid.uuid4()),
        (owner_membership, tenant, "not-a-uuid"),
    ):
        with pytest.raises(Http404):
            selectors.conversation_get(
                tenant=tenant_used, membership=membership, public_id=public_id
            )


def test_thread_merges_events_by_time_and_puts_queued_replies_last(tenant, store, owner):
    conversation = ConversationFactory(store=store, tenant=tenant)
    # Created out of order: the thread follows the platform index, not insertion.
    second = MessageFactory(
        conversation=conversation,
        index_key="0" * 23 + "2",
        sent_at=BASE_TIME + timedelta(minutes=2),
    )
    first = MessageFactory(
        conversation=conversation,
        index_key="0" * 23 + "1",
        sent_at=BASE_TIME + timedelta(minutes=1),
    )
    queued = OutboxMessageFactory(
        conversation=conversation, author=owner, created_at=BASE_TIME + timedelta(minutes=5)
    )
    MessageFactory(conversation=conversation, is_visible=False, index_key="0" * 23 + "3")
    note = TicketEventFactory(
        conversation=conversation, created_at=BASE_TIME + timedelta(minutes=1, seconds=30)
    )
    late = TicketEventFactory(
        conversation=conversation,
        kind=TicketEventKind.STATUS,
        created_at=BASE_TIME + timedelta(minutes=9),
    )

    entries = selectors.thread(conversation=conversation)

    assert [entry.message or entry.event for entry in entries] == [
        first,
        note,
        second,
        queued,
        late,
    ]


def test_assignable_members_are_those_who_serve_the_store(tenant, store, owner_membership):
    admin = member(tenant, Role.ADMIN, email="admin-x@acme.test")
    everywhere = member(tenant, Role.AGENT, email="everywhere@acme.test")
    here = member(tenant, Role.AGENT, email="here@acme.test")
    elsewhere = member(tenant, Role.AGENT, email="elsewhere@acme.test")
    StoreAccess.objects.create(tenant=tenant, membership=here, store=store)
    StoreAccess.objects.create(
        tenant=tenant, membership=elsewhere, store=StoreFactory(tenant=tenant)
    )
    conversation = ConversationFactory(store=store, tenant=tenant)

    members = selectors.assignable_members(tenant=tenant, conversation=conversation)

    assert {m.pk for m in members} == {owner_membership.pk, admin.pk, everywhere.pk, here.pk}


def test_ticket_orders_linked_first_then_the_buyers_newest_in_this_store_only(tenant, store):
    conversation = ConversationFactory(store=store, tenant=tenant)
    buyer = conversation.customer.buyer_user_id
    old = OrderFactory(store=store, buyer_user_id=buyer, placed_at=BASE_TIME)
    new = OrderFactory(store=store, buyer_user_id=buyer, placed_at=BASE_TIME + timedelta(days=2))
    linked = OrderFactory(
        store=store, buyer_user_id="another", placed_at=BASE_TIME - timedelta(days=9)
    )
    ConversationOrderFactory(conversation=conversation, order=linked)
    OrderFactory(store=StoreFactory(tenant=tenant), buyer_user_id=buyer)

    cards = selectors.ticket_orders(tenant=tenant, conversation=conversation)

    assert [(card.order, card.linked) for card in cards] == [
        (linked, True),
        (new, False),
        (old, False),
    ]


def test_ticket_orders_ask_for_returns_and_cancellations_only_when_an_order_has_some(
    tenant, store, django_assert_num_queries
):
    conversation = ConversationFactory(store=store, tenant=tenant)
    buyer = conversation.customer.buyer_user_id
    returned, cancelled, plain = (
        OrderFactory(store=store, buyer_user_id=buyer, placed_at=BASE_TIME + timedelta(days=n))
        for n in range(3)
    )
    # Same order ids in another store: not this buyer's orders' after-sales.
    elsewhere = StoreFactory(tenant=tenant)
    ReturnFactory(store=elsewhere, order_external_id=plain.external_id)
    CancellationFactory(store=elsewhere, order_external_id=plain.external_id)

    # Linked orders, the orders with their after-sale flags, their lines.
    with django_assert_num_queries(3):
        cards = selectors.ticket_orders(tenant=tenant, conversation=conversation)
    assert [(card.returns, card.cancellations) for card in cards] == [([], [])] * 3

    refund = ReturnFactory(store=store, order_external_id=returned.external_id)
    cancellation = CancellationFactory(store=store, order_external_id=cancelled.external_id)
    with django_assert_num_queries(7):  # and the returns, the cancellations, each with lines
        cards = selectors.ticket_orders(tenant=tenant, conversation=conversation)
    assert [(card.order, card.returns, card.cancellations) for card in cards] == [
        (plain, [], []),
        (cancelled, [], [cancellation]),
        (returned, [refund], []),
    ]


def test_list_stamp_changes_with_any_ticket_change_and_only_for_visible_ones(
    tenant, other_tenant, store, owner_membership
):
    conversation = ConversationFactory(store=store, tenant=tenant)
    stamp = selectors.list_stamp(tenant=tenant, membership=owner_membership)
    assert selectors.list_stamp(tenant=tenant, membership=owner_membership) == stamp

    ConversationFactory(store=StoreFactory(tenant=other_tenant), tenant=other_tenant)
    assert selectors.list_stamp(tenant=tenant, membership=owner_membership) == stamp

    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
    assert selectors.list_stamp(tenant=tenant, membership=owner_membership) != stamp


def test_list_stamp_sees_a_change_committed_out_of_timestamp_order(
    tenant, store, owner_membership
):
    """Issue 9, defect 12: a transaction that stamped its ticket before another one's but
    committed after it was invisible to a stamp of the newest updated_at alone."""
    now = timezone.now()
    newest = ConversationFactory(store=store, tenant=tenant)
    earlier = ConversationFactory(store=store, tenant=tenant)
    Conversation.objects.filter(pk=newest.pk).update(updated_at=now)
    Conversation.objects.filter(pk=earlier.pk).update(updated_at=now - timedelta(seconds=30))
    stamp = selectors.list_stamp(tenant=tenant, membership=owner_membership)

    # Stamped at now - 5 s, committed after the newest: the newest updated_at is unchanged.
    Conversation.objects.filter(pk=earlier.pk).update(updated_at=now - timedelta(seconds=5))
    moved = selectors.list_stamp(tenant=tenant, membership=owner_membership)
    assert moved != stamp

    # A ticket created by such a transaction, likewise.
    late = ConversationFactory(store=store, tenant=tenant)
    Conversation.objects.filter(pk=late.pk).update(updated_at=now - timedelta(seconds=3))
    assert selectors.list_stamp(tenant=tenant, membership=owner_membership) != moved
    assert Conversation.objects.order_by("-updated_at").first().pk == newest.pk


def test_thread_version_changes_with_messages_events_and_delivery(tenant, store, owner):
    conversation = ConversationFactory(store=store, tenant=tenant)
    seen = {selectors.thread_version(conversation=conversation)}

    def changed() -> bool:
        version = selectors.thread_version(conversation=conversation)
        fresh = version not in seen
        seen.add(version)
        return fresh

    reply = OutboxMessageFactory(conversation=conversation, author=owner)
    assert changed()
    assert not changed()
    reply.delivery_status = DeliveryStatus.FAILED
    reply.save()
    assert changed()
    TicketEventFactory(conversation=conversation)
    assert changed()
    MessageFactory(conversation=conversation)
    assert changed()
    assert not changed()


def test_folder_counts_stop_at_the_cap_and_say_so(tenant, store, owner_membership, monkeypatch):
    monkeypatch.setattr(selectors, "FOLDER_COUNT_CAP", 3)
    overdue = timezone.now() - timedelta(minutes=5)
    for _ in range(5):
        ConversationFactory(store=store, tenant=tenant, sla_due_at=overdue)
    ConversationFactory(store=store, tenant=tenant, status="pending")

    counts = selectors.folder_counts(tenant=tenant, membership=owner_membership)

    assert counts == {
        "open": 3,
        "pending": 1,
        "solved": 0,
        "mine": 0,
        "unassigned": 3,
        "due_soon": 0,
        "overdue": 3,
        "all": 3,
    }
    assert [selectors.folder_count_label(counts[name]) for name in ("open", "pending")] == [
        "3+",
        "1",
    ]
    assert selectors.folder_count_label(1000) == "3+"


def test_folder_counts_follow_store_limits_roles_and_store_filter_as_they_change(
    tenant, other_tenant, store
):
    """The counts' SQL is compiled once and reused: whatever changes in between — an agent's
    store limits added, moved or lifted, a promotion to admin, another store filter, another
    tenant — each answer is what a fresh compilation gives."""
    second = StoreFactory(tenant=tenant)
    agent = member(tenant, Role.AGENT)
    for status in ("open", "open", "pending"):
        ConversationFactory(store=store, tenant=tenant, status=status)
    ConversationFactory(store=second, tenant=tenant, status="open", assignee=agent.user)
    ConversationFactory(store=StoreFactory(tenant=other_tenant), tenant=other_tenant)

    def counts(store_filter=None) -> tuple[int, int, int, int, int, int]:
        got = selectors.folder_counts(tenant=tenant, membership=agent, store=store_filter)
        return tuple(
            got[name] for name in ("open", "pending", "solved", "mine", "unassigned", "all")
        )

    assert counts() == (3, 1, 0, 1, 3, 4)  # no limits: every store
    access = StoreAccess.objects.create(tenant=tenant, membership=agent, store=second)
    assert counts() == (1, 0, 0, 1, 0, 1)  # limited to the second store
    access.store = store
    access.save()
    assert counts() == (2, 1, 0, 0, 3, 3)  # limit moved to the first
    # The list's change stamp is compiled the same way: a change it may not see leaves it be.
    stamp = selectors.list_stamp(tenant=tenant, membership=agent)
    Conversation.objects.filter(store=second).update(updated_at=timezone.now())
    assert selectors.list_stamp(tenant=tenant, membership=agent) == stamp
    Conversation.objects.filter(store=store).update(updated_at=timezone.now())
    assert selectors.list_stamp(tenant=tenant, membership=agent) != stamp
    assert counts(store_filter=second) == (0, 0, 0, 0, 0, 0)  # a store it may not serve
    agent.role = Role.ADMIN
    agent.save()
    assert counts() == (3, 1, 0, 1, 3, 4)  # admins serve every store
    assert counts(store_filter=second) == (1, 0, 0, 1, 0, 1)
    access.delete()
    agent.role = Role.AGENT
    agent.save()
    assert counts() == (3, 1, 0, 1, 3, 4)  # limits lifted
    rival = member(other_tenant, Role.OWNER)
    assert selectors.folder_counts(tenant=other_tenant, membership=rival)["all"] == 1
    # A member of another tenant sees nothing of this one, and its stamp never moves.
    stamp = selectors.list_stamp(tenant=tenant, membership=rival)
    Conversation.objects.filter(tenant=tenant).update(updated_at=timezone.now())
    assert selectors.list_stamp(tenant=tenant, membership=rival) == stamp
