"""Reads about webhook subscriptions and deliveries; every function takes the tenant."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from tenants.models import Tenant

from .models import WebhookDelivery, WebhookSubscription


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such webhook.") from exc


def subscriptions_of_tenant(*, tenant: Tenant) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(tenant=tenant)


def subscription_get(*, tenant: Tenant, public_id: object) -> WebhookSubscription:
    subscription = subscriptions_of_tenant(tenant=tenant).filter(public_id=_as_uuid(public_id))
    found = subscription.first()
    if found is None:
        raise Http404("No such webhook.")
    return found


def deliveries_of(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        tenant_id=subscription.tenant_id, subscription=subscription
    ).select_related("event")


def delivery_get(*, subscription: WebhookSubscription, public_id: object) -> WebhookDelivery:
    found = (
        deliveries_of(subscription=subscription)
        .select_related("subscription")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if found is None:
        raise Http404("No such delivery.")
    return found


def disabled_subscriptions(*, tenant_id: int) -> list[WebhookSubscription]:
    """Turned off after a day of failures: the banner admins see until they act."""
    return list(
        WebhookSubscription.objects.filter(
            tenant_id=tenant_id, is_active=False, failing_since__isnull=False
        ).only("public_id", "url", "disabled_at")
    )
