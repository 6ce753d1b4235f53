from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from marketplaces.models import Store
from marketplaces.selectors import stores_visible_to
from tenants.models import Membership

from .models import OrderStatus

NOTE_MAX_LENGTH = 5000


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


class OrderFilterForm(forms.Form):
    """The Orders list's filters (GET). Only the stores this member may serve can be chosen."""

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Order id, ticket number, buyer or words",
                "data-search": "",
                "type": "search",
            }
        ),
    )
    store = forms.ModelChoiceField(
        queryset=Store.objects.none(),
        required=False,
        empty_label="All stores",
        to_field_name="public_id",
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *OrderStatus.choices], required=False)
    placed_from = forms.DateField(
        label="Placed from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    placed_to = forms.DateField(
        label="Placed to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores_visible_to(membership)

    def _day_in_range(self, name: str) -> date | None:
        # Year 1 or 9999 overflows once turned into a UTC time for the query: refused here.
        day = self.cleaned_data.get(name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(
                "Choose a day between 1 January 2000 and 31 December 2999.", code="out_of_range"
            )
        return day

    def clean_placed_from(self) -> date | None:
        return self._day_in_range("placed_from")

    def clean_placed_to(self) -> date | None:
        return self._day_in_range("placed_to")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("placed_from"), cleaned.get("placed_to")
        if start and end and start > end:
            self.add_error("placed_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `orders_of_tenant` from the fields that are valid.

        Dates are whole days in the organisation's time zone (the active one); the end day is
        included.
        """
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        start: date | None = data.get("placed_from")
        end: date | None = data.get("placed_to")
        return {
            "store": data.get("store"),
            "status": data.get("status") or None,
            "placed_from": _start_of(start) if start else None,
            "placed_before": _start_of(end + timedelta(days=1)) if end else None,
        }


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class InternalNoteForm(forms.Form):
    note = forms.CharField(
        label="Internal note",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only your team sees this; it is never sent to the buyer.",
    )
    # When the note was last saved as this form was shown (services.note_version).
    version = forms.CharField(required=False, widget=forms.HiddenInput)
