from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from . import signin_throttle
from .models import TIME_ZONE_CHOICES, Role, User


class ThrottledSignInMixin:
    """Sign-in forms (ours and the admin's) under tenants.signin_throttle: while a pause is in
    force the password is not checked and the form says until when; a wrong password counts."""

    request: HttpRequest | None
    user_cache: User | None
    cleaned_data: dict[str, Any]
    lockout: signin_throttle.Lockout | None = None

    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username") or "")
        if self.request is None or not (email and self.cleaned_data.get("password")):
            return super().clean()  # type: ignore[misc]
        self.lockout = signin_throttle.lockout_of(self.request, email)
        if self.lockout is None:
            try:
                cleaned = super().clean()  # type: ignore[misc]
            except forms.ValidationError:
                if self.user_cache is None:  # a wrong password, not an inactive account
                    self.lockout = signin_throttle.record_failure(self.request, email)
                if self.lockout is None:
                    raise
            else:
                signin_throttle.record_success(self.request, email)
                return cleaned
        self.request.signin_lockout = self.lockout  # type: ignore[attr-defined]
        raise forms.ValidationError(self.lockout.message, code="throttled")


class EmailAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in (/admin/login/), throttled like ours."""


class _PasswordMixin(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        email = self.cleaned_data.get("email", "")
        password_validation.validate_password(password, User(email=email))
        return password


class SignupForm(forms.Form):
    """Step one of sign-up. It never says whether the e-mail has an account: either way the
    answer is "check your e-mail" (tenants.services.signup_request sends the one e-mail)."""

    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(
        label="Work e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    organisation = forms.CharField(label="Organisation name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=TIME_ZONE_CHOICES, initial="UTC")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class SignupPasswordForm(forms.Form):
    """Step two, from the e-mailed link: the password of the new account."""

    password = _PasswordMixin.base_fields["password"]

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password


class TenantCreateForm(forms.Form):
    organisation = forms.CharField(label="Organisation name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=TIME_ZONE_CHOICES, initial="UTC")


class TenantSettingsForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=TIME_ZONE_CHOICES)


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class InvitationSignupForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)
    password = _PasswordMixin.base_fields["password"]

    def __init__(self, *args: object, email: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password
