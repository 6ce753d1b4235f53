"""Webhook intake (POST /webhooks/tiktok/) and the task that processes stored events.

Bodies are the official samples in tests/fixtures/tiktok/ (and the contract's vector WV1), signed
the way TikTok signs them: hex HMAC-SHA256(app_secret, app_key + raw body).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone

from marketplaces import services
from marketplaces.models import (
    StoreStatus,
    SyncJobStatus,
    WebhookEvent,
    WebhookEventStatus,
    WebhookType,
)
from marketplaces.tasks import (
    process_webhook_event,
    process_webhook_events,
    prune_webhook_events,
    requeue_webhook_events,
)
from marketplaces.tiktok.signing import sign_webhook
from tests.factories_marketplaces import StoreFactory, SyncJobFactory, WebhookEventFactory
from tests.samples import SAMPLES

APP_KEY, APP_SECRET = "sellerdesk-test-key", "sellerdesk-test-secret"
URL = "/webhooks/tiktok/"
SAMPLE_SHOP = "7494049642642441621"
SAMPLE_SENT_AT = datetime(2022, 2, 9, 13, 21, 25, tzinfo=UTC)  # the samples' timestamp 1644412885

# Contract §8.4 WV1 (official): app_key "abcdef", app_secret "123".
WV1_BODY = (
    b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
    b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
    b'"order_status":"UNPAID","update_time":1718305585}}'
)
WV1_SIGN = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"


def sample(name: str, **changes: object) -> dict:
    body = json.loads((SAMPLES / name).read_text())["request_sample"]
    body.update(changes)
    return body


def raw(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@pytest.fixture(autouse=True)
def _app_credentials(settings):
    settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET = APP_KEY, APP_SECRET
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def enqueued(monkeypatch, private_cache) -> list[object]:
    """What was handed to the broker (recorded instead of sent): an event id, or (shop id, type)
    for the drain task of a batch-handled type (NEW_MESSAGE)."""
    sent: list[object] = []
    monkeypatch.setattr(process_webhook_event, "delay", sent.append)
    monkeypatch.setattr(
        process_webhook_events, "delay", lambda shop_id, kind: sent.append((shop_id, kind))
    )
    return sent


def task_for(event: WebhookEvent) -> object:
    """What the intake enqueues for an event: its drain for NEW_MESSAGE, its own task otherwise."""
    if event.type == WebhookType.NEW_MESSAGE:
        return (event.shop_id, event.type)
    return event.pk


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def send(body: bytes, signature: str | None = "sign", **headers: str):
        if signature == "sign":
            signature = sign_webhook(APP_KEY, APP_SECRET, body)
        if signature is not None:
            headers["HTTP_AUTHORIZATION"] = signature
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, body, content_type="application/json", **headers)

    return send


@pytest.fixture
def store(tenant):
    """The samples' shop, connected before the samples were sent."""
    return StoreFactory(
        tenant=tenant,
        external_shop_id=SAMPLE_SHOP,
        connected_at=SAMPLE_SENT_AT - timedelta(days=30),
        tokens=("TTP_access", "TTP_refresh"),
    )


# --- Intake -------------------------------------------------------------------------------------


def test_official_vector_wv1_is_accepted_and_stored(settings, db, post, enqueued):
    settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET = "abcdef", "123"

    response = post(WV1_BODY, signature=WV1_SIGN)

    assert response.status_code == 200
    assert response.json() == {"code": 0, "message": "success"}
    event = WebhookEvent.objects.get()
    assert (event.notification_id, event.type, event.shop_id) == (
        "7380066284010030890",
        1,
        "7495540735365777507",
    )
    assert event.payload == json.loads(WV1_BODY)
    assert event.status == WebhookEventStatus.RECEIVED
    assert event.attempts == 0
    assert enqueued == [event.pk]


@pytest.mark.parametrize(
    ("name", "webhook_type"),
    [
        ("webhook_1_ORDER_STATUS_CHANGE.json", 1),
        ("webhook_6_SELLER_DEAUTHORIZATION.json", 6),
        ("webhook_7_UPCOMING_AUTHORIZATION_EXPIRATION.json", 7),
        ("webhook_11_CANCELLATION_STATUS_CHANGE.json", 11),
        ("webhook_12_RETURN_STATUS_CHANGE.json", 12),
        ("webhook_13_NEW_CONVERSATION.json", 13),
        ("webhook_14_NEW_MESSAGE.json", 14),
    ],
)
def test_every_official_sample_is_stored_with_its_type(db, post, enqueued, name, webhook_type):
    body = sample(name)

    response = post(raw(body))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.type, event.notification_id, event.shop_id) == (
        webhook_type,
        "7327112393057371910",
        SAMPLE_SHOP,
    )
    assert event.payload == body
    assert enqueued == [task_for(event)]


def test_the_signature_is_checked_on_the_raw_bytes_not_on_reserialized_json(db, post, enqueued):
    pretty = json.dumps(sample("webhook_6_SELLER_DEAUTHORIZATION.json"), indent=2).encode()

    response = post(pretty)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().type == 6


@pytest.mark.parametrize(
    "signature",
    [
        "0" * 64,
        "not-hex-at-all",
        "",
        sign_webhook(
            APP_KEY, "another-secret", raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json"))
        ),
        "Bearer "
        + sign_webhook(APP_KEY, APP_SECRET, raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json"))),
    ],
)
def test_a_wrong_signature_is_refused_and_nothing_stored(db, post, enqueued, signature):
    response = post(raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json")), signature=signature)

    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert enqueued == []


def test_a_missing_signature_is_refused_and_nothing_stored(db, post, enqueued):
    response = post(raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json")), signature=None)

    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert enqueued == []


def test_a_body_changed_after_signing_is_refused(db, post, enqueued):
    body = raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json"))
    signature = sign_webhook(APP_KEY, APP_SECRET, body)

    response = post(body.replace(SAMPLE_SHOP.encode(), b"7494049642642441622"), signature=signature)

    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_without_configured_credentials_everything_is_refused(settings, db, post, enqueued):
    settings.TIKTOK_APP_SECRET = ""
    body = raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json"))

    response = post(body, signature=sign_webhook(APP_KEY, "", body))

    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_a_duplicate_notification_is_acknowledged_and_stored_once(db, post, enqueued):
    body = raw(sample("webhook_14_NEW_MESSAGE.json"))

    first, second, third = post(body), post(body), post(body)

    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 200]
    assert second.json() == {"code": 0, "message": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    assert enqueued == [task_for(WebhookEvent.objects.get())]


def test_same_notification_id_with_a_different_body_is_still_a_duplicate(db, post, enqueued):
    post(raw(sample("webhook_14_NEW_MESSAGE.json")))

    response = post(raw(sample("webhook_13_NEW_CONVERSATION.json")))

    assert response.status_code == 200
    assert list(WebhookEvent.objects.values_list("type", flat=True)) == [14]


def test_the_unique_constraint_decides_a_duplicate_not_a_prior_read(
    db, enqueued, django_assert_num_queries
):
    WebhookEventFactory(notification_id="7327112393057371910", type=14)

    # A racing delivery that already passed any "exists?" check: the INSERT itself is refused.
    event = services.webhook_event_receive(
        notification_id="7327112393057371910", webhook_type=14, shop_id=SAMPLE_SHOP, payload={}
    )

    assert event is None
    assert WebhookEvent.objects.count() == 1


def test_a_new_notification_costs_one_insert(db, post, enqueued, django_assert_num_queries):
    body = raw(sample("webhook_1_ORDER_STATUS_CHANGE.json"))

    # SAVEPOINT, INSERT, RELEASE: the INSERT is the only statement touching a table.
    with django_assert_num_queries(3) as captured:
        post(body)

    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    assert statements == ["SAVEPOINT", "INSERT", "RELEASE"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"\xff\xfe",
        b"[1, 2, 3]",
        b'"a string"',
        b'{"type": 1, "shop_id": "1", "timestamp": 1, "data": {}}',
        b'{"type": "1", "tts_notification_id": "7", "shop_id": "1", "data": {}}',
        b'{"type": true, "tts_notification_id": "7", "shop_id": "1", "data": {}}',
        b'{"type": 1, "tts_notification_id": {"id": 7}, "shop_id": "1", "data": {}}',
        b'{"type": 1, "tts_notification_id": "' + b"9" * 65 + b'", "data": {}}',
    ],
)
def test_malformed_notifications_are_refused_with_400_and_nothing_stored(db, post, enqueued, body):
    response = post(body)

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert enqueued == []


def _nested(depth: int) -> bytes:
    return (
        b'{"type":1,"tts_notification_id":"7","shop_id":"1","data":'
        + (b'{"a":' * depth + b"1" + b"}" * depth)
        + b"}"
    )


@pytest.mark.parametrize(
    "body",
    [
        # A topic number past what a database integer holds: 400, not an overflow at INSERT.
        b'{"type":' + str(2**31).encode() + b',"tts_notification_id":"7","shop_id":"1"}',
        b'{"type":' + str(2**64).encode() + b',"tts_notification_id":"7","shop_id":"1"}',
        b'{"type":' + b"9" * 4000 + b',"tts_notification_id":"7","shop_id":"1"}',
        b'{"type":-1,"tts_notification_id":"7","shop_id":"1"}',
        # Nesting no notification has: past Python's recursion limit, and merely absurd.
        _nested(100_000),
        _nested(200),
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "type 2**31",
        "type 2**64",
        "type of 4000 digits",
        "type -1",
        "depth 100000",
        "depth 200",
        "array depth 100000",
    ],
)
def test_hostile_signed_bodies_are_refused_with_400_and_nothing_stored(db, post, enqueued, body):
    response = post(body)

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert WebhookEvent.objects.count() == 0
    assert enqueued == []


@pytest.mark.parametrize("header", ["é" * 64, "sign\u00e9", "\u00ff" + "0" * 63])
def test_a_non_ascii_authorization_header_is_a_bad_signature(db, post, enqueued, header):
    response = post(raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json")), signature=header)

    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "invalid signature"}
    assert WebhookEvent.objects.count() == 0
    assert enqueued == []


def test_numeric_ids_are_stored_as_their_digits(db, post, enqueued):
    body = b'{"type":6,"tts_notification_id":7327112393057371910,"shop_id":123455,"data":{}}'

    assert post(body).status_code == 200

    event = WebhookEvent.objects.get()
    assert (event.notification_id, event.shop_id) == ("7327112393057371910", "123455")


def test_only_post_is_accepted(client, db):
    assert client.get(URL).status_code == 405


def test_the_acknowledgement_survives_a_broker_that_is_down(db, post, monkeypatch):
    def broker_down(event_id: int) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(process_webhook_event, "delay", broker_down)

    response = post(raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json")))

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED


# --- Processing ---------------------------------------------------------------------------------


def event_from(name: str, **changes: object) -> WebhookEvent:
    body = sample(name, **changes)
    return WebhookEvent.objects.create(
        notification_id=str(body["tts_notification_id"]),
        type=body["type"],
        shop_id=body["shop_id"],
        payload=body,
    )


def test_deauthorization_marks_the_store_needs_reauth_and_pauses_sync(store):
    running = SyncJobFactory(store=store, status=SyncJobStatus.RUNNING)
    done = SyncJobFactory(store=store, mode="incremental", status=SyncJobStatus.COMPLETED)
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")

    assert process_webhook_event(event.pk) == WebhookEventStatus.PROCESSED

    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH
    assert store.status_reason == (
        "The seller removed Sellerdesk's access in TikTok Shop. Reconnect the store."
    )
    assert store.status_changed_at is not None
    assert store.sync_enabled is False
    assert (store.access_token_encrypted, store.refresh_token_encrypted) == ("", "")
    running.refresh_from_db()
    done.refresh_from_db()
    assert (running.status, done.status) == (SyncJobStatus.PAUSED, SyncJobStatus.COMPLETED)
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.store_id == store.pk
    assert event.result == "Store marked as needing re-authorization; sync paused."
    assert event.processed_at is not None
    assert event.attempts == 1


def test_deauthorization_sent_before_a_reconnect_is_ignored(store):
    store.connected_at = SAMPLE_SENT_AT + timedelta(minutes=5)
    store.save()
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")

    assert process_webhook_event(event.pk) == WebhookEventStatus.PROCESSED

    store.refresh_from_db()
    assert store.status == StoreStatus.ACTIVE
    assert store.access_token == "TTP_access"
    event.refresh_from_db()
    assert event.result == "Ignored: the store was reconnected after this notification was sent."


def test_deauthorization_leaves_a_disconnected_store_disconnected(store):
    store.status = StoreStatus.DISCONNECTED
    store.save()
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")

    process_webhook_event(event.pk)

    store.refresh_from_db()
    assert store.status == StoreStatus.DISCONNECTED
    event.refresh_from_db()
    assert event.result == "Ignored: the store is disconnected."


def test_upcoming_expiration_stores_the_date_for_a_warning(store):
    event = event_from("webhook_7_UPCOMING_AUTHORIZATION_EXPIRATION.json")

    assert process_webhook_event(event.pk) == WebhookEventStatus.PROCESSED

    store.refresh_from_db()
    assert store.authorization_expires_at == datetime(2021, 7, 29, 19, 38, 26, tzinfo=UTC)
    assert store.authorization_warned_at is not None
    assert store.status == StoreStatus.ACTIVE
    event.refresh_from_db()
    assert event.result == "Authorization expires 2021-07-29 19:38 UTC; warning recorded."


def test_upcoming_expiration_with_a_bad_date_fails_visibly_and_changes_nothing(store):
    body = sample("webhook_7_UPCOMING_AUTHORIZATION_EXPIRATION.json")
    body["data"]["expiration_time"] = "next week"
    event = WebhookEvent.objects.create(
        notification_id="1", type=7, shop_id=SAMPLE_SHOP, payload=body
    )

    assert process_webhook_event(event.pk) == WebhookEventStatus.FAILED

    event.refresh_from_db()
    assert event.status == WebhookEventStatus.FAILED
    assert event.last_error == "ValueError: expiration_time is not a Unix timestamp: 'next week'"
    assert event.processed_at is None
    store.refresh_from_db()
    assert store.authorization_expires_at is None


def test_a_type_without_a_handler_is_kept_awaiting_one(store):
    # Types 1, 11, 12 (orders), 5, 15, 16 (products) and 13, 14 (mailbox) have handlers; a topic
    # nobody handles yet, such as 4 (PACKAGE_UPDATE), is stored, not dropped.
    event = event_from(
        "webhook_1_ORDER_STATUS_CHANGE.json",
        type=4,
        data={"package_id": 1729592969712207008, "update_time": 1718305585},
    )

    assert process_webhook_event(event.pk) == WebhookEventStatus.AWAITING_HANDLER

    event.refresh_from_db()
    assert event.status == WebhookEventStatus.AWAITING_HANDLER
    assert event.result == "Stored; Type 4 events are not handled yet."
    assert event.processed_at is None
    assert event.store_id == store.pk


def test_an_event_for_a_shop_nobody_connected_is_marked_so(db):
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")

    assert process_webhook_event(event.pk) == WebhookEventStatus.UNKNOWN_SHOP

    event.refresh_from_db()
    assert event.store_id is None
    assert event.result == f"No store is connected for shop {SAMPLE_SHOP}."


def test_processing_the_same_event_twice_does_the_work_once(store):
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")

    first = process_webhook_event(event.pk)
    second = process_webhook_event(event.pk)

    assert (first, second) == (WebhookEventStatus.PROCESSED, None)
    event.refresh_from_db()
    assert event.attempts == 1


def test_an_event_claimed_by_a_live_worker_is_not_taken_again(store):
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEventStatus.PROCESSING, claimed_at=timezone.now(), attempts=1
    )

    assert process_webhook_event(event.pk) is None

    store.refresh_from_db()
    assert store.status == StoreStatus.ACTIVE
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEventStatus.PROCESSING, 1)


def test_an_event_left_by_a_dead_worker_is_claimed_again_after_the_timeout(store):
    event = event_from("webhook_6_SELLER_DEAUTHORIZATION.json")
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEventStatus.PROCESSING,
        claimed_at=timezone.now() - services.WEBHOOK_CLAIM_TIMEOUT - timedelta(seconds=1),
        attempts=1,
    )

    assert process_webhook_event(event.pk) == WebhookEventStatus.PROCESSED

    event.refresh_from_db()
    assert event.attempts == 2
    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH


def test_a_stale_worker_cannot_overwrite_the_result_of_the_worker_that_reclaimed(store):
    event = event_from("webhook_7_UPCOMING_AUTHORIZATION_EXPIRATION.json")
    original_handler = services.webhook_handler_for(7)

    def slow_handler(event: WebhookEvent, store) -> str:
        # While this worker runs, another reclaims the event (its claim looked dead).
        WebhookEvent.objects.filter(pk=event.pk).update(claimed_at=timezone.now())
        return original_handler(event, store)

    services._HANDLERS[7] = slow_handler
    try:
        process_webhook_event(event.pk)
    finally:
        services._HANDLERS[7] = original_handler

    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSING  # left for the worker that owns it


def test_end_to_end_deauthorization_from_post_to_store_status(store, post, monkeypatch):
    monkeypatch.setattr(
        process_webhook_event, "delay", lambda event_id: process_webhook_event(event_id)
    )

    response = post(raw(sample("webhook_6_SELLER_DEAUTHORIZATION.json")))

    assert response.status_code == 200
    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


# --- Sweeper ------------------------------------------------------------------------------------


def test_the_sweeper_requeues_what_was_never_processed(store, enqueued, monkeypatch):
    now = timezone.now()
    never_enqueued = WebhookEventFactory(
        type=6, shop_id=SAMPLE_SHOP, received_at=now - timedelta(minutes=5)
    )
    just_arrived = WebhookEventFactory(type=6, shop_id=SAMPLE_SHOP, received_at=now)
    dead_worker = WebhookEventFactory(
        type=7,
        status=WebhookEventStatus.PROCESSING,
        claimed_at=now - timedelta(hours=1),
        received_at=now - timedelta(hours=1),
    )
    live_worker = WebhookEventFactory(
        type=7, status=WebhookEventStatus.PROCESSING, claimed_at=now, received_at=now
    )
    waiting_order = WebhookEventFactory(
        type=1, status=WebhookEventStatus.AWAITING_HANDLER, received_at=now - timedelta(days=1)
    )
    waiting_message = WebhookEventFactory(
        type=14, status=WebhookEventStatus.AWAITING_HANDLER, received_at=now - timedelta(days=1)
    )
    failed = WebhookEventFactory(
        type=6, status=WebhookEventStatus.FAILED, received_at=now - timedelta(days=1)
    )
    # The registry as this test needs it, whatever the apps register: the store handlers (6, 7),
    # a handler for type 1, and none for type 14.
    handlers = {key: services._HANDLERS[key] for key in (6, 7)}
    handlers[1] = lambda event, store: "order refreshed"
    monkeypatch.setattr(services.webhook_processing, "_HANDLERS", handlers)  # what requeue reads

    count = requeue_webhook_events()

    assert count == 3
    assert enqueued == [waiting_order.pk, dead_worker.pk, never_enqueued.pk]
    statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    assert statuses[waiting_order.pk] == WebhookEventStatus.RECEIVED
    assert statuses[waiting_message.pk] == WebhookEventStatus.AWAITING_HANDLER
    assert statuses[failed.pk] == WebhookEventStatus.FAILED
    assert statuses[just_arrived.pk] == WebhookEventStatus.RECEIVED
    assert statuses[live_worker.pk] == WebhookEventStatus.PROCESSING


def test_pruning_deletes_only_old_processed_events(db):
    now = timezone.now()
    old = now - services.WEBHOOK_RETENTION - timedelta(days=1)
    kept = {
        "recent processed": WebhookEventFactory(
            status=WebhookEventStatus.PROCESSED, received_at=now
        ),
        "old failed": WebhookEventFactory(status=WebhookEventStatus.FAILED, received_at=old),
        "old awaiting": WebhookEventFactory(
            status=WebhookEventStatus.AWAITING_HANDLER, received_at=old
        ),
    }
    WebhookEventFactory(status=WebhookEventStatus.PROCESSED, received_at=old)
    WebhookEventFactory(status=WebhookEventStatus.UNKNOWN_SHOP, received_at=old)

    assert prune_webhook_events() == 2

    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept.values()}


def test_a_nul_character_in_a_signed_notification_is_removed_and_the_event_stored(
    db, post, enqueued
):
    body = sample("webhook_14_NEW_MESSAGE.json")
    body["data"]["content"] = '{"content":"Hi\\u0000 there"}'
    body["data"]["sender\u0000"] = "x"

    response = post(raw(body).replace(b"Hi\\\\u0000", b"Hi\\u0000"))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert "\x00" not in json.dumps(event.payload, ensure_ascii=False)
    assert event.payload["data"]["content"] == '{"content":"Hi there"}'
    assert event.payload["data"]["sender"] == "x"
