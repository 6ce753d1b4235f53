"""Fixtures of the SLA tests: a clock the test moves, stores by market, policies, and buyer or
seller messages shaped as the platform sends them (parsed by the client's own mapping)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from inbox.ingest import messages_ingest
from inbox.models import Conversation
from marketplaces.records import Message as MessageRecord
from marketplaces.tiktok import mapping
from sla.models import SLAPolicy
from tenants.models import Membership
from tests.factories_marketplaces import StoreFactory

WEEKDAYS_9_TO_5 = [[["09:00", "17:00"]]] * 5 + [[], []]
_numbers = itertools.count(1)


class Clock:
    """What `timezone.now()` answers while the fixture is active."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moved = Clock(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
    monkeypatch.setattr("django.utils.timezone.now", lambda: moved.now)
    return moved


@pytest.fixture
def owner_membership(owner, tenant) -> Membership:
    return Membership.objects.get(user=owner, tenant=tenant)


@pytest.fixture
def us_store(tenant):
    return StoreFactory(tenant=tenant, name="Sunrise US", region="US")


@pytest.fixture
def thai_store(tenant):
    return StoreFactory(tenant=tenant, name="Sunrise TH", region="TH")


@pytest.fixture
def make_policy(tenant) -> Callable[..., SLAPolicy]:
    def make(**values: Any) -> SLAPolicy:
        values.setdefault("name", "Standard")
        return SLAPolicy.objects.create(tenant=tenant, **values)

    return make


def platform_message(
    conversation_id: str, at: datetime, *, role: str = "BUYER", text: str = "Where is my parcel?"
) -> MessageRecord:
    number = next(_numbers)
    return mapping.message(
        {
            "id": f"72232340{number:011d}",
            "index": str(7494560109732334000 + number * 7),
            "type": "TEXT",
            "content": mapping.message_content({"content": text})[1],
            "create_time": int(at.timestamp()),
            "is_visible": True,
            "sender": {
                "im_user_id": "7078855651811655940" if role == "BUYER" else "7078855651811650001",
                "role": role,
                "nickname": "lucy_buys" if role == "BUYER" else "Sunrise Outfitters",
            },
        },
        conversation_id,
    )


def arrives(
    store: Any, at: datetime, *, role: str = "BUYER", conversation_id: str = "7106888323926000001"
) -> Conversation:
    """A message from the buyer (or, role SHOP, the seller outside Sellerdesk) written at `at`
    reaches ingest; the ticket as stored afterwards."""
    result = messages_ingest(
        store=store,
        conversation_id=conversation_id,
        messages=[platform_message(conversation_id, at, role=role)],
    )
    return Conversation.objects.get(pk=result.conversation.pk)
