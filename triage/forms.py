from __future__ import annotations

from django import forms

from .labels import Intent


class CorrectionForm(forms.Form):
    """One click in the ticket bar: an intent, or the urgency ("1"/"0")."""

    intent = forms.ChoiceField(choices=Intent.choices, required=False)
    urgent = forms.ChoiceField(
        choices=[("", ""), ("1", "Urgent"), ("0", "Not urgent")], required=False
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("intent") and data.get("urgent") in (None, ""):
            raise forms.ValidationError("Pick an intent or an urgency.")
        return data
