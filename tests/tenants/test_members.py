"""Member management: invitations, roles, removal, the last-owner rule, and who may do what."""

from __future__ import annotations

import re
import threading

import pytest
from django.core import mail
from django.db import close_old_connections
from django.urls import reverse

from tenants import services
from tenants.models import Invitation, Membership, Role, User
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

STRONG = "plum-kettle-orbit-77"


def _membership(user, tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Posts the invite form; the e-mail goes out on commit, run here as a real commit would."""

    def post(client, email: str, role: str = Role.AGENT):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("member_list"), {"email": email, "role": role}, follow=True)

    return post


def _link(text: str) -> str:
    return re.search(r"/invitations/[\w-]+/", text).group(0)


# --- Invitations -------------------------------------------------------------------------------


def test_an_owner_invites_by_email_and_sees_the_one_time_link(invite, owner_client, tenant, owner):
    response = invite(owner_client, "New.Hire@Example.test", Role.ADMIN)
    assert response.status_code == 200
    invitation = Invitation.objects.get(tenant=tenant)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.hire@example.test",
        Role.ADMIN,
        owner,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.hire@example.test"]
    flash = [str(m) for m in response.context["messages"]]
    # The admin sees the same link the e-mail carries.
    assert _link(flash[0]) == _link(mail.outbox[0].body)
    # Only a hash is stored, never the token.
    assert _link(flash[0]).split("/")[2] not in invitation.token_hash


def test_a_new_person_accepts_an_invitation_by_choosing_a_password(
    invite, owner_client, client, tenant
):
    invite(owner_client, "newbie@example.test")
    link = _link(mail.outbox[0].body)
    owner_client.logout()
    page = client.get(link)
    assert page.status_code == 200
    response = client.post(link, {"full_name": "New Bie", "password": STRONG})
    assert response.status_code == 302
    user = User.objects.get(email="newbie@example.test")
    assert _membership(user, tenant).role == Role.AGENT
    assert client.get(reverse("mailbox")).status_code == 200
    # One-time: the link is dead now.
    client.logout()
    assert client.get(link).status_code == 404


def test_an_existing_user_accepts_while_signed_in(
    invite, owner_client, client, tenant, other_owner, other_tenant
):
    invite(owner_client, "owner@rival.test")
    link = _link(mail.outbox[0].body)
    client.force_login(other_owner)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert _membership(other_owner, tenant).role == Role.AGENT
    assert _membership(other_owner, other_tenant).role == Role.OWNER  # untouched


def test_an_existing_user_signed_out_is_asked_to_sign_in(invite, owner_client, client, other_owner):
    invite(owner_client, "owner@rival.test")
    link = _link(mail.outbox[0].body)
    owner_client.logout()
    response = client.get(link)
    assert response.status_code == 200
    assert response.context["sign_in"] is True
    # A POST cannot create a second account for that address.
    client.post(link, {"full_name": "Imposter", "password": STRONG})
    assert User.objects.filter(email="owner@rival.test").count() == 1


def test_the_wrong_account_cannot_accept(invite, owner_client, client, tenant, agent):
    invite(owner_client, "someone.else@example.test")
    link = _link(mail.outbox[0].body)
    client.force_login(agent)
    response = client.post(link)
    assert response.status_code == 403
    assert Invitation.objects.get().accepted_at is None


def test_a_revoked_invitation_is_dead(invite, owner_client, client, tenant):
    invite(owner_client, "x@example.test")
    link = _link(mail.outbox[0].body)
    invitation = Invitation.objects.get()
    owner_client.post(reverse("invitation_revoke", args=[invitation.public_id]))
    owner_client.logout()
    assert client.get(link).status_code == 404


def test_inviting_a_member_again_is_refused(invite, owner_client, agent):
    response = invite(owner_client, "agent@acme.test")
    assert response.status_code == 400
    assert "already a member" in str(response.context["form"].non_field_errors())
    assert Invitation.objects.count() == 0


def test_only_an_owner_can_invite_an_owner(invite, client, admin_user):
    client.force_login(admin_user)
    response = invite(client, "boss@example.test", Role.OWNER)
    assert response.status_code == 400
    assert Invitation.objects.count() == 0


# --- Roles ---------------------------------------------------------------------------------------


def test_an_agent_cannot_manage_members(invite, agent_client, tenant, owner, agent):
    owner_m = _membership(owner, tenant)
    assert agent_client.get(reverse("member_list")).status_code == 403
    assert invite(agent_client, "friend@example.test").status_code == 403
    assert (
        agent_client.post(
            reverse("member_role", args=[owner_m.public_id]), {"role": Role.AGENT}
        ).status_code
        == 403
    )
    assert agent_client.post(reverse("member_remove", args=[owner_m.public_id])).status_code == 403
    assert Invitation.objects.count() == 0
    assert _membership(owner, tenant).role == Role.OWNER


def test_an_agent_sees_settings_but_cannot_change_them(agent_client, tenant):
    assert agent_client.get(reverse("settings")).status_code == 200
    response = agent_client.post(reverse("settings"), {"name": "Hacked", "time_zone": "UTC"})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Acme Outfitters"


def test_an_admin_changes_an_agents_role_and_removes_them(client, tenant, admin_user, agent):
    client.force_login(admin_user)
    member = _membership(agent, tenant)
    client.post(reverse("member_role", args=[member.public_id]), {"role": Role.ADMIN})
    assert _membership(agent, tenant).role == Role.ADMIN
    client.post(reverse("member_remove", args=[member.public_id]))
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_an_admin_cannot_demote_or_remove_an_owner(client, tenant, admin_user, owner):
    client.force_login(admin_user)
    owner_m = _membership(owner, tenant)
    client.post(reverse("member_role", args=[owner_m.public_id]), {"role": Role.AGENT})
    client.post(reverse("member_remove", args=[owner_m.public_id]))
    assert _membership(owner, tenant).role == Role.OWNER


def _offered(page: str, member: Membership) -> tuple[list[str], bool]:
    """(roles offered in the member's role menu, whether a Remove button is offered)."""
    menu = re.search(rf'<select [^>]*id="role-{member.public_id}">(.*?)</select>', page, re.S)
    roles = re.findall(r'<option value="(\w+)"', menu.group(1)) if menu else []
    removable = f'action="{reverse("member_remove", args=[member.public_id])}"' in page
    return roles, removable


def test_an_admin_is_offered_only_what_an_admin_may_do(client, tenant, admin_user, owner, agent):
    client.force_login(admin_user)
    page = client.get(reverse("member_list")).content.decode()

    # The owner: no role menu and no Remove (both would be refused), and the page says why.
    assert _offered(page, _membership(owner, tenant)) == ([], False)
    assert "Only an owner can change an owner." in page
    # An agent (and the admin): admin or agent, never owner; removable.
    assert _offered(page, _membership(agent, tenant)) == (["admin", "agent"], True)
    assert _offered(page, _membership(admin_user, tenant)) == (["admin", "agent"], True)
    # The invitation form does not offer owner either.
    invite_roles = re.search(r'<select name="role"[^>]*id="id_role">(.*?)</select>', page, re.S)
    assert re.findall(r'<option value="(\w+)"', invite_roles.group(1)) == ["admin", "agent"]


def test_the_only_owner_is_not_offered_stepping_down_until_there_is_another(
    owner_client, tenant, owner, agent
):
    page = owner_client.get(reverse("member_list")).content.decode()
    assert _offered(page, _membership(owner, tenant)) == ([], False)
    assert "The only owner: make someone else owner first." in page
    assert _offered(page, _membership(agent, tenant)) == (["owner", "admin", "agent"], True)

    owner_client.post(
        reverse("member_role", args=[_membership(agent, tenant).public_id]), {"role": Role.OWNER}
    )
    page = owner_client.get(reverse("member_list")).content.decode()
    assert _offered(page, _membership(owner, tenant)) == (["owner", "admin", "agent"], True)
    assert "The only owner" not in page


# --- The last owner --------------------------------------------------------------------------


def test_the_last_owner_cannot_be_removed_or_demoted(owner_client, tenant, owner):
    me = _membership(owner, tenant)
    response = owner_client.post(reverse("member_remove", args=[me.public_id]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "The last owner cannot be removed. Make someone else owner first."
    ]
    owner_client.post(reverse("member_role", args=[me.public_id]), {"role": Role.ADMIN})
    assert _membership(owner, tenant).role == Role.OWNER


def test_with_a_second_owner_the_first_can_step_down(owner_client, tenant, owner, agent):
    owner_client.post(
        reverse("member_role", args=[_membership(agent, tenant).public_id]), {"role": Role.OWNER}
    )
    owner_client.post(
        reverse("member_role", args=[_membership(owner, tenant).public_id]), {"role": Role.AGENT}
    )
    assert _membership(owner, tenant).role == Role.AGENT
    assert _membership(agent, tenant).role == Role.OWNER


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(tenant):
    """The owner rows are locked, so the last-owner rule holds under concurrency (PostgreSQL)."""
    first = MembershipFactory(tenant=tenant, role=Role.OWNER)
    second = MembershipFactory(tenant=tenant, role=Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_pk: int, target_pk: int) -> None:
        try:
            actor = Membership.objects.select_related("tenant", "user").get(pk=actor_pk)
            target = Membership.objects.select_related("tenant", "user").get(pk=target_pk)
            barrier.wait(timeout=10)
            services.membership_change_role(actor=actor, member=target, role=Role.AGENT)
            outcomes.append("demoted")
        except services.TenancyError:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=demote, args=(first.pk, second.pk)),
        threading.Thread(target=demote, args=(second.pk, first.pk)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    assert Membership.objects.filter(tenant=tenant, role=Role.OWNER).count() == 1
