"""Settings → Webhooks (/settings/webhooks/): owners and admins add endpoints, see each one's
delivery log with response codes, resend a delivery, reveal the signing secret, turn an endpoint
off or on, and delete it."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tenants.decorators import tenant_required
from tenants.models import Role

from . import selectors, services
from .forms import SubscriptionForm

LOG_PAGE_SIZE = 50


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # pages that may show a secret
    return response


@tenant_required(role=Role.ADMIN)
def webhook_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = SubscriptionForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.subscription_create(
                tenant=tenant,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                created_by=request.user,  # type: ignore[arg-type]
            )
        except services.WebhookInvalidError as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            form = SubscriptionForm()
    context = {
        "form": form,
        "subscriptions": selectors.subscriptions_of_tenant(tenant=tenant),
        "created": created,
        "secret": secret,
    }
    status = 400 if form.errors else 200
    return _no_store(render(request, "integrations/webhooks.html", context, status=status))


def _detail_page(request: HttpRequest, webhook_id: str, *, reveal: bool) -> HttpResponse:
    subscription = selectors.subscription_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=webhook_id,
    )
    deliveries = selectors.deliveries_of(subscription=subscription).order_by("-created_at", "-id")
    page = Paginator(deliveries.prefetch_related("attempt_log"), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    secret = subscription.secret if reveal else None
    context = {"subscription": subscription, "page": page, "secret": secret}
    return _no_store(render(request, "integrations/webhook_detail.html", context))


@tenant_required(role=Role.ADMIN)
def webhook_detail(request: HttpRequest, webhook_id: str) -> HttpResponse:
    return _detail_page(request, webhook_id, reveal=False)


@require_POST
@tenant_required(role=Role.ADMIN)
def webhook_secret(request: HttpRequest, webhook_id: str) -> HttpResponse:
    """Reveals the signing secret to an owner or admin (a POST: never in a URL or a log)."""
    return _detail_page(request, webhook_id, reveal=True)


@require_POST
@tenant_required(role=Role.ADMIN)
def webhook_toggle(request: HttpRequest, webhook_id: str) -> HttpResponse:
    subscription = selectors.subscription_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=webhook_id,
    )
    turn_on = not subscription.is_active
    services.subscription_update(subscription=subscription, is_active=turn_on)
    messages.success(request, "Webhook turned on." if turn_on else "Webhook turned off.")
    return redirect("webhook_detail", webhook_id=subscription.public_id)


@require_POST
@tenant_required(role=Role.ADMIN)
def webhook_delete(request: HttpRequest, webhook_id: str) -> HttpResponse:
    subscription = selectors.subscription_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=webhook_id,
    )
    services.subscription_delete(subscription=subscription)
    messages.success(request, f"Webhook to {subscription.url} deleted.")
    return redirect("webhook_list")


@require_POST
@tenant_required(role=Role.ADMIN)
def delivery_resend(request: HttpRequest, webhook_id: str, delivery_id: str) -> HttpResponse:
    subscription = selectors.subscription_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=webhook_id,
    )
    delivery = selectors.delivery_get(subscription=subscription, public_id=delivery_id)
    try:
        services.delivery_resend(delivery=delivery)
        messages.success(request, f"Delivery {delivery.webhook_id} queued to be sent again.")
    except services.WebhookInvalidError as error:
        messages.error(request, str(error))
    return redirect("webhook_detail", webhook_id=subscription.public_id)
