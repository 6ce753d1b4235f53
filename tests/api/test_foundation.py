"""Keys, scopes, the error body, pagination, idempotency and rate limits."""

from __future__ import annotations

import pytest
from django.utils import timezone

from api.models import IdempotencyRecord, IdempotencyState
from inbox.models import TicketEvent
from tenants.models import APIKey
from tests.api.conftest import KeyClient, error_of
from tests.factories_inbox import ConversationFactory

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


def test_no_key_is_401_with_the_error_body(world):
    response = KeyClient(None).get(TICKETS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header", ["Bearer nope.nope", "Bearer ", "Token abc", "Bearer a b", "Bearer " + "x" * 300]
)
def test_bad_keys_are_401(world, header):
    response = KeyClient(None).client.get(TICKETS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_a_revoked_key_is_refused_at_once(world):
    assert world.write.get(TICKETS).status_code == 200
    key = world.keys["write"].api_key
    from api.services import api_key_revoke

    assert api_key_revoke(tenant=key.tenant, api_key=key) is True
    response = world.write.get(TICKETS)
    assert response.status_code == 401
    assert error_of(response)["message"] == "This API key is not valid or was revoked."


def test_a_key_is_stored_only_hashed(world):
    secret = world.keys["write"].secret
    key = APIKey.objects.get(pk=world.keys["write"].api_key.pk)
    stored = " ".join(str(getattr(key, f.attname)) for f in APIKey._meta.fields)
    assert secret not in stored
    assert secret.split(".")[1] not in stored
    assert key.prefix == secret.split(".")[0]


def test_last_used_is_recorded(world):
    key = world.keys["read"].api_key
    assert APIKey.objects.get(pk=key.pk).last_used_at is None
    world.read.get(TICKETS)
    assert APIKey.objects.get(pk=key.pk).last_used_at is not None


def test_a_read_key_writing_is_403_and_nothing_changes(world):
    ticket = world.ours.tickets[0]
    response = world.read.post(f"{TICKETS}{ticket.public_id}/status/", {"status": "solved"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_unknown_url_405_415_and_malformed_json_use_the_error_body(world):
    missing = world.write.get("/api/v1/nothing-here/")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    method = world.write.delete(TICKETS)
    assert method.status_code == 405
    assert error_of(method)["code"] == "method_not_allowed"
    ticket = world.ours.tickets[0]
    url = f"{TICKETS}{ticket.public_id}/status/"
    media = world.write.post(url, raw="status=solved", content_type="text/plain")
    assert media.status_code == 415
    assert error_of(media)["code"] == "unsupported_media_type"
    broken = world.write.post(url, raw='{"status": "solved"')
    assert broken.status_code == 400
    assert error_of(broken)["code"] == "parse_error"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_10_mb_body_is_413_and_nothing_is_written(world):
    ticket = world.ours.tickets[0]
    notes = TicketEvent.objects.count()
    body = '{"body": "' + "x" * (10 * 1024 * 1024) + '"}'
    response = world.write.post(f"{TICKETS}{ticket.public_id}/notes/", raw=body)
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert TicketEvent.objects.count() == notes


def test_unknown_fields_wrong_types_and_overlong_text_are_400_with_fields(world):
    ticket = world.ours.tickets[0]
    url = f"{TICKETS}{ticket.public_id}/status/"
    unknown = world.write.post(url, {"status": "solved", "priority": "high"})
    assert unknown.status_code == 400
    assert error_of(unknown)["fields"] == {"priority": ["This field is not known."]}
    wrong = world.write.post(url, {"status": 7})
    assert wrong.status_code == 400
    assert list(error_of(wrong)["fields"]) == ["status"]
    long = world.write.post(f"{TICKETS}{ticket.public_id}/messages/", {"text": "a" * 2001})
    assert long.status_code == 400
    assert error_of(long)["fields"] == {
        "text": ["A reply is limited to 2,000 characters; this one has 2,001."]
    }
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.messages.count() == 2


# --- Pagination ---------------------------------------------------------------------------------


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_pages_follow_the_cursor_and_stay_stable_under_inserts(world):
    tenant, store = world.ours.tenant, world.ours.stores[0]
    made = [ConversationFactory(store=store, tenant=tenant) for _ in range(7)]
    everything = _ids(world.write.get(TICKETS, {"page_size": 100}))
    assert len(everything) == 9
    first = world.write.get(TICKETS, {"page_size": 4})
    page = first.json()
    assert _ids(first) == everything[:4]
    assert page["next"].startswith("http://testserver/api/v1/tickets/?")
    assert f"cursor={page['next_cursor']}" in page["next"] and "page_size=4" in page["next"]
    # New tickets arrive (newest activity) while the client pages: they do not shift the pages.
    for _ in range(3):
        ConversationFactory(store=store, tenant=tenant, last_message_at=timezone.now())
    second = world.write.get(TICKETS, {"page_size": 4, "cursor": page["next_cursor"]})
    third = world.write.get(TICKETS, {"page_size": 4, "cursor": second.json()["next_cursor"]})
    assert _ids(second) == everything[4:8]
    assert _ids(third) == everything[8:]
    assert third.json()["next_cursor"] is None and third.json()["next"] is None
    assert len(made) == 7


@pytest.mark.parametrize("size", ["0", "101", "x", "-1"])
def test_page_size_is_1_to_100(world, size):
    response = world.write.get(TICKETS, {"page_size": size})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"page_size": ["Give a whole number from 1 to 100."]}


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJ4IiwxXQ", "e30"])
def test_a_forged_cursor_is_400(world, cursor):
    response = world.write.get(TICKETS, {"cursor": cursor})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["cursor"]


def test_list_queries_do_not_grow_with_page_size(world, django_assert_max_num_queries):
    tenant, store = world.ours.tenant, world.ours.stores[0]
    for _ in range(30):
        ConversationFactory(store=store, tenant=tenant)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world.write.get(TICKETS)  # the key's last use is written once a minute: not in what is counted
    counts = []
    for size in (2, 30):
        with CaptureQueriesContext(connection) as captured:
            assert len(_ids(world.write.get(TICKETS, {"page_size": size}))) == size
        counts.append(len(captured))
    # The key (with its tenant) and the page (with store, buyer and assignee joined).
    assert counts == [2, 2]


# --- Idempotency --------------------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_first_answer(world):
    ticket = world.ours.tickets[0]
    url = f"{TICKETS}{ticket.public_id}/notes/"
    first = world.write.post(url, {"body": "Called the carrier"}, **{"Idempotency-Key": "k-1"})
    again = world.write.post(url, {"body": "Called the carrier"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert TicketEvent.objects.filter(conversation=ticket, body="Called the carrier").count() == 1


def test_same_idempotency_key_with_another_body_is_422(world):
    ticket = world.ours.tickets[0]
    url = f"{TICKETS}{ticket.public_id}/notes/"
    world.write.post(url, {"body": "one"}, **{"Idempotency-Key": "k-2"})
    response = world.write.post(url, {"body": "two"}, **{"Idempotency-Key": "k-2"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert not TicketEvent.objects.filter(body="two").exists()


def test_same_idempotency_key_while_the_first_runs_is_409(world):
    ticket = world.ours.tickets[0]
    url = f"{TICKETS}{ticket.public_id}/notes/"
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from api.idempotency import fingerprint
    from api.parsers import LimitedJSONParser

    raw = APIRequestFactory().post(url, {"body": "slow"}, format="json")
    request = Request(raw, parsers=[LimitedJSONParser()])
    IdempotencyRecord.objects.create(
        tenant=world.ours.tenant, key="k-3", fingerprint=fingerprint(request)
    )
    response = world.write.post(url, {"body": "slow"}, **{"Idempotency-Key": "k-3"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_in_progress"
    assert not TicketEvent.objects.filter(body="slow").exists()


def test_idempotency_keys_are_per_organisation(world):
    ours, theirs = world.ours.tickets[0], world.theirs.tickets[0]
    a = world.write.post(
        f"{TICKETS}{ours.public_id}/notes/", {"body": "x"}, **{"Idempotency-Key": "same"}
    )
    b = world.other.post(
        f"{TICKETS}{theirs.public_id}/notes/", {"body": "x"}, **{"Idempotency-Key": "same"}
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert IdempotencyRecord.objects.filter(key="same", state=IdempotencyState.DONE).count() == 2


def test_an_error_answer_is_replayed_too_and_a_server_error_releases_the_key(world, monkeypatch):
    ticket = world.ours.tickets[0]
    url = f"{TICKETS}{ticket.public_id}/notes/"
    bad = world.write.post(url, {"body": ""}, **{"Idempotency-Key": "k-4"})
    assert bad.status_code == 400
    assert world.write.post(url, {"body": ""}, **{"Idempotency-Key": "k-4"}).json() == bad.json()

    from inbox import services

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "note_add", boom)
    world.write.client.raise_request_exception = False
    crashed = world.write.post(url, {"body": "later"}, **{"Idempotency-Key": "k-5"})
    assert crashed.status_code == 500
    assert error_of(crashed)["code"] == "server_error"
    assert not IdempotencyRecord.objects.filter(key="k-5").exists()


# --- Rate limits --------------------------------------------------------------------------------


def test_over_the_rate_limit_is_429_with_retry_after(world, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    statuses = [world.read.get(TICKETS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = world.read.get(TICKETS)
    assert error_of(response)["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another key has its own budget.
    assert world.write.get(TICKETS).status_code == 200
