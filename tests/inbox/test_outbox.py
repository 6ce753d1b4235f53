"""The outbox over the live sandbox: a reply is sent once, whatever happens on the way.

What reached TikTok is read back from the sandbox with hand-signed calls (tests/tiktok_sandbox.py),
never through the product's own client. Tests that need faults (429 storm, latency) get a sandbox
of their own, so the session sandbox stays clean for everyone else.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from inbox import outbox, polling, services
from inbox.models import (
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from marketplaces.adapter import reset_default_client
from marketplaces.models import Store, StoreStatus
from tenants.models import Membership
from tests.factories_inbox import ConversationFactory, MessageFactory, OutboxMessageFactory
from tests.factories_marketplaces import StoreFactory
from tests.sandbox_stores import connect_store, point_settings_at

SMALL = {"days": 2, "orders_per_day": 5}


# --- Helpers -------------------------------------------------------------------------------------


def platform_messages(sandbox: Any, conversation_id: str) -> list[dict[str, Any]]:
    """Every message of the conversation on the platform, oldest first (signed calls)."""
    found: list[dict[str, Any]] = []
    token = None
    for _ in range(100):
        query = {"page_size": "10", "sort_field": "index", "sort_order": "DESC"}
        if token:
            query["page_token"] = token
        response = sandbox.call(
            "GET",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            query=query,
        )
        data = response.json()["data"]
        found += data["messages"]
        token = data.get("next_page_token")
        if not token:
            break
    return sorted(found, key=lambda item: int(item["index"]))


def texts_on_platform(sandbox: Any, conversation_id: str, text: str) -> list[dict[str, Any]]:
    return [
        item
        for item in platform_messages(sandbox, conversation_id)
        if item["type"] == "TEXT" and json.loads(item["content"]).get("content") == text
    ]


def post_as_shop(sandbox: Any, conversation_id: str, text: str) -> str:
    """The shop sends a TEXT message by a signed call of its own (as a worker would have)."""
    response = sandbox.call(
        "POST",
        f"/customer_service/202309/conversations/{conversation_id}/messages",
        json={"type": "TEXT", "content": json.dumps({"content": text})},
    )
    assert response.json()["code"] == 0, response.text
    return response.json()["data"]["message_id"]


def make_due(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def png(size: tuple[int, int] = (80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (250, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def no_dispatch(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks are recorded, not run: each test runs the sender itself, attempt by attempt."""
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
def own_sandbox(tiktok_sandbox_factory, settings) -> Iterator[Any]:
    """A sandbox for this test alone (faults are global to a sandbox)."""
    sandbox = tiktok_sandbox_factory(**SMALL)
    point_settings_at(settings, sandbox)
    settings.TIKTOK_MAX_RETRIES = 0  # the outbox's own retries are under test, not the client's
    reset_default_client()
    yield sandbox
    reset_default_client()


def ticket_for(sandbox: Any, store: Any, text: str = "Where is my parcel?") -> Conversation:
    """A buyer writes; the ticket is made by ingest, as the poll would."""
    written = sandbox.buyer_write(store.external_shop_id, text=text)
    ticket, _ = polling.conversation_refresh(
        store=store, conversation_id=written["conversation_id"]
    )
    return ticket


@pytest.fixture
def live(connect_sandbox_store, tenant, tiktok_settings) -> tuple[Any, Any, Conversation]:
    store = connect_sandbox_store(tenant=tenant)
    return tiktok_settings, store, ticket_for(tiktok_settings, store)


@pytest.fixture
def own(own_sandbox, tenant) -> tuple[Any, Any, Conversation]:
    store = connect_store(own_sandbox, tenant=tenant)
    return own_sandbox, store, ticket_for(own_sandbox, store)


def queue(membership: Membership, ticket: Conversation, text: str, **kwargs: Any) -> Message:
    return services.reply_create(membership=membership, conversation=ticket, text=text, **kwargs)


# --- The happy path ------------------------------------------------------------------------------


def test_a_reply_reaches_the_buyer_once_and_is_marked_sent(live, owner_membership, other_tenant):
    sandbox, store, ticket = live
    theirs = OutboxMessageFactory(
        conversation=ConversationFactory(store=StoreFactory(tenant=other_tenant))
    )
    text = f"Your parcel left our warehouse today. {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)

    assert outbox.reply_send(message_id=reply.pk) == outbox.SendOutcome("sent")

    on_platform = texts_on_platform(sandbox, ticket.external_id, text)
    assert len(on_platform) == 1
    assert on_platform[0]["sender"]["role"] == "SHOP"
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id, reply.attempts, reply.failure_reason) == (
        DeliveryStatus.SENT,
        on_platform[0]["id"],
        1,
        "",
    )
    assert reply.next_attempt_at is None
    assert reply.content["outbox"] == {"in_flight": None, "text_message_id": on_platform[0]["id"]}
    # A second run finds nothing to do.
    assert outbox.reply_send(message_id=reply.pk) == outbox.SendOutcome("skipped")
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1

    # The poll brings our message back: no second row, and ours gets its place in the thread.
    polling.conversation_refresh(store=store, conversation_id=ticket.external_id)
    assert Message.objects.filter(store=store, external_id=reply.external_id).count() == 1
    reply.refresh_from_db()
    assert reply.index_key == on_platform[0]["index"].zfill(24)
    assert reply.author == owner_membership.user

    theirs_after = Message.objects.get(pk=theirs.pk)
    assert (theirs_after.delivery_status, theirs_after.attempts) == (DeliveryStatus.QUEUED, 0)


def test_an_image_is_uploaded_and_sent_before_the_text(live, owner_membership):
    sandbox, _, ticket = live
    upload = SimpleUploadedFile("label.png", png(), content_type="image/png")
    reply = queue(owner_membership, ticket, "Here is your shipping label", image=upload)

    assert outbox.reply_send(message_id=reply.pk).status == "sent"

    messages = platform_messages(sandbox, ticket.external_id)
    image, text = messages[-2], messages[-1]
    assert (image["type"], image["sender"]["role"]) == ("IMAGE", "SHOP")
    image_content = json.loads(image["content"])
    assert (image_content["width"], image_content["height"]) == (80, 60)
    assert (text["type"], json.loads(text["content"])) == (
        "TEXT",
        {"content": "Here is your shipping label"},
    )
    reply.refresh_from_db()
    assert reply.external_id == text["id"]
    assert reply.content["image"] == {"width": 80, "height": 60, "url": image_content["url"]}
    assert reply.content["outbox"]["image_message_id"] == image["id"]


# --- Transient errors ----------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_up_to_the_cap(settings):
    settings.INBOX_SEND_BACKOFF_BASE_SECONDS = 5.0
    settings.INBOX_SEND_BACKOFF_CAP_SECONDS = 600.0
    lowest = [outbox.backoff_seconds(n, jitter=lambda: 0.0) for n in range(1, 10)]
    highest = [outbox.backoff_seconds(n, jitter=lambda: 1.0) for n in range(1, 10)]
    assert lowest == [2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    assert highest == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0, 600.0]
    assert outbox.backoff_seconds(1, retry_after=30.0, jitter=lambda: 0.0) == 30.0


def test_a_429_storm_is_retried_with_backoff_until_it_goes_through(own, owner_membership, settings):
    sandbox, _, ticket = own
    settings.INBOX_SEND_BACKOFF_BASE_SECONDS = 10.0
    text = "Sorry for the wait, it ships tomorrow."
    reply = queue(owner_membership, ticket, text)
    sandbox.set_faults(rate_limit_ratio=1.0)

    first = outbox.reply_send(message_id=reply.pk)
    assert first.status == "retry"
    assert 5.0 <= first.retry_in <= 10.0  # attempt 1: 10 s ceiling, upper half jittered
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.attempts) == (DeliveryStatus.QUEUED, 1)
    assert reply.failure_reason == "Retrying: TikTok Shop asked us to slow down."
    assert reply.next_attempt_at > timezone.now()
    # Not due yet: a stray task does nothing.
    assert outbox.reply_send(message_id=reply.pk).status == "skipped"

    make_due(reply)
    second = outbox.reply_send(message_id=reply.pk)
    assert second.status == "retry"
    assert 10.0 <= second.retry_in <= 20.0

    sandbox.reset_faults()
    make_due(reply)
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.attempts, reply.failure_reason) == (
        DeliveryStatus.SENT,
        3,
        "",
    )
    assert [m["id"] for m in texts_on_platform(sandbox, ticket.external_id, text)] == [
        reply.external_id
    ]


def test_a_storm_that_never_ends_fails_the_reply_and_retry_sends_it(
    own, owner_membership, settings, no_dispatch
):
    sandbox, _, ticket = own
    settings.INBOX_SEND_MAX_ATTEMPTS = 2
    text = "Thanks for your patience!"
    reply = queue(owner_membership, ticket, text)
    sandbox.set_faults(rate_limit_ratio=1.0)
    assert outbox.reply_send(message_id=reply.pk).status == "retry"
    make_due(reply)
    failed = outbox.reply_send(message_id=reply.pk)
    assert failed == outbox.SendOutcome(
        "failed", reason="TikTok Shop asked us to slow down. Gave up after 2 attempts."
    )
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.failure_reason, reply.next_attempt_at) == (
        DeliveryStatus.FAILED,
        "TikTok Shop asked us to slow down. Gave up after 2 attempts.",
        None,
    )
    sandbox.reset_faults()  # (the check below is a signed call too)
    assert texts_on_platform(sandbox, ticket.external_id, text) == []

    services.reply_retry(membership=owner_membership, message=reply)
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


# --- Permanent errors ----------------------------------------------------------------------------


def test_a_store_to_reconnect_fails_at_once_and_retry_sends_it_after_reconnecting(
    live, owner_membership
):
    sandbox, store, ticket = live
    text = f"Reconnect test {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)
    store.status = StoreStatus.NEEDS_REAUTH
    store.save()

    outcome = outbox.reply_send(message_id=reply.pk)

    reason = f"{store.name} needs to be reconnected to TikTok Shop; reconnect it, then retry."
    assert outcome == outbox.SendOutcome("failed", reason=reason)
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.attempts, reply.failure_reason) == (
        DeliveryStatus.FAILED,
        1,
        reason,
    )
    assert texts_on_platform(sandbox, ticket.external_id, text) == []

    store.status = StoreStatus.ACTIVE
    store.save()
    services.reply_retry(membership=owner_membership, message=reply)
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


def test_a_conversation_the_platform_does_not_know_fails_with_the_reason(live, owner_membership):
    _, store, _ = live
    ghost = ConversationFactory(store=store, external_id="7000000000000000009")
    reply = queue(owner_membership, ghost, "Hello?")
    assert outbox.reply_send(message_id=reply.pk) == outbox.SendOutcome(
        "failed", reason="TikTok Shop no longer knows this conversation."
    )
    reply.refresh_from_db()
    assert reply.content["outbox"]["in_flight"] is None  # refused: certainly not sent


def test_an_attachment_gone_from_storage_fails_with_the_reason(live, owner_membership, media):
    _, _, ticket = live
    upload = SimpleUploadedFile("label.png", png(), content_type="image/png")
    reply = queue(owner_membership, ticket, "", image=upload)
    Path(reply.attachment.path).unlink()
    assert outbox.reply_send(message_id=reply.pk) == outbox.SendOutcome(
        "failed", reason="The attached image is no longer stored; send the image again."
    )


# --- Never twice ---------------------------------------------------------------------------------


def wait_for_platform(sandbox: Any, conversation_id: str, text: str) -> list[dict[str, Any]]:
    """The sandbox finishes a request the client gave up on in its own time (bounded wait)."""
    for _ in range(40):
        found = texts_on_platform(sandbox, conversation_id, text)
        if found:
            return found
        time.sleep(0.25)
    return []


def test_a_timeout_after_the_platform_took_the_message_does_not_send_it_twice(
    own, owner_membership, settings
):
    sandbox, _, ticket = own
    text = "Your refund was approved."
    reply = queue(owner_membership, ticket, text)
    settings.TIKTOK_READ_TIMEOUT = 0.5
    reset_default_client()
    sandbox.set_faults(latency_ms=1500)

    first = outbox.reply_send(message_id=reply.pk)

    assert first.status == "retry"
    assert first.reason.startswith("TikTok Shop did not confirm the message in time")
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.content["outbox"]["in_flight"]["type"] == "TEXT"
    landed = wait_for_platform(sandbox, ticket.external_id, text)
    assert len(landed) == 1  # the platform did take it

    # Still slow: the check itself times out, so nothing is sent.
    make_due(reply)
    assert outbox.reply_send(message_id=reply.pk).status == "retry"
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1

    sandbox.reset_faults()
    make_due(reply)
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id, reply.attempts) == (
        DeliveryStatus.SENT,
        landed[0]["id"],
        3,
    )
    assert reply.index_key == landed[0]["index"].zfill(24)
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


def test_a_timeout_before_the_platform_took_it_sends_it_on_the_next_attempt(live, owner_membership):
    """A reply whose earlier attempt left a trace but never reached TikTok is sent, once."""
    sandbox, _, ticket = live
    text = f"Trace without a message {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)
    started = (timezone.now() - timedelta(minutes=1)).isoformat()
    Message.objects.filter(pk=reply.pk).update(
        attempts=1,
        content={**reply.content, "outbox": {"in_flight": {"type": "TEXT", "started_at": started}}},
    )
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


def test_a_worker_killed_mid_send_is_resumed_by_the_sweeper_and_reconciled(live, owner_membership):
    sandbox, _, ticket = live
    text = f"Killed worker {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)
    # The worker claimed it, wrote its trace, and the platform took the message; then it died.
    assert outbox.reply_claim(message_id=reply.pk) == 1
    Message.objects.filter(pk=reply.pk).update(
        content={
            **reply.content,
            "outbox": {"in_flight": {"type": "TEXT", "started_at": timezone.now().isoformat()}},
        }
    )
    platform_id = post_as_shop(sandbox, ticket.external_id, text)

    # Within its lease nobody takes it over.
    assert outbox.replies_to_resume() == []
    assert outbox.reply_send(message_id=reply.pk).status == "skipped"

    # The lease runs out (SEND_LEASE later).
    Message.objects.filter(pk=reply.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.replies_to_resume() == [reply.pk]
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED

    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id, reply.attempts) == (
        DeliveryStatus.SENT,
        platform_id,
        2,
    )
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


def test_a_copy_ingest_stored_first_is_adopted_not_duplicated(live, owner_membership):
    sandbox, store, ticket = live
    text = f"Ingested first {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)
    Message.objects.filter(pk=reply.pk).update(
        attempts=1,
        content={
            **reply.content,
            "outbox": {"in_flight": {"type": "TEXT", "started_at": timezone.now().isoformat()}},
        },
    )
    platform_id = post_as_shop(sandbox, ticket.external_id, text)
    polling.conversation_refresh(store=store, conversation_id=ticket.external_id)
    copy = Message.objects.get(store=store, external_id=platform_id)
    assert (copy.direction, copy.author) == (MessageDirection.OUTBOUND, None)

    assert outbox.reply_send(message_id=reply.pk).status == "sent"

    reply.refresh_from_db()
    assert (reply.external_id, reply.index_key) == (platform_id, copy.index_key)
    assert not Message.objects.filter(pk=copy.pk).exists()
    assert Message.objects.filter(store=store, external_id=platform_id).count() == 1
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


def test_two_identical_replies_never_share_one_platform_message(live, owner_membership):
    sandbox, _, ticket = live
    text = f"Thanks! {uuid.uuid4().hex[:6]}"
    started = timezone.now().isoformat()
    first = queue(owner_membership, ticket, text)
    second = queue(owner_membership, ticket, text)
    assert outbox.reply_send(message_id=first.pk).status == "sent"
    # The second one's earlier attempt is unconfirmed: the message found is the first's.
    Message.objects.filter(pk=second.pk).update(
        attempts=1,
        content={
            **second.content,
            "outbox": {"in_flight": {"type": "TEXT", "started_at": started}},
        },
    )
    assert outbox.reply_send(message_id=second.pk).status == "sent"
    first.refresh_from_db()
    second.refresh_from_db()
    on_platform = texts_on_platform(sandbox, ticket.external_id, text)
    assert sorted([first.external_id, second.external_id]) == sorted(m["id"] for m in on_platform)
    assert first.external_id != second.external_id


def test_two_workers_claiming_one_reply_send_it_once(live, owner_membership):
    sandbox, _, ticket = live
    text = f"Claimed once {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)
    assert outbox.reply_claim(message_id=reply.pk) == 1  # worker A holds it
    assert outbox.reply_claim(message_id=reply.pk) is None  # worker B does not
    assert outbox.reply_send(message_id=reply.pk).status == "skipped"  # nor does a full run
    assert texts_on_platform(sandbox, ticket.external_id, text) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_postgres_send_once(live, owner_membership):
    import threading

    from django.db import connection

    sandbox, _, ticket = live
    text = f"Raced {uuid.uuid4().hex[:6]}"
    reply = queue(owner_membership, ticket, text)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(outbox.reply_send(message_id=reply.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(texts_on_platform(sandbox, ticket.external_id, text)) == 1


def test_the_sweeper_hands_back_overdue_queued_replies(live, owner_membership):
    _, _, ticket = live
    reply = queue(owner_membership, ticket, "Overdue")
    now = timezone.now()
    assert outbox.replies_to_resume(now=now) == []  # its own task is still on its way
    assert outbox.replies_to_resume(now=now + outbox.QUEUED_GRACE + timedelta(seconds=1)) == [
        reply.pk
    ]


def test_replies_reach_the_buyer_in_the_order_they_were_written(live, owner_membership):
    sandbox, _, ticket = live
    tag = uuid.uuid4().hex[:6]
    first = queue(owner_membership, ticket, f"First {tag}")
    second = queue(owner_membership, ticket, f"Second {tag}")

    # The second one's task runs first: it waits, unclaimed and uncounted.
    waiting = outbox.reply_send(message_id=second.pk)
    assert (waiting.status, waiting.retry_in) == ("waiting", outbox.ORDER_WAIT_SECONDS)
    second.refresh_from_db()
    assert (second.delivery_status, second.attempts) == (DeliveryStatus.QUEUED, 0)

    assert outbox.reply_send(message_id=first.pk).status == "sent"
    assert outbox.reply_send(message_id=second.pk).status == "sent"
    texts = [
        json.loads(item["content"]).get("content")
        for item in platform_messages(sandbox, ticket.external_id)
        if item["type"] == "TEXT"
    ]
    assert texts[-2:] == [f"First {tag}", f"Second {tag}"]


def test_a_reply_waits_for_an_earlier_one_in_backoff_until_its_time(live, owner_membership):
    _, _, ticket = live
    first = queue(owner_membership, ticket, "Earlier")
    second = queue(owner_membership, ticket, "Later")
    Message.objects.filter(pk=first.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30), attempts=1
    )
    waiting = outbox.reply_send(message_id=second.pk)
    assert waiting.status == "waiting"
    assert 30.0 < waiting.retry_in <= 30.0 + outbox.ORDER_WAIT_SECONDS
    # A failed earlier reply does not hold the later ones back.
    Message.objects.filter(pk=first.pk).update(delivery_status=DeliveryStatus.FAILED)
    assert outbox.reply_send(message_id=second.pk).status == "sent"


# --- The tasks -----------------------------------------------------------------------------------


def test_the_send_task_schedules_its_retry_at_the_backoff(monkeypatch, db):
    from inbox import tasks

    scheduled: list[tuple[tuple, float]] = []
    monkeypatch.setattr(
        tasks.send_reply,
        "apply_async",
        lambda args, countdown: scheduled.append((args, countdown)),
    )
    outcomes = iter(
        [
            outbox.SendOutcome("retry", retry_in=7.5, reason="busy"),
            outbox.SendOutcome("waiting", retry_in=2.0, reason="earlier reply"),
            outbox.SendOutcome("sent"),
            outbox.SendOutcome("failed", reason="refused"),
        ]
    )
    monkeypatch.setattr(outbox, "reply_send", lambda *, message_id: next(outcomes))
    assert [tasks.send_reply(41) for _ in range(4)] == ["retry", "waiting", "sent", "failed"]
    assert scheduled == [((41,), 7.5), ((41,), 2.0)]


def test_the_sweeper_task_dispatches_what_it_resumes(monkeypatch, db, no_dispatch):
    from inbox import tasks

    monkeypatch.setattr(outbox, "replies_to_resume", lambda: [3, 5])
    assert tasks.resume_replies() == 2
    assert no_dispatch == [("send_reply", (3,)), ("send_reply", (5,))]


def test_a_message_claimed_by_another_reply_meanwhile_is_not_adopted(db, tenant):
    """Two identical unconfirmed replies reconciled at the same moment found one message: the one
    that stores it first keeps it; the other keeps its trace and checks again next time."""
    ticket = ConversationFactory(store=StoreFactory(tenant=tenant))
    trace = {"type": "TEXT", "started_at": timezone.now().isoformat()}
    holder = OutboxMessageFactory(
        conversation=ticket,
        text="Thanks!",
        delivery_status=DeliveryStatus.SENT,
        external_id="7300000000000000001",
    )
    late = OutboxMessageFactory(
        conversation=ticket, text="Thanks!", content={"outbox": {"in_flight": trace}}
    )
    attempt = outbox.reply_claim(message_id=late.pk)
    late.refresh_from_db()
    late.content["outbox"]["text_message_id"] = "7300000000000000001"
    found = {"id": "7300000000000000001", "index": None, "created_at": None, "role": "SHOP"}

    with pytest.raises(outbox.OutcomeUnknownError):
        outbox._mark_sent(late, attempt, found, [])

    assert late.content["outbox"] == {"in_flight": trace, "text_message_id": None}
    late.refresh_from_db()
    assert (late.delivery_status, late.external_id) == (DeliveryStatus.SENDING, None)
    assert Message.objects.get(pk=holder.pk).external_id == "7300000000000000001"


def test_a_copy_ingested_while_marking_sent_is_replaced(db, tenant, monkeypatch):
    """The poll stores the platform's copy between our clean-up and our write: the unique clash
    is retried (it is not another reply's message), and ours is marked sent with that id.

    (Here the copy is written on our own connection, so it is rolled back with the failed write;
    in production it is another transaction's and the second pass deletes it.)"""
    ticket = ConversationFactory(store=StoreFactory(tenant=tenant))
    reply = OutboxMessageFactory(conversation=ticket, text="On its way")
    attempt = outbox.reply_claim(message_id=reply.pk)
    reply.refresh_from_db()
    original_mine = outbox._mine
    sneaked: list[int] = []
    writes: list[int] = []

    def mine_after_ingest(message: Message, number: int):
        writes.append(number)
        if not sneaked:  # the copy lands once, right before our first write
            copy = MessageFactory(
                conversation=ticket,
                external_id="7300000000000000002",
                direction=MessageDirection.OUTBOUND,
                sender_role="SHOP",
                text="On its way",
            )
            sneaked.append(copy.pk)
        return original_mine(message, number)

    monkeypatch.setattr(outbox.sending, "_mine", mine_after_ingest)  # where _mark_sent reads it
    found = {"id": "7300000000000000002", "index": None, "created_at": None, "role": ""}
    outbox._mark_sent(reply, attempt, found, [])

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id) == (
        DeliveryStatus.SENT,
        "7300000000000000002",
    )
    assert writes == [attempt, attempt]  # the clash, then the write that went through
    assert Message.objects.filter(external_id="7300000000000000002").count() == 1


# --- Issue 9: failure paths ----------------------------------------------------------------------


# --- Defect 3: a reply with text and an image is two platform messages -------------------------


def test_a_reply_with_text_and_an_image_stays_one_message_when_both_come_back(
    live, owner_membership
):
    sandbox, store, ticket = live
    # The session sandbox's conversation may already hold seller messages of other tests (an
    # image and its text sent by a reply this database no longer has): the ticket's first read
    # stored them as outbound rows of their own. Only what this reply sends, and what the polls
    # store after it, is under test.
    on_platform_before = {item["id"] for item in platform_messages(sandbox, ticket.external_id)}
    stored_before = list(Message.objects.filter(conversation=ticket).values_list("pk", flat=True))
    upload = SimpleUploadedFile("label.png", png(), content_type="image/png")
    reply = queue(owner_membership, ticket, "Here is your shipping label", image=upload)
    assert outbox.reply_send(message_id=reply.pk).status == "sent"
    sent = [
        item
        for item in platform_messages(sandbox, ticket.external_id)
        if item["id"] not in on_platform_before
    ]
    # One image and one text, each sent once.
    assert [item["type"] for item in sent] == ["IMAGE", "TEXT"]
    image, text = sent

    # The poll reads both platform messages back (the webhook path ingests the same way).
    polling.conversation_refresh(store=store, conversation_id=ticket.external_id)
    polling.conversation_refresh(store=store, conversation_id=ticket.external_id)

    # Every outbound row made since: the reply alone, under its text's id (no image row).
    outbound = Message.objects.filter(
        conversation=ticket, direction=MessageDirection.OUTBOUND
    ).exclude(pk__in=stored_before)
    assert list(outbound.values_list("pk", "external_id")) == [(reply.pk, text["id"])]
    assert not outbound.filter(type="IMAGE").exists()
    assert not Message.objects.filter(store=store, external_id=image["id"]).exists()
    ticket.refresh_from_db()
    assert ticket.message_cursor == text["index"].zfill(24)


# --- Defect 4: Send & Solve whose send fails for good ------------------------------------------


def test_a_failed_send_and_solve_reopens_the_ticket_and_says_why(live, owner_membership):
    _, store, ticket = live
    waiting_since = Conversation.objects.get(pk=ticket.pk).reply_wait_since
    assert waiting_since is not None
    reply = queue(owner_membership, ticket, "Refund done.", next_status=TicketStatus.SOLVED)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.awaiting_reply_since) == (TicketStatus.SOLVED, None)
    # The store needs reconnecting: the send fails for good.
    Store.objects.filter(pk=store.pk).update(status=StoreStatus.NEEDS_REAUTH)

    outcome = outbox.reply_send(message_id=reply.pk)

    assert outcome.status == "failed"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at) == (TicketStatus.OPEN, None)
    assert ticket.awaiting_reply_since == waiting_since
    event = TicketEvent.objects.get(conversation=ticket, kind=TicketEventKind.REOPENED)
    assert event.body == (
        "Reopened: the reply could not be sent (was Solved). " + outcome.reason
    )
    assert event.data == {"from": "solved", "to": "open", "failed_message": reply.pk}


def test_a_failed_reply_after_a_later_one_reached_the_buyer_leaves_the_ticket(
    live, owner_membership
):
    _, store, ticket = live
    first = queue(owner_membership, ticket, "First")
    second = queue(owner_membership, ticket, "Second", next_status=TicketStatus.SOLVED)
    Message.objects.filter(pk=first.pk).update(delivery_status=DeliveryStatus.FAILED)
    assert outbox.reply_send(message_id=second.pk).status == "sent"
    Message.objects.filter(pk=first.pk).update(delivery_status=DeliveryStatus.QUEUED)
    Store.objects.filter(pk=store.pk).update(status=StoreStatus.NEEDS_REAUTH)

    assert outbox.reply_send(message_id=first.pk).status == "failed"

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert not TicketEvent.objects.filter(conversation=ticket, kind="reopened").exists()


# --- Defect 8: a reply waiting behind another one in backoff -----------------------------------


def test_a_reply_waiting_behind_one_in_backoff_is_not_redispatched_by_every_sweep(
    live, owner_membership
):
    _, _, ticket = live
    first = queue(owner_membership, ticket, "Earlier")
    second = queue(owner_membership, ticket, "Later")
    backoff_until = timezone.now() + timedelta(minutes=30)
    Message.objects.filter(pk=first.pk).update(next_attempt_at=backoff_until, attempts=1)

    assert outbox.reply_send(message_id=second.pk).status == "waiting"

    # Sweeps during the earlier reply's backoff hand out nothing: not the reply in backoff, and
    # not the one waiting for it (its own task chain looks again; each dispatch used to start
    # one more chain).
    for minutes in (1, 2, 10):
        assert outbox.replies_to_resume(now=timezone.now() + timedelta(minutes=minutes)) == []
    # Once the earlier one is done, the later one is the first in line: handed out if overdue.
    Message.objects.filter(pk=first.pk).update(delivery_status=DeliveryStatus.FAILED)
    assert outbox.replies_to_resume(now=timezone.now() + timedelta(minutes=1)) == [second.pk]
