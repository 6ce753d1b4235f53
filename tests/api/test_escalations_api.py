"""Escalation cases in the REST API: the form's own rules for every kind (required fields, the 72
hours, files judged by their content, orders of the organisation), files as multipart parts,
pre-fill from a ticket or an order, drafts edited, the status flow with notes and history, and
submission by e-mail. Another organisation's objects are tests/api/test_isolation.py's."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations.kinds import KINDS
from escalations.models import Escalation, EscalationAttachment, EscalationSettings
from inbox.models import ConversationOrder, OrderLinkSource
from tests.api.conftest import PRODUCT_CASE, error_of
from tests.escalations.conftest import (
    REQUIRED_FILES,
    complete_values,
    days_ago,
    not_an_image,
    pdf,
    png,
)
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/escalations/"


def _files(kind: str) -> dict:
    return {name: png(f"{name}.png") for name in REQUIRED_FILES[kind]}


def _open(client, kind: str, store, values: dict, files: dict | None = None, **extra):
    data = {"kind": kind, "store_id": str(store.public_id), "values": json.dumps(values), **extra}
    return client.multipart(URL, {**data, **(files if files is not None else _files(kind))})


def _counts() -> tuple[int, int]:
    return Escalation.objects.count(), EscalationAttachment.objects.count()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_needs_its_required_fields_and_files_like_the_form(world, kind):
    store = world.ours.stores[0]
    values = complete_values(kind)
    before = _counts()
    required = [s.name for s in KINDS[kind].fields() if s.required and not s.type.is_file]
    assert required
    for name in required:
        response = _open(world.write, kind, store, {k: v for k, v in values.items() if k != name})
        assert response.status_code == 400, (name, response.content)
        fields = error_of(response)["fields"]
        assert list(fields) == [f"values.{name}"], (name, fields)
        assert fields[f"values.{name}"][0].startswith(KINDS[kind].field(name).label)
    for name in REQUIRED_FILES[kind]:
        files = {k: v for k, v in _files(kind).items() if k != name}
        response = _open(world.write, kind, store, values, files)
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == [name]
    assert _counts() == before

    response = _open(world.write, kind, store, values)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == kind
    assert body["status"] == "draft"
    assert body["store"]["shop_id"] == store.external_shop_id
    assert sorted(f["field"] for f in body["files"]) == sorted(REQUIRED_FILES[kind])
    case = Escalation.objects.get(public_id=body["id"])
    assert body["values"] == case.values
    assert set(case.values) >= set(required)
    assert case.events.get().actor_label == "API key ERP"


def test_bad_input_is_refused_with_the_field_named_and_nothing_kept(world):
    ours, theirs = world.ours, world.theirs
    store = ours.stores[0]
    violation = complete_values("violation")
    before = _counts()
    cases = [
        # An appeal date in the future.
        ("violation", {**violation, "appeal_date": "2999-01-01T10:00"}, None, "values.appeal_date"),
        # A pending appeal made 24 hours ago: 72 hours not past yet.
        ("violation", {**violation, "appeal_date": days_ago(1)}, None, "values.appeal_date"),
        # A renamed executable as a screenshot.
        (
            "violation",
            violation,
            {"violation_screenshots": not_an_image(), "appeal_screenshots": png()},
            "violation_screenshots",
        ),
        # An order of another organisation.
        (
            "orders",
            {**complete_values("orders"), "our_order_id": str(theirs.orders[0].public_id)},
            None,
            "values.our_order_id",
        ),
        # A field the kind does not have, and a file field it does not have.
        ("products", {**PRODUCT_CASE, "colour": "red"}, {}, "values.colour"),
        ("products", PRODUCT_CASE, {"invoice": pdf()}, "invoice"),
    ]
    expected = [
        "cannot be in the future",
        "Too early to escalate",
        "is not an image (JPEG, PNG, GIF, WEBP) or a PDF",
        "no such order in your organisation's stores",
        "is not a field of Products cases",
        "is not a file field of Products cases",
    ]
    for (kind, values, files, field), words in zip(cases, expected, strict=True):
        response = _open(world.write, kind, store, values, files)
        assert response.status_code == 400, (field, response.content)
        fields = error_of(response)["fields"]
        assert field in fields, (field, fields)
        assert words in " ".join(fields[field]), (field, fields)
    # A JSON body cannot carry the screenshots an Orders case needs: said, by their field.
    response = world.write.post(
        URL,
        {"kind": "orders", "store_id": str(store.public_id), "values": complete_values("orders")},
    )
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"screenshot_here", "screenshot_seller_center"}
    assert _counts() == before


def test_a_case_from_an_order_or_a_ticket_is_prefilled_with_what_sellerdesk_knows(world):
    ours = world.ours
    order, ticket = ours.orders[0], ours.tickets[0]
    ConversationOrder.objects.create(
        tenant=ours.tenant,
        conversation=ticket,
        order=order,
        order_external_id=order.external_id,
        source=OrderLinkSource.ORDER_CARD,
    )
    placed = order.placed_at.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
    for source in ({"order_id": str(order.public_id)}, {"ticket_id": str(ticket.public_id)}):
        response = world.write.multipart(
            URL,
            {
                "kind": "orders",
                "prefill": "true",
                "values": json.dumps({"problem": "cannot_fulfil"}),
                **source,
                **_files("orders"),
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["values"]["tiktok_order_id"] == order.external_id
        assert body["values"]["our_order_id"] == str(order.public_id)
        assert body["values"]["order_date"] == placed
        assert body["values"]["problem"] == "cannot_fulfil"
        assert body["order_id"] == str(order.public_id)
        assert body["store"]["id"] == str(ours.stores[0].public_id)
    assert body["ticket_id"] == str(ticket.public_id)
    # Without prefill, nothing is guessed: the order's fields are required.
    response = world.write.multipart(
        URL,
        {
            "kind": "orders",
            "order_id": str(order.public_id),
            "values": json.dumps({"problem": "cannot_fulfil"}),
            **_files("orders"),
        },
    )
    assert response.status_code == 400
    assert "values.tiktok_order_id" in error_of(response)["fields"]


def test_a_ticket_and_a_store_that_disagree_are_refused(world):
    ours = world.ours
    response = world.write.post(
        URL,
        {
            "kind": "products",
            "ticket_id": str(ours.tickets[0].public_id),
            "store_id": str(ours.stores[1].public_id),
            "values": PRODUCT_CASE,
        },
    )
    assert response.status_code == 400
    assert "different stores" in error_of(response)["fields"]["store_id"][0]
    response = world.write.post(URL, {"kind": "products", "values": PRODUCT_CASE})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["store_id"]
    # A support mailbox is no shop to escalate about.
    mailbox = StoreFactory(tenant=ours.tenant, platform="email", name="Support mail")
    ticket = ConversationFactory(store=mailbox, tenant=ours.tenant)
    for field, target in (("store_id", mailbox), ("ticket_id", ticket)):
        response = world.write.post(
            URL, {"kind": "products", field: str(target.public_id), "values": PRODUCT_CASE}
        )
        assert response.status_code == 400
        assert "is an e-mail mailbox" in error_of(response)["fields"][field][0]
    assert not Escalation.objects.filter(store=mailbox).exists()


def test_the_status_flow_with_submission_notes_and_history(world):
    store = world.ours.stores[0]
    response = world.write.post(
        URL, {"kind": "products", "store_id": str(store.public_id), "values": PRODUCT_CASE}
    )
    assert response.status_code == 201
    case = response.json()
    path = f"{URL}{case['id']}/"
    assert case["next_statuses"] == []

    refused = world.write.post(f"{path}status/", {"status": "waiting"})
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "status_not_allowed"
    no_address = world.write.post(f"{path}submit/", {})
    assert no_address.status_code == 409
    assert "No escalation address is set" in error_of(no_address)["message"]
    assert mail.outbox == []

    EscalationSettings.objects.create(tenant=world.ours.tenant, recipient_email="cgs@partner.test")
    submitted = world.write.post(f"{path}submit/", {})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_to"] == "cgs@partner.test"
    assert submitted.json()["next_statuses"] == ["waiting", "resolved", "rejected"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["cgs@partner.test"]
    assert case["reference"] in mail.outbox[0].subject
    assert "SOCK-RED-M" in mail.outbox[0].body
    assert "API key ERP" in mail.outbox[0].body  # who opened it, where a person's name would be
    again = world.write.post(f"{path}submit/", {})
    assert again.status_code == 409
    assert len(mail.outbox) == 1
    edit = world.write.patch(path, {"values": {"seller_sku": "X"}})
    assert edit.status_code == 409
    assert error_of(edit)["code"] == "not_a_draft"

    waiting = world.write.post(
        f"{path}status/", {"status": "waiting", "note": "Partner asked for the invoice."}
    )
    assert waiting.status_code == 200
    assert waiting.json()["status"] == "waiting"
    assert waiting.json()["next_statuses"] == ["resolved", "rejected"]
    assert world.read.get(path).json() == waiting.json()
    note = world.write.post(f"{path}notes/", {"body": "Invoice sent."})
    assert note.status_code == 201
    assert note.json()["by"] == "API key ERP"
    assert world.read.post(f"{path}notes/", {"body": "A read key"}).status_code == 403
    empty = world.write.post(f"{path}notes/", {"body": "   "})
    assert empty.status_code == 400

    history = world.read.get(f"{path}history/").json()
    assert [(e["kind"], e["from_status"], e["to_status"], e["body"]) for e in history] == [
        ("created", "", "draft", ""),
        ("submitted", "draft", "submitted", "E-mailed to cgs@partner.test"),
        ("status", "submitted", "waiting", "Partner asked for the invoice."),
        ("note", "", "", "Invoice sent."),
    ]
    assert {e["by"] for e in history} == {"API key ERP"}


def test_a_draft_is_edited_and_its_files_added_removed_and_downloaded(world):
    draft, original = world.ours.escalations[0], world.ours.files[0]
    path = f"{URL}{draft.public_id}/"
    download = world.read.get(f"{path}files/{original.public_id}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG...."

    added = world.write.client.generic(
        "PATCH",
        path,
        _multipart({"values": json.dumps({"seller_sku": "SOCK-2"})}, png("second.png", "blue")),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        HTTP_AUTHORIZATION=f"Bearer {world.keys['write'].secret}",
    )
    assert added.status_code == 200, added.content
    body = added.json()
    assert body["values"]["seller_sku"] == "SOCK-2"
    assert [f["name"] for f in body["files"]] == ["here.png", "second.png"]

    removed = world.write.patch(path, {"remove_files": [str(original.public_id)]})
    assert removed.status_code == 200
    assert [f["name"] for f in removed.json()["files"]] == ["second.png"]
    assert not EscalationAttachment.objects.filter(pk=original.pk).exists()

    emptied = world.write.patch(path, {"values": {"product_name": None}})
    assert emptied.status_code == 400
    assert "values.product_name" in error_of(emptied)["fields"]
    draft.refresh_from_db()
    assert draft.values["product_name"] == "Socks"
    assert draft.values["seller_sku"] == "SOCK-2"
    stranger = world.write.patch(path, {"remove_files": [str(world.ours.files[1].public_id)]})
    assert stranger.status_code == 400


BOUNDARY = "sellerdesk-test-boundary"


def _multipart(fields: dict[str, str], upload) -> bytes:
    """A multipart body by hand: the test client encodes multipart for POST only."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="screenshots"; '
        f'filename="{upload.name}"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + upload.read()
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def test_lists_filter_and_show_only_what_the_key_may_see(world):
    ours = world.ours
    body = world.read.get(URL).json()
    mine = ours.escalations + ours.submitted
    assert sorted(c["id"] for c in body["results"]) == sorted(str(c.public_id) for c in mine)
    created = [c["created_at"] for c in body["results"]]
    assert created == sorted(created, reverse=True)
    submitted = world.read.get(URL, {"status": "submitted"}).json()["results"]
    assert sorted(c["id"] for c in submitted) == sorted(str(c.public_id) for c in ours.submitted)
    limited = world.limited.get(URL).json()["results"]
    assert sorted(c["store"]["id"] for c in limited) == [str(ours.stores[0].public_id)] * 2
    wrong = world.read.get(URL, {"status": "lost"})
    assert wrong.status_code == 400
    assert list(error_of(wrong)["fields"]) == ["status"]


def test_the_list_costs_the_same_queries_however_many_cases(world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert world.read.get(URL).status_code == 200
        return len(captured)

    queries()  # the key's first use of the test is counted once (its last use is written)
    few = queries()
    store = world.ours.stores[0]
    for _ in range(4):
        response = _open(world.write, "products", store, PRODUCT_CASE, {"screenshots": png()})
        assert response.status_code == 201
    assert queries() == few


def test_the_kinds_list_every_field_with_its_requirement(world):
    kinds = {k["key"]: k for k in world.read.get("/api/v1/escalation-kinds/").json()}
    assert list(kinds) == list(KINDS)
    fields = {f["name"]: f for f in kinds["violation"]["fields"]}
    assert fields["record_id"]["requirement"] == "required"
    assert fields["violation_screenshots"]["type"] == "files"
    assert fields["appealed"]["choices"] == ["yes", "no"]


def test_a_retried_open_or_submit_with_the_same_idempotency_key_happens_once(world):
    store = world.ours.stores[0]
    EscalationSettings.objects.create(tenant=world.ours.tenant, recipient_email="cgs@partner.test")
    before = Escalation.objects.count()
    body = {"kind": "products", "store_id": str(store.public_id), "values": PRODUCT_CASE}
    first = world.write.post(URL, body, **{"Idempotency-Key": "open-1"})
    again = world.write.post(URL, body, **{"Idempotency-Key": "open-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Escalation.objects.count() == before + 1

    submit = f"{URL}{first.json()['id']}/submit/"
    sent = world.write.post(submit, {}, **{"Idempotency-Key": "submit-1"})
    replayed = world.write.post(submit, {}, **{"Idempotency-Key": "submit-1"})
    assert sent.status_code == replayed.status_code == 200
    assert replayed.json() == sent.json()
    assert len(mail.outbox) == 1
