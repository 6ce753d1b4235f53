"""Input: the request bodies' serializers, multipart splitting, and refusals naming the field."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.request import Request

from api.views import StrictSerializerMixin

from .. import services
from ..kinds import KIND_CHOICES, Kind
from ..models import EscalationStatus
from ..validation import EscalationInvalid
from .representations import ValuesField

NOTE_MAX_CHARS = services.NOTE_MAX_CHARS


class CreateInput(StrictSerializerMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    store_id = serializers.CharField(required=False, help_text="The store the problem is of.")
    ticket_id = serializers.CharField(
        required=False, help_text="Escalated from this ticket (its store is the case's store)."
    )
    order_id = serializers.CharField(
        required=False, help_text="Escalated from this order (its store is the case's store)."
    )
    prefill = serializers.BooleanField(
        default=False,
        help_text="Start from what Sellerdesk knows of the ticket, order or store (order ids, "
        "dates, tracking number, SKUs, product ids, the last sync error); `values` win.",
    )
    values = ValuesField(required=False)


class UpdateInput(StrictSerializerMixin, serializers.Serializer):
    values = ValuesField(
        required=False, help_text="Fields to change; a field set to null is emptied."
    )
    remove_files = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="Ids of files to remove."
    )


class EscalationStatusInput(StrictSerializerMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=EscalationStatus.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTE_MAX_CHARS, trim_whitespace=False
    )


class EscalationNoteInput(StrictSerializerMixin, serializers.Serializer):
    body = serializers.CharField(max_length=NOTE_MAX_CHARS, trim_whitespace=False)


def _split(request: Request) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The request's plain fields and its files by field name. Multipart form fields come as
    lists; a field sent once is its single value (remove_files stays a list)."""
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    data = request.data
    if hasattr(data, "getlist"):
        plain = {
            name: data.getlist(name) if name == "remove_files" else data.get(name)
            for name in data
            if name not in files
        }
    else:
        plain = dict(data)
    return plain, files


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _refusal(kind: Kind, error: EscalationInvalid) -> exceptions.ValidationError:
    """The validator's errors under the request's names: values.<field>, <file field>."""
    files = {spec.name for spec in kind.fields() if spec.type.is_file}
    values: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name, messages in error.errors.items():
        if name in files:
            fields[name] = messages
        elif name == "__all__":
            fields.setdefault("non_field_errors", []).extend(messages)
        else:
            values[name] = messages
    if values:
        fields["values"] = values
    return exceptions.ValidationError(fields)


def _unknown_files(kind: Kind, files: dict[str, list[Any]]) -> None:
    known = {spec.name for spec in kind.fields() if spec.type.is_file}
    unknown = sorted(name for name in files if name not in known)
    if unknown:
        raise exceptions.ValidationError(
            {name: [f"{name} is not a file field of {kind.label} cases."] for name in unknown}
        )
