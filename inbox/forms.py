"""Forms of the mailbox pages: list filters, the composer, ticket actions.

The composer's rules (length, image size and type checked by content) live in the reply service
and `inbox.validation`: the form only carries the fields and shows the service's messages next to
the composer, with the text kept.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from marketplaces.models import Store
from tenants.models import Membership

from .display import INTENT_LABELS
from .models import TicketStatus
from .selectors import FOLDERS, SORTS

NEXT_STATUS_CHOICES = [
    ("", "Send"),
    (TicketStatus.PENDING, "Send & Pending"),
    (TicketStatus.SOLVED, "Send & Solve"),
]


class ListFilterForm(forms.Form):
    """?folder=open&store=<uuid>&assignee=<uuid>&q=...&sort=urgent — every field optional; bad
    values are ignored rather than failing the page."""

    folder = forms.ChoiceField(choices=list(FOLDERS.items()), required=False)
    store = forms.ModelChoiceField(
        queryset=Store.objects.none(), to_field_name="public_id", required=False
    )
    assignee = forms.ModelChoiceField(
        queryset=Membership.objects.none(), to_field_name="public_id", required=False
    )
    q = forms.CharField(required=False, max_length=200, strip=True, label="Search")
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)
    # A triage intent (inbox.display.INTENT_LABELS); anything else is ignored.
    intent = forms.CharField(required=False, max_length=24)

    def clean_intent(self) -> str:
        intent = self.cleaned_data.get("intent") or ""
        return intent if intent in INTENT_LABELS else ""

    def __init__(self, *args: Any, stores: Any, members: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = members  # type: ignore[attr-defined]

    def value(self, name: str) -> Any:
        if not self.is_bound:
            return None
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None


class ComposerForm(forms.Form):
    """The reply (or note) composer. `next_status` comes from the button pressed."""

    MODE_REPLY = "reply"
    MODE_NOTE = "note"

    mode = forms.ChoiceField(
        choices=[(MODE_REPLY, "Reply"), (MODE_NOTE, "Note")], required=False, initial=MODE_REPLY
    )
    text = forms.CharField(
        required=False,
        strip=False,
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    image = forms.FileField(required=False, label="Attach image")
    next_status = forms.ChoiceField(choices=NEXT_STATUS_CHOICES, required=False)
    # The newest message the agent was shown (inbox.presence: a reply after news is a conflict).
    last_seen_message_id = forms.CharField(required=False, max_length=64)
    # The reply's idempotency token, minted with the composer: the same form submitted twice
    # (a double click, a POST the browser retries) stores and sends one reply. A composer drawn
    # again after a send carries a new one; one drawn again after an error keeps its own.
    client_token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_token"):
            self.initial["client_token"] = uuid.uuid4()

    @property
    def is_note(self) -> bool:
        return self.data.get("mode") == self.MODE_NOTE


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=TicketStatus.choices)


class AssignForm(forms.Form):
    """`assignee` is a teammate's membership id, "me", or empty to unassign."""

    assignee = forms.CharField(required=False, max_length=64)


class OrderSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=64, strip=True, label="Order id")


class SnippetPickForm(forms.Form):
    snippet = forms.UUIDField()
    order = forms.UUIDField(required=False)
    product = forms.UUIDField(required=False)
    coupon = forms.UUIDField(required=False)
