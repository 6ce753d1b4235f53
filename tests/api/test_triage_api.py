"""Triage in the REST API: the ticket's intent, language and urgency fields and filters, the
correction endpoint, suggestions, classify and the organisation's model versions; another
organisation's tickets are 404 (also in tests/api/test_isolation.py)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from inbox import display
from inbox.models import Conversation
from integrations.events import subscriptions_changed
from integrations.models import OutboundEvent, WebhookSubscription
from integrations.signing import new_secret
from marketplaces.crypto import encrypt_token
from triage.labels import Intent
from triage.models import IntentCorrection, ModelStatus, TenantModel

pytestmark = pytest.mark.django_db


def test_tickets_carry_intent_language_and_urgency_and_filter_by_them(world):
    first, second = world.ours.tickets
    Conversation.objects.filter(pk=first.pk).update(
        intent="delivery_problem",
        intent_confidence=0.91,
        intent_source="model",
        language="fr",
        urgent=True,
    )
    body = world.read.get(f"/api/v1/tickets/{first.public_id}/").json()
    assert {key: body[key] for key in ("intent", "intent_confidence", "intent_source")} == {
        "intent": "delivery_problem",
        "intent_confidence": 0.91,
        "intent_source": "model",
    }
    assert (body["language"], body["urgent"]) == ("fr", True)
    ids = [
        row["id"]
        for row in world.read.get("/api/v1/tickets/", {"intent": "delivery_problem"}).json()[
            "results"
        ]
    ]
    assert ids == [str(first.public_id)]
    calm = [
        row["id"]
        for row in world.read.get("/api/v1/tickets/", {"urgent": "false"}).json()["results"]
    ]
    assert calm == [str(second.public_id)]
    bad = world.read.get("/api/v1/tickets/", {"intent": "nonsense"})
    assert bad.status_code == 400


def test_correcting_a_tickets_intent_by_api_key(world):
    WebhookSubscription.objects.create(
        tenant=world.ours.tenant,
        url="https://hooks.acme.example/triage",
        events=["ticket.updated"],
        secret_encrypted=encrypt_token(new_secret()),
    )
    subscriptions_changed(world.ours.tenant.pk)
    ticket = world.ours.tickets[0]
    response = world.write.post(
        f"/api/v1/tickets/{ticket.public_id}/triage/",
        {"intent": "return_refund", "urgent": True},
        **{"Idempotency-Key": "triage-1"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["intent"], body["intent_source"], body["urgent"]) == (
        "return_refund",
        "agent",
        True,
    )
    correction = IntentCorrection.objects.get()
    assert (correction.tenant_id, correction.intent, correction.corrected_by) == (
        world.ours.tenant.pk,
        "return_refund",
        None,
    )
    event = OutboundEvent.objects.get(type="ticket.updated")
    ticket_object = event.payload["data"]["object"]
    assert (ticket_object["intent"], ticket_object["urgent"]) == ("return_refund", True)
    assert event.payload["data"]["changed"]["urgent"] == {"from": False, "to": True}
    read_only = world.read.post(f"/api/v1/tickets/{ticket.public_id}/triage/", {"urgent": False})
    assert read_only.status_code == 403
    empty = world.write.post(f"/api/v1/tickets/{ticket.public_id}/triage/", {})
    assert empty.status_code == 400
    unknown = world.write.post(f"/api/v1/tickets/{ticket.public_id}/triage/", {"intent": "x"})
    assert unknown.status_code == 400


def test_another_organisations_ticket_cannot_be_corrected(world):
    theirs = world.theirs.tickets[0]
    response = world.write.post(f"/api/v1/tickets/{theirs.public_id}/triage/", {"urgent": True})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.urgent is False
    assert IntentCorrection.objects.count() == 0


def test_suggestions_for_a_ticket(world):
    ticket = world.ours.tickets[0]
    response = world.read.get(f"/api/v1/tickets/{ticket.public_id}/suggestions/")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_classify_texts_offline(world, settings, tmp_path):
    response = world.write.post(
        "/api/v1/triage/classify/",
        {"texts": ["", "Annulez ma commande svp, c'est une ARNAQUE !!!"]},
    )
    assert response.status_code == 200, response.content
    empty, cancel = response.json()
    assert empty == {"intent": "other", "confidence": 0.0, "language": "und", "urgent": False}
    assert (cancel["intent"], cancel["language"], cancel["urgent"]) == ("cancel_order", "fr", True)
    too_many = world.write.post("/api/v1/triage/classify/", {"texts": ["x"] * 101})
    assert too_many.status_code == 400


def test_models_are_listed_per_organisation(world):
    TenantModel.objects.create(
        tenant=world.theirs.tenant,
        version=1,
        status=ModelStatus.ACTIVE,
        artefact=b"x",
        examples=10,
        corrections=1,
        accuracy=0.9,
        macro_f1=0.9,
        train_seconds=1.0,
    )
    assert world.read.get("/api/v1/triage/models/").json() == []
    theirs = world.other.get("/api/v1/triage/models/").json()
    assert [(row["version"], row["status"]) for row in theirs] == [(1, "active")]


def _intents_in_the_schema() -> tuple[list[str], str, list[str]]:
    """The tickets' ?intent= enum, the ticket's intent description, the correction's enum."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    tickets = schema["paths"]["/api/v1/tickets/"]["get"]["parameters"]
    (intent,) = (p for p in tickets if p["name"] == "intent")
    components = schema["components"]["schemas"]
    correction = components["CorrectionInputRequest"]["properties"]["intent"]
    choices = correction.get("enum") or components[correction["$ref"].rsplit("/", 1)[1]]["enum"]
    return (
        intent["schema"]["enum"],
        components["Ticket"]["properties"]["intent"]["description"],
        choices,
    )


def test_the_apis_intents_are_triages(monkeypatch):
    """Every intent the API names comes from triage.labels.Intent (through the mailbox's
    registry for inbox's endpoints): one intent more in triage is one more in the schema."""
    enum, description, correction = _intents_in_the_schema()
    assert enum == sorted(Intent.values)
    assert sorted(correction) == sorted(Intent.values)
    assert description == (
        f"Triage's topic of the ticket: {', '.join(Intent.values)} "
        '("" until a buyer message is labelled).'
    )
    monkeypatch.setitem(display.INTENT_LABELS, "warranty_claim", "Warranty claim")
    enum, description, _ = _intents_in_the_schema()
    assert "warranty_claim" in enum
    assert "other, warranty_claim (" in description
