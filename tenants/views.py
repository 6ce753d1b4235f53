from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .decorators import tenant_required
from .forms import (
    InvitationForm,
    InvitationSignupForm,
    RoleForm,
    SignupForm,
    SignupPasswordForm,
    TenantCreateForm,
    TenantSettingsForm,
)
from .middleware import SESSION_KEY
from .models import Role, User


def signup(request: HttpRequest) -> HttpResponse:
    """Step one: name, e-mail, organisation. The same answer whether or not the e-mail has an
    account ("check your e-mail"); the e-mail itself tells its owner which it is."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.signup_request(**form.cleaned_data)
        return redirect("signup_sent")
    return render(request, "registration/signup.html", {"form": form})


def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/signup_sent.html")


def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Step two, from the e-mailed link (which proves the address): choose a password, and the
    account and its organisation are created and signed in."""
    pending = services.signup_pending(token)
    if pending is None:
        return render(request, "registration/signup_confirm.html", {"invalid": True}, status=404)
    context: dict[str, object] = {"pending": pending}
    if User.objects.filter(email__iexact=pending["email"]).exists():
        return render(request, "registration/signup_confirm.html", {**context, "exists": True})
    form = SignupPasswordForm(request.POST or None, email=pending["email"])
    if request.method == "POST" and form.is_valid():
        try:
            user, tenant = services.user_signup(
                email=pending["email"],
                password=form.cleaned_data["password"],
                full_name=pending["name"],
                organisation=pending["org"],
                time_zone=pending["tz"],
            )
        except IntegrityError:  # the same link used twice at once
            return render(request, "registration/signup_confirm.html", {**context, "exists": True})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = str(tenant.public_id)
        messages.success(request, f"Welcome to Sellerdesk. {tenant.name} is ready.")
        return redirect("home")
    return render(request, "registration/signup_confirm.html", {**context, "form": form})


@login_required
def tenant_create(request: HttpRequest) -> HttpResponse:
    """For a signed-in person without an organisation (e.g. removed from their last one)."""
    form = TenantCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = services.tenant_create(
            name=form.cleaned_data["organisation"],
            owner=request.user,
            time_zone=form.cleaned_data["time_zone"],
        )
        request.session[SESSION_KEY] = str(tenant.public_id)
        messages.success(request, f"{tenant.name} is ready.")
        return redirect("home")
    return render(request, "tenants/tenant_create.html", {"form": form})


@tenant_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("mailbox")


@require_POST
@login_required
def tenant_switch(request: HttpRequest, tenant_id: str) -> HttpResponse:
    membership = selectors.membership_for_switch(user=request.user, tenant_public_id=tenant_id)
    request.session[SESSION_KEY] = str(membership.tenant.public_id)
    messages.info(request, f"Switched to {membership.tenant.name}.")
    return redirect("home")


@tenant_required
def settings_general(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    tenant = membership.tenant
    form = TenantSettingsForm(
        request.POST or None, initial={"name": tenant.name, "time_zone": tenant.time_zone}
    )
    if request.method == "POST":
        if not membership.has_role(Role.ADMIN):
            return render(
                request,
                "403.html",
                {"reason": "Only owners and admins can change this."},
                status=403,
            )
        if form.is_valid():
            services.tenant_update(actor=membership, **form.cleaned_data)
            messages.success(request, "Settings saved.")
            return redirect("settings")
    return render(request, "tenants/settings.html", {"form": form})


@tenant_required(role=Role.ADMIN)
def member_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    form = InvitationForm(request.POST or None)
    # Only the roles this person may give (an admin cannot invite an owner).
    form.fields["role"].choices = services.roles_grantable(request.membership)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.invitation_create(actor=request.membership, **form.cleaned_data)
        except services.TenancyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Invitation sent to {issued.invitation.email}. You can also share this one-time "
                f"link: {issued.url}",
            )
            return redirect("member_list")
    members = list(selectors.members_of_tenant(tenant=tenant))
    actions = services.member_actions(actor=request.membership, members=members)
    context = {
        "form": form,
        "members": [(member, actions[member.pk]) for member in members],
        "invitations": selectors.pending_invitations(tenant=tenant),
    }
    return render(request, "tenants/members.html", context, status=400 if form.errors else 200)


@require_POST
@tenant_required(role=Role.ADMIN)
def member_role(request: HttpRequest, member_id: str) -> HttpResponse:
    member = selectors.membership_get(tenant=request.tenant, public_id=member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                actor=request.membership, member=member, role=form.cleaned_data["role"]
            )
            messages.success(request, f"{member.user.email} is now {member.get_role_display()}.")
        except services.TenancyError as exc:
            messages.error(request, str(exc))
    return redirect("member_list")


@require_POST
@tenant_required(role=Role.ADMIN)
def member_remove(request: HttpRequest, member_id: str) -> HttpResponse:
    member = selectors.membership_get(tenant=request.tenant, public_id=member_id)
    try:
        services.membership_remove(actor=request.membership, member=member)
        messages.success(request, f"{member.user.email} was removed.")
    except services.TenancyError as exc:
        messages.error(request, str(exc))
    return redirect("member_list")


@require_POST
@tenant_required(role=Role.ADMIN)
def invitation_revoke(request: HttpRequest, invitation_id: str) -> HttpResponse:
    invitation = selectors.invitation_get(tenant=request.tenant, public_id=invitation_id)
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} revoked.")
    return redirect("member_list")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "tenants/invitation_invalid.html", status=404)
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return render(
                request,
                "tenants/invitation_accept.html",
                {"invitation": invitation, "wrong_account": True},
                status=403,
            )
        if request.method == "POST":
            membership = services.invitation_accept(token=token, user=user)
            request.session[SESSION_KEY] = str(membership.tenant.public_id)
            messages.success(request, f"You joined {membership.tenant.name}.")
            return redirect("home")
        return render(request, "tenants/invitation_accept.html", {"invitation": invitation})

    if User.objects.filter(email__iexact=invitation.email).exists():
        # The invited address has an account: accepting needs signing in as that person.
        return render(
            request, "tenants/invitation_accept.html", {"invitation": invitation, "sign_in": True}
        )
    form = InvitationSignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            new_user, membership = services.invitation_signup(token=token, **form.cleaned_data)
        except services.TenancyError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = str(membership.tenant.public_id)
            messages.success(request, f"Welcome to {membership.tenant.name}.")
            return redirect("home")
    return render(
        request, "tenants/invitation_accept.html", {"invitation": invitation, "form": form}
    )
