from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from .models import TIME_ZONE_CHOICES, Role, User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


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
    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(
        label="Work e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    organisation = forms.CharField(label="Organisation name", max_length=120)
    time_zone = forms.ChoiceField(label="Time zone", choices=TIME_ZONE_CHOICES, initial="UTC")
    password = _PasswordMixin.base_fields["password"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail exists already. Sign in instead."
            )
        return email

    clean_password = _PasswordMixin.clean_password


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
