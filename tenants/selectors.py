"""Reads about tenants and members. Every function takes the tenant explicitly."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from .models import APIKey, Invitation, Membership, Tenant, User


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")


def members_of_tenant(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("user__first_name", "user__email")
    )


def pending_invitations(*, tenant: Tenant) -> list[Invitation]:
    candidates = Invitation.objects.filter(tenant=tenant, accepted_at=None, revoked_at=None)
    return [i for i in candidates.select_related("invited_by") if i.is_pending]


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such object.") from exc


# --- Access helpers: the object of *this* tenant, or 404. Never 403, never another tenant's data.


def membership_get(*, tenant: Tenant, public_id: object) -> Membership:
    member = (
        Membership.objects.select_related("user", "tenant")
        .filter(tenant=tenant, public_id=_as_uuid(public_id))
        .first()
    )
    if member is None:
        raise Http404("No such member.")
    return member


def invitation_get(*, tenant: Tenant, public_id: object) -> Invitation:
    invitation = Invitation.objects.filter(tenant=tenant, public_id=_as_uuid(public_id)).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def membership_for_switch(*, user: User, tenant_public_id: object) -> Membership:
    member = (
        Membership.objects.select_related("tenant")
        .filter(user=user, tenant__public_id=_as_uuid(tenant_public_id))
        .first()
    )
    if member is None:
        raise Http404("No such organisation.")
    return member


def membership_of_user(*, tenant: Tenant, user_public_id: object) -> Membership:
    """The member of `tenant` who is this person (the API names people by their user id)."""
    member = (
        Membership.objects.select_related("user", "tenant")
        .filter(tenant=tenant, user__public_id=_as_uuid(user_public_id))
        .first()
    )
    if member is None:
        raise Http404("No such member.")
    return member


def api_keys_of_tenant(*, tenant: Tenant) -> QuerySet[APIKey]:
    return APIKey.objects.filter(tenant=tenant).select_related("created_by").order_by("-created")


def api_key_get(*, tenant: Tenant, public_id: object) -> APIKey:
    key = APIKey.objects.filter(tenant=tenant, public_id=_as_uuid(public_id)).first()
    if key is None:
        raise Http404("No such API key.")
    return key
