"""Every change to tenants, members and invitations goes through these functions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from .models import APIKey, APIScope, AuditEvent, Invitation, Membership, Role, Tenant, User


class TenancyError(Exception):
    """A rule was broken; the message is shown to the person as it is."""


def _audit(*, tenant: Tenant, actor: User | None, action: str, **detail: object) -> None:
    AuditEvent.objects.create(tenant=tenant, actor=actor, action=action, detail=detail)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "team"
    slug = base
    while Tenant.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


# What the apps above this one add to a new organisation (the mailbox: its starter snippets). An
# explicit list, filled from their AppConfig.ready(): tenants/ imports no app above it, and a
# setup step is a plain function called here, not a signal handler.
TenantSetupStep = Callable[[Tenant], None]
_TENANT_SETUP_STEPS: dict[str, TenantSetupStep] = {}


def register_tenant_setup(name: str, step: TenantSetupStep) -> None:
    """Adds a step run for every organisation created, after its creation commits. A step keeps
    what exists (the demo seed runs the steps again on every `make run`)."""
    _TENANT_SETUP_STEPS[name] = step


def tenant_setup_run(tenant: Tenant) -> None:
    for step in _TENANT_SETUP_STEPS.values():
        step(tenant)


@transaction.atomic
def tenant_create(*, name: str, owner: User, time_zone: str = "UTC") -> Tenant:
    tenant = Tenant.objects.create(name=name.strip(), slug=_unique_slug(name), time_zone=time_zone)
    Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    _audit(tenant=tenant, actor=owner, action="tenant.created", name=tenant.name)
    transaction.on_commit(lambda: tenant_setup_run(tenant))
    return tenant


SIGNUP_SALT = "tenants.signup"
SIGNUP_SUBJECT = "Your Sellerdesk sign-up"
SIGNUP_LINK_DAYS = 3


def signup_request(*, email: str, full_name: str, organisation: str, time_zone: str) -> None:
    """Step one of sign-up: the one e-mail it sends. A new address gets a link to finish (the
    sign-up travels signed in the link; nothing is stored yet), an address with an account gets
    a reminder to sign in. The page and the e-mail's sender and subject are the same either way,
    so sign-up never tells a stranger whether an address has an account."""
    email = email.strip().lower()
    login_url = settings.SITE_URL + reverse("login")
    if User.objects.filter(email__iexact=email).exists():
        reset_url = settings.SITE_URL + reverse("password_reset")
        context = {"login_url": login_url, "reset_url": reset_url}
        body = render_to_string("tenants/email/signup_existing.txt", context)
    else:
        pending = {"email": email, "name": full_name, "org": organisation, "tz": time_zone}
        token = signing.dumps(pending, salt=SIGNUP_SALT, compress=True)
        url = settings.SITE_URL + reverse("signup_confirm", args=[token])
        context = {"url": url, "organisation": organisation, "days": SIGNUP_LINK_DAYS}
        body = render_to_string("tenants/email/signup_confirm.txt", context)
    send_mail(SIGNUP_SUBJECT, body, None, [email])


def signup_pending(token: str) -> dict[str, str] | None:
    """The sign-up behind an e-mailed link; None when forged or older than SIGNUP_LINK_DAYS."""
    try:
        pending = signing.loads(token, salt=SIGNUP_SALT, max_age=timedelta(days=SIGNUP_LINK_DAYS))
    except signing.BadSignature:
        return None
    if not isinstance(pending, dict) or not all(
        isinstance(pending.get(key), str) for key in ("email", "name", "org", "tz")
    ):
        return None
    return pending


@transaction.atomic
def user_signup(
    *, email: str, password: str, full_name: str, organisation: str, time_zone: str = "UTC"
) -> tuple[User, Tenant]:
    """Sign-up creates the person and their organisation, with them as its owner."""
    first, _, last = full_name.strip().partition(" ")
    user = User.objects.create_user(
        email=email, password=password, first_name=first, last_name=last.strip()
    )
    tenant = tenant_create(name=organisation, owner=user, time_zone=time_zone)
    return user, tenant


@transaction.atomic
def tenant_update(*, actor: Membership, name: str, time_zone: str) -> Tenant:
    if not actor.has_role(Role.ADMIN):
        raise TenancyError("Only owners and admins can change the organisation's settings.")
    tenant = actor.tenant
    tenant.name, tenant.time_zone = name.strip(), time_zone
    tenant.save(update_fields=["name", "time_zone"])
    _audit(tenant=tenant, actor=actor.user, action="tenant.updated", name=name, time_zone=time_zone)
    return tenant


# --- Invitations ------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    url: str  # the one-time link; shown once to the admin and e-mailed, never stored


def _check_can_grant(actor: Membership, role: str) -> None:
    if not actor.can_manage_members:
        raise TenancyError("Only owners and admins can manage members.")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise TenancyError("Only an owner can make someone an owner.")


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> IssuedInvitation:
    _check_can_grant(actor, role)
    email = email.strip().lower()
    tenant = actor.tenant
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise TenancyError(f"{email} is already a member of {tenant.name}.")
    # A new invitation replaces any earlier pending one for the same address.
    Invitation.objects.filter(
        tenant=tenant, email__iexact=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    url = settings.SITE_URL + reverse("invitation_accept", args=[token])
    _audit(tenant=tenant, actor=actor.user, action="invitation.created", email=email, role=role)
    context = {"tenant": tenant, "inviter": actor.user, "url": url, "invitation": invitation}
    subject = f"You are invited to {tenant.name} on Sellerdesk"
    body = render_to_string("tenants/email/invitation.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return IssuedInvitation(invitation=invitation, url=url)


def invitation_for_token(token: str) -> Invitation | None:
    """The pending invitation behind a link; None when unknown, used, revoked or expired."""
    invitation = (
        Invitation.objects.select_related("tenant", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_for_token(token)
    if invitation is None:
        raise TenancyError("This invitation link is no longer valid. Ask for a new one.")
    # Claim it with a conditional update so that one link makes exactly one membership.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
        accepted_at=timezone.now()
    )
    if not claimed:
        raise TenancyError("This invitation link has already been used.")
    membership, created = Membership.objects.get_or_create(
        tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
    )
    if created:
        _audit(
            tenant=invitation.tenant,
            actor=user,
            action="member.joined",
            email=user.email,
            role=invitation.role,
        )
    return membership


@transaction.atomic
def invitation_signup(*, token: str, password: str, full_name: str) -> tuple[User, Membership]:
    """A person without an account accepts an invitation by choosing a password."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise TenancyError("This invitation link is no longer valid. Ask for a new one.")
    first, _, last = full_name.strip().partition(" ")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=invitation.email, password=password, first_name=first, last_name=last.strip()
            )
    except IntegrityError as exc:
        raise TenancyError(
            f"An account for {invitation.email} exists already: sign in to accept."
        ) from exc
    return user, invitation_accept(token=token, user=user)


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    if not actor.can_manage_members:
        raise TenancyError("Only owners and admins can manage members.")
    Invitation.objects.filter(pk=invitation.pk, accepted_at=None).update(revoked_at=timezone.now())
    _audit(
        tenant=actor.tenant, actor=actor.user, action="invitation.revoked", email=invitation.email
    )


# --- Members ----------------------------------------------------------------------------------


def _lock_for_member_change(actor: Membership) -> int:
    """Lock the actor's row and the tenant's owner rows, in pk order, and count the owners.

    One ordered lock set means two owners demoting each other at once cannot deadlock, and the
    second sees the first's change: the last-owner rule holds under concurrency. The actor's role
    is refreshed from the locked row, so a demoted admin cannot act on a stale copy.
    """
    rows = list(
        Membership.objects.select_for_update()
        .filter(Q(tenant_id=actor.tenant_id, role=Role.OWNER) | Q(pk=actor.pk))
        .order_by("pk")
        .values_list("pk", "role")
    )
    fresh_role = next((role for pk, role in rows if pk == actor.pk), None)
    if fresh_role is None:
        raise TenancyError("You are no longer a member of this organisation.")
    actor.role = fresh_role
    return sum(1 for _, role in rows if role == Role.OWNER)


def _check_can_touch(actor: Membership, member: Membership) -> None:
    if not actor.can_manage_members:
        raise TenancyError("Only owners and admins can manage members.")
    if member.role == Role.OWNER and actor.role != Role.OWNER:
        raise TenancyError("Only an owner can change or remove an owner.")


def roles_grantable(actor: Membership) -> list[tuple[str, str]]:
    """The roles `actor` may give (invite as, change to): what _check_can_grant allows."""
    if not actor.can_manage_members:
        return []
    return [
        (value, label)
        for value, label in Role.choices
        if actor.role == Role.OWNER or value != Role.OWNER
    ]


@dataclass(frozen=True)
class MemberActions:
    """What the members page offers `actor` on one member: only what the services would allow,
    so no button leads to a refusal (the services still check, under their locks)."""

    roles: list[tuple[str, str]]  # empty: the role is shown, not offered for change
    removable: bool
    why_not: str  # said instead of the controls, when there are none


def member_actions(*, actor: Membership, members: list[Membership]) -> dict[int, MemberActions]:
    owners = sum(1 for member in members if member.role == Role.OWNER)
    grantable = roles_grantable(actor)
    actions: dict[int, MemberActions] = {}
    for member in members:
        if not actor.can_manage_members:
            actions[member.pk] = MemberActions([], False, "")
        elif member.role == Role.OWNER and actor.role != Role.OWNER:
            actions[member.pk] = MemberActions([], False, "Only an owner can change an owner.")
        elif member.role == Role.OWNER and owners <= 1:
            actions[member.pk] = MemberActions(
                [], False, "The only owner: make someone else owner first."
            )
        else:
            actions[member.pk] = MemberActions(grantable, True, "")
    return actions


@transaction.atomic
def membership_change_role(*, actor: Membership, member: Membership, role: str) -> Membership:
    owners = _lock_for_member_change(actor)
    member.refresh_from_db(fields=["role"])
    _check_can_touch(actor, member)
    _check_can_grant(actor, role)
    if member.role == role:
        return member
    if member.role == Role.OWNER and owners <= 1:
        raise TenancyError(
            "An organisation needs at least one owner. Make someone else owner first."
        )
    old = member.role
    member.role = role
    member.save(update_fields=["role"])
    _audit(
        tenant=member.tenant,
        actor=actor.user,
        action="member.role_changed",
        email=member.user.email,
        old=old,
        new=role,
    )
    return member


@transaction.atomic
def membership_remove(*, actor: Membership, member: Membership) -> None:
    owners = _lock_for_member_change(actor)
    member.refresh_from_db(fields=["role"])
    _check_can_touch(actor, member)
    if member.role == Role.OWNER and owners <= 1:
        raise TenancyError("The last owner cannot be removed. Make someone else owner first.")
    email = member.user.email
    member.delete()
    _audit(tenant=actor.tenant, actor=actor.user, action="member.removed", email=email)


# --- API keys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    api_key: APIKey
    secret: str  # shown once; only its hash is stored


API_KEY_NAME_MAX = 50


def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    scope: str = APIScope.READ,
    created_by: User | None = None,
    limited_to_stores: bool = False,
) -> IssuedKey:
    """A new key of `tenant`; returns the secret, which is not stored anywhere. A key
    `limited_to_stores` serves none until its stores are listed (api.services does both in one
    transaction: tenants imports no app above it)."""
    clean = (name or "").strip()
    if not clean:
        raise TenancyError("Give the key a name, e.g. the system that will use it.")
    if len(clean) > API_KEY_NAME_MAX:
        raise TenancyError(f"A key's name is limited to {API_KEY_NAME_MAX} characters.")
    if scope not in APIScope.values:
        raise TenancyError("Choose the scope read or write.")
    with transaction.atomic():
        api_key, secret = APIKey.objects.create_key(
            tenant=tenant,
            name=clean,
            scope=scope,
            created_by=created_by,
            limited_to_stores=limited_to_stores,
        )
        _audit(
            tenant=tenant,
            actor=created_by,
            action="api_key.created",
            name=clean,
            scope=scope,
            key=str(api_key.public_id),
        )
    return IssuedKey(api_key=api_key, secret=secret)


def api_key_revoke(*, tenant: Tenant, api_key: APIKey, actor: User | None = None) -> bool:
    """Refused from the key's next request on. False when it was revoked already."""
    if api_key.tenant_id != tenant.pk:
        raise TenancyError("No such API key.")
    with transaction.atomic():
        revoked = APIKey.objects.filter(pk=api_key.pk, revoked=False).update(
            revoked=True, revoked_at=timezone.now()
        )
        if revoked:
            _audit(
                tenant=tenant,
                actor=actor,
                action="api_key.revoked",
                name=api_key.name,
                key=str(api_key.public_id),
            )
    api_key.refresh_from_db()
    return bool(revoked)
