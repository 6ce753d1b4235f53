"""Reads about e-mail channels; every function takes the tenant explicitly."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from tenants.models import Tenant

from .models import EmailChannel


def channels_of_tenant(*, tenant: Tenant) -> QuerySet[EmailChannel]:
    return EmailChannel.objects.filter(tenant=tenant).select_related("store").order_by("address")


def channel_get(*, tenant: Tenant, public_id: object) -> EmailChannel:
    """The tenant's channel, or 404 (another tenant's channel is a 404 like a missing one)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404("No such e-mail channel.") from error
    channel = channels_of_tenant(tenant=tenant).filter(public_id=key).first()
    if channel is None:
        raise Http404("No such e-mail channel.")
    return channel
