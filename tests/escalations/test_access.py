"""Who may see and change a case: members of its organisation; agents limited to some stores only
for those stores. Everything else is a 404 on every URL, and nothing changes."""

from __future__ import annotations

import os

import pytest
from django.core import mail
from django.urls import reverse

from escalations.kinds import KINDS
from escalations.models import Escalation, EscalationAttachment, EscalationStatus
from escalations.services import EscalationError, escalation_create
from escalations.validation import CleanCase
from marketplaces.models import StoreAccess
from tenants.models import Role
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import OrderFactory, StoreFactory, member

from .conftest import complete_values, png

pytestmark = pytest.mark.django_db


def case_of(store, kind: str = "orders", **extra) -> Escalation:
    owner = member(store.tenant, Role.OWNER)
    return escalation_create(
        membership=owner,
        kind=KINDS[kind],
        store=store,
        clean=CleanCase(
            values={"problem": "not_syncing", "tiktok_order_id": "576461413038785752"},
            files={},
            order=None,
        ),
        **extra,
    )


def attached(case: Escalation) -> EscalationAttachment:
    return EscalationAttachment.objects.create(
        tenant_id=case.tenant_id,
        escalation=case,
        field="screenshot_here",
        name="a.png",
        content_type="image/png",
        size=3,
        file="escalations/a.png",
    )


def case_urls(case: Escalation, attachment: EscalationAttachment) -> list[str]:
    urls = [
        reverse(name, args=[case.public_id])
        for name in (
            "escalation_detail",
            "escalation_edit",
            "escalation_submit",
            "escalation_status",
            "escalation_note",
            "escalation_print",
            "escalation_orders_csv",
        )
    ]
    urls.append(reverse("escalation_file", args=[case.public_id, attachment.public_id]))
    return urls


def assert_404_everywhere(client, case: Escalation, attachment: EscalationAttachment) -> None:
    urls = case_urls(case, attachment)
    assert len(urls) == 8
    for url in urls:
        assert client.get(url).status_code in (404, 405), url
        response = client.post(
            url, {"status": "waiting", "body": "hi", "note": "x", **complete_values("orders")}
        )
        assert response.status_code in (404, 405), url
        assert 404 in (client.get(url).status_code, client.post(url).status_code), url


def test_another_organisations_case_is_404_on_every_url_and_unchanged(
    client, other_tenant, store, tenant
):
    from escalations.models import EscalationSettings

    EscalationSettings.objects.create(tenant=other_tenant, recipient_email="them@x.test")
    case = case_of(store)
    attachment = attached(case)
    outsider = member(other_tenant, Role.OWNER)
    client.force_login(outsider.user)
    assert_404_everywhere(client, case, attachment)
    case.refresh_from_db()
    assert case.status == EscalationStatus.DRAFT
    assert case.values == {"problem": "not_syncing", "tiktok_order_id": "576461413038785752"}
    assert list(case.events.values_list("kind", flat=True)) == ["created"]
    assert mail.outbox == []
    page = client.get(reverse("escalation_list")).content.decode()
    assert case.reference not in page
    assert "No escalations yet" in page


def test_escalating_another_organisations_ticket_order_or_store_is_404(
    client, other_tenant, store, ticket, order
):
    outsider = member(other_tenant, Role.OWNER)
    StoreFactory(tenant=other_tenant)
    client.force_login(outsider.user)
    for source, target in (("ticket", ticket), ("order", order), ("store", store)):
        for kind in ("", "orders"):
            url = f"{reverse('escalation_new')}?kind={kind}&{source}={target.public_id}"
            assert client.get(url).status_code == 404, url
            response = client.post(url, {**complete_values("orders"), "screenshot_here": [png()]})
            assert response.status_code == 404, url
        assert client.get(f"{reverse('escalation_new')}?{source}=not-a-uuid").status_code == 404
    assert Escalation.objects.count() == 0
    assert EscalationAttachment.objects.count() == 0


def test_an_agent_limited_to_one_store_sees_and_escalates_only_there(
    client, tenant, store, other_store
):
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=store)
    mine = case_of(store)
    hidden = case_of(other_store)
    hidden_file = attached(hidden)
    hidden_ticket = ConversationFactory(store=other_store)
    hidden_order = OrderFactory(store=other_store)
    client.force_login(agent.user)

    page = client.get(reverse("escalation_list")).content.decode()
    assert f'id="escalation-{mine.public_id}"' in page
    assert f'id="escalation-{hidden.public_id}"' not in page
    assert "Acme UK" not in page  # not even in the store filter
    assert client.get(reverse("escalation_detail", args=[mine.public_id])).status_code == 200
    assert_404_everywhere(client, hidden, hidden_file)
    for source, target in (
        ("ticket", hidden_ticket),
        ("order", hidden_order),
        ("store", other_store),
    ):
        url = f"{reverse('escalation_new')}?kind=live&{source}={target.public_id}"
        assert client.get(url).status_code == 404

    # Without a source, the store select offers their store only, and refuses the other.
    form = client.get(f"{reverse('escalation_new')}?kind=live").context["form"]
    assert list(form.fields["store"].queryset) == [store]
    response = client.post(
        f"{reverse('escalation_new')}?kind=live",
        {**complete_values("live"), "store": str(other_store.public_id)},
    )
    assert response.status_code == 400
    assert "Store: choose one of your organisation&#x27;s stores." in response.content.decode()
    assert Escalation.objects.filter(store=other_store).count() == 1


def test_a_file_is_served_only_through_its_own_case(client, tenant, store):
    first, second = case_of(store), case_of(store)
    attachment = attached(first)
    client.force_login(member(tenant, Role.AGENT).user)
    url = reverse("escalation_file", args=[second.public_id, attachment.public_id])
    assert client.get(url).status_code == 404


def test_a_tickets_cases_are_404_to_other_organisations_and_limited_agents(
    client, tenant, other_tenant, store, other_store, ticket
):
    case_of(store, conversation=ticket)
    other_ticket = ConversationFactory(store=StoreFactory(tenant=other_tenant))
    client.force_login(member(other_tenant, Role.OWNER).user)
    page = client.get(reverse("ticket_detail", args=[other_ticket.public_id])).content.decode()
    assert "data-escalation=" not in page
    assert (
        client.get(reverse("escalation_list"), {"ticket": str(ticket.public_id)}).status_code == 404
    )
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=other_store)
    client.force_login(limited.user)
    assert client.get(reverse("ticket_detail", args=[ticket.public_id])).status_code == 404
    assert (
        client.get(reverse("escalation_list"), {"ticket": str(ticket.public_id)}).status_code == 404
    )


def test_staged_files_never_used_are_purged_with_their_stored_file(
    tenant, store, settings, tmp_path
):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from escalations.tasks import purge_staged_attachments

    settings.MEDIA_ROOT = tmp_path
    uploader = member(tenant, Role.AGENT)

    def stored(escalation, age_hours: float) -> EscalationAttachment:
        attachment = EscalationAttachment(
            tenant=tenant,
            escalation=escalation,
            field="screenshot_here",
            name="a.png",
            content_type="image/png",
            size=3,
            uploaded_by=uploader.user,
            created_at=timezone.now() - timedelta(hours=age_hours),
        )
        attachment.file.save("a.png", ContentFile(b"abc"), save=False)
        attachment.save()
        return attachment

    old_staged = stored(None, 25)
    new_staged = stored(None, 23)
    old_attached = stored(case_of(store), 48)
    old_path = old_staged.file.path
    assert purge_staged_attachments() == 1
    assert not os.path.exists(old_path)
    assert set(EscalationAttachment.objects.values_list("pk", flat=True)) == {
        new_staged.pk,
        old_attached.pk,
    }
    assert os.path.exists(new_staged.file.path) and os.path.exists(old_attached.file.path)


def test_an_email_mailbox_is_not_a_store_cases_are_about(client, tenant, store):
    """A support mailbox is a store of the organisation, but partners ask for a shop's id: no
    Escalate on its tickets or its row, no place in the store select, refused by the service."""
    owner = member(tenant, Role.OWNER)
    mailbox = StoreFactory(
        tenant=tenant, platform="email", name="Support mail", external_shop_id="support@acme.test"
    )
    ticket = ConversationFactory(store=mailbox)
    client.force_login(owner.user)

    page = client.get(reverse("ticket_detail", args=[ticket.public_id])).content.decode()
    assert f"?ticket={ticket.public_id}" not in page
    shop_ticket = ConversationFactory(store=store)
    page = client.get(reverse("ticket_detail", args=[shop_ticket.public_id])).content.decode()
    assert f"?ticket={shop_ticket.public_id}" in page

    for source, target in (("ticket", ticket), ("store", mailbox)):
        response = client.get(f"{reverse('escalation_new')}?kind=live&{source}={target.public_id}")
        assert response.status_code == 302
        assert response["Location"] == reverse("escalation_new")
        shown = client.get(response["Location"]).content.decode()
        assert "Support mail is an e-mail mailbox, not a marketplace store" in shown
    form = client.get(f"{reverse('escalation_new')}?kind=live").context["form"]
    assert list(form.fields["store"].queryset) == [store]
    response = client.post(
        f"{reverse('escalation_new')}?kind=live",
        {**complete_values("live"), "store": str(mailbox.public_id)},
    )
    assert response.status_code == 400
    with pytest.raises(EscalationError, match="is an e-mail mailbox"):
        case_of(mailbox)
    assert not Escalation.objects.filter(store=mailbox).exists()
