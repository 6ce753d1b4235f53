from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from marketplaces.models import Store
from tenants.models import APIScope
from tenants.services import API_KEY_NAME_MAX


class APIKeyForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=API_KEY_NAME_MAX,
        help_text="What will use it, e.g. “ERP sync” or “Returns bot”.",
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=APIScope.choices,
        initial=APIScope.READ,
        widget=forms.RadioSelect,
        help_text="Read: tickets, messages, orders, stores. Read and write: also reply, "
        "change status, assign, add notes, edit snippets.",
    )
    limit_to_stores = forms.BooleanField(label="Limit this key to some stores", required=False)
    stores = forms.MultipleChoiceField(
        label="Stores this key serves",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only with the limit ticked. A limited key with no store ticked serves none.",
    )

    def __init__(self, *args: Any, stores: Iterable[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores_by_id = {str(store.public_id): store for store in stores}
        self.fields["stores"].choices = [
            (public_id, store.name) for public_id, store in self.stores_by_id.items()
        ]

    def chosen_stores(self) -> list[Store] | None:
        if not self.cleaned_data["limit_to_stores"]:
            return None
        return [self.stores_by_id[public_id] for public_id in self.cleaned_data["stores"]]
