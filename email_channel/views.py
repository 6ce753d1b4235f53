"""Settings → Channels (/settings/channels/): owners and admins add a support mailbox, test its
servers ("Test connection" says exactly what failed), change its settings, and read it now."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tenants.decorators import tenant_required
from tenants.models import Role

from . import selectors, services, tasks
from .forms import ChannelForm
from .models import EmailChannel


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _form_errors(form: ChannelForm, error: services.ChannelInvalidError) -> None:
    for field, errors in error.errors.items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


@tenant_required(role=Role.ADMIN)
def channel_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = ChannelForm(request.POST or None)
    check = None
    if request.method == "POST" and form.is_valid():
        passwords = {
            "imap_password": form.cleaned_data["imap_password"],
            "smtp_password": form.cleaned_data["smtp_password"],
        }
        if request.POST.get("action") == "check":
            # Tested as typed, nothing saved: the form comes back filled in (passwords aside).
            draft = form.save(commit=False)
            check = services.channel_check(channel=draft, **passwords)
        else:
            try:
                channel = services.channel_create(
                    tenant=tenant,
                    values=form.values(),
                    created_by=request.user,  # type: ignore[arg-type]
                    **passwords,
                )
            except services.ChannelInvalidError as error:
                _form_errors(form, error)
            else:
                tasks.poll_channel.delay(channel.pk)
                messages.success(request, f"{channel.address} added; its mail is being read.")
                return redirect("email_channel_edit", channel_id=channel.public_id)
    context = {
        "form": form,
        "channels": selectors.channels_of_tenant(tenant=tenant),
        "check": check,
    }
    status = 400 if form.errors else 200
    return _no_store(render(request, "email_channel/channels.html", context, status=status))


def _edit_page(
    request: HttpRequest, channel: EmailChannel, form: ChannelForm, check: object, status: int
) -> HttpResponse:
    context = {"channel": channel, "form": form, "check": check}
    return _no_store(render(request, "email_channel/channel_edit.html", context, status=status))


@tenant_required(role=Role.ADMIN)
def channel_edit(request: HttpRequest, channel_id: str) -> HttpResponse:
    channel = selectors.channel_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=channel_id,
    )
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        try:
            services.channel_update(
                channel=form.instance,
                values=form.values(),
                imap_password=form.cleaned_data["imap_password"],
                smtp_password=form.cleaned_data["smtp_password"],
            )
        except services.ChannelInvalidError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("email_channel_edit", channel_id=channel.public_id)
    return _edit_page(request, channel, form, None, 400 if form.errors else 200)


@require_POST
@tenant_required(role=Role.ADMIN)
def channel_check(request: HttpRequest, channel_id: str) -> HttpResponse:
    """Tests the stored settings and shows each step on the channel's page."""
    channel = selectors.channel_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=channel_id,
    )
    check = services.channel_check(channel=channel)
    channel.refresh_from_db()
    return _edit_page(request, channel, ChannelForm(instance=channel), check, 200)


@require_POST
@tenant_required(role=Role.ADMIN)
def channel_poll(request: HttpRequest, channel_id: str) -> HttpResponse:
    channel = selectors.channel_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=channel_id,
    )
    tasks.poll_channel.delay(channel.pk)
    messages.success(request, "The mailbox is being read now.")
    return redirect("email_channel_edit", channel_id=channel.public_id)
