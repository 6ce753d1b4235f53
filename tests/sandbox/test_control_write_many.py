"""The control API's `buyers/write-many`: many buyer messages in one call (the fault suite's)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.sandbox.test_customer_service import conversations, messages
from tests.tiktok_sandbox import SandboxError


def test_writes_many_messages_in_order_each_pushed(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10)
    shop_id = sandbox.shop()["id"]
    target = conversations(sandbox)[0]["id"]
    before = sandbox.state()

    written = sandbox.buyers_write_many(
        shop_id, [{"conversation_id": target, "text": f"message {n}"} for n in range(30)]
    )

    after = sandbox.state()
    assert [json.loads(m["content"])["content"] for m in written] == [
        f"message {n}" for n in range(30)
    ]
    assert {m["conversation_id"] for m in written} == {target}
    assert [int(m["index"]) for m in written] == sorted(int(m["index"]) for m in written)
    assert all(m["sender"]["role"] == "BUYER" for m in written)
    on_platform = {m["id"] for m in messages(sandbox, target)}
    assert {m["id"] for m in written} <= on_platform
    assert after["counts"]["messages"] == before["counts"]["messages"] + 30
    # One NEW_MESSAGE (type 14) queued for each, as one buyer_write would.
    queued = sum(after["webhooks"].values()) - sum(before["webhooks"].values())
    assert queued == 30


def test_new_buyers_write_in_conversations_of_their_own(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10)
    shop_id = sandbox.shop()["id"]
    existing = {c["id"] for c in conversations(sandbox)}

    first = sandbox.buyers_write_many(shop_id, [{"new_buyer": True, "text": "hi"}] * 25)
    again = sandbox.buyers_write_many(
        shop_id, [{"conversation_id": m["conversation_id"], "text": "still me"} for m in first]
    )

    new = {m["conversation_id"] for m in first}
    assert len(new) == 25 and not new & existing
    assert len({m["sender"]["im_user_id"] for m in first}) == 25
    assert [m["sender"]["im_user_id"] for m in again] == [m["sender"]["im_user_id"] for m in first]
    listed = {c["id"]: c for c in conversations(sandbox)}
    assert new <= set(listed)
    assert all(listed[c]["unread_count"] == 2 for c in new)
    buyer_ids = {
        p["im_user_id"] for c in new for p in listed[c]["participants"] if p["role"] == "BUYER"
    }
    assert buyer_ids == {m["sender"]["im_user_id"] for m in first}


def test_all_or_nothing_and_checked(tiktok_sandbox):
    shop_id = tiktok_sandbox.shop()["id"]
    target = conversations(tiktok_sandbox)[0]["id"]
    before = tiktok_sandbox.state()["counts"]

    with pytest.raises(SandboxError, match="404"):
        tiktok_sandbox.buyers_write_many(
            shop_id,
            [
                {"conversation_id": target, "text": "kept?"},
                {"new_buyer": True, "text": "kept?"},
                {"conversation_id": "7100000000000000000", "text": "no such conversation"},
            ],
        )
    for body, error in (
        ({"messages": [{"text": "x"}]}, "shop_id is required"),
        ({"shop_id": shop_id, "messages": []}, "non-empty list"),
        ({"shop_id": shop_id, "messages": [{"text": 3}]}, "must be strings"),
        ({"shop_id": shop_id, "messages": [{"text": "x"}] * 5001}, "at most 5000"),
    ):
        answer = requests.post(
            f"{tiktok_sandbox.base_url}/_sandbox/buyers/write-many", json=body, timeout=30
        )
        assert (answer.status_code, error in answer.json()["error"]) == (400, True)
    with pytest.raises(SandboxError, match="404"):
        tiktok_sandbox.buyers_write_many("7490000000000000000", [{"text": "x"}])

    after = tiktok_sandbox.state()["counts"]
    assert (after["messages"], after["conversations"]) == (
        before["messages"],
        before["conversations"],
    )
