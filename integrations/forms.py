from __future__ import annotations

from django import forms

from .events import EVENT_TYPES


class SubscriptionForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        help_text="An https:// address of yours that answers 2xx within 10 seconds.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(name, f"{name} — {text}") for name, text in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
