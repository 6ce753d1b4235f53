from __future__ import annotations

from typing import Any

from django import forms

from .models import EmailChannel


class ChannelForm(forms.ModelForm):
    """An e-mail channel's settings. Passwords are never shown back: empty keeps the stored one
    (required only when the channel is new)."""

    imap_password = forms.CharField(
        label="IMAP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Empty when the SMTP server needs no sign-in.",
    )

    class Meta:
        model = EmailChannel
        fields = [
            "address",
            "from_name",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password",
            "imap_folders",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password",
            "is_active",
        ]
        labels = {
            "address": "Support address",
            "from_name": "Sender name",
            "imap_host": "IMAP server",
            "imap_port": "IMAP port",
            "imap_security": "IMAP security",
            "imap_username": "IMAP user name",
            "imap_folders": "Folders to read",
            "smtp_host": "SMTP server",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "smtp_username": "SMTP user name",
            "is_active": "Read this mailbox",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_new = self.instance.pk is None
        if self.is_new:
            self.fields["imap_password"].required = True
        else:
            for name in ("imap_password", "smtp_password"):
                self.fields[name].help_text = "Leave empty to keep the stored password."

    def clean_imap_port(self) -> int:
        return _port(self.cleaned_data["imap_port"])

    def clean_smtp_port(self) -> int:
        return _port(self.cleaned_data["smtp_port"])

    def values(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("imap_password", "smtp_password")
        }


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise forms.ValidationError("A port is a number from 1 to 65535.")
    return value
