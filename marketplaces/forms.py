from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from .models import Market, Store


class ConnectForm(forms.Form):
    market = forms.ChoiceField(
        label="Where does the shop sell?",
        choices=Market.choices,
        initial=Market.US,
        widget=forms.RadioSelect,
        help_text="US shops sign in on TikTok Shop's US page, all other markets on the global one.",
    )


class StoreAccessForm(forms.Form):
    """Which stores one agent serves: every store, or only the ones ticked (none ticked: none;
    an empty list never silently means "every store")."""

    ALL, SOME = "all", "some"
    scope = forms.ChoiceField(
        label="This agent serves",
        choices=[(ALL, "All stores, present and future"), (SOME, "Only the stores ticked below")],
        initial=ALL,
        widget=forms.RadioSelect,
    )
    stores = forms.MultipleChoiceField(
        label="Stores this agent serves",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="With “Only the stores ticked”, an agent with no store ticked serves none.",
    )

    @property
    def all_stores(self) -> bool:
        return self.cleaned_data["scope"] == self.ALL

    def __init__(self, *args: Any, stores: Iterable[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores_by_id = {str(store.public_id): store for store in stores}
        self.fields["stores"].choices = [
            (public_id, f"{store.name} ({store.region or store.get_market_display()})")
            for public_id, store in self.stores_by_id.items()
        ]

    def chosen_stores(self) -> list[Store]:
        return [self.stores_by_id[public_id] for public_id in self.cleaned_data["stores"]]
