"""The kinds of escalation and the fields each one needs, as data.

Partner support teams and TikTok's Customer Growth Specialists refuse a case that lacks the facts
they need; their public instructions name, per kind of problem, the fields required. Those lists
live here and nowhere else: the form, the server-side checks (`validation.py`), the printable page,
the e-mail (`document.py`) and the API all read these definitions, so adding a field to a kind is
one line in this file.

A field is required outright, or when another field has one of some values (`required_when`), or
unless another field is filled (`required_unless`: one order id, or a list of many). `prefill`
names a fact Sellerdesk may already know (`selectors.known_facts`); `default_from` copies another
field's value when left empty (the appeal id is the violation's record id unless said otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .accounts import ACCOUNT_AUTHORIZATION, APPLICATION, LINKED_ACCOUNTS, LIVE, VIOLATION
from .commerce import INVENTORY, ORDERS, PRODUCTS, REVERSE_ORDERS
from .spec import NO, YES, FieldSpec, FieldType, Kind, Section, WaitRule

__all__ = [
    "KINDS",
    "KIND_CHOICES",
    "NO",
    "YES",
    "FieldSpec",
    "FieldType",
    "Kind",
    "KindSummary",
    "Section",
    "WaitRule",
    "kind_get",
    "kind_summaries",
]

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        VIOLATION,
        ORDERS,
        REVERSE_ORDERS,
        PRODUCTS,
        INVENTORY,
        LIVE,
        ACCOUNT_AUTHORIZATION,
        LINKED_ACCOUNTS,
        APPLICATION,
    )
}

KIND_CHOICES = [(kind.key, kind.label) for kind in KINDS.values()]


def kind_get(key: str) -> Kind | None:
    return KINDS.get(key)


@dataclass(frozen=True)
class KindSummary:
    """What the kind picker shows."""

    key: str
    label: str
    description: str
    problems: list[str] = field(default_factory=list)


def kind_summaries() -> list[KindSummary]:
    summaries = []
    for kind in KINDS.values():
        problem = next((spec for spec in kind.fields() if spec.name == "problem"), None)
        problems = [label for _, label in problem.choices] if problem else []
        summaries.append(KindSummary(kind.key, kind.label, kind.description, problems))
    return summaries
