"""Changes to webhook subscriptions: the settings page and the API both call these."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from marketplaces.crypto import encrypt_token
from tenants.models import Membership, Role, Tenant, User

from . import signing
from .events import EVENT_TYPES, subscriptions_changed
from .models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from .urls_safety import UnsafeURLError, check_url

URL_MAX = 2000


class WebhookInvalidError(Exception):
    """`errors` maps fields (url, events, description) to messages for the person."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def _checked(*, url: str, events: list[str], description: str) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    clean_url = (url or "").strip()
    if not clean_url:
        errors["url"] = ["Give the URL that receives the webhooks."]
    elif len(clean_url) > URL_MAX:
        errors["url"] = [f"A URL is limited to {URL_MAX:,} characters."]
    else:
        try:
            check_url(clean_url)
        except UnsafeURLError as error:
            errors["url"] = [str(error)]
    unknown = [event for event in events or [] if event not in EVENT_TYPES]
    if unknown:
        errors["events"] = [f"Unknown event type: {', '.join(sorted(unknown))}."]
    elif not events:
        errors["events"] = ["Choose at least one event."]
    if len(description or "") > 200:
        errors["description"] = ["A description is limited to 200 characters."]
    if errors:
        raise WebhookInvalidError(errors)
    ordered = [event for event in EVENT_TYPES if event in set(events)]
    return {"url": clean_url, "events": ordered, "description": (description or "").strip()}


def subscription_create(
    *,
    tenant: Tenant,
    url: str,
    events: list[str],
    description: str = "",
    created_by: User | None = None,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (returned so that it can be shown once)."""
    values = _checked(url=url, events=events, description=description)
    secret = signing.new_secret()
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            tenant=tenant,
            secret_encrypted=encrypt_token(secret),
            created_by=created_by,
            **values,
        )
        subscriptions_changed(tenant.pk)
    return subscription, secret


def subscription_update(
    *,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    values = _checked(
        url=subscription.url if url is None else url,
        events=subscription.events if events is None else events,
        description=subscription.description if description is None else description,
    )
    with transaction.atomic():
        for name, value in values.items():
            setattr(subscription, name, value)
        if is_active is True and not subscription.is_active:
            # Turned back on: a fresh start, nothing of the failed run counts any more.
            subscription.is_active = True
            subscription.disabled_at = None
            subscription.disabled_reason = ""
            subscription.failing_since = None
        elif is_active is False and subscription.is_active:
            subscription.is_active = False
            subscription.disabled_at = timezone.now()
            subscription.disabled_reason = "Turned off by the organisation."
        subscription.save()
        subscriptions_changed(subscription.tenant_id)
    return subscription


def subscription_delete(*, subscription: WebhookSubscription) -> None:
    with transaction.atomic():
        subscriptions_changed(subscription.tenant_id)
        subscription.delete()


def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """The Resend button: the same message (same webhook-id and body) is sent again now."""
    if not delivery.subscription.is_active:
        raise WebhookInvalidError(
            {"subscription": ["Turn the subscription back on before resending."]}
        )
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now
        )
        from .events import _kick

        transaction.on_commit(_kick)
    delivery.refresh_from_db()
    return delivery


def subscription_disabled_notify(*, subscription_id: int) -> int:
    """E-mails the owners and admins that a subscription was turned off after a day of failures."""
    subscription = WebhookSubscription.objects.select_related("tenant").get(pk=subscription_id)
    recipients = list(
        Membership.objects.filter(
            tenant=subscription.tenant, role__in=[Role.OWNER, Role.ADMIN]
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    link = f"{settings.SITE_URL}/settings/webhooks/{subscription.public_id}/"
    return send_mail(
        subject=f"Sellerdesk turned off a webhook of {subscription.tenant.name}",
        message=(
            f"Every delivery to {subscription.url} failed for 24 hours, so Sellerdesk stopped "
            f"sending to it.\n\nSee the delivery log, fix the endpoint and turn the webhook back "
            f"on here: {link}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
