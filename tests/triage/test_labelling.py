"""Labelling after ingest: the task per batch, the ticket's topic, language and urgency, rules
in a thread, corrections by an agent, retraining with corrections, tenant separation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from inbox.ingest import conversation_ingest, messages_ingest
from inbox.models import Conversation, MessageDirection
from inbox.signals import buyer_messages_stored
from marketplaces.tiktok import mapping
from tenants.models import Membership
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import StoreFactory
from triage import tenant_models
from triage.models import IntentCorrection, MessageLabel, ModelStatus, TenantModel
from triage.services import CorrectionError, messages_label, ticket_intent_correct
from triage.tenant_models import models_for, tenant_model_retrain

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def record(number: int, text: str = "", message_type: str = "TEXT", content=None):
    content = content if content is not None else {"content": text}
    return mapping.message(
        {
            "id": f"72232340792636{number:05d}",
            "index": str(7494560109732334000 + number * 7),
            "type": message_type,
            "content": mapping.message_content(content)[1],
            "create_time": int((T0 + timedelta(minutes=number)).timestamp()),
            "is_visible": True,
            "sender": {"im_user_id": "7078855651811655940", "role": "BUYER", "nickname": "x"},
        },
        "7106888323926000001",
    )


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant)


@pytest.fixture(autouse=True)
def _fresh_cache():
    tenant_models.cache_clear()
    yield
    tenant_models.cache_clear()


def membership_of(user, tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


def test_ingest_enqueues_one_labelling_task_per_batch_after_commit(
    store, django_capture_on_commit_callbacks
):
    conversation_ingest(store=store, external_id="7106888323926000001")
    with (
        mock.patch("triage.tasks.label_messages.apply_async") as publish,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        result = messages_ingest(
            store=store,
            conversation_id="7106888323926000001",
            messages=[record(1, "where is my parcel?"), record(2, "it's been a week")],
        )
        publish.assert_not_called()  # not before the commit
    assert len(callbacks) >= 1
    publish.assert_called_once_with(
        ([m.pk for m in result.new_messages],), argsrepr="(2 message ids)"
    )


def test_ingest_never_fails_because_of_triage(store, django_capture_on_commit_callbacks):
    conversation_ingest(store=store, external_id="7106888323926000001")

    def broken(**kwargs):
        raise RuntimeError("triage is down")

    buyer_messages_stored.connect(broken, dispatch_uid="test.broken")
    try:
        with (
            mock.patch("triage.tasks.label_messages.apply_async", side_effect=OSError("no broker")),
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = messages_ingest(
                store=store, conversation_id="7106888323926000001", messages=[record(1, "hi")]
            )
    finally:
        buyer_messages_stored.disconnect(dispatch_uid="test.broken")
    assert len(result.new_messages) == 1


def test_messages_label_sets_topic_language_and_urgency(shipped, store):
    ticket = ConversationFactory(store=store, tenant=store.tenant)
    first = MessageFactory(
        conversation=ticket, text="Bonjour, mon colis est marqué livré mais je n'ai rien reçu"
    )
    second = MessageFactory(conversation=ticket, text="C'est une arnaque, je vais ouvrir un litige")
    assert messages_label(message_ids=[first.pk, second.pk]) == 2
    ticket.refresh_from_db()
    assert (ticket.intent, ticket.intent_source, ticket.language, ticket.urgent) == (
        "delivery_problem",
        "model",
        "fr",
        True,
    )
    labels = {label.message_id: label for label in MessageLabel.objects.all()}
    assert labels[first.pk].intent == "delivery_problem"
    assert labels[first.pk].model_version.startswith("shipped-")
    assert (labels[second.pk].urgent, labels[second.pk].reasons) == (True, "anger,threat")
    # Idempotent: labelled messages are skipped.
    assert messages_label(message_ids=[first.pk, second.pk]) == 0


def test_thanks_does_not_replace_the_topic(shipped, store):
    ticket = ConversationFactory(store=store, tenant=store.tenant)
    claim = MessageFactory(conversation=ticket, text="please cancel my order")
    thanks = MessageFactory(conversation=ticket, text="thank you so much!")
    messages_label(message_ids=[claim.pk, thanks.pk])
    ticket.refresh_from_db()
    assert ticket.intent == "cancel_order"
    assert MessageLabel.objects.get(message=thanks).intent == "thanks_closing"


def test_image_after_a_damage_claim_keeps_the_damage_topic(shipped, store):
    ticket = ConversationFactory(store=store, tenant=store.tenant)
    claim = MessageFactory(conversation=ticket, text="the vase arrived broken")
    photo = MessageFactory(conversation=ticket, type="IMAGE", text="", content={"url": "x"})
    messages_label(message_ids=[claim.pk, photo.pk])
    label = MessageLabel.objects.get(message=photo)
    assert (label.intent, label.source, label.rule) == (
        "damaged_or_wrong_item",
        "rule",
        "image after a damage claim",
    )


def test_return_request_card_sets_return_refund(shipped, store):
    ticket = ConversationFactory(store=store, tenant=store.tenant, intent="order_status")
    card = MessageFactory(conversation=ticket, type="RETURN_REFUND_CARD", text="", content={})
    messages_label(message_ids=[card.pk])
    ticket.refresh_from_db()
    assert (ticket.intent, ticket.intent_source) == ("return_refund", "rule")


def test_order_card_alone_is_order_status(shipped, store):
    ticket = ConversationFactory(store=store, tenant=store.tenant)
    card = MessageFactory(
        conversation=ticket, type="ORDER_CARD", text="", content={"order_id": "576469260282336209"}
    )
    messages_label(message_ids=[card.pk])
    ticket.refresh_from_db()
    assert ticket.intent == "order_status"


def test_repeated_messages_without_an_answer_make_a_ticket_urgent(shipped, store):
    ticket = ConversationFactory(store=store, tenant=store.tenant, unread_count=3)
    message = MessageFactory(conversation=ticket, text="hello?")
    messages_label(message_ids=[message.pk])
    ticket.refresh_from_db()
    assert ticket.urgent is True
    calm = ConversationFactory(store=store, tenant=store.tenant, unread_count=1)
    message = MessageFactory(conversation=calm, text="hello?")
    messages_label(message_ids=[message.pk])
    calm.refresh_from_db()
    assert calm.urgent is False


def test_labelling_with_the_model_missing_uses_rules(settings, tmp_path, store):
    from triage.engine import shipped_model_forget

    settings.TRIAGE_MODEL_PATH = str(tmp_path / "absent.pkl")
    settings.TRIAGE_TRAIN_MISSING_MODEL = False
    shipped_model_forget()
    ticket = ConversationFactory(store=store, tenant=store.tenant)
    text = MessageFactory(conversation=ticket, text="where is my order")
    card = MessageFactory(conversation=ticket, type="RETURN_REFUND_CARD", text="", content={})
    assert messages_label(message_ids=[text.pk, card.pk]) == 2
    ticket.refresh_from_db()
    assert ticket.intent == "return_refund"
    assert MessageLabel.objects.get(message=text).rule == "no classifier"
    shipped_model_forget()


def test_agent_correction_is_stored_and_sticks(shipped, store, tenant, agent):
    ticket = ConversationFactory(store=store, tenant=tenant)
    message = MessageFactory(conversation=ticket, text="the thing I got is not what I wanted")
    messages_label(message_ids=[message.pk])
    result = ticket_intent_correct(
        conversation=ticket, membership=membership_of(agent, tenant), intent="return_refund"
    )
    correction = result.correction
    assert (correction.text, correction.intent, correction.tenant_id, correction.corrected_by) == (
        "the thing I got is not what I wanted",
        "return_refund",
        tenant.pk,
        agent,
    )
    later = MessageFactory(conversation=ticket, text="do you have it in blue?")
    messages_label(message_ids=[later.pk])
    ticket.refresh_from_db()
    assert (ticket.intent, ticket.intent_source) == ("return_refund", "agent")
    with pytest.raises(CorrectionError):
        ticket_intent_correct(
            conversation=ticket, membership=membership_of(agent, tenant), intent="nonsense"
        )


def test_correction_of_another_tenants_ticket_is_refused(shipped, other_tenant, tenant, agent):
    theirs = ConversationFactory(store=StoreFactory(tenant=other_tenant), tenant=other_tenant)
    with pytest.raises(Conversation.DoesNotExist):
        ticket_intent_correct(
            conversation=theirs, membership=membership_of(agent, tenant), intent="other"
        )
    assert IntentCorrection.objects.count() == 0


def test_retraining_learns_a_correction_for_that_tenant_only(
    shipped, store, tenant, agent, other_tenant
):
    odd = "the llama thing"
    ticket = ConversationFactory(store=store, tenant=tenant)
    MessageFactory(conversation=ticket, text=odd)
    before = models_for([tenant.pk])[tenant.pk].classify([odd])[0].intent
    assert before != "payment_issue"
    ticket_intent_correct(
        conversation=ticket, membership=membership_of(agent, tenant), intent="payment_issue"
    )
    row = tenant_model_retrain(tenant_id=tenant.pk)
    assert (row.version, row.status, row.corrections) == (1, ModelStatus.ACTIVE, 1)
    assert row.accuracy >= shipped.meta["held_out"]["accuracy"]
    models = models_for([tenant.pk, other_tenant.pk])
    assert models[tenant.pk].classify([odd])[0].intent == "payment_issue"
    assert models[tenant.pk].meta["version"] == f"org-{tenant.pk}-v1"
    # The other organisation keeps the shipped model.
    assert models[other_tenant.pk].classify([odd])[0].intent == before
    assert tenant_model_retrain(tenant_id=other_tenant.pk) is None
    # A second retrain keeps the first as the previous version.
    second = tenant_model_retrain(tenant_id=tenant.pk)
    statuses = dict(TenantModel.objects.filter(tenant=tenant).values_list("version", "status"))
    assert second.version == 2
    assert statuses == {1: ModelStatus.PREVIOUS, 2: ModelStatus.ACTIVE}


def test_retrain_that_scores_lower_is_rejected(shipped, store, tenant, agent):
    ticket = ConversationFactory(store=store, tenant=tenant)
    MessageFactory(conversation=ticket, text="x")
    ticket_intent_correct(
        conversation=ticket, membership=membership_of(agent, tenant), intent="other"
    )
    TenantModel.objects.create(
        tenant=tenant,
        version=1,
        status=ModelStatus.ACTIVE,
        artefact=shipped.to_bytes(),
        examples=1,
        corrections=0,
        accuracy=1.01,
        macro_f1=1.0,
        train_seconds=0,
    )
    row = tenant_model_retrain(tenant_id=tenant.pk)
    assert (row.version, row.status, bytes(row.artefact)) == (2, ModelStatus.REJECTED, b"")
    assert TenantModel.objects.get(tenant=tenant, version=1).status == ModelStatus.ACTIVE


def test_buyer_messages_only_are_labelled_through_the_signal(store):
    ticket = ConversationFactory(store=store, tenant=store.tenant)
    reply = MessageFactory(conversation=ticket, direction=MessageDirection.OUTBOUND, text="hi")
    assert reply.direction == MessageDirection.OUTBOUND
