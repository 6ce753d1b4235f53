"""The escalation form, built from a kind's definition (`kinds.py`).

Its Django fields only draw the widgets and keep what was typed: every rule (required fields, the
72 hours, files, orders) is `validation.validate`'s, which the API calls too. Files that passed
their checks on a refused form come back as `keep` checkboxes, ticked, so nothing is chosen twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Membership

from .kinds import FieldSpec, FieldType, Kind
from .models import EscalationAttachment, EscalationStatus
from .validation import CaseContext, CheckedFile, CleanCase, EscalationInvalid, validate

ACCEPT_SCREENSHOTS = "image/jpeg,image/png,image/gif,image/webp,application/pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ListField(forms.Field):
    """Checkboxes or several files: a list, judged by validation.validate."""

    def to_python(self, value: Any) -> list[Any]:
        if not value:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]


def local_input(value: str | datetime, zone: tzinfo) -> str:
    """A stored moment as a datetime-local input shows it, in the organisation's zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return timezone.localtime(moment, zone).strftime("%Y-%m-%dT%H:%M")


def _django_field(spec: FieldSpec) -> forms.Field:
    attrs: dict[str, Any] = {}
    if spec.help:
        attrs["aria-describedby"] = f"id_{spec.name}_helptext"
    common = {"label": spec.label, "required": False, "help_text": spec.help}
    choices = [("", "Choose\N{HORIZONTAL ELLIPSIS}"), *spec.choices]
    match spec.type:
        case FieldType.LONG_TEXT | FieldType.ORDER_IDS:
            rows = 6 if spec.type == FieldType.LONG_TEXT else 4
            return forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": rows}), **common)
        case FieldType.CHOICE:
            return forms.CharField(widget=forms.Select(attrs=attrs, choices=choices), **common)
        case FieldType.YES_NO:
            return forms.CharField(widget=forms.RadioSelect(choices=spec.choices), **common)
        case FieldType.MULTI_CHOICE:
            return ListField(widget=forms.CheckboxSelectMultiple(choices=spec.choices), **common)
        case FieldType.DATETIME:
            widget = forms.DateTimeInput(attrs={**attrs, "type": "datetime-local"})
            return forms.CharField(widget=widget, **common)
        case FieldType.EMAIL:
            return forms.CharField(widget=forms.EmailInput(attrs=attrs), **common)
        case FieldType.COUNT:
            widget = forms.NumberInput(attrs={**attrs, "min": 0, "step": 1})
            return forms.CharField(widget=widget, **common)
        case FieldType.FILES:
            widget = MultipleFileInput(attrs={**attrs, "accept": ACCEPT_SCREENSHOTS})
            return ListField(widget=widget, **common)
        case FieldType.CSV:
            widget = forms.ClearableFileInput(attrs={**attrs, "accept": ".csv,text/csv"})
            return ListField(widget=widget, **common)
        case FieldType.ORDER_ID:
            widget = forms.TextInput(attrs={**attrs, "inputmode": "numeric", "class": "mono"})
            return forms.CharField(widget=widget, **common)
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


def initial_values(kind: Kind, values: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """Stored values (or pre-filled facts) as the form's widgets show them."""
    initial: dict[str, Any] = {}
    for spec in kind.fields():
        value = values.get(spec.name)
        if value in (None, "", []) or spec.type.is_file:
            continue
        if spec.type == FieldType.DATETIME:
            value = local_input(value, zone)
        elif spec.type == FieldType.ORDER_IDS and isinstance(value, list):
            value = "\n".join(value)
        initial[spec.name] = value
    return initial


def prefilled(kind: Kind, facts: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """The kind's fields that Sellerdesk already knows, from `selectors.known_facts`."""
    values = {
        spec.name: facts[spec.prefill]
        for spec in kind.fields()
        if spec.prefill and spec.prefill in facts
    }
    return initial_values(kind, values, zone)


@dataclass
class FormRow:
    spec: FieldSpec
    field: forms.BoundField
    kept: list[EscalationAttachment]
    requirement: str  # "" when always required, else "optional" or when it is required


class EscalationForm(forms.Form):
    """One kind's fields, plus the store when the case was not opened from a ticket, an order
    or a store, plus the files kept from before."""

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        kind: Kind,
        membership: Membership,
        stores: QuerySet[Store] | None,
        store: Store | None,
        kept: Iterable[EscalationAttachment] = (),
        zone: tzinfo,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, files, initial=initial)
        self.kind = kind
        self.membership = membership
        self.fixed_store = store
        self.zone = zone
        self.kept = list(kept)
        self.clean_case: CleanCase | None = None
        self.passed_files: dict[str, list[CheckedFile]] = {}
        if store is None:
            self.fields["store"] = forms.ModelChoiceField(
                queryset=stores if stores is not None else Store.objects.none(),
                to_field_name="public_id",
                label="Store",
                empty_label="Choose\N{HORIZONTAL ELLIPSIS}",
                required=True,
                error_messages={
                    "required": "Store is required.",
                    "invalid_choice": "Store: choose one of your organisation's stores.",
                },
            )
        for spec in kind.fields():
            self.fields[spec.name] = _django_field(spec)

    def store_field(self) -> forms.BoundField | None:
        return self["store"] if "store" in self.fields else None

    def sections(self) -> list[tuple[str, list[FormRow]]]:
        """For the template: each heading with its fields and the files kept for them."""
        kept: dict[str, list[EscalationAttachment]] = {}
        for attachment in self.kept:
            kept.setdefault(attachment.field, []).append(attachment)
        return [
            (
                section.title,
                [
                    FormRow(
                        spec,
                        self[spec.name],
                        kept.get(spec.name, []),
                        self.kind.requirement(spec),
                    )
                    for spec in section.fields
                ],
            )
            for section in self.kind.sections
        ]

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every problem, for the list above the form."""
        summary = []
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            field = self.fields.get(name)
            label = str(field.label) if field is not None else name
            for message in errors:
                summary.append((f"id_{name}", label, message))
        return summary

    def _raw_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.kind.fields():
            if spec.type.is_file:
                continue
            if spec.type == FieldType.MULTI_CHOICE:
                values[spec.name] = self.data.getlist(spec.name)
            else:
                values[spec.name] = self.data.get(spec.name)
        return values

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        store = self.fixed_store or cleaned.get("store")
        if store is None:
            return cleaned  # "Store is required" is already said
        context = CaseContext(
            tenant=self.membership.tenant,
            store=store,
            membership=self.membership,
            zone=self.zone,
            now=timezone.now(),
        )
        files = {
            spec.name: self.files.getlist(spec.name)
            for spec in self.kind.fields()
            if spec.type.is_file and self.files.getlist(spec.name)
        }
        kept_sizes: dict[str, list[int]] = {}
        for attachment in self.kept:
            kept_sizes.setdefault(attachment.field, []).append(attachment.size)
        try:
            self.clean_case = validate(
                kind=self.kind,
                values=self._raw_values(),
                files=files,
                kept=kept_sizes,
                context=context,
            )
        except EscalationInvalid as invalid:
            self.passed_files = invalid.files
            for name, messages in invalid.errors.items():
                target = name if name in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        cleaned["store"] = store
        return cleaned


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="New status", choices=EscalationStatus.choices)
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class EscalationSettingsForm(forms.Form):
    recipient_email = forms.EmailField(
        label="Send escalations to",
        required=False,
        help_text="The partner's support address, or your Customer Growth Specialist's. "
        "Submitted cases are e-mailed here, with their screenshots attached.",
    )


class ListFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *EscalationStatus.choices]
    )
    kind = forms.ChoiceField(label="Kind", required=False)
    store = forms.ModelChoiceField(
        label="Store",
        required=False,
        queryset=Store.objects.none(),
        to_field_name="public_id",
        empty_label="All stores",
    )

    def __init__(
        self, *args: Any, stores: QuerySet[Store], kinds: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", "Any kind"), *kinds]  # type: ignore[attr-defined]

    def value(self, name: str) -> Any:
        if not self.is_bound or not self.is_valid():
            return None
        return self.cleaned_data.get(name) or None
