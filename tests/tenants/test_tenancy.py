"""Switching between organisations, and another tenant's objects answering 404 on every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.middleware import SESSION_KEY
from tenants.models import Invitation, Membership, Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# Every page so far, by URL name. Tenant-scoped pages show the current tenant only; pages that
# address an object take another tenant's object id in the cross-tenant tests below.
TENANT_PAGES = [
    "mailbox",
    "order_list",
    "store_list",
    "settings",
    "member_list",
    "escalation_list",
    "escalation_new",
    "escalation_settings",
]


def test_a_user_in_two_tenants_switches_from_the_navigation(client, tenant, other_tenant, owner):
    MembershipFactory(tenant=other_tenant, user=owner, role=Role.AGENT)
    client.force_login(owner)
    first = client.get(reverse("settings"))
    assert first.context["current_tenant"] == tenant
    # Both organisations are offered in the switcher.
    offered = {m.tenant.name for m in first.context["switchable_memberships"]}
    assert offered == {"Acme Outfitters", "Rival Goods"}

    response = client.post(reverse("tenant_switch", args=[other_tenant.public_id]))
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(other_tenant.public_id)
    after = client.get(reverse("settings"))
    assert after.context["current_tenant"] == other_tenant
    assert after.context["membership"].role == Role.AGENT
    # As an agent there, member management is closed.
    assert client.get(reverse("member_list")).status_code == 403


def test_switching_to_a_tenant_you_do_not_belong_to_is_a_404(owner_client, tenant, other_tenant):
    response = owner_client.post(reverse("tenant_switch", args=[other_tenant.public_id]))
    assert response.status_code == 404
    assert owner_client.get(reverse("settings")).context["current_tenant"] == tenant


def test_switch_is_post_only(owner_client, tenant):
    assert owner_client.get(reverse("tenant_switch", args=[tenant.public_id])).status_code == 405


def test_removed_from_the_chosen_tenant_falls_back_to_another(client, tenant, other_tenant, owner):
    extra = MembershipFactory(tenant=other_tenant, user=owner, role=Role.AGENT)
    client.force_login(owner)
    client.post(reverse("tenant_switch", args=[other_tenant.public_id]))
    extra.delete()
    assert client.get(reverse("settings")).context["current_tenant"] == tenant


@pytest.mark.parametrize("page", TENANT_PAGES)
def test_tenant_pages_show_only_the_current_tenant(
    page, owner_client, tenant, other_tenant, other_owner
):
    response = owner_client.get(reverse(page))
    assert response.status_code == 200
    assert response.context["current_tenant"] == tenant
    assert b"Rival Goods" not in response.content
    assert b"owner@rival.test" not in response.content


def test_member_pages_list_only_this_tenants_people(owner_client, other_owner, other_tenant):
    response = owner_client.get(reverse("member_list"))
    emails = {member.user.email for member, _actions in response.context["members"]}
    assert emails == {"owner@acme.test"}


def _other_objects(other_tenant, other_owner):
    member = Membership.objects.get(tenant=other_tenant, user=other_owner)
    invitation = Invitation.objects.create(
        tenant=other_tenant,
        email="x@rival.test",
        role=Role.AGENT,
        token_hash="f" * 64,
        expires_at="2099-01-01T00:00:00Z",
    )
    return member, invitation


@pytest.mark.parametrize(
    ("url_name", "kind", "data"),
    [
        ("member_role", "member", {"role": Role.AGENT}),
        ("member_remove", "member", {}),
        ("invitation_revoke", "invitation", {}),
    ],
)
def test_another_tenants_objects_are_404_and_unchanged(
    url_name, kind, data, owner_client, other_tenant, other_owner
):
    member, invitation = _other_objects(other_tenant, other_owner)
    target = member if kind == "member" else invitation
    response = owner_client.post(reverse(url_name, args=[target.public_id]), data)
    assert response.status_code == 404
    member.refresh_from_db()
    invitation.refresh_from_db()
    assert member.role == Role.OWNER
    assert invitation.revoked_at is None


@pytest.mark.parametrize("url_name", ["member_role", "member_remove", "invitation_revoke"])
def test_malformed_object_ids_are_404(url_name, owner_client):
    assert owner_client.post(reverse(url_name, args=["not-a-uuid"])).status_code == 404
