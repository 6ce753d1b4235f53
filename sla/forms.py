"""Forms of Settings → Service levels. They carry and parse what a person types ("4h 30m",
"09:00-12:00, 13:00-17:00", one holiday per line); the rules are the service's
(`sla.services`), whose messages are shown next to the field they concern."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from django import forms

from marketplaces.models import Store

from .calendar import WEEKDAYS, CalendarError, day_text, parse_day
from .services import PolicyInput, SLASettingsInvalidError

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.I)
DAY_FIELDS = [f"hours_{day.lower()}" for day in WEEKDAYS]


def parse_minutes(text: str) -> int | None:
    """ "4h", "90m", "1h 30m", "2d", "45" (minutes) -> minutes; "" -> None."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if match is None or not any(match.groups()):
        raise forms.ValidationError("Write a duration such as 4h, 90m or 1h 30m.")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return days * 24 * 60 + hours * 60 + minutes


def minutes_text(minutes: int | None) -> str:
    if minutes is None:
        return ""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(part for part in parts if part)


class ServiceErrorsMixin:
    def add_service_errors(self, error: SLASettingsInvalidError) -> None:
        for field, messages in error.errors.items():
            target = field if field in self.fields else None  # type: ignore[attr-defined]
            if field == "business_hours":
                target = None
            for message in messages:
                self.add_error(target, message)  # type: ignore[attr-defined]


class PolicyForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=120, strip=True)
    store = forms.ModelChoiceField(
        queryset=Store.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="All stores",
        help_text="A store's own policy wins over the one for all stores.",
    )
    first_response = forms.CharField(
        required=False,
        max_length=20,
        help_text="From the buyer's first message to the first reply, e.g. 4h.",
    )
    next_response = forms.CharField(
        required=False,
        max_length=20,
        help_text="From a later buyer message to the reply that answers it.",
    )
    resolution = forms.CharField(
        required=False, max_length=20, help_text="From the buyer's first message to Solved."
    )
    around_the_clock = forms.BooleanField(
        required=False, label="Around the clock (24/7): no business hours"
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Closed all day: one date per line, e.g. 2026-12-25.",
    )

    def __init__(self, *args: Any, stores: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]
        for day, name in zip(WEEKDAYS, DAY_FIELDS, strict=True):
            self.fields[name] = forms.CharField(
                required=False,
                max_length=120,
                label=day,
                widget=forms.TextInput(attrs={"placeholder": "closed"}),
            )

    @property
    def day_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DAY_FIELDS]

    def clean_first_response(self) -> int | None:
        return parse_minutes(self.cleaned_data.get("first_response", ""))

    def clean_next_response(self) -> int | None:
        return parse_minutes(self.cleaned_data.get("next_response", ""))

    def clean_resolution(self) -> int | None:
        return parse_minutes(self.cleaned_data.get("resolution", ""))

    def policy_input(self) -> PolicyInput:
        """What the service checks; CalendarError for a day written so it cannot be read."""
        data = self.cleaned_data
        week = None
        if not data.get("around_the_clock"):
            week = [
                parse_day(data.get(name, ""), day=day)
                for day, name in zip(WEEKDAYS, DAY_FIELDS, strict=True)
            ]
        holidays = [line for line in (data.get("holidays") or "").splitlines() if line.strip()]
        return PolicyInput(
            name=data.get("name", ""),
            store=data.get("store"),
            first_response_minutes=data.get("first_response"),
            next_response_minutes=data.get("next_response"),
            resolution_minutes=data.get("resolution"),
            business_hours=week,
            holidays=holidays,
        )

    @classmethod
    def initial_of(cls, policy: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name,
            "store": policy.store.public_id if policy.store else None,
            "first_response": minutes_text(policy.first_response_minutes),
            "next_response": minutes_text(policy.next_response_minutes),
            "resolution": minutes_text(policy.resolution_minutes),
            "around_the_clock": policy.business_hours is None,
            "holidays": "\n".join(policy.holidays or []),
        }
        for name, day in zip(DAY_FIELDS, policy.business_hours or [[]] * 7, strict=True):
            initial[name] = day_text(day)
        return initial


DEFAULT_INITIAL = {
    "name": "Standard",
    "first_response": "4h",
    "next_response": "8h",
    "resolution": "2d",
    **{name: "09:00-17:00" for name in DAY_FIELDS[:5]},
}


class StoreClockForm(ServiceErrorsMixin, forms.Form):
    time_zone = forms.CharField(
        required=False,
        max_length=64,
        help_text="Business hours and holidays are read in this zone; empty: the organisation's.",
    )
    reply_window_hours = forms.CharField(
        required=False,
        max_length=5,
        label="TikTok reply window (hours)",
        help_text="Empty: the market's (24 h US, 12 h South-East Asia).",
    )


class HolidayForm(ServiceErrorsMixin, forms.Form):
    """Holiday mode: `action` "on" (from now, until `holiday_until` or switched off), "off" (ends
    now), or "schedule" (from `holiday_from` to `holiday_until`), in the store's zone."""

    action = forms.ChoiceField(choices=[("on", "on"), ("off", "off"), ("schedule", "schedule")])
    holiday_from = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="From",
    )
    holiday_until = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Until",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "schedule" and data.get("holiday_from") is None:
            self.add_error("holiday_from", "Give the day and time holiday mode starts.")
        return data

    def in_zone(self, name: str, zone: tzinfo) -> datetime | None:
        """The field's wall-clock time read in the store's zone (not the organisation's)."""
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        return value.replace(tzinfo=None).replace(tzinfo=zone)


__all__ = ["CalendarError", "HolidayForm", "PolicyForm", "StoreClockForm"]
