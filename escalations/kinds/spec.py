"""The shape of a kind: its sections, their fields, the 72-hour rule. See kinds/__init__.py."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, replace


class FieldType(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    DATETIME = "datetime"  # a moment in the past (never later than now)
    EMAIL = "email"
    COUNT = "count"  # a whole number, zero or more (stock)
    ORDER_ID = "order_id"  # a TikTok order id (digits)
    ORDER_IDS = "order_ids"  # many TikTok order ids, one a line
    OUR_ORDER = "our_order"  # Sellerdesk's id of an order of this organisation
    FILES = "files"  # screenshots: images or PDF, one or more
    CSV = "csv"  # a CSV file

    @property
    def is_file(self) -> bool:
        return self in (FieldType.FILES, FieldType.CSV)


YES, NO = "yes", "no"
YES_NO_CHOICES = ((YES, "Yes"), (NO, "No"))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    required_when: tuple[str, tuple[str, ...]] | None = None  # (other field, its values)
    required_unless: str | None = None  # required unless this other field is filled
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    prefill: str | None = None  # a key of selectors.known_facts
    default_from: str | None = None  # copy this field's value when left empty
    max_length: int = 255

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)

    def optional(self) -> FieldSpec:
        """The same field, required by nothing (a section that is optional in some kind)."""
        return replace(self, required=False, required_when=None, required_unless=None)

    @property
    def may_be_required(self) -> bool:
        return self.required or bool(self.required_when) or bool(self.required_unless)


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[FieldSpec, ...]

    def optional(self, *, keep: tuple[str, ...] = ()) -> Section:
        return Section(
            self.title, tuple(f if f.name in keep else f.optional() for f in self.fields)
        )

    def with_fields(self, *extra: FieldSpec) -> Section:
        return Section(self.title, self.fields + extra)


@dataclass(frozen=True)
class WaitRule:
    """TikTok's 72 hours: a violation (or an application) is escalated only once its appeal in
    Seller Center was denied, or is still pending `hours` after it was made. When nothing was
    appealed, `unappealed_anchor` names the field whose time starts the clock instead; without
    one, an appeal is required."""

    hours: int = 72
    unappealed_anchor: str | None = None


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    description: str
    sections: tuple[Section, ...]
    # The fields that identify a case in a list: "Orders · Tracking not syncing · 5764…".
    headline: tuple[str, ...] = ()
    wait_rule: WaitRule | None = None
    # Whether Sellerdesk attaches orders.csv with its data for the case's order ids.
    attaches_order_data: bool = False

    def fields(self) -> Iterator[FieldSpec]:
        for section in self.sections:
            yield from section.fields

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields():
            if spec.name == name:
                return spec
        raise KeyError(name)

    def field_names(self) -> list[str]:
        return [spec.name for spec in self.fields()]

    def requirement(self, spec: FieldSpec) -> str:
        """ "" for a field always required, else "optional" or when it is required: "required
        when Problem is Tracking not syncing" (the form's label, the refusal's words)."""
        if spec.required:
            return ""
        if spec.required_when:
            other = self.field(spec.required_when[0])
            values = " or ".join(other.choice_label(v) for v in spec.required_when[1])
            return f"required when {other.label} is {values}"
        if spec.required_unless:
            return f"required unless {self.field(spec.required_unless).label} is filled in"
        return "optional"


# --- Pieces several kinds share ---------------------------------------------------------

PAST = "Not later than now, in your organisation's time zone."
ERROR_HELP = "The message exactly as TikTok Shop or Sellerdesk showed it."


def problem(*choices: tuple[str, str]) -> FieldSpec:
    return FieldSpec("problem", "Problem", FieldType.CHOICE, required=True, choices=choices)


def details(label: str = "Anything else the partner should know") -> FieldSpec:
    return FieldSpec("details", label, FieldType.LONG_TEXT, max_length=5000)


IMAGES_OR_PDF = "Images (JPEG, PNG, GIF, WEBP) or PDF."


def screenshots_section(*extra: FieldSpec) -> Section:
    """Optional screenshots, for kinds where the partner finds them useful but not required."""
    return Section(
        "Screenshots",
        (FieldSpec("screenshots", "Screenshots", FieldType.FILES, help=IMAGES_OR_PDF), *extra),
    )


NOTES = Section("Notes", (details(),))
